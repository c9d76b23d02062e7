#!/usr/bin/env bash
# Refreshes the IEEE OUI registry: oui-data republishes the registry as JSON,
# so updating the package (and committing the lockfile) refreshes vendors.
set -euo pipefail
cd "$(dirname "$0")/.."

before=$(node -p "require('oui-data/package.json').version")
npm install --save oui-data@latest --no-audit --no-fund
after=$(node -p "require('oui-data/package.json').version")
entries=$(node -p "Object.keys(require('oui-data')).length")
echo "oui-data ${before} -> ${after}: ${entries} registered OUIs"
