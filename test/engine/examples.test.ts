// Every example program under setMocks: what a user who copies it gets registered and exported.
import * as assert from "assert/strict";
import * as path from "path";
import { captureStack, type CapturedExport, type CapturedResource } from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";
const SECRET_OUTPUTS = ["directUrl", "password", "pooledUrl"];

type Run = { resources: CapturedResource[]; exports: Record<string, CapturedExport> };

function run(example: string, stack: string, env: Record<string, string> = {}, config: Record<string, string> = {}): Promise<Run> {
  return captureStack({
    programDir: REPO,
    module: path.join(REPO, "dist", "examples", example, "index.js"),
    project: `capydb-${example}`,
    stack,
    config: { "capydb:projectId": "prj_example", ...config },
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
  let perBranchPush: Run;
  let perBranchLaptop: Run;
  let perBranchBranchStack: Run;
  let appWiring: Run;
  let workflow: Run;
  let debugAsOf: Run;
  let debugAsOfUnset: Run;

  // The same stack (pr-42) selected by a pull-request build, by a push build of its branch and on a laptop.
  const pullRequestBuild = { GITHUB_REF: "refs/pull/42/merge", GITHUB_HEAD_REF: "feat/login", GITHUB_REF_NAME: "42/merge" };
  const pushBuild = { GITHUB_REF: "refs/heads/feat/login", GITHUB_HEAD_REF: "", GITHUB_REF_NAME: "feat/login" };
  const laptop = { GITHUB_REF: "", GITHUB_HEAD_REF: "", GITHUB_REF_NAME: "", CI_MERGE_REQUEST_IID: "", PR_NUMBER: "" };

  before(async () => {
    [perBranchPr, perBranchPush, perBranchLaptop, perBranchBranchStack, appWiring, workflow, debugAsOf, debugAsOfUnset] = await Promise.all([
      run("per-branch-stack", "pr-42", pullRequestBuild),
      run("per-branch-stack", "pr-42", pushBuild),
      run("per-branch-stack", "pr-42", laptop),
      run("per-branch-stack", "feat-login-d668f0", pushBuild),
      run("app-wiring", "feat/x"),
      run("github-workflow", "pr-7"),
      run("debug-as-of", "incident-1", {}, { "capydb-debug-as-of:asOf": "2026-11-30T09:00:00+01:00" }),
      run("debug-as-of", "incident-1"),
    ]);
  });

  it("per-branch-stack: the stack chooses the name, the same from a pull-request build, a push and a laptop", () => {
    const names = [perBranchPr, perBranchPush, perBranchLaptop].map((r) => onlyPreview(r).inputs.name);
    assert.deepEqual(names, ["pr-42", "pr-42", "pr-42"]);
    const pr = onlyPreview(perBranchPr);
    assert.equal(pr.inputs.ttlHours, 72);
    assert.equal(pr.inputs.mode, "clone");
    assert.equal(onlyPreview(perBranchBranchStack).inputs.name, "feat-login-d668f0", "a branch stack keeps its name");
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

  it("debug-as-of restores the project as of asOf (else 09:00 UTC today) into a short-lived preview; the URL is secret", () => {
    const db = onlyPreview(debugAsOf);
    assert.deepEqual(db.inputs.source, { restoreTime: "2026-11-30T09:00:00+01:00" });
    assert.equal(db.inputs.ttlHours, 8);
    assert.equal(db.inputs.keepAlive, false);
    assert.match(db.inputs.name as string, /^debug-incident-1/);
    assert.equal(debugAsOf.exports.psqlUrl?.secret, true);
    for (const k of ["requestedAsOf", "restoredAsOf", "clamped", "previewName"]) assert.equal(debugAsOf.exports[k]?.secret, false, k);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(onlyPreview(debugAsOfUnset).inputs.source, { restoreTime: `${today}T09:00:00Z` });
  });

  it("github-workflow names the preview after the pr-<n> stack and exports what the job summary shows in the clear", () => {
    assert.equal(onlyPreview(workflow).inputs.name, "pr-7");
    assert.equal(workflow.exports.databaseUrl?.secret, true);
    assert.equal(workflow.exports.databaseUrlUnpooled?.secret, true);
    for (const k of ["name", "host", "ttlExpiresAt"]) assert.equal(workflow.exports[k]?.secret, false, k);
  });
});
