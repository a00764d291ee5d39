#!/usr/bin/env bash
# Fails when the committed web/dist is not what the sources build to.
# Builds into a scratch directory (never touching dist/) and diffs the two.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.dist-check
rm -rf "$out"
trap 'rm -rf "$out"' EXIT
WEB_OUT_DIR="$out" npx vite build --logLevel warn
if ! diff -r dist "$out"; then
  echo "web/dist is stale: run 'npm run build' in web/ and commit web/dist." >&2
  exit 1
fi
echo "web/dist is up to date."
