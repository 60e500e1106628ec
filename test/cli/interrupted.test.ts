// A CI job killed (SIGKILL, the whole process tree) while `pulumi up` waits for a create job, then the
// next run as CI runs it. What the real engine does (CLI 3.274, file:// backend):
//   1. the stack stays locked: the next command fails and names `pulumi cancel`;
//   2. after `pulumi cancel`, the engine still holds the create as a pending operation with no id, so
//      it warns and calls Create again: the provider meets its own preview under the same name.
// The provider's part: take it over when the name is this resource's own stable auto-name (nothing
// else can hold it), else fail naming the exact command. Never a second preview, never an orphan.
import { strict as assert } from "assert";
import type { ControlPlane } from "../control-plane";
import { commandLine, descendantsOf, isRunning } from "../helpers/process-tree";
import type { PulumiCli } from "../pulumi/cli";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { CLI_PROGRAM, describeRequests, installedCopy, livePreviews, requirePulumiCli } from "./suite";

const PROJECT = "capydb-cli-suite";

async function waitUntil(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `pulumi up` killed with SIGKILL (the CLI's process group) once the create job is being polled. The
 * CLI starts plugins in process groups of their own, so the provider plugin outlives it, as it does
 * when a CLI is killed anywhere: it must then exit by itself instead of running on as an orphan.
 */
async function killedWhileCreating(stack: CliStack, cp: ControlPlane, orphans: number[]): Promise<string> {
  const before = new Set(livePreviews(cp).map((p) => p.id));
  cp.jobs.stallNext("create");
  cp.clearRequests();
  const up = stack.start(["up", "--yes", "--non-interactive"]);
  await waitUntil("the create job is polled", () => cp.requests().some((r) => r.method === "GET" && r.path.startsWith("/v1/jobs/")));
  const plugins = descendantsOf(up.child.pid!).filter((pid) => commandLine(pid).includes("dynamic-provider"));
  assert.ok(plugins.length > 0, "the provider plugin runs");
  orphans.push(...plugins);
  process.kill(-up.child.pid!, "SIGKILL");
  const killed = await up.done;
  assert.notEqual(killed.code, 0);
  const [preview] = livePreviews(cp).filter((p) => !before.has(p.id));
  assert.equal(preview.state, "provisioning", "the create job was still running when the CLI died");
  // The job finishes on the server while nobody watches; the plugin that was waiting for it then exits.
  cp.jobs.releaseStalled();
  await waitUntil("the orphaned plugin exits", () => !plugins.some(isRunning), 60_000);
  return preview.id;
}

describe("real Pulumi CLI: the CLI killed while a create job runs (test/cli)", function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let cli: PulumiCli;
  let programDir: string;
  let suite: StackSuite;
  /** Plugins of killed CLIs: killed here if a failed test left them running. */
  const orphans: number[] = [];

  StackSuite.use(async (ctx, s) => {
    suite = s;
    cli = requirePulumiCli(ctx);
    programDir = suite.dir(await installedCopy(CLI_PROGRAM));
    cp = await suite.startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 300, reset: 200, delete: 200 } });
    suite.onClose(() => {
      for (const pid of orphans.filter(isRunning)) process.kill(pid, "SIGKILL");
    });
  }, 4);

  async function newStack(name: string, config: Record<string, string> = {}): Promise<CliStack> {
    const stack = await suite.stack(new CliStack(cli, programDir, name, { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_READINESS: "job" }), { project: PROJECT });
    for (const [key, value] of Object.entries(config)) await stack.config(`${PROJECT}:${key}`, value);
    return stack;
  }

  it("with the stable auto-name: after `pulumi cancel`, `up --refresh` takes its own preview over; no duplicate, no orphan", async () => {
    const stack = await newStack("ci-auto");
    const orphanCandidate = await killedWhileCreating(stack, cp, orphans);

    // 1. The next run as CI runs it: the lock of the dead run stops it, and the CLI names the way out.
    const locked = await stack.run(["up", "--refresh", "--yes", "--non-interactive"]);
    assert.notEqual(locked.code, 0);
    assert.match(locked.stdout + locked.stderr, /the stack is currently locked[\s\S]*pulumi cancel/);

    // 2. That way out. The engine keeps the create as a pending operation that has no id to find it by.
    await stack.ok(["cancel", "--yes"]);
    const pending = (await stack.exportState()).pending_operations ?? [];
    assert.deepEqual(pending.map((op) => [op.type, op.resource.urn.split("::").pop()]), [["creating", "db"]]);

    // 3. The same command again: the create meets the preview by name and takes it over.
    cp.clearRequests();
    const resumed = await stack.ok(["up", "--refresh", "--yes", "--non-interactive"]);
    assert.match(resumed.stdout + resumed.stderr, new RegExp(`taking over preview ${orphanCandidate} \\(state ready\\): it holds this resource's own stable auto-name`));
    const outs = await stack.outputs();
    assert.equal(outs.previewId, orphanCandidate, "the stack tracks the preview the killed run created");
    assert.equal(outs.state, "ready");
    assert.deepEqual(livePreviews(cp).filter((p) => p.name === outs.name).map((p) => p.id), [orphanCandidate], "no duplicate");
    assert.equal(cp.requests().filter((r) => r.method === "POST").length, 1, describeRequests(cp.requests()));

    // 4. The engine still records the interrupted create until told to drop it; refresh keeps the preview.
    assert.equal((await stack.exportState()).pending_operations?.length, 1);
    await stack.ok(["refresh", "--clear-pending-creates", "--yes", "--non-interactive"]);
    const state = await stack.exportState();
    assert.deepEqual(state.pending_operations ?? [], []);
    assert.ok(state.resources?.some((r) => r.id === orphanCandidate), "still tracked after the refresh");
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp).filter((p) => p.name === outs.name), [], "nothing orphaned");
  });

  it("with an explicit name: the error names the exact command, and that command recovers", async () => {
    const stack = await newStack("ci-explicit", { name: "pr-77" });
    const previewId = await killedWhileCreating(stack, cp, orphans);
    await stack.ok(["cancel", "--yes"]);

    const refused = await stack.run(["up", "--refresh", "--yes", "--non-interactive"]);
    assert.notEqual(refused.code, 0);
    const text = refused.stdout + refused.stderr;
    assert.match(text, new RegExp(`A preview named "pr-77" already exists[^\\n]*${previewId}`));
    assert.match(text, new RegExp(`CAPYDB_ADOPT=${previewId} pulumi up --refresh --yes`), "names the exact command");
    assert.match(text, /pulumi refresh --clear-pending-creates --yes/);
    assert.deepEqual(livePreviews(cp).filter((p) => p.name === "pr-77").map((p) => p.id), [previewId], "nothing was created twice");

    // Run exactly that: the environment variable reaches the provider through the CLI.
    await stack.ok(["up", "--refresh", "--yes", "--non-interactive"], { CAPYDB_ADOPT: previewId });
    assert.equal((await stack.outputs()).previewId, previewId);
    await stack.ok(["refresh", "--clear-pending-creates", "--yes", "--non-interactive"]);
    assert.deepEqual((await stack.exportState()).pending_operations ?? [], []);
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp).filter((p) => p.name === "pr-77"), [], "nothing orphaned");
  });
});
