#!/usr/bin/env bash
# Spectral (spectral:oas plus .spectral.yaml) over every spec as the tools see it (overlay merged,
# OpenAPI 3.0): zero errors allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash contract/npm-tools.sh
mkdir -p .tools/specs
for vendor in coreclaw coreclaw-v2 bazhuayu openclaw-devops openclaw-fulfillment botswin; do
    cargo xtask spec --vendor "$vendor" --out ".tools/specs/$vendor.json"
done
.tools/npm/node_modules/.bin/spectral lint -r .spectral.yaml -D -f text .tools/specs/*.json
