// Failure handling through the real dynamic-provider plugin, as the engine drives it: the partial failures
// that issue 8 introduced are recorded by the engine and finished by the commands Pulumi users run next.
import * as assert from "assert/strict";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { captureRegistrations, DeploymentError, reveal, Stack, startPlugin, type CapturedResource, type Plugin, type PropertyMap, type ResourceGoal } from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const PROJECT = "capydb-failures";
const STACK = "dev";

describe("failure handling through the dynamic-provider plugin", function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let plugin: Plugin;
  const regs: Record<string, CapturedResource> = {};

  const newStack = () => new Stack({
    plugin,
    project: PROJECT,
    stack: STACK,
    config: { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url },
    secretKeys: ["capydb:apiKey"],
  });
  const goal = (r: CapturedResource, inputs: PropertyMap = {}): ResourceGoal => ({
    name: r.name, type: r.type, inputs: { ...r.inputs, ...inputs },
    additionalSecretOutputs: r.additionalSecretOutputs, deleteBeforeReplace: r.deleteBeforeReplace,
  });
  const previewsPath = () => `/v1/projects/${cp.projectId}/preview-databases`;

  before(async () => {
    cp = await startControlPlane();
    const pid = cp.projectId;
    const [p, captured] = await Promise.all([
      startPlugin({ programDir: REPO, project: PROJECT, stack: STACK }),
      captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT, stack: STACK, resources: [
        { name: "lost", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-lost", timeouts: { create: "3s" } } },
        { name: "reset", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-reset", timeouts: { update: "2s" } } },
        { name: "typo", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-typo", ttlHour: 48 } },
        { name: "dots", exportName: "PreviewDatabase", args: { projectId: "..", name: "pv-dots" } },
        { name: "cancel", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-cancel" } },
      ] }),
    ]);
    plugin = p;
    for (const r of captured) regs[r.name] = r;
  });

  after(async () => {
    await plugin?.close();
    await cp?.close();
  });

  afterEach(() => cp.faults.clear());

  it("a create whose answer is lost, with listing down until the deadline, is recorded under a stand-in id that up, refresh and destroy resolve by name", async () => {
    const stack = newStack();
    cp.faults.inject({ method: "POST", path: previewsPath(), status: 502, body: "<html>bad gateway</html>", after: "respond" });
    cp.faults.inject({ method: "GET", path: previewsPath(), status: 503, times: 100_000 });
    const err = await stack.up([goal(regs.lost)]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError && err.initFailure, `expected a partial failure, got ${err}`);
    assert.equal(err.initFailure.id, "pending-create/pv-lost");
    assert.equal(stack.resource("lost")!.id, "pending-create/pv-lost", "the engine records the stand-in");
    const [live] = cp.previews.live(cp.projectId);
    assert.equal(live.name, "pv-lost", "the create did land");

    cp.faults.clear();
    const up = await stack.up([goal(regs.lost)]);
    assert.equal(up.step("lost").op, "update");
    const resumed = stack.resource("lost")!;
    assert.equal(resumed.outputs.state, "ready");
    assert.ok(reveal(resumed.outputs.pooledUrl), "connection URLs filled in");
    assert.equal(resumed.id, "pending-create/pv-lost", "update cannot change the id");

    const refreshed = await stack.refresh();
    assert.equal(refreshed.step("lost").result, "same");
    assert.equal(stack.resource("lost")!.id, live.id, "refresh records the real id");

    await stack.destroy();
    assert.deepEqual(cp.previews.live(cp.projectId), []);
    assert.equal(cp.previews.list().filter((p) => p.name === "pv-lost").length, 1, "created once");
  });

  it("a destroy right after that partial failure deletes the preview by name", async () => {
    const stack = newStack();
    cp.faults.inject({ method: "POST", path: previewsPath(), drop: true, after: "respond" });
    cp.faults.inject({ method: "GET", path: previewsPath(), status: 503, times: 100_000 });
    const err = await stack.up([goal(regs.lost)]).then(() => undefined, (e) => e);
    assert.equal(err?.initFailure?.id, "pending-create/pv-lost");
    cp.faults.clear();
    await stack.destroy();
    assert.equal(stack.resources.length, 0);
    assert.deepEqual(cp.previews.live(cp.projectId), []);
  });

  it("a reset that outlives its timeout is recorded as applied: the next up waits for it and never resets twice", async () => {
    const stack = newStack();
    await stack.up([goal(regs.reset)]);
    cp.jobs.stallNext("reset");
    const err = await stack.up([goal(regs.reset, { resetTrigger: "1" })]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError && err.initFailure, `expected a partial failure, got ${err}`);
    assert.equal(stack.resource("reset")!.outputs.resetTrigger, "1");
    assert.equal(stack.resource("reset")!.outputs.state, "resetting");

    cp.jobs.releaseStalled();
    const res = await stack.up([goal(regs.reset, { resetTrigger: "1" })]);
    assert.equal(res.step("reset").op, "update");
    assert.equal(stack.resource("reset")!.outputs.state, "ready");
    assert.equal(cp.jobs.list().filter((j) => j.kind === "reset").length, 1, "one reset");
    await stack.destroy();
  });

  it("a create whose job ends in a state the provider does not know fails at once, leaves nothing, and the next up creates it", async () => {
    const stack = newStack();
    cp.jobs.endNext("create", { state: "cancelled", error: "cancelled by the scheduler" });
    const err = await stack.up([goal(regs.cancel)]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError, `expected a failed up, got ${err}`);
    assert.equal(err.initFailure, undefined, "nothing left to track");
    assert.match(String(err.stepError?.message ?? err.message), /ended in state "cancelled" \(not "completed"\).*cancelled by the scheduler[\s\S]*nothing is left behind/);
    assert.equal(stack.resource("cancel"), undefined);
    assert.deepEqual(cp.previews.live(cp.projectId), []);
    const cancelled = cp.jobs.list().find((j) => j.state === "cancelled")!;
    assert.ok(cancelled.polls <= 2, `decided at the first poll that shows it (${cancelled.polls} polls)`);

    await stack.up([goal(regs.cancel)]);
    assert.equal(stack.resource("cancel")!.outputs.state, "ready");
    await stack.destroy();
    assert.deepEqual(cp.previews.live(cp.projectId), []);
  });

  it("check refuses an unknown input and a projectId that changes the request path, before any API call", async () => {
    cp.clearRequests();
    for (const [name, property] of [["typo", "ttlHour"], ["dots", "projectId"]] as const) {
      const err = await newStack().up([goal(regs[name])]).then(() => undefined, (e) => e);
      assert.ok(err instanceof DeploymentError, String(err));
      assert.deepEqual(err.failed.checkFailures?.map((f) => f.property), [property]);
    }
    assert.match(String((await newStack().up([goal(regs.typo)]).catch((e) => e)).message), /did you mean "ttlHours"/);
    assert.deepEqual(cp.requests(), []);
  });
});
