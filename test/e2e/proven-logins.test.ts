import { strict as assert } from "assert";
import { Client } from "pg";
import { createProvider } from "../../provider";
import { ControlPlane, startControlPlane } from "../control-plane";

// Issue 17.3 on real databases: the control plane's Postgres backend lets a preview's role log in only
// some time after its job completed (logins.delayNext), as a real service may.
async function loginError(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (e) {
    return (e as Error & { code?: string }).code ?? (e as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

type Partial = Error & { id?: string; properties?: Record<string, unknown> };

describe("proven logins on real Postgres (readiness)", function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let provider: ReturnType<typeof createProvider>;
  const sink: string[] = [];

  before(async () => {
    cp = await startControlPlane({ backend: "postgres" });
    provider = createProvider({ sink: (l) => sink.push(l), env: {} });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
  });
  after(async () => {
    await cp?.close();
  });

  async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const { inputs, failures } = await provider.check(olds, { projectId: cp.projectId, mode: "empty", __provider: "shim", ...news });
    assert.equal(failures, undefined, JSON.stringify(failures));
    return inputs;
  }

  it("create (readiness login, the default) returns only once both URLs log in; a reset waits again", async () => {
    cp.logins.delayNext(1_500);
    const inputs = await checked({ name: "login-late" });
    const { id, outs } = await provider.create(inputs);
    assert.equal(await loginError(String(outs.directUrl)), undefined, "direct URL logs in as soon as create returns");
    assert.equal(await loginError(String(outs.pooledUrl)), undefined, "pooled URL too");
    assert.ok(sink.some((l) => l.includes("create login-late: the direct URL") && l.includes("does not accept a login yet")), "the first attempt was refused");
    assert.ok(!sink.join("\n").includes(String(outs.password)), "the password is in no log line");

    cp.logins.delayNext(1_500);
    const news = await checked({ name: "login-late", resetTrigger: "1" }, inputs);
    const lines = sink.length;
    const { outs: after } = await provider.update(id, outs, news);
    assert.notEqual(after.password, outs.password);
    assert.equal(await loginError(String(after.directUrl)), undefined, "the new password logs in as soon as the reset returns");
    assert.ok(sink.slice(lines).some((l) => l.includes("update login-late: the direct URL") && l.includes("does not accept a login yet")));
    await provider.delete(id, after);
  });

  it('with readiness "job", create returns before the login works', async () => {
    cp.logins.delayNext(60_000);
    const { id, outs } = await provider.create(await checked({ name: "login-job", readiness: "job" }));
    assert.equal(outs.readiness, "job");
    assert.match(String(await loginError(String(outs.directUrl))), /28000|not permitted to log in/, "the role cannot log in yet");
    await provider.delete(id, outs);
  });

  it("a login that never works fails naming the URL (no password), the answer and the opt-out; the preview stays tracked", async () => {
    cp.logins.delayNext(Infinity);
    const inputs = await checked({ name: "login-never", timeouts: { create: "8s" } });
    const error = (await provider.create(inputs).then(() => undefined, (e: Partial) => e)) as Partial;
    assert.ok(error, "create fails");
    const preview = cp.previews.live().find((p) => p.name === "login-never");
    assert.ok(preview, "the preview is still there");
    assert.equal(error.id, preview.id, "a partial failure: Pulumi records the preview's id");
    assert.equal(error.properties?.state, "ready");
    assert.equal(error.properties?.loginPending, true);
    const password = String(error.properties?.password);
    assert.ok(password.length > 6);
    assert.match(error.message, /the direct URL \(127\.0\.0\.1:\d+\/pv_\w+ as pv_\w+_owner\) did not accept a login/);
    assert.match(error.message, /not permitted to log in/, "what the server answered");
    assert.match(error.message, /readiness: "job"/, "how to opt out");
    assert.ok(!error.message.includes(password), "never the password");
    assert.match(error.message, /Pulumi keeps tracking it/);

    // The next up with the opt-out succeeds without a login and clears the pending mark.
    const news = await checked({ name: "login-never", readiness: "job", timeouts: { create: "8s" } }, inputs);
    const { outs } = await provider.update(error.id!, error.properties!, news);
    assert.equal(outs.loginPending, undefined);
    assert.equal(outs.state, "ready");
    await provider.delete(error.id!, outs);
    assert.deepEqual(cp.previews.live(), []);
  });
});
