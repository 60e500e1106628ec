// Issue 17.1 and 17.2 through the real Pulumi CLI, TypeScript programs installed from the packed tarball,
// against the local control plane on real Postgres: examples/debug-as-of restores the project as of a
// chosen time, a program with `source.backupKey` restores a backup, and each preview shows exactly the rows
// of that moment (rows written to the source after it are absent, rows before present). A time later than
// the latest restorable point is clamped, and `up` says so. Destroy leaves nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROVIDER_SCOPES, type ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { MARKS, marksThrough, postmastersOfThisProcess, writeTimeline, type Timeline } from "./restore-timeline";
import { installedCopy, livePreviews, requirePulumiCli } from "./suite";

const EXAMPLE = path.join(REPO, "examples", "debug-as-of");
const TS_PROGRAM = path.join(REPO, "test", "cli", "ts-program");
const TS_PROJECT = "capydb-ts-suite";
const CLAMP_LINE = /restore time \S+ was clamped by CapyDB \(later than the latest restorable point\): the preview holds the data as of \S+/;

/** The example's own dependencies besides the two the test installs (the packed tarball, the pinned SDK). */
function exampleDevDependencies(): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
  return pkg.devDependencies ?? {};
}

describe("real Pulumi CLI: previews restored from a point in time and from a backup (test/cli, TypeScript)", function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let timeline: Timeline;
  let example: CliStack;
  let fromBackup: CliStack;
  let postmasters: number[];

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    postmasters = postmastersOfThisProcess();
    // A restore needs backups:write, which the provider asks for only when `source` is set.
    const key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    timeline = await writeTimeline(cp);

    const exampleDir = suite.dir(await installedCopy(EXAMPLE, {}, exampleDevDependencies()));
    const tsDir = suite.dir(await installedCopy(TS_PROGRAM, {}, { typescript: "5.9.3" }));
    example = await suite.stack(new CliStack(cli, exampleDir, "dev", { CAPYDB_API_URL: cp.url }), { project: "capydb", key });
    await example.config("capydb-debug-as-of:asOf", timeline.restoreTime);
    fromBackup = await suite.stack(new CliStack(cli, tsDir, "dev", { CAPYDB_API_URL: cp.url }), { project: TS_PROJECT, key });
    await fromBackup.config(`${TS_PROJECT}:name`, "from-backup");
    await fromBackup.config(`${TS_PROJECT}:sourceBackupKey`, timeline.backupKey);
  });

  it("examples/debug-as-of: the preview holds exactly the rows written before the chosen time", async () => {
    const up = await example.ok(["up", "--yes", "--non-interactive"]);
    const outs = await example.outputs(true);
    assert.equal(outs.clamped, false);
    assert.equal(Date.parse(String(outs.restoredAsOf)), Date.parse(timeline.restoreTime), "restored to the time asked for");
    assert.deepEqual(await marksThrough(String(outs.psqlUrl)), timeline.atTime, `rows before ${timeline.restoreTime} only`);
    assert.doesNotMatch(up.stdout + up.stderr, CLAMP_LINE);
    const [live] = cp.previews.live().filter((p) => p.name === outs.previewName);
    assert.equal(live?.sourceKind, "pitr");
    assert.equal((await example.outputs()).psqlUrl, "[secret]");
  });

  it("source.backupKey: the preview holds exactly the rows of the backup, and says where it came from", async () => {
    await fromBackup.ok(["up", "--yes", "--non-interactive"]);
    const outs = await fromBackup.outputs(true);
    assert.equal(outs.sourceKind, "backup");
    assert.equal(outs.sourceBackupKey, timeline.backupKey);
    assert.equal(outs.restoreTimeClamped, null);
    assert.deepEqual(await marksThrough(String(outs.directUrl)), timeline.atBackup, "rows before the backup only");
    // What the last test counts is seen: each restored preview runs a Postgres server of its own.
    assert.equal(postmastersOfThisProcess().length, postmasters.length + 2, "the control plane's server and one per restored preview");
  });

  it("a time later than the latest restorable point is clamped: the output says so, and up printed the line", async () => {
    const requested = new Date(Date.now() + 24 * 3_600_000).toISOString();
    await example.config("capydb-debug-as-of:asOf", requested);
    const up = await example.ok(["up", "--yes", "--non-interactive"]);
    assert.match(up.stdout + up.stderr, CLAMP_LINE);
    const outs = await example.outputs(true);
    assert.equal(outs.requestedAsOf, requested);
    assert.equal(outs.clamped, true);
    assert.ok(Date.parse(String(outs.restoredAsOf)) < Date.parse(requested), "restored to an earlier time than asked");
    assert.deepEqual(await marksThrough(String(outs.psqlUrl)), [...MARKS], "the data as of the latest point: every row");
  });

  it("destroy leaves nothing: no preview listed, no Postgres server of a restore still running", async () => {
    await example.ok(["destroy", "--yes", "--non-interactive"]);
    await fromBackup.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp), []);
    const res = await fetch(`${cp.url}/v1/projects/${cp.projectId}/preview-databases`, { headers: { authorization: `Bearer ${cp.apiKey}` } });
    const listed = ((await res.json()) as { preview_databases: { state: string }[] | null }).preview_databases ?? [];
    assert.deepEqual(listed.filter((p) => p.state !== "deleting" && p.state !== "deleted"), []);
    assert.deepEqual(postmastersOfThisProcess(), postmasters, "only the control plane's own server");
  });
});
