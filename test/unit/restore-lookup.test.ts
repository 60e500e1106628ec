// Issue 17.1 and 17.4 together: getPreviewDatabase of a restored preview reports its provenance
// (sourceKind, sourceBackupKey, sourceRestoreTime), in the core lookup and in the SDK function a program calls.
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { createProvider } from "../../provider";
import { lookupPreviewDatabase } from "../../provider/lookup";
import { PROVIDER_SCOPES, startControlPlane, type ControlPlane } from "../control-plane";

const SDK = path.resolve(__dirname, "..", "..", "sdk", "index.js");

// A program under setMocks: the lookup runs in it for real, against the URL and key in its environment.
const CHILD = `
const pulumi = require("@pulumi/pulumi");
async function main() {
  await pulumi.runtime.setMocks({ newResource: (a) => ({ id: "x", state: a.inputs }), call: () => ({}) }, "proj", "dev", false);
  const capydb = require(${JSON.stringify(SDK)});
  const found = capydb.getPreviewDatabase({ projectId: process.env.PROJECT_ID, name: "pr-looked-up" });
  const valueOf = (o) => new Promise((resolve) => o.apply(resolve));
  const out = {};
  for (const key of ["sourceKind", "sourceBackupKey", "sourceRestoreTime"]) out[key] = await valueOf(found[key]);
  process.stdout.write(JSON.stringify(out));
}
main().catch((e) => { console.error(e.message); process.exit(1); });
`;

describe("getPreviewDatabase of a restored preview", function () {
  this.timeout(60_000);
  let cp: ControlPlane;
  let key: string;
  let backupKey: string;

  before(async () => {
    cp = await startControlPlane({ backend: "memory" });
    key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    backupKey = cp.backups.list()[0].key;
    const provider = createProvider({ env: { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: key, CAPYDB_READINESS: "job" }, sink: () => undefined });
    const { inputs } = await provider.check({}, { __provider: "shim", projectId: cp.projectId, name: "pr-looked-up", source: { backupKey } });
    await provider.create(inputs);
  });
  after(async () => {
    await cp?.close();
  });

  it("the core lookup returns the provenance", async () => {
    const outs = await lookupPreviewDatabase({ projectId: cp.projectId, name: "pr-looked-up" }, { apiKey: key, apiUrl: cp.url }, {});
    assert.equal(outs.sourceKind, "backup");
    assert.equal(outs.sourceBackupKey, backupKey);
    assert.equal(outs.sourceRestoreTime, null);
  });

  it("the SDK function gives each as an Output", async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", CHILD], { env: { ...process.env, CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: key, PROJECT_ID: cp.projectId } }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
    assert.deepEqual(JSON.parse(stdout), { sourceKind: "backup", sourceBackupKey: backupKey, sourceRestoreTime: null });
  });
});
