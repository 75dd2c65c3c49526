#!/usr/bin/env bash
# Schemathesis against the clawkit sandbox, for one vendor's spec (default: coreclaw).
#
#   contract/schemathesis.sh [VENDOR] [SPEC]
#
# SPEC defaults to the vendor's merged document (`cargo xtask spec --vendor VENDOR`); pass your own
# fork of a spec to check it against the sandbox instead. Schemathesis is installed from PyPI into
# .tools/venv (git-ignored) on first use. Every check is on (contract/schemathesis.toml), with a
# fixed seed, so a run is repeatable; it is bounded by `timeout`.
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

case "$vendor" in
    coreclaw) auth=(-H "api-key: sandbox-key") ;;
    *) echo "no sandbox credentials known for $vendor" >&2; exit 2 ;;
esac

cargo build --quiet -p clawkit-sandbox --bin clawkit-sandbox
log="$tools/sandbox-$vendor.log"
"${CARGO_TARGET_DIR:-target}/debug/clawkit-sandbox" --port 0 --run-seconds 1 > "$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
    url=$(head -n 1 "$log" | awk '/listening on/ {print $NF}')
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the sandbox did not start:" >&2; cat "$log" >&2; exit 1; }

timeout 900 "$venv/bin/schemathesis" --no-color --config-file contract/schemathesis.toml \
    run "$spec" --url "$url/$vendor" "${auth[@]}" \
    --phases examples,coverage,fuzzing --seed 42 --max-examples 100 \
    --generation-database none --workers 2
