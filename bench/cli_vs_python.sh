#!/usr/bin/env bash
# `claw coreclaw results RUN --out FILE.jsonl` against the CoreClaw guide's Python `requests` page
# loop (bench/python_loop.py), writing the same file from one sandbox.
#
#   bench/cli_vs_python.sh [COUNT] [LATENCIES]
#
# COUNT (default 200000) is the number of items of one run of the sandbox's load Worker
# (01KSBXLOADGEN0000000000001, up to 10,000,000). LATENCIES (default "0 50") is a list of
# milliseconds added to every result page (a sandbox `latency` fault on /api/v1/run/result/list
# only; none for 0). For each latency, both sides run RUNS times (default 3), alternating python,
# claw, python, claw, ..., timed by wall clock; both files must have COUNT lines and the same items
# in the same order. Prints a table of the medians.
#
# Builds the release binaries first (`cargo build --release`); BIN_DIR=DIR uses the binaries in DIR
# instead and builds nothing (BIN_DIR=target/debug for a quick smoke test: debug numbers mean
# nothing). `requests` is installed from PyPI into .tools/venv (git-ignored) if that venv lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-200000}"
latencies="${2:-0 50}"
runs="${RUNS:-3}"
worker=01KSBXLOADGEN0000000000001
api_key=sandbox-key

case "$count" in '' | *[!0-9]*) echo "COUNT must be a number of items, not '$count'" >&2; exit 2 ;; esac
if [ "$count" -lt 1 ] || [ "$count" -gt 10000000 ]; then echo "COUNT must be 1 to 10,000,000" >&2; exit 2; fi
for l in $latencies; do
    case "$l" in '' | *[!0-9]*) echo "latencies must be whole milliseconds, not '$l'" >&2; exit 2 ;; esac
done
case "$runs" in '' | 0 | *[!0-9]*) echo "RUNS must be a positive number, not '$runs'" >&2; exit 2 ;; esac

tools=".tools"
venv="$tools/venv"
mkdir -p "$tools"
if ! "$venv/bin/python" -c 'import requests' 2>/dev/null; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "requests==2.32.3"
fi
python="$venv/bin/python"

if [ -n "${BIN_DIR:-}" ]; then
    bin="$BIN_DIR"
else
    cargo build --release -q -p clawkit-cli -p clawkit-sandbox
    bin="${CARGO_TARGET_DIR:-target}/release"
fi
for b in claw clawkit-sandbox; do
    [ -x "$bin/$b" ] || { echo "no $bin/$b (build it, or set BIN_DIR)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_vs_python.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/clawkit-sandbox" --port 0 --run-seconds 0 > "$tmp/sandbox.log" 2>&1 &
pid=$!
url=""
for _ in $(seq 100); do
    url=$(head -n 1 "$tmp/sandbox.log" | awk '/listening on/ {print $NF}')
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the sandbox did not start:" >&2; cat "$tmp/sandbox.log" >&2; exit 1; }
base="$url/coreclaw"
export CORECLAW_BASE_URL="$base" CORECLAW_API_KEY="$api_key"

# One run of the load Worker; --wait returns once run detail says it ended (status 3: succeeded).
"$bin/claw" --json coreclaw run "$worker" --set "count=$count" --wait > "$tmp/run.json" 2> "$tmp/run.err" || {
    echo "starting the run failed:" >&2; cat "$tmp/run.err" "$tmp/run.json" >&2; exit 1
}
slug=$(python3 - "$tmp/run.json" "$count" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
if run.get("status") != 3 or run.get("results") != int(sys.argv[2]):
    sys.exit(f"the run did not succeed with {sys.argv[2]} results: {run}")
print(run["run_slug"])
EOF
)

faults() { # faults [MS]: clear the fault rules, then slow down every result page by MS ms
    curl -sf -X DELETE "$url/_sandbox/faults" > /dev/null
    if [ "${1:-0}" != 0 ]; then
        curl -sf -X POST "$url/_sandbox/faults" -H 'content-type: application/json' \
            -d "{\"rules\":[{\"vendor\":\"coreclaw\",\"route\":\"/api/v1/run/result/list\",\"kind\":{\"type\":\"latency\",\"ms\":$1}}]}" > /dev/null
    fi
}
fault_hits() {
    curl -sf "$url/_sandbox/faults" | python3 -c 'import json,sys; print(sum(r["hits"] for r in json.load(sys.stdin)["rules"]))'
}

# timed LOG CMD...: run CMD (stdin closed, output appended to LOG), print its wall-clock seconds.
timer='import subprocess, sys, time
with open(sys.argv[1], "ab") as log:
    start = time.perf_counter()
    rc = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log).returncode
    elapsed = time.perf_counter() - start
print(f"{elapsed:.3f}")
sys.exit(rc)'
timed() {
    local log="$1"
    shift
    python3 -c "$timer" "$log" "$@" || { echo "failed: $*" >&2; tail -n 20 "$log" >&2; exit 1; }
}

py_out="$tmp/python.jsonl"
claw_out="$tmp/claw.jsonl"
py_cmd=("$python" bench/python_loop.py --base "$base" --run-slug "$slug" --out "$py_out")
claw_cmd=("$bin/claw" coreclaw results "$slug" --out "$claw_out")
requests_version=$("$python" -c 'import requests; print(requests.__version__)')

echo "bench/cli_vs_python.sh $count \"$latencies\"   (BIN_DIR=$bin, RUNS=$runs)"
echo "run $slug: $count items of Worker $worker; sandbox $url"
echo "python: ${py_cmd[*]}   (requests $requests_version, $("$python" --version 2>&1))"
echo "claw:   CORECLAW_BASE_URL=$base CORECLAW_API_KEY=$api_key ${claw_cmd[*]}"
echo

# canonical FILE: the file's items re-serialized compactly (python's json.dumps puts a space after
# ':' and ',', claw does not), key order and line order kept.
canonical() {
    python3 -c 'import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in f:
        out.write(json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")) + "\n")' "$1" "$1.canon"
}

: > "$tmp/times"
for l in $latencies; do
    faults "$l"
    for i in $(seq "$runs"); do
        rm -f "$py_out" "$claw_out"
        t=$(timed "$tmp/python.log" "${py_cmd[@]}")
        echo "$l python $t" >> "$tmp/times"
        tc=$(timed "$tmp/claw.log" "${claw_cmd[@]}")
        echo "$l claw $tc" >> "$tmp/times"
        echo "latency ${l} ms, run $i/$runs: python ${t} s, claw ${tc} s" >&2
    done
    hits=$(fault_hits)
    faults 0

    # The files of the last pair.
    for f in "$py_out" "$claw_out"; do
        n=$(wc -l < "$f" | tr -d ' ')
        [ "$n" = "$count" ] || { echo "$f has $n lines, not $count" >&2; exit 1; }
    done
    if cmp -s "$py_out" "$claw_out"; then
        same="byte-identical"
    else
        canonical "$py_out"
        canonical "$claw_out"
        if cmp -s "$py_out.canon" "$claw_out.canon"; then
            same="same items in the same order (bytes differ only in JSON spacing)"
        elif [ "$(sort "$py_out.canon" | sha256sum)" = "$(sort "$claw_out.canon" | sha256sum)" ]; then
            same="same items, but in a DIFFERENT ORDER"
        else
            echo "latency ${l} ms: the files differ in their items:" >&2
            diff "$py_out.canon" "$claw_out.canon" | head -n 10 >&2
            exit 1
        fi
    fi
    echo "latency ${l} ms: both files have $count lines, $same; result pages slowed: $hits"
done

echo
python3 - "$tmp/times" <<'EOF'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    latency, side, seconds = line.split()
    times.setdefault(int(latency), {}).setdefault(side, []).append(float(seconds))
print(f"{'latency ms':>10}  {'python median s':>15}  {'claw median s':>13}  {'python/claw':>11}   runs (python | claw)")
for latency, sides in times.items():
    py, claw = statistics.median(sides["python"]), statistics.median(sides["claw"])
    runs = " ".join(f"{s:.2f}" for s in sides["python"]) + " | " + " ".join(f"{s:.2f}" for s in sides["claw"])
    print(f"{latency:>10}  {py:>15.3f}  {claw:>13.3f}  {py / claw:>10.2f}x   {runs}")
EOF
