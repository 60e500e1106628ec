import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { CapyDBClient } from "../../provider/client";
import { UNKNOWN } from "../../provider/unknown";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

// Layer 1: the provider methods, called directly, against the in-memory local control plane.
type Provider = ReturnType<typeof createProvider>;

describe("PreviewDatabase provider methods (memory control plane)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];
  let provider: Provider;

  const configFor = (values: Record<string, string | undefined>) => ({ config: { get: (k: string) => values[k] } });

  async function newProvider(config: Record<string, string | undefined> = { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url }, env: NodeJS.ProcessEnv = {}) {
    const p = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job", ...env } });
    await p.configure(configFor(config));
    return p;
  }

  async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const result = await provider.check(olds, { __provider: "shim", autoNameSeed: "dev-db", projectId: cp.projectId, ...news });
    assert.equal(result.failures, undefined, JSON.stringify(result.failures));
    return result.inputs;
  }

  const count = (method: string, re: RegExp) => cp.requests().filter((r) => r.method === method && re.test(r.path)).length;

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
    provider = await newProvider();
  });
  afterEach(async () => {
    await cp.close();
  });

  it("creates, reads, extends (absolute), notices expiry and deletes", async () => {
    const inputs = await checked({ name: "pr-42", mode: "clone", ttlHours: 24 });
    const { id, outs } = await provider.create(inputs);
    assert.match(id, /^pvw_/);
    assert.equal(outs.state, "ready");
    for (const key of ["host", "directPort", "pooledPort", "roleName", "databaseName", "sslMode", "ttlExpiresAt", "createdAt", "directUrl", "pooledUrl", "password"]) {
      assert.ok(outs[key] !== null && outs[key] !== undefined, `output ${key} is set`);
    }
    assert.ok(!Object.values(outs).includes(undefined), "no undefined in outputs");
    assert.notEqual(outs.directPort, outs.pooledPort);
    assert.ok(String(outs.pooledUrl).includes(String(outs.password)));
    assert.equal(outs.projectId, cp.projectId);
    assert.equal(outs.ttlHours, 24);
    assert.equal(count("POST", /preview-databases$/), 1);

    const read = await provider.read(id, { ...outs, __provider: "shim" });
    assert.equal(read.id, id);
    // The read records the updated_at it listed before reading the URLs (connectionsAsOf).
    assert.deepEqual({ ...read.props, __provider: undefined, connectionsAsOf: undefined }, { ...outs, __provider: undefined, connectionsAsOf: undefined });

    const news = await checked({ name: "pr-42", ttlHours: 72 }, inputs);
    assert.deepEqual(await provider.diff(id, outs, news), { changes: true, replaces: [], deleteBeforeReplace: false });
    clock.advance(3_600_000);
    cp.clearRequests();
    const updated = await provider.update(id, outs, news);
    assert.equal(count("GET", /preview-databases$/), 0, "the extend answer is used, the project is not listed again");
    assert.equal(updated.outs.ttlHours, 72);
    assert.equal(Date.parse(String(updated.outs.ttlExpiresAt)), clock.now() + 72 * 3_600_000, "expiry = update time + ttlHours");
    assert.equal(count("POST", /\/extend$/), 1);
    assert.deepEqual(await provider.diff(id, updated.outs, news), { changes: false, replaces: [], deleteBeforeReplace: false });

    cp.previews.expireNow(id);
    const gone = await provider.read(id, updated.outs);
    assert.equal(gone.id, "", "refresh drops an expired preview");

    await provider.delete(id, updated.outs); // already gone: success
    assert.ok(lines.some((l) => l.includes("already gone")));
  });

  it("an extend-only update keeps the connection URLs without asking for them again", async () => {
    const inputs = await checked({ name: "pr-extend", ttlHours: 24 });
    const { id, outs } = await provider.create(inputs);
    cp.clearRequests();
    const { outs: after } = await provider.update(id, outs, await checked({ name: "pr-extend", ttlHours: 48 }, inputs));
    assert.equal(count("GET", /\/connections$/), 0, "extend does not change credentials");
    assert.deepEqual(cp.requests().map((r) => r.method), ["POST"], "the extend call is the only request");
    for (const key of ["directUrl", "pooledUrl", "password"]) assert.equal(after[key], outs[key], key);
    assert.equal(after.ttlHours, 48);
    assert.notEqual(after.ttlExpiresAt, null);
  });

  it("50 concurrent refreshes of one project share one list call", async () => {
    const created: Awaited<ReturnType<Provider["create"]>>[] = [];
    for (let i = 0; i < 5; i++) created.push(await provider.create(await checked({ name: `pr-many-${i}` })));
    cp.clearRequests();
    // States written by 0.1.0 (no connectionsAsOf), so that every read asks for the URLs.
    const reads = await Promise.all(Array.from({ length: 50 }, (_, i) => provider.read(created[i % 5].id, { ...created[i % 5].outs, connectionsAsOf: undefined })));
    assert.deepEqual(reads.map((r) => r.id), Array.from({ length: 50 }, (_, i) => created[i % 5].id));
    const lists = count("GET", /preview-databases$/);
    assert.ok(lists >= 1 && lists <= 5, `${lists} list calls`);
    // Identical reads share too: one connections call per preview, not one per read.
    assert.equal(count("GET", /\/connections$/), 5);
  });

  it("read publishes credentials rotated outside Pulumi", async () => {
    const { id, outs } = await provider.create(await checked({ name: "pr-rotated" }));
    const client = new CapyDBClient({ apiUrl: cp.url, apiKey: cp.apiKey, clock });
    const job = await client.resetPreview(id);
    while ((await client.getJob(job.id)).state !== "completed") await clock.sleep(10);
    const read = await provider.read(id, outs);
    assert.equal(read.id, id);
    assert.notEqual(read.props.password, outs.password);
    assert.ok(String(read.props.pooledUrl).includes(String(read.props.password)));
  });

  it("waits for the delete job and leaves nothing behind", async () => {
    const { id, outs } = await provider.create(await checked({ name: "pr-1" }));
    await provider.delete(id, outs);
    assert.deepEqual(cp.previews.live(), []);
    const jobs = cp.jobs.list().filter((j) => j.kind === "delete");
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].state, "completed");
  });

  it("deletes a failed create and reports the job's error and stderr", async () => {
    cp.jobs.failNext("create", { error: "clone failed: disk full", stderr: "pg_restore: error: could not write\nNo space left on device", exitCode: 1 });
    const error = await provider.create(await checked({ name: "pr-7" })).then(() => undefined, (e) => e);
    assert.ok(error instanceof Error);
    assert.equal((error as { id?: string }).id, undefined, "not a partial failure: nothing to track");
    assert.match(error.message, /clone failed: disk full/);
    assert.match(error.message, /No space left on device/);
    assert.match(error.message, /was deleted, so nothing is left behind/);
    assert.deepEqual(cp.previews.live(), [], "no preview is orphaned");
  });

  it("reports a stalled create as a partial failure with the id, and resumes it on update", async () => {
    cp.jobs.stallNext("create");
    const inputs = await checked({ name: "pr-9", timeouts: { create: "10s" } });
    const error = await provider.create(inputs).then(() => undefined, (e) => e);
    assert.ok(error?.id, `partial failure expected, got ${error}`);
    assert.match(error.id, /^pvw_/);
    assert.equal(error.properties.__provider, "shim", "__provider is kept so refresh and destroy work");
    assert.equal(error.properties.name, "pr-9");
    assert.equal(error.properties.projectId, cp.projectId);
    assert.match(error.message, /pulumi up/);
    assert.equal(cp.previews.live().length, 1, "still tracked, not orphaned");

    cp.jobs.releaseStalled();
    const resumed = await provider.update(error.id, error.properties, inputs);
    assert.equal(resumed.outs.state, "ready");
    assert.ok(resumed.outs.pooledUrl);
    assert.equal(count("POST", /preview-databases$/), 1, "no second create");
  });

  it("destroys a partially created preview", async () => {
    cp.jobs.stallNext("create");
    const error = await provider.create(await checked({ name: "pr-10", timeouts: { create: "5s", delete: "1m" } })).then(() => undefined, (e) => e);
    cp.jobs.releaseStalled();
    await provider.delete(error.id, error.properties);
    assert.deepEqual(cp.previews.live(), []);
  });

  it("names the existing preview on a duplicate name, and adopts it when asked", async () => {
    const first = await provider.create(await checked({ name: "shared" }));
    const error = await provider.create(await checked({ name: "shared" })).then(() => undefined, (e) => e);
    assert.match(String(error?.message), new RegExp(`already exists.*${first.id}`));
    assert.match(String(error?.message), /adopt: true/);
    const adopted = await provider.create(await checked({ name: "shared", adopt: true }));
    assert.equal(adopted.id, first.id);
    assert.equal(cp.previews.live().length, 1);
  });

  it("takes over a preview holding its own stable auto-name (an interrupted earlier create), unless adopt is false", async () => {
    // What a killed `pulumi up` leaves: the preview exists, the stack does not know it.
    const interrupted = await provider.create(await checked({}));
    assert.match(String(interrupted.outs.name), /^dev-db-[0-9a-f]{6}$/);
    const refused = await provider.create(await checked({ adopt: false })).then(() => undefined, (e: Error) => e);
    assert.match(String(refused?.message), new RegExp(`already exists.*${interrupted.id}`));
    const resumed = await provider.create(await checked({}));
    assert.equal(resumed.id, interrupted.id);
    assert.equal(resumed.outs.state, "ready");
    assert.ok(lines.some((l) => l.includes(`taking over preview ${interrupted.id}`) && l.includes("own stable auto-name")));
    assert.equal(cp.previews.live().length, 1, "no second preview");
  });

  it("refuses an explicit name held by another preview with the exact command, which then takes it over", async () => {
    const theirs = await provider.create(await checked({ name: "pr-77" }));
    const error = await provider.create(await checked({ name: "pr-77" })).then(() => undefined, (e: Error) => e);
    assert.ok(String(error?.message).includes(`CAPYDB_ADOPT=${theirs.id} pulumi up --refresh --yes`), String(error?.message));
    const withEnv = await newProvider(undefined, { CAPYDB_ADOPT: `pvw_other, ${theirs.id}` });
    const { inputs } = await withEnv.check({}, { __provider: "shim", autoNameSeed: "dev-db", projectId: cp.projectId, name: "pr-77" });
    assert.equal((await withEnv.create(inputs)).id, theirs.id);
    assert.equal(cp.previews.live().length, 1);
  });

  it("waits out a conflict when no live preview holds the name (a namesake still being deleted)", async () => {
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/preview-databases`, status: 409, body: { error: "project has an active operation" }, times: 2 });
    const { outs } = await provider.create(await checked({ name: "pr-wait" }));
    assert.equal(outs.state, "ready");
    assert.equal(count("POST", /preview-databases$/), 3);
    assert.ok(lines.some((l) => l.includes("project has an active operation; retrying")));
  });

  it("reconciles a create whose answer was lost instead of sending it again", async () => {
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/preview-databases`, status: 502, body: "<html>bad gateway</html>", after: "respond" });
    const { id, outs } = await provider.create(await checked({ name: "pr-lost" }));
    assert.equal(outs.state, "ready");
    assert.equal(count("POST", /preview-databases$/), 1);
    assert.deepEqual(cp.previews.live().map((p) => p.id), [id]);
  });

  it("sends the create again when it was not applied", async () => {
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/preview-databases`, status: 503, body: { error: "try later" } });
    const { outs } = await provider.create(await checked({ name: "pr-retry" }));
    assert.equal(outs.state, "ready");
    assert.equal(count("POST", /preview-databases$/), 2);
    assert.equal(cp.previews.live().length, 1);
  });

  it("resets on a new resetTrigger and publishes the rotated credentials", async () => {
    const inputs = await checked({ name: "pr-reset" });
    const { id, outs } = await provider.create(inputs);
    const news = await checked({ name: "pr-reset", resetTrigger: 1 }, inputs);
    const { outs: after } = await provider.update(id, outs, news);
    assert.equal(count("POST", /\/reset$/), 1);
    assert.equal(count("POST", /\/extend$/), 0);
    assert.notEqual(after.password, outs.password, "password rotated");
    assert.equal(after.resetTrigger, "1");
  });

  it("retries while the preview is busy with another operation", async () => {
    const inputs = await checked({ name: "pr-busy" });
    const { id, outs } = await provider.create(inputs);
    cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/extend`, status: 409, body: { error: "preview has an active operation" }, times: 2 });
    const { outs: after } = await provider.update(id, outs, await checked({ name: "pr-busy", ttlHours: 5 }, inputs));
    assert.equal(after.ttlHours, 5);
    assert.equal(count("POST", /\/extend$/), 3);
  });

  it("deletes after a lost DELETE answer without failing", async () => {
    const { id, outs } = await provider.create(await checked({ name: "pr-del" }));
    cp.faults.inject({ method: "DELETE", path: `/v1/preview-databases/${id}`, status: 504, after: "respond" });
    await provider.delete(id, outs);
    assert.deepEqual(cp.previews.live(), []);
  });

  it("reads a preview whose project is gone as gone", async () => {
    const p = await newProvider({ "capydb:apiKey": cp.apiKey, "capydb:apiUrl": cp.url });
    const gone = await p.read("pvw_nope", { projectId: "prj_missing", name: "x" });
    assert.equal(gone.id, "");
  });

  it("takes credentials from the environment when stack config has none", async () => {
    const p = await newProvider({}, { CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_API_URL: cp.url });
    const { outs } = await p.create(await checked({ name: "pr-env" }));
    assert.equal(outs.state, "ready");
  });

  it("fails without credentials before any API call, naming both sources", async () => {
    const p = await newProvider({ "capydb:apiUrl": cp.url });
    cp.clearRequests();
    const error = await p.create(await checked({ name: "pr-nokey" })).then(() => undefined, (e) => e);
    assert.match(String(error?.message), /capydb:apiKey/);
    assert.match(String(error?.message), /CAPYDB_API_KEY/);
    assert.equal(cp.requests().length, 0);
  });

  it("explains a revoked key and a key scoped to another project", async () => {
    const other = await cp.createProject({ name: "other" });
    const err403 = await provider.create(await checked({ name: "pr-x", projectId: other })).then(() => undefined, (e) => e);
    assert.match(String(err403?.message), /403/);
    assert.match(String(err403?.message), /scoped to another project/);
    cp.revokeApiKey(cp.projectScopedKey);
    const err401 = await provider.create(await checked({ name: "pr-y" })).then(() => undefined, (e) => e);
    assert.match(String(err401?.message), /401/);
    assert.match(String(err401?.message), /pulumi config set --secret capydb:apiKey/);
  });

  it("reports the plan's preview limit with CapyDB's message and leaves nothing behind", async () => {
    await cp.close();
    cp = await startControlPlane({ now: () => clock.now(), previewLimit: 1 });
    provider = await newProvider();
    await provider.create(await checked({ name: "pr-first" }));
    const error = await provider.create(await checked({ name: "pr-second" })).then(() => undefined, (e) => e);
    assert.match(String(error?.message), /POST \/v1\/projects\/prj_\w+\/preview-databases failed with HTTP 403: preview limit reached for this plan/);
    assert.match(String(error?.message), /preview limit/);
    assert.equal(error?.id, undefined);
    assert.deepEqual(cp.previews.live().map((p) => p.name), ["pr-first"]);
  });

  it("rejects an API URL that is not http(s), naming the config key, before any request", async () => {
    for (const apiUrl of ["ftp://example.com", "not a url", `http://user:${cp.projectScopedKey}@127.0.0.1/`]) {
      const p = await newProvider({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": apiUrl });
      const error = await p.read("pvw_1", { projectId: cp.projectId }).then(() => undefined, (e) => e);
      assert.match(String(error?.message), /capydb:apiUrl/);
      assert.ok(!String(error?.message).includes(cp.projectScopedKey));
    }
  });

  it("masks a stored password that a server error repeats, even in a fresh process", async () => {
    const { id, outs } = await provider.create(await checked({ name: "pr-echo" }));
    const fresh = await newProvider();
    // Never seen by this process through the API: only the stored outputs carry it.
    const password = `stored-only-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    cp.faults.inject({ path: /.*/, status: 400, body: { error: `rejected password ${password}` }, times: 5 });
    const error = await fresh.read(id, { ...outs, password }).then(() => undefined, (e) => e);
    assert.match(String(error?.message), /rejected password \*\*\*/);
    assert.ok(!String(error?.message).includes(password));
  });

  it("refuses unknown inputs outside preview, before any API call", async () => {
    cp.clearRequests();
    await assert.rejects(provider.create({ projectId: cp.projectId, name: "a", mode: "clone", ttlHours: UNKNOWN }), /not known/);
    assert.equal(cp.requests().length, 0);
  });

  it("never writes the API key or a password to logs, errors or non-secret outputs", async () => {
    const key = cp.projectScopedKey;
    const inputs = await checked({ name: "pr-leak" });
    const { id, outs } = await provider.create(inputs);
    await provider.update(id, outs, await checked({ name: "pr-leak", ttlHours: 2, resetTrigger: "x" }, inputs));
    await provider.read(id, outs);
    cp.faults.inject({ path: /.*/, status: 400, body: { error: `bad request for ${key} at ${outs.directUrl}` }, times: 5 });
    const error = await provider.read(id, outs).then(() => undefined, (e) => e);
    assert.ok(error instanceof Error);
    cp.faults.clear();
    await provider.delete(id, outs);
    const password = String(outs.password);
    const nonSecret = Object.entries(outs).filter(([k]) => !["directUrl", "pooledUrl", "password"].includes(k));
    const haystacks = [lines.join("\n"), error.message, String(error.stack), JSON.stringify(nonSecret)];
    for (const text of haystacks) {
      assert.ok(!text.includes(key), `API key leaked: ${text}`);
      assert.ok(!text.includes(password), `password leaked: ${text}`);
    }
    assert.ok(lines.length > 5, "progress lines were written");
  });
});
