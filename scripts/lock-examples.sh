#!/usr/bin/env bash
# Refreshes each example's package-lock.json after this package's package.json changed (version,
# dependencies, bin, engines): test/examples/typecheck.test.ts fails until they are in step.
# Only the lockfiles change; already-locked versions of other packages are kept. npm never rereads a locked
# file: dependency's package.json, so its entries are dropped first and resolved again from ../..
#
#   bash scripts/lock-examples.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# npm_* variables from an enclosing `npm run` would redirect the nested npm.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -i '^npm_' || true)
for dir in "$REPO"/examples/*/; do
  [ -f "$dir/package.json" ] || continue
  echo "lock-examples: $(basename "$dir")"
  (cd "$dir" &&
    node -e '
      const fs = require("fs");
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
      for (const key of Object.keys(lock.packages)) if (/^node_modules\/pulumi-capydb(\/|$)/.test(key)) delete lock.packages[key];
      fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");' &&
    npm install --package-lock-only --no-audit --no-fund --ignore-scripts)
done
