import { strict as assert } from "assert";
import {
  currentPullRequest,
  previewNameForBranch,
  previewNameForStack,
  previewNameFromEnvironment,
  stackNameForBranch,
  stackNameFromEnvironment,
} from "../../sdk/branch";

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
  });

  it("makes valid stack names", () => {
    assert.equal(stackNameForBranch("pr-42"), "pr-42");
    assert.match(stackNameForBranch("feat/login page"), /^feat-login-page-[0-9a-f]{6}$/);
    assert.ok(stackNameForBranch("y".repeat(200)).length <= 100);
  });

  describe("the environment chooses the stack, the stack chooses the name", () => {
    const pullRequestBuild = { GITHUB_REF: "refs/pull/42/merge", GITHUB_HEAD_REF: "feat/login", GITHUB_REF_NAME: "42/merge" };
    const pushBuild = { GITHUB_REF: "refs/heads/feat/login", GITHUB_REF_NAME: "feat/login" };
    const gitlabMergeRequest = { CI_MERGE_REQUEST_IID: "42", CI_COMMIT_REF_NAME: "feat/login" };

    it("stackNameFromEnvironment: pr-<n> in pull-request builds, the branch's stack name otherwise", () => {
      assert.equal(stackNameFromEnvironment(pullRequestBuild), "pr-42");
      assert.equal(stackNameFromEnvironment(gitlabMergeRequest), "pr-42");
      assert.equal(stackNameFromEnvironment(pushBuild), previewNameForBranch("feat/login"));
      assert.equal(stackNameFromEnvironment({ GITHUB_REF_NAME: "main" }), "main");
    });

    it("a branch's name is hashed once: the stack from the environment is kept as the preview name", () => {
      for (const branch of ["Feature/Login", "release/1.2", "fix_bug", "feat/login", "main", "Ünïcode/Ärger", "x".repeat(90)]) {
        const stack = stackNameFromEnvironment({ GITHUB_REF_NAME: branch })!;
        assert.match(stack, /^[A-Za-z0-9_.-]{1,100}$/, `${stack} is a valid stack name`);
        const name = previewNameForStack(stack);
        assert.equal(name, stack, `${branch}: the preview name is the stack name`);
        assert.equal(name, previewNameForBranch(branch), `${branch}: the branch's preview name, one hash`);
        assert.ok((name.match(/-[0-9a-f]{6}(?=-|$)/g) ?? []).length <= 1, `${name} carries at most one hash`);
      }
    });

    it("previewNameForStack reads only the stack: the same name from a pull-request build, a push and a laptop", () => {
      const laptop = { PATH: process.env.PATH };
      const names = [pullRequestBuild, pushBuild, laptop, gitlabMergeRequest].map((env) => {
        const saved = process.env;
        process.env = { ...env };
        try {
          return previewNameForStack("pr-42");
        } finally {
          process.env = saved;
        }
      });
      assert.deepEqual(names, ["pr-42", "pr-42", "pr-42", "pr-42"]);
      assert.equal(previewNameForStack("feat-login-d668f0"), "feat-login-d668f0");
      assert.equal(previewNameForStack("Feature_X"), previewNameForBranch("Feature_X"));
    });

    it("the deprecated previewNameFromEnvironment still answers as in 0.1.0, with a one-time warning", async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on("warning", onWarning);
      try {
        assert.equal(previewNameFromEnvironment(pullRequestBuild), "pr-42");
        previewNameFromEnvironment(pullRequestBuild);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off("warning", onWarning);
      }
      const ours = warnings.filter((w) => (w as { code?: string }).code === "PULUMI_CAPYDB_NAME_FROM_ENV");
      assert.equal(ours.length, 1, "warned once");
      assert.equal(ours[0].name, "DeprecationWarning");
      assert.match(ours[0].message, /previewNameForStack\(pulumi\.getStack\(\)\)/);
      assert.equal(previewNameFromEnvironment(pullRequestBuild), "pr-42");
      assert.equal(previewNameFromEnvironment(pushBuild), "feat-login-d668f0");
      assert.equal(previewNameFromEnvironment({ GITHUB_REF_NAME: "main" }), "main");
      assert.notEqual(previewNameFromEnvironment(pullRequestBuild), previewNameFromEnvironment(pushBuild),
        "one branch, two names: the reason for previewNameForStack");
    });
  });
});
