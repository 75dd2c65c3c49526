#!/usr/bin/env bash
# 1,000,000 CoreClaw result items to a local S3 server (moto), through `claw --out s3://...`:
# peak RSS of the claw process (which also hosts the embedded sandbox) and MB/s of the object.
#
#   bench/s3_export.sh [COUNT=1000000]
#
# Builds claw (release), starts moto through contract/s3.sh, and writes the run's items as JSON
# Lines (from the item stream, read ahead) and as CSV (CoreClaw's export file, downloaded and
# uploaded as one multipart object). BIN_DIR=target/debug skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-1000000}"
if [ -z "${BIN_DIR:-}" ]; then
    cargo build --release -q -p clawkit-cli
    BIN_DIR="${CARGO_TARGET_DIR:-target}/release"
fi
export BIN_DIR COUNT="$count"

exec bash contract/s3.sh bash -c '
set -euo pipefail
printf "%-8s %10s %10s %10s %12s\n" format items seconds "MB/s" "peak RSS"
for ext in jsonl csv; do
    url="s3://$CLAWKIT_TEST_BUCKET/bench/items.$ext"
    stats=$(mktemp)
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$stats" "$BIN_DIR/claw" --sandbox --json coreclaw run 01KSBXLOADGEN0000000000001 \
        --set "count=$COUNT" --out "$url" > /dev/null
    end=$(date +%s.%N)
    rss_kb=$(tail -n 1 "$stats")
    bytes=$(.tools/venv/bin/python -c "import boto3,sys; print(boto3.client(\"s3\").head_object(Bucket=sys.argv[1], Key=sys.argv[2])[\"ContentLength\"])" "$CLAWKIT_TEST_BUCKET" "bench/items.$ext")
    python3 -c "import sys; b,s,e,r=map(float,sys.argv[1:5]); t=e-s; print(f\"{sys.argv[5]:<8} {int(sys.argv[6]):>10} {t:>10.2f} {b/t/1e6:>10.1f} {r/1024:>9.1f} MB\")" \
        "$bytes" "$start" "$end" "$rss_kb" "$ext" "$COUNT"
    rm -f "$stats"
done
'
