// Through the real Pulumi CLI, what a user sees: outputs of an auto-named preview, what `preview --diff`
// shows, how a failing operation is reported, and what happens to the API key across a rotation.
import { strict as assert } from "assert";
import * as path from "path";
import { type ControlPlane, PROVIDER_SCOPES } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { installedCopy, livePreviews, requirePulumiCli } from "./suite";

const PROJECT = "capydb-cli-auto";
const PROGRAM = path.join(REPO, "test", "cli", "auto-named-program");
const up = ["up", "--yes", "--non-interactive"];

describe("real Pulumi CLI: outputs, errors and keys (test/cli)", function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let stack: CliStack;
  let programDir: string;

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    programDir = suite.dir(await installedCopy(PROGRAM));
    cp = await suite.startControlPlane({ jobProgression: "time", jobDurationsMs: { create: 200, reset: 200, delete: 200 } });
    stack = await suite.stack(new CliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url, CAPYDB_READINESS: "job" }), { project: PROJECT, key: cp.projectScopedKey });
  });

  it("preview refuses plain http to another host, before any request and without stack frames", async () => {
    cp.clearRequests();
    const run = await stack.run(["preview", "--non-interactive"], { CAPYDB_API_URL: "http://capydb.example.com/api" });
    const out = run.stdout + run.stderr;
    assert.notEqual(run.code, 0);
    assert.match(out, /the API URL "http:\/\/capydb\.example\.com\/api" is plain http to a host that is not this machine/);
    assert.match(out, /capydb:allowInsecureHttp true/);
    assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m);
    assert.deepEqual(cp.requests(), []);
  });

  it("preview --diff shows what the user set, not the SDK's bookkeeping (no autoNameSeed)", async () => {
    const { stdout } = await stack.ok(["preview", "--non-interactive", "--diff"]);
    assert.match(stdout, /projectId\s*:\s*"prj_/, "the inputs are shown");
    assert.doesNotMatch(stdout, /autoNameSeed|serverClockSkew/);
  });

  it("with name, mode and ttlHours omitted, they are outputs: no 'Undefined value' warning, name.apply works", async () => {
    const run = await stack.ok(up);
    assert.doesNotMatch(run.stdout + run.stderr, /Undefined value/);
    const outs = await stack.outputs();
    assert.match(String(outs.name), /^dev-db-[0-9a-f]{6}$/);
    assert.equal(outs.mode, "clone");
    assert.equal(outs.ttlHours, 24);
    assert.equal(outs.shoutedName, String(outs.name).toUpperCase());
  });

  /** The CLI's "Diagnostics:" section: where each message is reported once per resource. */
  const diagnostics = (out: string) => out.slice(out.indexOf("Diagnostics:"));
  const occurrences = (text: string, needle: string) => text.split(needle).length - 1;
  const FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

  it("a failing destroy reports its message once, with no JavaScript stack frames", async () => {
    cp.faults.inject({ method: "DELETE", path: /^\/v1\/preview-databases\//, status: 400, body: { error: "refused by the test" }, times: 20 });
    const run = await stack.run(["destroy", "--yes", "--non-interactive"]);
    cp.faults.clear();
    const out = run.stdout + run.stderr;
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(out, FRAME, "no stack frames");
    assert.equal(occurrences(diagnostics(out), "refused by the test"), 1, "one message in Diagnostics");
    assert.match(diagnostics(out), /error: Deleting preview "dev-db-[0-9a-f]{6}" \(pvw_\w+\) did not finish: .*HTTP 400: refused by the test/);
    assert.equal(livePreviews(cp).length, 1, "still there, still tracked");
  });

  it("a failing refresh reports its message once, with no JavaScript stack frames", async () => {
    cp.faults.inject({ method: "GET", path: `/v1/projects/${cp.projectId}/preview-databases`, status: 400, body: { error: "list refused by the test" }, times: 20 });
    const run = await stack.run(["refresh", "--yes", "--non-interactive"]);
    cp.faults.clear();
    const out = run.stdout + run.stderr;
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(out, FRAME, "no stack frames");
    assert.equal(occurrences(diagnostics(out), "list refused by the test"), 1, "one message in Diagnostics");
  });

  it("a key rotated in config: refresh still sends the key recorded at the last up, and the 401 hint's way out works", async () => {
    const old = cp.projectScopedKey;
    const fresh = cp.createApiKey({ scopes: PROVIDER_SCOPES, projectId: cp.projectId });
    cp.revokeApiKey(old);
    await stack.config("capydb:apiKey", fresh, true);
    const refused = await stack.run(["refresh", "--yes", "--non-interactive"]);
    assert.notEqual(refused.code, 0);
    const out = refused.stdout + refused.stderr;
    assert.match(out, /HTTP 401/);
    assert.match(out, /run `pulumi up` \(without --refresh\) once to record the new key/);
    assert.ok(!out.includes(old) && !out.includes(fresh), "no key in the output");
    // The way out the hint gives.
    await stack.ok(up);
    await stack.ok(["refresh", "--yes", "--non-interactive"]);
  });

  it("the config key removed and CAPYDB_API_KEY set: the same way out; after it the state holds no key", async () => {
    const envKey = cp.createApiKey({ scopes: PROVIDER_SCOPES, projectId: cp.projectId });
    const configKey = (await stack.run(["config", "get", "capydb:apiKey"])).stdout.trim();
    cp.revokeApiKey(configKey);
    await stack.ok(["config", "rm", "capydb:apiKey"]);
    const withEnv = { CAPYDB_API_KEY: envKey };
    const refused = await stack.run(["refresh", "--yes", "--non-interactive"], withEnv);
    assert.notEqual(refused.code, 0, "the recorded config key wins over CAPYDB_API_KEY");
    assert.match(refused.stdout + refused.stderr, /HTTP 401/);
    await stack.ok(up, withEnv);
    assert.doesNotMatch(stack.stateFileText(PROJECT), /capydb:apiKey/, "nothing recorded once the key comes from the environment");
    await stack.ok(["refresh", "--yes", "--non-interactive"], withEnv);
    await stack.ok(["destroy", "--yes", "--non-interactive"], withEnv);
    assert.deepEqual(livePreviews(cp), []);
  });
});
