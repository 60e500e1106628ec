/**
 * Per-branch naming, in two steps that never mix:
 *
 * 1. The environment chooses the stack: `stackNameFromEnvironment()` gives `pr-<number>` in a
 *    pull-request build, else the branch's preview name, which is also a valid stack name (run it where the stack is selected:
 *    `pulumi stack select --create "$(npx pulumi-capydb stack-name)"`).
 * 2. The stack chooses the preview name: `previewNameForStack(pulumi.getStack())` inside the
 *    program. It reads nothing else, so a pull-request build, a push build and a laptop that select
 *    the same stack give the same name, and the stack never replaces its database.
 */
import { execFileSync } from "child_process";
import { previewNameFor, stackNameFor } from "../provider/slug";

/** The branch being built, from the CI environment or, locally, from git. */
export function currentBranch(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromCi =
    env.GITHUB_HEAD_REF || // pull_request events: the source branch
    env.GITHUB_REF_NAME ||
    env.CI_COMMIT_REF_NAME || // GitLab
    env.BUILDKITE_BRANCH ||
    env.CIRCLE_BRANCH ||
    env.BITBUCKET_BRANCH ||
    env.VERCEL_GIT_COMMIT_REF ||
    env.BRANCH; // Netlify
  if (fromCi) return fromCi;
  try {
    const branch = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return branch && branch !== "HEAD" ? branch : undefined;
  } catch {
    return undefined;
  }
}

/** The pull request number, when CI says (GitHub, GitLab merge requests). */
export function currentPullRequest(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const match = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? "");
  const raw = match?.[1] ?? env.CI_MERGE_REQUEST_IID ?? env.PR_NUMBER;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Step 1: the stack this CI run (or this checkout) works on: `pr-<number>` in pull-request builds,
 * else `previewNameForBranch(<branch>)` (`Feature/Login` → `feature-login-1ce277`); undefined when
 * neither is known. That name is a valid stack name and already a valid preview name, so
 * `previewNameForStack` keeps it as it is: a branch's name is hashed once, never twice (a
 * `stackNameForBranch` name such as `Feature-Login-1ce277` would get a second hash).
 */
export function stackNameFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pr = currentPullRequest(env);
  if (pr !== undefined) return `pr-${pr}`;
  const branch = currentBranch(env);
  return branch ? previewNameForBranch(branch) : undefined;
}

/**
 * Step 2: the preview name for a stack, e.g. `previewNameForStack(pulumi.getStack())`. Depends on
 * the stack name (and the optional prefix) only. `pr-42` stays `pr-42`; a name that is not a valid
 * preview name becomes a lowercase slug plus a short hash (`Feature_X` → `feature-x-1a2b3c`).
 */
export function previewNameForStack(stack: string, prefix = ""): string {
  return previewNameFor(prefix + stack);
}

/**
 * A valid preview name for any text, the way `previewNameForStack` makes it: lowercase slug, at most
 * 63 characters, non-ASCII letters transliterated (café → cafe); a short hash of the full text is
 * appended when the slug had to be changed or cut, so "feat/a" and "feat-a" differ.
 */
export function previewNameForBranch(branch: string, prefix = ""): string {
  return previewNameFor(prefix + branch);
}

/** A valid Pulumi stack name for a branch (letters, digits, -, _, . ; at most 100). */
export function stackNameForBranch(branch: string): string {
  return stackNameFor(branch);
}

let warnedFromEnvironment = false;

/**
 * The 0.1.0 name helper, kept working: `pr-<number>` in pull-request builds, else the branch slug.
 *
 * @deprecated The name it gives depends on where `up` runs (a pull-request build says `pr-42`, a
 * push or a laptop on the same branch says the branch slug), so the same stack can replace its
 * database. Choose the stack from the environment with `stackNameFromEnvironment()` and name the
 * preview from the stack with `previewNameForStack(pulumi.getStack())`.
 */
export function previewNameFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!warnedFromEnvironment) {
    warnedFromEnvironment = true;
    process.emitWarning(
      "previewNameFromEnvironment() is deprecated: its name depends on where `up` runs. Select the stack with " +
        "stackNameFromEnvironment() and name the preview with previewNameForStack(pulumi.getStack()).",
      { type: "DeprecationWarning", code: "PULUMI_CAPYDB_NAME_FROM_ENV" },
    );
  }
  const pr = currentPullRequest(env);
  if (pr !== undefined) return `pr-${pr}`;
  const branch = currentBranch(env);
  return branch ? previewNameForBranch(branch) : undefined;
}
