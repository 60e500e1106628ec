// What `pulumi up --refresh` of an unchanged stack costs in API calls, through the real CLI (issue 16):
// a stack of many previews from the packed tarball, counted by kind on the control plane's request log.
// Calls are counted, never timed (timing is `npm run bench`'s).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { kindOf } from "../bench/cli";
import { CliStack } from "./cli-stack";
import { installedCopy, requirePulumiCli } from "./suite";

const PROGRAM = path.resolve(__dirname, "..", "..", "..", "test", "bench", "cli-program");
const N = 12;

describe("real Pulumi CLI: API calls of a stack of many previews (test/cli)", function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let stack: CliStack;
  let programDir: string;

  const calls = () => {
    const byKind: Record<string, number> = {};
    for (const r of cp.requests()) byKind[kindOf(r)] = (byKind[kindOf(r)] ?? 0) + 1;
    return byKind;
  };

  before(async function () {
    const cli = requirePulumiCli(this);
    programDir = await installedCopy(PROGRAM);
    cp = await startControlPlane({ jobProgression: "time", previewLimit: 100, jobDurationsMs: { create: 300, delete: 200 } });
    stack = new CliStack(cli, programDir, "many", { CAPYDB_API_URL: cp.url, CAPYDB_READINESS: "job" });
    await stack.init();
    await stack.config("capydb-bench:count", String(N));
    await stack.config("capydb-bench:projectId", cp.projectId);
    await stack.config("capydb:apiKey", cp.projectScopedKey, true);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && stack) process.stderr.write(stack.transcript.slice(-2).join("\n"));
  });

  after(async () => {
    if (stack) await stack.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    await cp?.close();
    stack?.remove();
    if (programDir) fs.rmSync(programDir, { recursive: true, force: true });
  });

  it(`up creates ${N} previews without listing the project after their jobs`, async () => {
    cp.clearRequests();
    await stack.ok(["up", "--yes", "--skip-preview", "--non-interactive"]);
    const byKind = calls();
    assert.equal(byKind.create, N, JSON.stringify(byKind));
    assert.equal(byKind.list ?? 0, 0, JSON.stringify(byKind));
    assert.equal(byKind.urls, N, JSON.stringify(byKind));
  });

  it(`up --refresh of the ${N} unchanged previews (preview and update, each refreshing) costs one list per pass and no URL read`, async () => {
    cp.clearRequests();
    const { stdout } = await stack.ok(["up", "--refresh", "--yes", "--non-interactive"]);
    const byKind = calls();
    // Per pass (each its own plugin process): one list, and the project's postgresVersion/region, read once per process.
    assert.deepEqual(byKind, { list: 2, project: 2 }, `${JSON.stringify(byKind)}\n${stdout}`);
    const state = await stack.exportState();
    const dbs = (state.resources ?? []).filter((r) => r.type.endsWith("PreviewDatabase"));
    assert.equal(dbs.length, N);
    for (const r of dbs) assert.equal(typeof r.outputs?.connectionsAsOf, "string");
  });
});
