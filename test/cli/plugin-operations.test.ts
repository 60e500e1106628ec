// What only the native plugin can do, through the real Pulumi CLI: `pulumi import` of a live preview,
// `customTimeouts` reaching the provider, and Ctrl-C (the engine's Cancel) ending a wait with the
// preview still tracked. The plugin archive is installed with `pulumi plugin install … --file`.
import { strict as assert } from "assert";
import type { ControlPlane } from "../control-plane";
import { createProvider } from "../../provider/index";
import type { PulumiCli } from "../pulumi/cli";
import { DirectCliStack, programCopy, requireYamlHost, YAML_PROGRAM } from "./native";
import { commandLine, descendantsOf, isRunning } from "../helpers/process-tree";
import { describeRequests, livePreviews, requirePulumiCli, writes } from "./suite";
import { StackSuite } from "./stack-suite";

const PROJECT = "capydb-yaml-suite";

async function waitUntil(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("real Pulumi CLI: import, customTimeouts and Ctrl-C with the capydb plugin (test/cli)", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let cli: PulumiCli;
  let suite: StackSuite;
  /** Plugins of killed CLIs: killed here if a failed test left them running. */
  const orphans: number[] = [];

  StackSuite.use(async (ctx, s) => {
    suite = s;
    cli = requirePulumiCli(ctx);
    requireYamlHost(ctx, cli);
    cp = await suite.startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 300, reset: 200, delete: 200 } });
    suite.onClose(() => {
      cp.jobs.releaseStalled();
      for (const pid of orphans.filter(isRunning)) process.kill(pid, "SIGKILL");
    });
  });

  async function newStack(name: string, edit?: (yaml: string) => string): Promise<DirectCliStack> {
    const dir = suite.dir(programCopy(YAML_PROGRAM, edit));
    const stack = new DirectCliStack(cli, dir, name, { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_READINESS: "job" });
    await stack.installPlugin();
    return suite.stack(stack, { project: PROJECT });
  }

  it("pulumi import <projectId>/<previewId> takes a live preview; the next up changes nothing", async () => {
    // A preview made outside any stack, with the inputs the program declares (mode clone, ttlHours 24).
    const outside = createProvider({ env: { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_READINESS: "job" }, sink: () => undefined });
    const made = await outside.create({ projectId: cp.projectId, name: "made-outside", mode: "clone", ttlHours: 24 });
    const stack = await newStack("imports", (yaml) => yaml.replace("      resetTrigger: ${resetTrigger}\n", "      name: made-outside\n"));
    cp.clearRequests();
    const imported = await stack.ok(["import", "capydb:index:PreviewDatabase", "db", `${cp.projectId}/${made.id}`, "--yes", "--non-interactive", "--skip-preview"]);
    assert.match(imported.stdout, /capydb:index:PreviewDatabase\s+db\s+imported/);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
    const state = await stack.exportState();
    const db = (state.resources ?? []).find((r) => r.type === "capydb:index:PreviewDatabase");
    assert.equal(db?.id, made.id);
    assert.ok(!JSON.stringify(state).includes(String(made.outs.password)), "the imported password is stored encrypted");

    cp.clearRequests();
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.doesNotMatch(up.stdout, /PreviewDatabase\s+db\s+(updated|created|replaced|deleted)/);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
    const outs = await stack.outputs(true);
    assert.equal(outs.previewId, made.id);
    assert.equal(outs.password, made.outs.password, "the same credentials");
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp).filter((p) => p.id === made.id), []);
  });

  it("an import id without the project fails, naming the form", async () => {
    const stack = await newStack("bad-import");
    const run = await stack.run(["import", "capydb:index:PreviewDatabase", "db", "pvw_only", "--yes", "--non-interactive", "--skip-preview"]);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /<projectId>\/<previewId>/);
  });

  it("customTimeouts {create: 5s} on a stalled create job fails at that bound and the preview stays tracked", async () => {
    const stack = await newStack("timeouts", (yaml) =>
      yaml.replace("      resetTrigger: ${resetTrigger}\n", "      resetTrigger: ${resetTrigger}\n    options:\n      customTimeouts:\n        create: 5s\n"),
    );
    cp.jobs.stallNext("create");
    const up = await stack.run(["up", "--yes", "--non-interactive"]);
    assert.notEqual(up.code, 0);
    // The job never finishes on its own: the up ended because the plugin bounded the wait by 5 s, not 20 m.
    assert.match(up.stdout + up.stderr, /is not ready yet/);
    assert.match(up.stdout + up.stderr, /timed out after [\d.]+s waiting for create/);
    const [live] = livePreviews(cp).filter((p) => p.state === "provisioning");
    assert.ok(live, "the preview is still provisioning on CapyDB");
    const db = ((await stack.exportState()).resources ?? []).find((r) => r.type === "capydb:index:PreviewDatabase");
    assert.equal(db?.id, live.id, "the stack tracks it by its id");
    assert.deepEqual(db?.outputs?.timeouts, undefined, "the engine's timeout is not recorded as an input");

    cp.jobs.releaseStalled();
    await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.equal((await stack.outputs()).previewId, live.id, "the next up resumed the same preview");
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
  });

  it("Ctrl-C during the create wait cancels it promptly and the preview stays tracked", async () => {
    const stack = await newStack("interrupted");
    const before = new Set(livePreviews(cp).map((p) => p.id));
    cp.jobs.stallNext("create");
    cp.clearRequests();
    const up = stack.start(["up", "--yes", "--non-interactive"]);
    await waitUntil("the create job is polled", () => cp.requests().some((r) => r.method === "GET" && r.path.startsWith("/v1/jobs/")));
    up.child.kill("SIGINT");
    // The job stays stalled: only the plugin's Cancel can end this wait (the default bound is 20 minutes).
    const result = await up.done;
    stack.transcript.push(`$ pulumi up (SIGINT)  (exit ${result.code})\n${result.stdout}${result.stderr}`);
    assert.notEqual(result.code, 0);
    const [preview] = livePreviews(cp).filter((p) => !before.has(p.id));
    assert.equal(preview.state, "provisioning");
    const state = await stack.exportState();
    const db = (state.resources ?? []).find((r) => r.type === "capydb:index:PreviewDatabase");
    assert.equal(db?.id, preview.id, "the stack tracks the preview by its id");
    assert.deepEqual(state.pending_operations ?? [], []);

    cp.jobs.releaseStalled();
    await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.equal((await stack.outputs()).state, "ready");
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp).filter((p) => !before.has(p.id)), []);
  });

  it("a plugin whose CLI was killed (SIGKILL) stops its wait and exits by itself", async () => {
    const stack = await newStack("killed");
    cp.jobs.stallNext("create");
    cp.clearRequests();
    const up = stack.start(["up", "--yes", "--non-interactive"]);
    await waitUntil("the create job is polled", () => cp.requests().some((r) => r.method === "GET" && r.path.startsWith("/v1/jobs/")));
    const plugins = descendantsOf(up.child.pid!).filter((pid) => commandLine(pid).includes("pulumi-resource-capydb"));
    assert.ok(plugins.length > 0, "the plugin runs");
    orphans.push(...plugins);
    process.kill(-up.child.pid!, "SIGKILL");
    await up.done;
    // The job stays stalled and the default bound is 20 minutes: only the plugin noticing its CLI is gone ends it.
    await waitUntil("the orphaned plugin exits", () => !plugins.some(isRunning), 30_000);
    cp.jobs.releaseStalled();
  });
});
