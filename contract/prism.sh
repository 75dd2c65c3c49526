#!/usr/bin/env bash
# Prism (proxy mode, --errors) between the clawkit facade and the sandbox: every request the
# facade sends and every response the sandbox returns must match specs/coreclaw. Prism is
# installed from npm into .tools/npm (git-ignored) on first use.
#
#   contract/prism.sh [SPEC]     (default: the merged CoreClaw document from `cargo xtask spec`)
set -euo pipefail
cd "$(dirname "$0")/.."
bash contract/npm-tools.sh
tools=".tools"
spec="${1:-$tools/specs/coreclaw.json}"
if [ -z "${1:-}" ]; then
    mkdir -p "$tools/specs"
    cargo xtask spec --vendor coreclaw --out "$spec"
fi
cargo build --quiet -p clawkit-sandbox --bin clawkit-sandbox
sandbox_log="$tools/prism-sandbox.log"
prism_log="$tools/prism.log"
"${CARGO_TARGET_DIR:-target}/debug/clawkit-sandbox" --port 0 --run-seconds 1 > "$sandbox_log" 2>&1 &
sandbox_pid=$!
prism_pid=""
trap 'kill "$sandbox_pid" ${prism_pid:+"$prism_pid"} 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
    url=$(head -n 1 "$sandbox_log" | awk '/listening on/ {print $NF}')
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$sandbox_log" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tools/npm/node_modules/.bin/prism" proxy "$spec" "$url/coreclaw" --errors -h 127.0.0.1 -p "$port" > "$prism_log" 2>&1 &
prism_pid=$!
for _ in $(seq 300); do
    grep -q "Prism is listening" "$prism_log" && break
    sleep 0.1
done
grep -q "Prism is listening" "$prism_log" || { cat "$prism_log" >&2; exit 1; }
CLAWKIT_PRISM_CORECLAW="http://127.0.0.1:$port" cargo test --quiet -p clawkit-tests --test prism_flow
requests=$(grep -c "Request received" "$prism_log" || true)
violations=$(grep -cE "Violation|✖" "$prism_log" || true)
echo "prism: $requests requests through the proxy, $violations violations"
if [ "$violations" != "0" ]; then
    grep -E "Violation|✖" "$prism_log" >&2
    exit 1
fi
