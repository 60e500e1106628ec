#!/usr/bin/env bash
# The Pulumi commands of the preview-db workflow, in one place so that CI, a laptop and the test suite
# run exactly the same thing. Run from the Pulumi program's directory (the one with Pulumi.yaml).
#
#   scripts/preview-stack.sh up pr-42        # select or create the stack, then `pulumi up --refresh`
#   scripts/preview-stack.sh destroy pr-42   # `pulumi destroy --remove`; a missing stack is not an error
#
# Needs: the pulumi CLI logged in to a backend (PULUMI_ACCESS_TOKEN, or PULUMI_BACKEND_URL and
# PULUMI_CONFIG_PASSPHRASE), CAPYDB_API_KEY (and CAPYDB_API_URL for another control plane), and for
# `up` CAPYDB_PROJECT_ID. Writes the preview's name, host and expiry, never a credential, to
# $GITHUB_STEP_SUMMARY when set (GitHub's job summary), else to stdout.
set -euo pipefail

usage() {
  echo "usage: $0 up|destroy <stack>" >&2
  exit 2
}
[ $# -eq 2 ] || usage
command="$1"
stack="$2"

# Markdown for GitHub's job summary when there is one, else the log.
report() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat >>"$GITHUB_STEP_SUMMARY"; else cat; fi
}

# Is the stack in this list (`pulumi stack ls --json`)? Names may come org-qualified from Pulumi Cloud.
stack_listed() {
  STACK="$stack" node -e '
    const want = process.env.STACK;
    const stacks = JSON.parse(require("fs").readFileSync(0, "utf8") || "[]");
    process.exit(stacks.some((s) => s.name === want || String(s.name).endsWith("/" + want)) ? 0 : 1);'
}

case "$command" in
  up)
    : "${CAPYDB_PROJECT_ID:?set CAPYDB_PROJECT_ID to the CapyDB project (prj_…) the previews branch from}"
    pulumi stack select --create --non-interactive "$stack"
    pulumi config set --stack "$stack" capydb:projectId "$CAPYDB_PROJECT_ID"
    # --refresh first: a preview that expired or was deleted leaves the state, so up creates a new one.
    pulumi up --yes --refresh --non-interactive --stack "$stack"
    name="$(pulumi stack output --stack "$stack" name)"
    host="$(pulumi stack output --stack "$stack" host)"
    expires="$(pulumi stack output --stack "$stack" ttlExpiresAt)"
    {
      echo "### Preview database \`$name\` (stack \`$stack\`)"
      echo ""
      echo "| host | expires (renewed by each push once less than half of the TTL is left) |"
      echo "|---|---|"
      echo "| \`$host\` | $expires |"
      echo ""
      echo "Connection URLs are secret stack outputs: \`pulumi stack output --stack $stack databaseUrl --show-secrets\`."
    } | report
    ;;
  destroy)
    # An assignment, so a backend problem stops the script here instead of reading as "no such stack".
    stacks="$(pulumi stack ls --json --non-interactive)"
    if ! stack_listed <<<"$stacks"; then
      message="No stack $stack: nothing to destroy (the pull request closed before any successful up)."
      echo "$message"
      if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then echo "$message" >>"$GITHUB_STEP_SUMMARY"; fi
      exit 0
    fi
    # Never `pulumi stack rm --force`: it forgets the preview instead of deleting it.
    pulumi destroy --yes --refresh --remove --non-interactive --stack "$stack"
    echo "Stack \`$stack\` destroyed: its preview database is deleted and the stack removed." | report
    ;;
  *)
    usage
    ;;
esac
