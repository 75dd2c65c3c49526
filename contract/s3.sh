#!/usr/bin/env bash
# Run a command against a local S3 (moto's server), with the AWS environment pointing at it.
#
#   contract/s3.sh COMMAND [ARGS...]
#
# moto is installed from PyPI into .tools/venv (git-ignored) on first use. The server listens on a
# free port of 127.0.0.1 and holds one empty bucket, clawkit-test. COMMAND runs with
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY=testing, AWS_DEFAULT_REGION/AWS_REGION=us-east-1,
# AWS_ENDPOINT and AWS_ENDPOINT_URL (the server), AWS_ALLOW_HTTP=true, CLAWKIT_TEST_S3=1 and
# CLAWKIT_TEST_BUCKET=clawkit-test exported; the server is stopped when it ends, and its exit code
# is the script's. For example: contract/s3.sh cargo test -p clawkit-tests
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -gt 0 ] || { echo "usage: contract/s3.sh COMMAND [ARGS...]" >&2; exit 2; }

tools=".tools"
venv="$tools/venv"
mkdir -p "$tools"
if [ ! -x "$venv/bin/moto_server" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.5"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
endpoint="http://127.0.0.1:$port"
log="$tools/moto.log"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
up=""
for _ in $(seq 300); do
    if curl -s -o /dev/null "$endpoint/"; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$up" ] || { echo "moto did not start on $endpoint:" >&2; cat "$log" >&2; exit 1; }

bucket=clawkit-test
curl -sf -o /dev/null -X PUT "$endpoint/$bucket" || { echo "could not create the bucket $bucket:" >&2; cat "$log" >&2; exit 1; }

unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT="$endpoint" AWS_ENDPOINT_URL="$endpoint" AWS_ALLOW_HTTP=true
export CLAWKIT_TEST_S3=1 CLAWKIT_TEST_BUCKET="$bucket"

rc=0
"$@" || rc=$?
exit "$rc"
