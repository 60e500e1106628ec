import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { CapyDBClient } from "../../provider/client";
import { ServerClock, settledSkewMs, SKEW_OUTPUT, storedSkewMs } from "../../provider/server-clock";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";
import { startScriptedServer } from "../helpers/scripted-server";

// Issue 14 item 3: CapyDB's clock differs from the runner's. The local control plane runs on its own clock
// (`now`), which also dates its answers, as a real server's clock does; the provider runs on a fake clock.
const HOUR = 3_600_000;
const MINUTE = 60_000;
type Provider = ReturnType<typeof createProvider>;

describe("CapyDB's clock (server-clock.ts)", function () {
  this.timeout(30_000);

  describe("measuring it", () => {
    it("takes Date minus the midpoint of send and receipt, from the answer with the shortest round trip", () => {
      const clock = new ServerClock();
      assert.equal(clock.skewMs(), undefined, "nothing measured yet");
      const local = Date.UTC(2026, 11, 2, 10, 0, 0);
      const server = new Date(local + 3 * HOUR).toUTCString();
      clock.observe(server, local - 2_000, local + 2_000); // 4 s round trip
      const first = clock.skewMs()!;
      assert.equal(first, 3 * HOUR, "in whole minutes");
      clock.observe(new Date(local + 3 * HOUR + 30_000).toUTCString(), local - 10_000, local + 10_000); // slower: ignored
      assert.equal(clock.skewMs(), first);
      clock.observe("not a date", local, local);
      clock.observe(undefined, local, local);
      assert.equal(clock.skewMs(), first);
    });

    it("counts offsets under a minute as none, and reads 0 from state that has none", () => {
      assert.equal(settledSkewMs(59_000), 0);
      assert.equal(settledSkewMs(-59_000), 0);
      assert.equal(settledSkewMs(-3 * HOUR - 400), -3 * HOUR);
      assert.equal(settledSkewMs(90 * MINUTE + 29_000), 90 * MINUTE);
      assert.equal(storedSkewMs({}), 0);
      assert.equal(storedSkewMs({ [SKEW_OUTPUT]: "3h" }), 0);
      assert.equal(storedSkewMs({ [SKEW_OUTPUT]: 2 * HOUR }), 2 * HOUR);
    });

    it("the client measures it from every answer's Date header", async () => {
      const clock = new FakeClock();
      const server = await startScriptedServer(() => ({
        body: { preview_databases: [] },
        headers: { date: new Date(clock.now() - 3 * HOUR).toUTCString() },
      }));
      try {
        const client = new CapyDBClient({ apiUrl: server.url, apiKey: "capy_test_key", clock });
        await client.listPreviews("prj_1");
        assert.equal(client.serverClock.skewMs(), -3 * HOUR);
      } finally {
        await server.close();
      }
    });
  });

  describe("the provider reasons in CapyDB's time", () => {
    let cp: ControlPlane;
    let clock: FakeClock;
    let lines: string[];
    let provider: Provider;

    async function start(serverOffsetMs: number) {
      clock = new FakeClock();
      cp = await startControlPlane({ now: () => clock.now() + serverOffsetMs });
      lines = [];
      provider = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" } });
      await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    }
    async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
      const result = await provider.check(olds, { __provider: "shim", autoNameSeed: "dev-db", projectId: cp.projectId, ...news });
      assert.equal(result.failures, undefined, JSON.stringify(result.failures));
      return result.inputs;
    }
    const extends_ = () => cp.requests().filter((r) => r.method === "POST" && /\/extend$/.test(r.path)).length;
    afterEach(async () => {
      await cp?.close();
    });

    it("CapyDB 3 h behind: a fresh TTL is not renewed, on this up or the next", async () => {
      await start(-3 * HOUR);
      const inputs = await checked({ name: "pr-behind", ttlHours: 4 });
      const { id, outs } = await provider.create(inputs);
      // By this machine's clock only 1h of 4h is left; by CapyDB's, all 4h.
      assert.equal(Date.parse(String(outs.ttlExpiresAt)) - Date.parse(String(outs.createdAt)), 4 * HOUR);
      assert.ok(Math.abs(Date.parse(String(outs.createdAt)) - (clock.now() - 3 * HOUR)) < MINUTE);
      assert.equal(outs[SKEW_OUTPUT], -3 * HOUR, "the offset is kept in state for the offline diff");
      for (let up = 0; up < 2; up++) {
        clock.advance(30 * MINUTE);
        assert.deepEqual(await provider.diff(id, outs, inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
      }
      assert.deepEqual(lines.filter((l) => l.includes("TTL renewal due")), []);
      // Once less than half is left by CapyDB's clock, it is due.
      clock.advance(61 * MINUTE);
      assert.equal((await provider.diff(id, outs, inputs)).changes, true);
      assert.match(lines.at(-1)!, /TTL renewal due: 1h59m of 4h left/);
    });

    it("CapyDB 3 h ahead: the renewal happens once less than half is left by CapyDB's clock", async () => {
      await start(3 * HOUR);
      const inputs = await checked({ name: "pr-ahead", ttlHours: 24 });
      const { id, outs } = await provider.create(inputs);
      assert.equal(outs[SKEW_OUTPUT], 3 * HOUR);
      clock.advance(13 * HOUR); // CapyDB: 11h left; this machine's clock: 14h
      const due = await provider.diff(id, outs, inputs);
      assert.equal(due.changes, true, "11h of 24h left by CapyDB's clock");
      assert.match(lines.at(-1)!, /TTL renewal due: 1[01]h\d*m? of 24h left/);
      // A fresh process (no answer yet) decides the same from the stored offset, then extends once.
      const fresh = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" } });
      await fresh.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
      cp.clearRequests();
      const { outs: renewed } = await fresh.update(id, outs, inputs);
      assert.equal(extends_(), 1);
      assert.equal(Date.parse(String(renewed.ttlExpiresAt)), clock.now() + 3 * HOUR + 24 * HOUR);
      assert.equal((await fresh.diff(id, renewed, inputs)).changes, false);
    });

    it("CapyDB 3 h behind: a 409 on a preview live by CapyDB's clock is waited out, not taken for expired", async () => {
      await start(-3 * HOUR);
      const inputs = await checked({ name: "pr-busy-behind", ttlHours: 2 });
      const { id, outs } = await provider.create(inputs);
      // By this machine's clock the preview expired an hour ago; by CapyDB's it has 2 h left.
      assert.ok(Date.parse(String(outs.ttlExpiresAt)) < clock.now());
      cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/extend`, status: 409, body: { error: "preview has an active operation" }, times: 1 });
      cp.clearRequests();
      const { outs: extended } = await provider.update(id, outs, await checked({ name: "pr-busy-behind", ttlHours: 3 }, inputs));
      assert.equal(extends_(), 2, "backed off and sent again");
      assert.equal(Date.parse(String(extended.ttlExpiresAt)), clock.now() - 3 * HOUR + 3 * HOUR);
    });

    it("CapyDB 3 h behind and the create's answer lost: the create still recognises its own preview", async () => {
      await start(-3 * HOUR);
      cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/preview-databases`, drop: true, after: "respond" });
      const inputs = await checked({ name: "pr-lost", ttlHours: 24 });
      const { id, outs } = await provider.create(inputs);
      const live = cp.previews.live();
      assert.deepEqual(live.map((p) => [p.id, p.name]), [[id, "pr-lost"]], "one preview, tracked: nothing orphaned");
      assert.equal(outs.state, "ready");
      assert.ok(lines.some((l) => /answer was lost, but preview .* is listed under its name; continuing with it/.test(l)), lines.join("\n"));
    });

    it("the offset a read measures is kept; state without one diffs as 0.1.0 did", async () => {
      await start(2 * HOUR);
      const inputs = await checked({ name: "pr-read", ttlHours: 24 });
      const { id, outs } = await provider.create(inputs);
      const { [SKEW_OUTPUT]: _skew, ...old } = outs; // eslint-disable-line @typescript-eslint/no-unused-vars
      const read = await provider.read(id, old);
      assert.equal(read.props[SKEW_OUTPUT], 2 * HOUR);
      clock.advance(13 * HOUR); // CapyDB: 11h of 24h left, due; this machine's clock alone would say 13h
      assert.equal((await provider.diff(id, read.props, inputs)).changes, true);
      assert.equal((await provider.diff(id, old, inputs)).changes, false, "without an offset, this machine's clock decides");
    });
  });
});
