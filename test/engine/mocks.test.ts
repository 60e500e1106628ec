// README "Unit tests with setMocks": no engine, so additionalSecretOutputs is not applied and the credential outputs
// are plain values; the request for them to be secret is visible through a transformation, as the README shows.
// Runs in a child process so the mocks never touch this process's global Pulumi settings.
import * as assert from "assert/strict";
import { execFile } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..", "..");
const SDK = path.join(REPO, "dist", "sdk", "index.js");
const SECRET_OUTPUTS = ["directUrl", "password", "pooledUrl"];

// A user's unit test, in plain JavaScript: the mock answers with connection values, as a mock of a created
// preview would, and the transformation is the README's snippet.
const CHILD = `
const pulumi = require("@pulumi/pulumi");
const values = { directUrl: "postgres://r:pw@h:5432/d", pooledUrl: "postgres://r:pw@h:6432/d", password: "pw" };
async function main() {
  await pulumi.runtime.setMocks({
    newResource: (args) => ({ id: "pvw_1", state: { ...args.inputs, ...values } }),
    call: () => ({}),
  }, "proj", "dev", false);
  const capydb = require(${JSON.stringify(SDK)});
  let requested;
  const db = new capydb.PreviewDatabase("db", { projectId: "prj_123" }, {
    transformations: [(args) => { requested = args.opts.additionalSecretOutputs; return undefined; }],
  });
  const valueOf = (o) => new Promise((resolve) => o.apply(resolve));
  const outputs = {};
  for (const key of Object.keys(values)) {
    outputs[key] = { secret: await pulumi.isSecret(db[key]), value: await valueOf(db[key]) };
  }
  const wrapped = await pulumi.isSecret(pulumi.secret(db.pooledUrl));
  process.stdout.write(JSON.stringify({ requested, outputs, wrapped }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

describe("setMocks: what a unit test sees of the secret outputs", function () {
  this.timeout(60_000);

  it("sees plain values (the engine applies additionalSecretOutputs), while the resource asks for them to be secret", async () => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("PULUMI_")) env[k] = v;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", CHILD], { cwd: REPO, env, timeout: 50_000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)));
    const seen = JSON.parse(stdout) as {
      requested: string[]; outputs: Record<string, { secret: boolean; value: string }>; wrapped: boolean;
    };
    assert.deepEqual([...seen.requested].sort(), SECRET_OUTPUTS);
    assert.deepEqual(seen.outputs, {
      directUrl: { secret: false, value: "postgres://r:pw@h:5432/d" },
      pooledUrl: { secret: false, value: "postgres://r:pw@h:6432/d" },
      password: { secret: false, value: "pw" },
    });
    assert.equal(seen.wrapped, true, "pulumi.secret(…) keeps a passed-on URL secret even under mocks");
  });

  it("has every declared output with name, mode and ttlHours omitted: db.name.apply works", async () => {
    // The mock answers as the provider does for an auto-named preview: it fills name, mode and ttlHours.
    const child = `
const pulumi = require("@pulumi/pulumi");
async function main() {
  await pulumi.runtime.setMocks({
    newResource: (args) => ({ id: "pvw_1", state: { ...args.inputs, name: "dev-db-1a2b3c", mode: "clone", ttlHours: 24, state: "ready" } }),
    call: () => ({}),
  }, "proj", "dev", false);
  const capydb = require(${JSON.stringify(SDK)});
  const db = new capydb.PreviewDatabase("db", { projectId: "prj_123" });
  const valueOf = (o) => new Promise((resolve) => o.apply(resolve));
  const seen = {};
  for (const key of ["name", "mode", "ttlHours", "state"]) {
    seen[key] = db[key] === undefined ? "(no output)" : await valueOf(db[key]);
  }
  seen.upper = await valueOf(db.name.apply((n) => n.toUpperCase()));
  process.stdout.write(JSON.stringify(seen));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("PULUMI_")) env[k] = v;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", child], { cwd: REPO, env, timeout: 50_000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)));
    assert.deepEqual(JSON.parse(stdout), { name: "dev-db-1a2b3c", mode: "clone", ttlHours: 24, state: "ready", upper: "DEV-DB-1A2B3C" });
  });
});
