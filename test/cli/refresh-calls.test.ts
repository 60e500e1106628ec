// What `pulumi up --refresh` of an unchanged stack costs in API calls, through the real CLI (issue 16):
// a stack of many previews from the packed tarball, counted by kind on the control plane's request log.
// Calls are counted, never timed (timing is `npm run bench`'s).
import { strict as assert } from "assert";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { kindOf } from "../bench/cli";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
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

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    programDir = suite.dir(await installedCopy(PROGRAM));
    cp = await suite.startControlPlane({ jobProgression: "time", previewLimit: 100, jobDurationsMs: { create: 300, delete: 200 } });
    stack = await suite.stack(new CliStack(cli, programDir, "many", { CAPYDB_API_URL: cp.url, CAPYDB_READINESS: "job" }), { key: cp.projectScopedKey });
    // Before the control plane closes: the stack's previews go the way a user removes them.
    suite.onClose(() => stack.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]));
    await stack.config("capydb-bench:count", String(N));
    await stack.config("capydb-bench:projectId", cp.projectId);
  }, 2);

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
