#!/usr/bin/env bash
# Installs the npm contract tools, pinned, into .tools/npm (git-ignored), once.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=".tools/npm"
if [ ! -x "$dir/node_modules/.bin/spectral" ] || [ ! -x "$dir/node_modules/.bin/prism" ]; then
    mkdir -p "$dir"
    (cd "$dir" && [ -f package.json ] || echo '{"name": "clawkit-tools", "private": true}' > package.json)
    (cd "$dir" && npm install --no-audit --no-fund --silent @stoplight/spectral-cli@6.16.3 @stoplight/prism-cli@5.14.2)
fi
