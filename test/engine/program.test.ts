// The root Pulumi program (program/index.ts) under setMocks, then its real registration through the plugin.
import * as assert from "assert/strict";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { captureStack, isSecret, Stack, startPlugin, type CapturedExport, type CapturedResource } from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const PROGRAM = path.join(REPO, "dist", "program", "index.js");
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";
const PROJECT = "capydb-program";

type Run = { resources: CapturedResource[]; exports: Record<string, CapturedExport> };

describe("root program (program/index.ts)", function () {
  this.timeout(60_000);
  let cp: ControlPlane;
  let defaults: Run;
  let overridden: Run;
  let fromEnv: Run;
  let missing: Error | undefined;

  before(async () => {
    cp = await startControlPlane();
    const base = { programDir: REPO, module: PROGRAM, project: PROJECT };
    // One child per run; they load the SDK in parallel.
    [defaults, overridden, fromEnv, missing] = await Promise.all([
      captureStack({ ...base, stack: "pr-42", config: { "capydb:projectId": cp.projectId } }),
      captureStack({ ...base, stack: "feature/Login", config: {
        "capydb:projectId": "prj_other", "capydb:previewName": "custom-name", "capydb:mode": "empty",
        "capydb:ttlHours": "72", "capydb:resetTrigger": "2",
      } }),
      captureStack({ ...base, stack: "feature/Login", env: { CAPYDB_PROJECT_ID: "prj_env" } }),
      captureStack({ ...base, stack: "dev", env: { CAPYDB_PROJECT_ID: "" } }).then(() => undefined, (e: Error) => e),
    ]);
  });

  after(async () => {
    await cp?.close();
  });

  it("registers one PreviewDatabase named after the stack, with the documented defaults", () => {
    const custom = defaults.resources.filter((r) => r.custom);
    assert.equal(custom.length, 1);
    const [db] = custom;
    assert.equal(db.type, TYPE);
    assert.equal(db.name, "db");
    assert.equal(db.inputs.projectId, cp.projectId);
    assert.equal(db.inputs.name, "pr-42");
    assert.equal(db.inputs.mode, "clone");
    assert.equal(db.inputs.ttlHours, 24);
    assert.ok(!("resetTrigger" in db.inputs), "an unset resetTrigger is not sent");
    assert.deepEqual([...(db.additionalSecretOutputs ?? [])].sort(), ["directUrl", "password", "pooledUrl"]);
  });

  it("exports the connection outputs as secrets and the rest in the clear", () => {
    for (const k of ["directUrl", "pooledUrl", "password"]) assert.equal(defaults.exports[k]?.secret, true, k);
    for (const k of ["previewId", "name", "host", "ttlExpiresAt"]) {
      assert.ok(k in defaults.exports, `exports ${k}`);
      assert.equal(defaults.exports[k].secret, false, k);
    }
    assert.equal(defaults.exports.name.value, "pr-42");
  });

  it("takes name, mode, ttlHours and resetTrigger from config; a branch-like stack name is made valid", () => {
    const db = overridden.resources.find((r) => r.custom)!;
    assert.equal(db.inputs.projectId, "prj_other");
    assert.equal(db.inputs.name, "custom-name");
    assert.equal(db.inputs.mode, "empty");
    assert.equal(db.inputs.ttlHours, 72);
    assert.equal(db.inputs.resetTrigger, "2");
    const envDb = fromEnv.resources.find((r) => r.custom)!;
    assert.equal(envDb.inputs.projectId, "prj_env");
    assert.match(envDb.inputs.name as string, /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
    assert.match(envDb.inputs.name as string, /^feature-login/);
  });

  it("fails with instructions when no project is configured", () => {
    assert.ok(missing, "the program must refuse to run without a project");
    assert.match(missing!.message, /capydb:projectId/);
    assert.match(missing!.message, /CAPYDB_PROJECT_ID/);
  });

  it("its registration goes up and down through the real plugin", async () => {
    const plugin = await startPlugin({ programDir: REPO, project: PROJECT, stack: "pr-42" });
    try {
      const stack = new Stack({
        plugin, config: { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url, "capydb:projectId": cp.projectId },
        secretKeys: ["capydb:apiKey"],
      });
      const [db] = defaults.resources.filter((r) => r.custom);
      await stack.up([db]);
      const st = stack.resource("db")!;
      assert.equal(st.outputs.name, "pr-42");
      assert.ok(isSecret(st.outputs.pooledUrl));
      assert.deepEqual(cp.previews.live(cp.projectId).map((p) => p.name), ["pr-42"]);
      await stack.destroy();
      assert.deepEqual(cp.previews.live(cp.projectId), []);
    } finally {
      await plugin.close();
    }
  });
});
