// Every example program under setMocks: what a user who copies it gets registered and exported.
import * as assert from "assert/strict";
import * as path from "path";
import { captureStack, type CapturedExport, type CapturedResource } from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";
const SECRET_OUTPUTS = ["directUrl", "password", "pooledUrl"];

type Run = { resources: CapturedResource[]; exports: Record<string, CapturedExport> };

function run(example: string, stack: string, env: Record<string, string> = {}): Promise<Run> {
  return captureStack({
    programDir: REPO,
    module: path.join(REPO, "dist", "examples", example, "index.js"),
    project: `capydb-${example}`,
    stack,
    config: { "capydb:projectId": "prj_example" },
    env,
  });
}

function onlyPreview(result: Run): CapturedResource {
  const custom = result.resources.filter((r) => r.custom);
  assert.equal(custom.length, 1);
  assert.equal(custom[0].type, TYPE);
  assert.deepEqual([...(custom[0].additionalSecretOutputs ?? [])].sort(), SECRET_OUTPUTS);
  assert.equal(custom[0].inputs.projectId, "prj_example");
  return custom[0];
}

describe("examples under mocks", function () {
  this.timeout(60_000);
  let perBranchPr: Run;
  let perBranchLocal: Run;
  let appWiring: Run;
  let workflow: Run;

  before(async () => {
    [perBranchPr, perBranchLocal, appWiring, workflow] = await Promise.all([
      run("per-branch-stack", "pr-42", { GITHUB_REF: "refs/pull/42/merge", GITHUB_HEAD_REF: "feat/login" }),
      run("per-branch-stack", "feat-login", { GITHUB_REF: "", GITHUB_HEAD_REF: "", GITHUB_REF_NAME: "feat/login" }),
      run("app-wiring", "feat/x"),
      run("github-workflow", "pr-7"),
    ]);
  });

  it("per-branch-stack names the preview pr-<n> in pull requests, after the branch otherwise", () => {
    const pr = onlyPreview(perBranchPr);
    assert.equal(pr.inputs.name, "pr-42");
    assert.equal(pr.inputs.ttlHours, 72);
    assert.equal(pr.inputs.mode, "clone");
    assert.match(onlyPreview(perBranchLocal).inputs.name as string, /^feat-login-[0-9a-f]{6}$/);
    for (const k of ["databaseUrl", "databaseUrlUnpooled"]) assert.equal(perBranchPr.exports[k]?.secret, true, k);
    assert.equal(perBranchPr.exports.host?.secret, false);
  });

  it("app-wiring keeps the app environment and the migrate command secret", () => {
    const db = onlyPreview(appWiring);
    assert.match(db.inputs.name as string, /^app-feat-x-[0-9a-f]{6}$/);
    assert.deepEqual(db.inputs.timeouts, { create: "10m", delete: "10m" });
    assert.equal(appWiring.exports.appEnvironment?.secret, true);
    assert.equal(appWiring.exports.migrateCommand?.secret, true);
  });

  it("github-workflow names the preview after the pr-<n> stack", () => {
    assert.equal(onlyPreview(workflow).inputs.name, "pr-7");
    assert.equal(workflow.exports.databaseUrl?.secret, true);
  });
});
