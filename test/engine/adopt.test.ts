// README "Taking over an existing preview": `pulumi import` cannot work for a dynamic provider, `adopt: true` does.
import * as assert from "assert/strict";
import * as path from "path";
import { request } from "undici";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { captureRegistrations, ProviderError, Stack, startPlugin, type Plugin } from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const PROJECT = "capydb-adopt";
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";

describe("taking over an existing preview: adopt, not import", function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let existing: { id: string; name: string };

  before(async () => {
    cp = await startControlPlane();
    // A preview made outside Pulumi (the CapyDB CLI or dashboard would send this request).
    const res = await request(`${cp.url}/v1/projects/${cp.projectId}/preview-databases`, {
      method: "POST",
      headers: { authorization: `Bearer ${cp.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "pr-42", mode: "clone", ttl_hours: 24, target_kind: "new_preview" }),
    });
    assert.equal(res.statusCode, 201);
    existing = ((await res.body.json()) as { preview: { id: string; name: string } }).preview;
  });

  after(async () => {
    await cp?.close();
  });

  const config = () => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url });

  it("import cannot work: a read from the id alone, as `pulumi import` sends it, fails in the plugin before our code", async () => {
    let plugin: Plugin | undefined;
    try {
      plugin = await startPlugin({ programDir: REPO, project: PROJECT });
      await plugin.configure(config(), ["capydb:apiKey"]);
      cp.clearRequests();
      const error = await plugin.read(plugin.urn(TYPE, "db"), existing.id, {}).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof ProviderError, `read failed: ${String(error)}`);
      // The dynamic-provider plugin finds no `__provider` text to load the provider from.
      assert.match(error.details, /code must be a string/);
      assert.deepEqual(cp.requests(), [], "no CapyDB call was made");
    } finally {
      await plugin?.close();
    }
  });

  it("adopt: true makes `pulumi up` manage the live preview of that name, and destroy then deletes it", async () => {
    const [db] = await captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT,
      resources: [{ name: "db", exportName: "PreviewDatabase", args: { projectId: cp.projectId, name: "pr-42", adopt: true } }] });
    let plugin: Plugin | undefined;
    try {
      plugin = await startPlugin({ programDir: REPO, project: PROJECT });
      const stack = new Stack({ plugin, project: PROJECT, config: config(), secretKeys: ["capydb:apiKey"] });
      await stack.up([{ name: "db", type: db.type, inputs: db.inputs, additionalSecretOutputs: db.additionalSecretOutputs }]);
      const adopted = stack.resource("db")!;
      assert.equal(adopted.id, existing.id, "the existing preview, not a new one");
      assert.equal(adopted.outputs.state, "ready");
      assert.deepEqual(cp.previews.live(cp.projectId).map((p) => p.id), [existing.id], "nothing else was created");
      await stack.destroy();
      assert.deepEqual(cp.previews.live(cp.projectId), []);
    } finally {
      await plugin?.close();
    }
  });
});
