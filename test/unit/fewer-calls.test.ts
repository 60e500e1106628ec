import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { CapyDBClient } from "../../provider/client";
import { RECENT_LIST_MAX_AGE_MS, urlsStillCurrent } from "../../provider/operations/read";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";
import { apiPreview } from "../helpers/fixtures";

// Calls counted by kind on the local control plane's request log: what refresh and create cost.
type Provider = ReturnType<typeof createProvider>;
type Created = Awaited<ReturnType<Provider["create"]>>;

describe("fewer calls: refresh of unchanged previews, create without a list, reads in waves", function () {
  this.timeout(60_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let provider: Provider;

  const count = (method: string, re: RegExp) => cp.requests().filter((r) => r.method === method && re.test(r.path)).length;
  const lists = () => count("GET", /preview-databases$/);
  const urlReads = () => count("GET", /\/connections$/);

  async function newProvider(): Promise<Provider> {
    const p = createProvider({ clock, sink: () => undefined, env: { CAPYDB_READINESS: "job" } });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    return p;
  }

  async function create(name: string): Promise<Created> {
    const { inputs } = await provider.check({}, { __provider: "shim", projectId: cp.projectId, name, mode: "clone", ttlHours: 24 });
    return provider.create(inputs);
  }

  /** The engine's refresh: reads sent in waves of `width`, each wave once the one before has returned. */
  async function refreshInWaves(p: Provider, stack: Created[], width: number) {
    const out: Awaited<ReturnType<Provider["read"]>>[] = [];
    for (let i = 0; i < stack.length; i += width) {
      out.push(...(await Promise.all(stack.slice(i, i + width).map((c) => p.read(c.id, { ...c.outs })))));
      clock.advance(40); // a round trip between waves
    }
    return out;
  }

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now(), previewLimit: 100 });
    provider = await newProvider();
  });
  afterEach(async () => {
    await cp.close();
  });

  it("a create whose job completed does not list the project again", async () => {
    cp.clearRequests();
    const { outs } = await create("pr-nolist");
    assert.equal(lists(), 0, cp.requests().map((r) => `${r.method} ${r.path}`).join("\n"));
    assert.equal(outs.state, "ready");
    for (const key of ["host", "directPort", "pooledPort", "roleName", "databaseName", "sslMode", "ttlExpiresAt", "directUrl", "pooledUrl"]) {
      assert.ok(outs[key] !== null && outs[key] !== undefined, `output ${key} is set`);
    }
    const live = cp.previews.live().find((p) => p.name === "pr-nolist")!;
    assert.equal(Date.parse(String(outs.ttlExpiresAt)), live.ttlExpiresAt);
  });

  it("`up --refresh` of 50 unchanged previews just created (two passes, in waves of 8, each its own plugin) costs at most 10 calls", async () => {
    const stack: Created[] = [];
    for (let i = 0; i < 50; i++) stack.push(await create(`pr-wave-${i}`));
    clock.advance(60_000);
    cp.clearRequests();
    // The preview pass does not save what it read: the update pass reads the same state again.
    const passes = [];
    for (let pass = 0; pass < 2; pass++) {
      passes.push(await refreshInWaves(await newProvider(), stack, 8));
      clock.advance(2_000);
    }
    const calls = cp.requests().length;
    assert.ok(calls <= 10, `${calls} calls: ${lists()} lists, ${urlReads()} URL reads`);
    assert.equal(urlReads(), 0);
    assert.equal(lists(), 2, "one list per pass");
    for (const reads of passes) {
      for (const [i, r] of reads.entries()) {
        assert.equal(r.id, stack[i].id);
        for (const key of ["directUrl", "pooledUrl", "password", "connectionsAsOf", "state", "ttlExpiresAt"]) assert.equal(r.props[key], stack[i].outs[key], key);
      }
    }
  });

  it("a fresh process's first read asks for the project beside the list, not after its answer", async () => {
    const { outs, id } = await create("pr-facts-beside");
    cp.clearRequests();
    // The list answers 300 ms late (real time): the project read must not wait for it.
    cp.faults.inject({ method: "GET", path: /preview-databases$/, delayMs: 300 });
    const read = await (await newProvider()).read(id, { ...outs, postgresVersion: null, region: null });
    const order = cp.requests().map((r) => (/preview-databases$/.test(r.path) ? "list" : `${r.method} ${r.path}`));
    assert.deepEqual(order, [`GET /v1/projects/${cp.projectId}`, "list"], "the log is in the order of the answers");
    assert.ok(read.props.postgresVersion !== null && read.props.region !== null, "the facts are in the read's outputs");
  });

  it("a refresh after a reset outside Pulumi reads the rotated URLs", async () => {
    const { id, outs } = await create("pr-rotated");
    clock.advance(5_000);
    const settled = (await provider.read(id, outs)).props;
    assert.equal(typeof settled.connectionsAsOf, "string");
    assert.equal(settled.connectionsAsOf, outs.connectionsAsOf, "the create recorded the updated_at its job left");
    cp.clearRequests();
    assert.equal((await provider.read(id, settled)).props.password, settled.password);
    assert.equal(urlReads(), 0, "unchanged: the URLs in state are kept");

    clock.advance(5_000);
    const other = new CapyDBClient({ apiUrl: cp.url, apiKey: cp.apiKey, clock });
    const job = await other.resetPreview(id);
    while ((await other.getJob(job.id)).state !== "completed") await clock.sleep(100);
    clock.advance(RECENT_LIST_MAX_AGE_MS + 1);
    cp.clearRequests();
    const after = (await provider.read(id, settled)).props;
    assert.equal(urlReads(), 1);
    assert.notEqual(after.password, settled.password);
    assert.ok(String(after.pooledUrl).includes(String(after.password)));
    assert.notEqual(after.connectionsAsOf, settled.connectionsAsOf);
  });

  it("a state without connectionsAsOf (written by 0.1.0) reads the URLs as before", async () => {
    const { id, outs } = await create("pr-old-state");
    const old: Record<string, unknown> = { ...outs };
    delete old.connectionsAsOf;
    cp.clearRequests();
    await provider.read(id, old);
    assert.equal(urlReads(), 1);
  });

  it("a list kept from a moment ago proves presence, never absence, and no write of the process may follow it", async () => {
    const a = await create("pr-kept-a");
    clock.advance(1_000);
    await provider.read(a.id, a.outs); // lists the project: kept
    // Created by another process after that list: not in it, but must not be dropped from state.
    const other = new CapyDBClient({ apiUrl: cp.url, apiKey: cp.apiKey, clock });
    const { preview: b } = await other.createPreview(cp.projectId, { name: "pr-kept-b", mode: "clone", ttl_hours: 24 });
    cp.clearRequests();
    const readB = await provider.read(b.id, { projectId: cp.projectId, name: "pr-kept-b", state: "provisioning" });
    assert.equal(readB.id, b.id, "absent from the kept list, found by a new one");
    assert.equal(lists(), 1);

    // A write of this process forgets kept lists: the delete's effect is seen by the next read.
    await provider.read(a.id, a.outs);
    cp.clearRequests();
    await provider.read(a.id, a.outs);
    assert.equal(lists(), 0, "answered from the kept list");
    await provider.delete(a.id, a.outs);
    cp.clearRequests();
    assert.equal((await provider.read(a.id, a.outs)).id, "", "gone after this process deleted it");
    assert.ok(lists() >= 1);

    // Older than RECENT_LIST_MAX_AGE_MS: listed again.
    await provider.read(b.id, readB.props);
    clock.advance(RECENT_LIST_MAX_AGE_MS + 1);
    cp.clearRequests();
    await provider.read(b.id, readB.props);
    assert.equal(lists(), 1);
  });

  describe("urlsStillCurrent", () => {
    const listed = apiPreview({ id: "pvw_1", state: "ready", updated_at: "2026-11-27T12:00:00.000Z" });
    const stored = { state: "ready", connectionsAsOf: "2026-11-27T12:00:00.000Z", directUrl: "postgres://a", pooledUrl: "postgres://b" };
    it("holds only when id, state, updated_at and the URLs agree and no reset is pending", () => {
      assert.equal(urlsStillCurrent("pvw_1", stored, listed), true);
      assert.equal(urlsStillCurrent("pvw_2", stored, listed), false);
      assert.equal(urlsStillCurrent("pvw_1", { ...stored, state: "resetting" }, listed), false);
      assert.equal(urlsStillCurrent("pvw_1", stored, { ...listed, state: "resetting" }), false);
      assert.equal(urlsStillCurrent("pvw_1", stored, { ...listed, updated_at: "2026-11-27T12:00:01.000Z" }), false);
      assert.equal(urlsStillCurrent("pvw_1", stored, { ...listed, updated_at: null }), false);
      assert.equal(urlsStillCurrent("pvw_1", { ...stored, connectionsAsOf: null }, listed), false);
      assert.equal(urlsStillCurrent("pvw_1", { ...stored, pendingReset: { trigger: "x", afterJobId: null } }, listed), false);
      assert.equal(urlsStillCurrent("pvw_1", { ...stored, pooledUrl: null }, listed), false);
    });
  });
});
