import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { diffPreview } from "../../provider/diff";
import { checkInputs } from "../../provider/inputs";
import { connectTimeoutMs, describeUrl, loginRetryDelayMs, MAX_CONNECT_TIMEOUT_MS, readinessFromEnv } from "../../provider/login-proof";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

// Issue 17.3 without a database: the input, the schedule, and the provider's use of an injected login
// attempt against the memory control plane. The real logins are in test/e2e/proven-logins.test.ts.
describe("readiness: input, diff and environment", () => {
  const base = { projectId: "prj_1", autoNameSeed: "dev-db" };
  it('accepts "login" and "job", and names the field and the fix otherwise', () => {
    assert.deepEqual(checkInputs({}, { ...base, readiness: "job" }).failures, []);
    assert.deepEqual(checkInputs({}, { ...base, readiness: "login" }).failures, []);
    const [failure] = checkInputs({}, { ...base, readiness: "ready" }).failures;
    assert.equal(failure.property, "readiness");
    assert.match(failure.reason, /readiness must be "login" .* or "job" .*, got "ready"/);
  });
  it("changes nothing remote: never a replacement; absent in old state is the default", () => {
    const olds = { projectId: "prj_1", name: "pr-1", mode: "clone", ttlHours: 24, state: "ready" };
    assert.deepEqual(diffPreview(olds, { ...olds, readiness: "job" }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.equal(diffPreview(olds, { ...olds, readiness: "login" }).changes, false);
  });
  it("CAPYDB_READINESS sets the default; anything else is an error naming it", () => {
    assert.equal(readinessFromEnv({}), "login");
    assert.equal(readinessFromEnv({ CAPYDB_READINESS: "job" }), "job");
    assert.throws(() => readinessFromEnv({ CAPYDB_READINESS: "yes" }), /CAPYDB_READINESS must be "login" or "job", got "yes"/);
  });
});

describe("login schedule", () => {
  it("doubles from 250 ms to 5 s, jittered down to half", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => loginRetryDelayMs(n, () => 1)), [250, 500, 1000, 2000, 4000, 5000, 5000]);
    assert.deepEqual([1, 5].map((n) => loginRetryDelayMs(n, () => 0)), [125, 2000]);
  });
  it("bounds each connect attempt and clips it to the deadline", () => {
    assert.equal(connectTimeoutMs(0, 60_000), MAX_CONNECT_TIMEOUT_MS);
    assert.equal(connectTimeoutMs(0, 3_000), 3_000);
    assert.equal(connectTimeoutMs(0, 10), 1_000);
  });
  it("shows a URL as host, port, database and user only", () => {
    assert.equal(describeUrl("postgres://pv_1_owner:s3cr3t-pass@db.example:6432/pv_1?sslmode=require"), "db.example:6432/pv_1 as pv_1_owner");
  });
});

describe("proven logins through the provider (memory control plane, injected login attempt)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];
  let attempts: { url: string; at: number; timeoutMs: number }[];

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
    attempts = [];
  });
  afterEach(async () => {
    await cp.close();
  });

  async function providerRefusing(refusals: number, env: NodeJS.ProcessEnv = {}) {
    const p = createProvider({
      clock,
      sink: (l) => lines.push(l),
      env,
      clientOptions: { random: () => 1 },
      loginProbe: async (url, timeoutMs) => {
        attempts.push({ url, at: clock.now(), timeoutMs });
        if (attempts.length <= refusals) throw new Error(`role "x" is not permitted to log in (${url})`);
      },
    });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    return p;
  }
  const inputs = (extra: Record<string, unknown> = {}) => ({ __provider: "shim", projectId: cp.projectId, name: "pr-1", mode: "clone", ttlHours: 24, ...extra });

  it("retries the direct URL on the schedule, then proves the pooled one", async () => {
    const provider = await providerRefusing(3);
    const { outs } = await provider.create(inputs());
    assert.deepEqual(attempts.map((a) => a.url), [outs.directUrl, outs.directUrl, outs.directUrl, outs.directUrl, outs.pooledUrl]);
    const gaps = attempts.slice(1, 4).map((a, i) => a.at - attempts[i].at);
    assert.deepEqual(gaps, [250, 500, 1000], "the waits between attempts, on the injected clock and random");
    assert.ok(attempts.every((a) => a.timeoutMs === MAX_CONNECT_TIMEOUT_MS));
    assert.ok(!lines.join("\n").includes(String(outs.password)), "no password in the log");
  });

  it("the database's answer reaches the message inert: escape sequences escaped, no line of its own", async () => {
    const p = createProvider({
      clock,
      sink: (l) => lines.push(l),
      clientOptions: { random: () => 1 },
      loginProbe: async () => {
        throw new Error("FATAL\x1b[2J\n[capydb] create pr-1: preview ready");
      },
    });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    const error = await p.create(inputs({ timeouts: { create: "10s" } })).then(() => assert.fail("create must fail"), (e: Error) => e);
    assert.ok(!error.message.includes("\x1b"), "no raw escape character");
    assert.match(error.message, /FATAL\\x1b\[2J/);
    assert.ok(!/\n\[capydb\]/.test(error.message) && !lines.some((l) => /\n\[capydb\]/.test(l)), "no forged progress line");
  });

  it('readiness "job" (input or CAPYDB_READINESS) makes no login', async () => {
    await (await providerRefusing(99)).create(inputs({ readiness: "job" }));
    await (await providerRefusing(99, { CAPYDB_READINESS: "job" })).create(inputs({ name: "pr-2" }));
    assert.equal(attempts.length, 0);
  });

  it("a login that never works ends at the deadline as a partial failure, and the next up proves it again", async () => {
    const provider = await providerRefusing(Infinity);
    const started = clock.now();
    const error = (await provider.create(inputs({ timeouts: { create: "30s" } })).then(
      () => assert.fail("create must fail"),
      (e: Error & { id: string; properties: Record<string, unknown> }) => e,
    ));
    assert.match(error.message, /the direct URL \(.+:5432\/\S+ as \S+\) did not accept a login before the deadline \(\d+ attempts\)/);
    assert.match(error.message, /is not permitted to log in/);
    assert.match(error.message, /readiness: "job"/);
    assert.ok(!error.message.includes(String(error.properties.password)));
    assert.equal(error.properties.loginPending, true);
    assert.deepEqual(cp.previews.live().map((p) => p.id), [error.id]);
    const last = attempts[attempts.length - 1];
    assert.ok(last.at <= started + 30_000 && last.at + last.timeoutMs > started + 30_000 - 5_000, "attempts until the deadline, none after it");
    assert.ok(attempts.length > 5);

    // A refresh keeps the mark; the next update (no input changed) tries the logins again.
    const read = await provider.read(error.id, error.properties);
    assert.equal(read.props.loginPending, true);
    const before = attempts.length;
    await assert.rejects(provider.update(error.id, read.props, inputs({ timeouts: { create: "30s", update: "5s" } })), (e: Error) => /did not accept a login/.test(e.message));
    assert.ok(attempts.length > before);
  });
});
