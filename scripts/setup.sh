#!/usr/bin/env bash
# One-step set-up from a fresh clone: system packages, npm dependencies from
# the lockfile (the libpcap binding builds here), and the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-system-packages.sh
if [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
