#!/usr/bin/env bash
# Compatibility run: the layer-4 contract suite (test/engine/contract.test.ts) on Node 24 with the newest
# @pulumi/pulumi, against the package as users get it (npm pack + install into a program outside this checkout).
#
#   npm run test:compat            (or: bash scripts/compat.sh)
#
# Env: COMPAT_NODE (default 24, an npm `node` package spec), COMPAT_PULUMI (default latest),
#      COMPAT_KEEP=1 keeps the temp dir. Needs the npm registry (or a warm npm cache).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_SPEC="${COMPAT_NODE:-24}"
PULUMI_SPEC="${COMPAT_PULUMI:-latest}"
START=$(date +%s)

# npm_* variables from an enclosing `npm run` would redirect the nested npm (prefix, cache, config).
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -i '^npm_' || true)

TMP="$(mktemp -d "${TMPDIR:-/tmp}/capydb-compat-XXXXXX")"
cleanup() {
  if [ "${COMPAT_KEEP:-}" = "1" ]; then echo "compat: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

cd "$REPO"
echo "compat: building"
node_modules/.bin/tsc -p tsconfig.json

echo "compat: packing"
# Scripts are skipped: `prepack` would rebuild the package; the build above is what gets packed.
TARBALL="$TMP/$(npm pack --ignore-scripts --silent --pack-destination "$TMP" | tail -n 1)"
[ -f "$TARBALL" ] || { echo "compat: npm pack produced no tarball" >&2; exit 1; }

# The Node binary: the npm `node` package fetches it in its install script, so it gets its own directory with
# scripts enabled; the program itself is installed with --ignore-scripts, like packaging.test.ts does.
echo "compat: installing node@$NODE_SPEC"
mkdir -p "$TMP/node"
(cd "$TMP/node" && echo '{"name":"compat-node","version":"1.0.0","private":true}' > package.json &&
  npm install --no-audit --no-fund --silent "node@$NODE_SPEC")
NODE_BIN="$TMP/node/node_modules/node/bin/node"
NODE_VERSION="$("$NODE_BIN" --version)"

echo "compat: installing pulumi-capydb tarball + @pulumi/pulumi@$PULUMI_SPEC"
PROGRAM="$TMP/program"
mkdir -p "$PROGRAM"
(cd "$PROGRAM" && echo '{"name":"capydb-compat-program","version":"1.0.0","private":true}' > package.json &&
  npm install --no-audit --no-fund --silent --ignore-scripts "$TARBALL" "@pulumi/pulumi@$PULUMI_SPEC")
PULUMI_VERSION="$(cd "$PROGRAM" && "$NODE_BIN" -p 'require("@pulumi/pulumi/package.json").version')"

echo "compat: node $NODE_VERSION, @pulumi/pulumi $PULUMI_VERSION (checkout pins $(node -p 'require("./node_modules/@pulumi/pulumi/package.json").version'))"
status=0
CAPYDB_COMPAT_PROGRAM_DIR="$PROGRAM" CAPYDB_COMPAT_NODE_MAJOR="$(major="${NODE_VERSION#v}"; echo "${major%%.*}")" \
  "$NODE_BIN" node_modules/mocha/bin/mocha.js --no-config --exit --timeout 300000 \
  dist/test/engine/contract.test.js || status=$?
echo "compat: node $NODE_VERSION, @pulumi/pulumi $PULUMI_VERSION: $([ $status = 0 ] && echo PASS || echo "FAIL ($status)") in $(( $(date +%s) - START ))s"
exit $status
