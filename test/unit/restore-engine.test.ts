import * as assert from "assert/strict";
import * as path from "path";
import { startControlPlane, PROVIDER_SCOPES, type ControlPlane } from "../control-plane";
import { captureRegistrations, Stack, startPlugin, type Plugin } from "../engine/harness";

// Issue 17.1, through the real dynamic-provider plugin driven as the engine drives it: what `resetTrigger`
// does on a restored preview (README, "Previews from a backup or a point in time"), and a change of `source`.
const REPO = path.resolve(__dirname, "..", "..", "..");
const PROJECT = "capydb-restore";

describe("source through the engine: resetTrigger on a restored preview replaces it by a new restore", function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let plugin: Plugin;
  let key: string;

  before(async () => {
    cp = await startControlPlane();
    key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    plugin = await startPlugin({ programDir: REPO, project: PROJECT });
  });
  after(async () => {
    await plugin?.close();
    await cp?.close();
  });

  it("preview plans a delete-first replacement; up deletes the old preview, then restores the same backup again; destroy leaves nothing", async () => {
    const backup = await cp.backups.take();
    const args = { projectId: cp.projectId, name: "pr-restored", readiness: "job", source: { backupKey: backup.key } };
    const [first, triggered] = await captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT, resources: [
      { name: "db", exportName: "PreviewDatabase", args },
      { name: "db", exportName: "PreviewDatabase", args: { ...args, resetTrigger: "after-migration-test" } },
    ] });
    const goal = (r: typeof first) => [{ name: "db", type: r.type, inputs: r.inputs, additionalSecretOutputs: r.additionalSecretOutputs }];
    const stack = new Stack({ plugin, project: PROJECT, config: { "capydb:apiKey": key, "capydb:apiUrl": cp.url }, secretKeys: ["capydb:apiKey"] });

    await stack.up(goal(first));
    const before = stack.resource("db")!;
    assert.equal(before.outputs.sourceBackupKey, backup.key);
    const restoresPosted = () => cp.requests().filter((r) => r.method === "POST" && r.path.endsWith("/restores"));
    assert.equal(restoresPosted().length, 1);

    const planned = await stack.preview(goal(triggered));
    assert.equal(planned.step("db").op, "replace");
    assert.deepEqual(planned.step("db").replaces, ["resetTrigger"]);
    assert.equal(planned.step("db").deleteBeforeReplace, true);

    cp.clearRequests();
    await stack.up(goal(triggered));
    const after = stack.resource("db")!;
    assert.notEqual(after.id, before.id, "a new preview");
    assert.equal(after.outputs.sourceBackupKey, backup.key, "restored from the same backup");
    assert.equal(after.outputs.state, "ready");
    assert.deepEqual(cp.previews.live().map((p) => p.id), [after.id], "the old one is gone");
    const order = cp.requests().filter((r) => (r.method === "DELETE" && r.path.endsWith(before.id)) || (r.method === "POST" && /\/(restores|reset)$/.test(r.path)));
    assert.deepEqual(order.map((r) => `${r.method} ${r.path.endsWith("/restores") ? "restores" : r.path.endsWith("/reset") ? "reset" : "old preview"}`), ["DELETE old preview", "POST restores"], "deleted first, then restored; never reset in place");

    // The same trigger again: nothing to do.
    const again = await stack.preview(goal(triggered));
    assert.equal(again.step("db").op, "same");

    await stack.destroy();
    assert.deepEqual(cp.previews.live(), []);
  });
});
