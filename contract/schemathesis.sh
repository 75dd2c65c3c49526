#!/usr/bin/env bash
# Schemathesis against the clawkit sandbox, for one vendor's spec (default: coreclaw).
#
#   contract/schemathesis.sh [VENDOR] [SPEC]
#
# SPEC defaults to the vendor's merged document (`cargo xtask spec --vendor VENDOR`); pass your own
# fork of a spec to check it against the sandbox instead. Schemathesis is installed from PyPI into
# .tools/venv (git-ignored) on first use. Every check is on (contract/schemathesis.toml), with a
# fixed seed and one worker, so a run is repeatable; it is bounded by `timeout`. One worker because
# Hypothesis is not thread-safe: with two, the recursion-limit guard it sets while drawing nested
# schemas raced between the threads and failed a CI run inside strategy validation (see
# HypothesisWorks/hypothesis#3683 and schemathesis#860); the sandbox, not the client, is the bottleneck.
set -euo pipefail
cd "$(dirname "$0")/.."

vendor="${1:-coreclaw}"
tools=".tools"
venv="$tools/venv"
mkdir -p "$tools"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

spec="${2:-$tools/$vendor.openapi.json}"
if [ -z "${2:-}" ]; then
    cargo xtask spec --vendor "$vendor" --out "$spec"
fi

cargo build --quiet -p clawkit-sandbox --bin clawkit-sandbox
log="$tools/sandbox-$vendor.log"
"${CARGO_TARGET_DIR:-target}/debug/clawkit-sandbox" --port 0 --run-seconds 1 --devops-tier enterprise > "$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
    url=$(head -n 1 "$log" | awk '/listening on/ {print $NF}')
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the sandbox did not start:" >&2; cat "$log" >&2; exit 1; }

prefix="$vendor"
case "$vendor" in
    coreclaw) auth=(-H "api-key: sandbox-key") ;;
    # v2 is served beside v1 under /coreclaw, over the same state, with the same key as a Bearer token.
    coreclaw-v2) auth=(-H "Authorization: Bearer sandbox-key"); prefix=coreclaw ;;
    bazhuayu)
        token=$(curl -sf -X POST "$url/bazhuayu/token" -H 'content-type: application/x-www-form-urlencoded' \
            --data 'username=sandbox&password=sandbox&grant_type=password' \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
        # Stay inside the seed's bucket (20 requests/s per token), or most answers are 429.
        auth=(-H "Authorization: bearer $token" --rate-limit 15/s)
        ;;
    openclaw-devops)
        token=$(curl -sf -X POST "$url/openclaw-devops/auth/token" -H 'content-type: application/json' \
            --data '{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox-secret"}' \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
        # The sandbox account runs at the Enterprise tier here (1,000 requests a minute, ~16/s):
        # stay inside it, or most answers are 429 (which the spec allows, but they test nothing).
        auth=(-H "Authorization: Bearer $token" --rate-limit 14/s)
        ;;
    openclaw-fulfillment)
        # Every request must carry an HMAC-SHA256 signature: the hook signs each generated request
        # over its final bytes (contract/openclaw_fulfillment_hooks.py), and its `access_token`
        # signs the token call the same way.
        export PYTHONPATH="contract${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=openclaw_fulfillment_hooks
        "$venv/bin/python" contract/openclaw_fulfillment_hooks.py  # the spec's test vectors first
        token=$("$venv/bin/python" -c 'import sys; from openclaw_fulfillment_hooks import access_token; print(access_token(sys.argv[1]))' "$url/openclaw-fulfillment")
        auth=(-H "Authorization: Bearer $token")
        ;;
    botswin) auth=(-H "Authorization: Bearer sandbox-token") ;;
    *) echo "no sandbox for $vendor yet" >&2; exit 2 ;;
esac
max_examples=100
[ "$vendor" = openclaw-devops ] && max_examples=40
[ "$vendor" = openclaw-fulfillment ] && max_examples=30

timeout 900 "$venv/bin/schemathesis" --no-color --config-file contract/schemathesis.toml \
    run "$spec" --url "$url/$prefix" "${auth[@]}" \
    --phases examples,coverage,fuzzing --seed 42 --max-examples "$max_examples" \
    --generation-database none --workers 1
