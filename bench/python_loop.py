#!/usr/bin/env python3
"""The CoreClaw guide's Python `requests` page loop, as a careful user would write it.

    python3 bench/python_loop.py --base http://127.0.0.1:PORT/coreclaw --run-slug RUN --out results.jsonl

POSTs {base}/api/v1/run/result/list with page_index 1, 2, ... and the `api-key` header over one
`requests.Session`, writes each item of `data.list` as one JSON line, and stops at the first empty
page. A reply whose `code` is not 0 ends the script with exit code 1 and the reply's message. The
number of items written is printed on stdout. bench/cli_vs_python.sh times it against
`claw coreclaw results RUN --out FILE.jsonl`.
"""
import argparse
import json
import sys

import requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="CoreClaw base URL, e.g. http://127.0.0.1:8787/coreclaw")
    parser.add_argument("--run-slug", required=True)
    parser.add_argument("--out", required=True, help="output file (JSON lines)")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--api-key", default="sandbox-key")
    args = parser.parse_args()

    url = args.base.rstrip("/") + "/api/v1/run/result/list"
    written = 0
    with requests.Session() as session, open(args.out, "w", encoding="utf-8") as out:
        session.headers.update({"api-key": args.api_key})
        page_index = 1
        while True:
            body = {"run_slug": args.run_slug, "page_index": page_index, "page_size": args.page_size}
            resp = session.post(url, json=body, timeout=60)
            try:
                reply = resp.json()
            except ValueError:
                resp.raise_for_status()
                raise
            if reply.get("code") != 0:
                print(f"page {page_index}: code {reply.get('code')}: {reply.get('message')}", file=sys.stderr)
                return 1
            items = reply["data"]["list"]
            if not items:
                break
            for item in items:
                out.write(json.dumps(item, ensure_ascii=False))
                out.write("\n")
            written += len(items)
            page_index += 1
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
