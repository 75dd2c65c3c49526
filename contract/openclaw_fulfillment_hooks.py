"""Schemathesis hooks that sign every generated request the way specs/openclaw-fulfillment says.

OpenClaw fulfillment refuses any request without a valid HMAC-SHA256 signature, so a contract tool
must sign what it sends. Use it against the clawkit sandbox (the default app) or a fork:

    OPENCLAW_FULFILLMENT_CLIENT_ID=sandbox-client \\
    OPENCLAW_FULFILLMENT_CLIENT_SECRET=cs_sandbox_5f2b9c7e4d1a \\
    SCHEMATHESIS_HOOKS=openclaw_fulfillment_hooks PYTHONPATH=contract \\
    schemathesis run specs/openclaw-fulfillment/openapi.yaml --url http://127.0.0.1:8787/openclaw-fulfillment

The signature is computed by a `requests` auth hook, i.e. over the request exactly as it goes on
the wire (final URL with its percent-encoding and query, final body bytes):

    {METHOD}\\n{REQUEST_TARGET}\\n{TIMESTAMP}\\n{NONCE}\\n{hex sha256(body)}

REQUEST_TARGET is the path relative to the server URL (the `--url` given to Schemathesis) plus
`?query` when there is one. A signature header that a negative test case left out on purpose is
left out (the server must refuse that request); the ones present get correct values, so every other
generated input reaches the API itself.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import uuid
from urllib.parse import urlsplit

import schemathesis

CLIENT_ID = os.environ.get("OPENCLAW_FULFILLMENT_CLIENT_ID", "sandbox-client")
CLIENT_SECRET = os.environ.get("OPENCLAW_FULFILLMENT_CLIENT_SECRET", "cs_sandbox_5f2b9c7e4d1a")
HEADERS = ("X-OpenClaw-Client-Id", "X-OpenClaw-Timestamp", "X-OpenClaw-Nonce", "X-OpenClaw-Signature")


def canonical_string(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The five lines the spec signs, joined by LF, no trailing LF."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), target, timestamp, nonce, digest])


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class Sign:
    """A `requests` auth: called after the URL and the body are final."""

    def __init__(self, base_path: str, present: set[str]):
        self.base_path = base_path.rstrip("/")
        self.present = present

    def __call__(self, request):
        parts = urlsplit(request.url)
        path = parts.path
        if self.base_path and (path == self.base_path or path.startswith(self.base_path + "/")):
            path = path[len(self.base_path):] or "/"
        target = path + ("?" + parts.query if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        timestamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        nonce = str(uuid.uuid4())
        values = {
            "x-openclaw-client-id": CLIENT_ID,
            "x-openclaw-timestamp": timestamp,
            "x-openclaw-nonce": nonce,
            "x-openclaw-signature": signature(
                CLIENT_SECRET, canonical_string(request.method, target, timestamp, nonce, body)
            ),
        }
        for name in HEADERS:
            if name.lower() in self.present:
                request.headers[name] = values[name.lower()]
            else:
                request.headers.pop(name, None)
        return request


def access_token(base_url: str) -> str:
    """An access token from the app's client credentials, the token call signed like any other."""
    import json

    import requests

    body = json.dumps({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    sign = Sign(urlsplit(base_url).path, {name.lower() for name in HEADERS})
    answer = requests.post(
        base_url.rstrip("/") + "/v2.1/auth/token",
        data=body,
        headers={"content-type": "application/json"},
        auth=sign,
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


@schemathesis.hook
def before_call(context, case, kwargs):
    present = {name.lower() for name in (case.headers or {})}
    base_url = case.operation.schema.get_base_url() or ""
    kwargs["auth"] = Sign(urlsplit(base_url).path, present)


if __name__ == "__main__":
    # The spec's test vectors.
    one = canonical_string(
        "POST", "/v2.1/orders/%231001/cancel", "2024-06-15T08:30:00+08:00",
        "7c9e6679-7425-40de-944b-e07fc1f90ae7", b'{"reason":"customer_request"}',
    )
    assert signature("cs_sandbox_5f2b9c7e4d1a", one) == "70bda7f8c5eeaa641a79206185815f86c694a7ee9a2e37570b6565a470fd3286"
    two = canonical_string(
        "GET", "/v2.1/orders?status=shipped&updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&limit=50",
        "2024-06-15T08:30:00+08:00", "f47ac10b-58cc-4372-a567-0e02b2c3d479", b"",
    )
    assert signature("cs_sandbox_5f2b9c7e4d1a", two) == "4930d1a6a23510fe625220bed3602349cab1e45fae42c1bcabf56213b6e6f333"
    print("test vectors ok")
