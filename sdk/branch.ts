/**
 * Per-branch naming: one preview (and one stack) per pull request or branch, named from the CI
 * environment so that every push of a branch lands on the same preview.
 */
import { createHash } from "crypto";
import { execFileSync } from "child_process";

const MAX_PREVIEW_NAME = 63;

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
 * A valid preview name for a branch: lowercase slug, at most 63 characters. A short hash of the full
 * branch name is appended when the slug had to be changed or cut, so "feat/a" and "feat-a" differ.
 */
export function previewNameForBranch(branch: string, prefix = ""): string {
  const slug = (prefix + branch)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (slug && slug === prefix + branch && slug.length <= MAX_PREVIEW_NAME) return slug;
  const hash = createHash("sha256").update(prefix + branch).digest("hex").slice(0, 6);
  const head = slug.slice(0, MAX_PREVIEW_NAME - hash.length - 1).replace(/-+$/g, "");
  return head ? `${head}-${hash}` : `preview-${hash}`;
}

/**
 * The preview name for this CI run: `pr-<number>` for pull requests (what the CapyDB GitHub Action
 * uses, so both can share a database), else the branch slug; undefined when neither is known.
 */
export function previewNameFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pr = currentPullRequest(env);
  if (pr !== undefined) return `pr-${pr}`;
  const branch = currentBranch(env);
  return branch ? previewNameForBranch(branch) : undefined;
}

/** A valid Pulumi stack name for the same branch (letters, digits, -, _, . ; at most 100). */
export function stackNameForBranch(branch: string): string {
  const slug = branch.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "");
  if (slug && slug === branch && slug.length <= 100) return slug;
  const hash = createHash("sha256").update(branch).digest("hex").slice(0, 6);
  return `${slug.slice(0, 100 - hash.length - 1).replace(/-+$/g, "") || "branch"}-${hash}`;
}
