import { strict as assert } from "assert";
import { currentPullRequest, previewNameForBranch, previewNameFromEnvironment, stackNameForBranch } from "../../sdk/branch";

describe("per-branch naming", () => {
  it("keeps simple branch names as they are", () => {
    assert.equal(previewNameForBranch("pr-42"), "pr-42");
    assert.equal(previewNameForBranch("main"), "main");
  });

  it("slugs other names and adds a hash so distinct branches never share a preview", () => {
    const a = previewNameForBranch("feat/a");
    const b = previewNameForBranch("feat-a");
    assert.match(a, /^feat-a-[0-9a-f]{6}$/);
    assert.equal(b, "feat-a");
    assert.notEqual(a, b);
    const long = previewNameForBranch("x".repeat(80));
    assert.ok(long.length <= 63);
    assert.match(previewNameForBranch("Feature/UPPER_case"), /^feature-upper-case-[0-9a-f]{6}$/);
  });

  it("finds the pull request number from GitHub and GitLab", () => {
    assert.equal(currentPullRequest({ GITHUB_REF: "refs/pull/42/merge" }), 42);
    assert.equal(currentPullRequest({ CI_MERGE_REQUEST_IID: "7" }), 7);
    assert.equal(currentPullRequest({ GITHUB_REF: "refs/heads/main" }), undefined);
    assert.equal(previewNameFromEnvironment({ GITHUB_REF: "refs/pull/42/merge", GITHUB_HEAD_REF: "feat/x" }), "pr-42");
    assert.equal(previewNameFromEnvironment({ GITHUB_REF_NAME: "main" }), "main");
  });

  it("makes valid stack names", () => {
    assert.equal(stackNameForBranch("pr-42"), "pr-42");
    assert.match(stackNameForBranch("feat/login page"), /^feat-login-page-[0-9a-f]{6}$/);
    assert.ok(stackNameForBranch("y".repeat(200)).length <= 100);
  });
});
