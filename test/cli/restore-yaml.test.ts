// Issue 17.1 and 17.2 through the native plugin and the real Pulumi CLI: a Pulumi YAML program with two
// previews, one restored from a point in time and one from a backup, against the local control plane on
// real Postgres. Each shows exactly the rows of its moment; a time later than the latest restorable point
// is clamped and `up` says so; destroy leaves nothing. Each `it` is the next command on the same stack.
import { strict as assert } from "assert";
import * as path from "path";
import { PROVIDER_SCOPES, type ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { DirectCliStack, programCopy, requireYamlHost } from "./native";
import { MARKS, marksThrough, postmastersOfThisProcess, writeTimeline, type Timeline } from "./restore-timeline";
import { StackSuite } from "./stack-suite";
import { livePreviews, requirePulumiCli } from "./suite";

const PROJECT = "capydb-yaml-restore-suite";
const PROGRAM = path.join(REPO, "test", "cli", "yaml-restore-program");
const CLAMP_LINE = /create yaml-from-time: restore time \S+ was clamped by CapyDB \(later than the latest restorable point\): the preview holds the data as of \S+/;

describe("real Pulumi CLI: a YAML program restores previews from a point in time and from a backup (test/cli)", function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let stack: DirectCliStack;
  let programDir: string;
  let timeline: Timeline;
  let postmasters: number[];
  let key: string;

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    requireYamlHost(ctx, cli);
    programDir = suite.dir(programCopy(PROGRAM));
    cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    postmasters = postmastersOfThisProcess();
    // A restore needs backups:write, which the provider asks for only when `source` is set.
    key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    timeline = await writeTimeline(cp);
    const direct = new DirectCliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: "" });
    await direct.installPlugin();
    stack = await suite.stack(direct, { project: PROJECT, key });
    await stack.config(`${PROJECT}:restoreTime`, timeline.restoreTime);
    await stack.config(`${PROJECT}:backupKey`, timeline.backupKey);
  });

  it("up restores both; each preview holds exactly the rows of its moment", async () => {
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.doesNotMatch(up.stdout + up.stderr, CLAMP_LINE);
    const shown = await stack.outputs();
    assert.equal(shown.timeUrl, "[secret]");
    assert.equal(shown.backupUrl, "[secret]");
    const outs = await stack.outputs(true);
    assert.deepEqual(
      { timeKind: outs.timeKind, timeClamped: outs.timeClamped, backupKind: outs.backupKind, backupKey: outs.backupKey },
      { timeKind: "pitr", timeClamped: false, backupKind: "backup", backupKey: timeline.backupKey },
    );
    assert.equal(Date.parse(String(outs.timeRestoredAsOf)), Date.parse(timeline.restoreTime));
    assert.deepEqual(await marksThrough(String(outs.timeUrl)), timeline.atTime, `rows before ${timeline.restoreTime} only`);
    assert.deepEqual(await marksThrough(String(outs.backupUrl)), timeline.atBackup, "rows before the backup only");
    // What the last test counts is seen: each restored preview runs a Postgres server of its own.
    assert.equal(postmastersOfThisProcess().length, postmasters.length + 2, "the control plane's server and one per restored preview");
    for (const text of [up.stdout + up.stderr, stack.stateFileText(PROJECT)]) {
      for (const secret of [String(outs.timeUrl), String(outs.backupUrl), key]) assert.ok(!text.includes(secret), "no URL or key in clear");
    }
  });

  it("a later restoreTime replaces that preview; clamped to the latest point, the output and a line say so", async () => {
    const before = await stack.outputs(true);
    const requested = new Date(Date.now() + 24 * 3_600_000).toISOString();
    await stack.config(`${PROJECT}:restoreTime`, requested);
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.match(up.stdout, /capydb:index:PreviewDatabase\s+fromTime\s+replaced/);
    assert.match(up.stdout + up.stderr, CLAMP_LINE);
    const outs = await stack.outputs(true);
    assert.equal(outs.timeClamped, true);
    assert.ok(Date.parse(String(outs.timeRestoredAsOf)) < Date.parse(requested), "restored to an earlier time than asked");
    assert.deepEqual(await marksThrough(String(outs.timeUrl)), [...MARKS], "the data as of the latest point: every row");
    assert.equal(outs.backupUrl, before.backupUrl, "the backup's preview is untouched");
    assert.deepEqual(livePreviews(cp).map((p) => p.name).sort(), ["yaml-from-backup", "yaml-from-time"], "the old one was deleted");
  });

  it("destroy leaves nothing: no preview listed, no Postgres server of a restore still running", async () => {
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp), []);
    const res = await fetch(`${cp.url}/v1/projects/${cp.projectId}/preview-databases`, { headers: { authorization: `Bearer ${cp.apiKey}` } });
    const listed = ((await res.json()) as { preview_databases: { state: string }[] | null }).preview_databases ?? [];
    assert.deepEqual(listed.filter((p) => p.state !== "deleting" && p.state !== "deleted"), []);
    assert.deepEqual(postmastersOfThisProcess(), postmasters, "only the control plane's own server");
  });
});
