import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { CapyDBClient } from "../../provider/client";
import { formatHours, renewalDue } from "../../provider/keep-alive";
import { UNKNOWN } from "../../provider/unknown";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

// TTL keep-alive (issue 9): the provider methods, called directly on a fake clock that the local control plane
// shares, so "time has passed" is the same instant for the provider's diff and for CapyDB's expiry.
const HOUR = 3_600_000;
const MINUTE = 60_000;
type Provider = ReturnType<typeof createProvider>;

describe("TTL keep-alive (fake clock)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];
  let provider: Provider;

  async function checked(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
    const result = await provider.check(olds, { __provider: "shim", autoNameSeed: "dev-db", projectId: cp.projectId, ...news });
    assert.equal(result.failures, undefined, JSON.stringify(result.failures));
    return result.inputs;
  }
  const extends_ = () => cp.requests().filter((r) => r.method === "POST" && /\/extend$/.test(r.path)).length;
  const renewalLines = () => lines.filter((l) => l.includes("TTL renewal due"));

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
    provider = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" } });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
  });
  afterEach(async () => {
    await cp.close();
  });

  it("renews on up once less than half of ttlHours is left, and not before", async () => {
    const inputs = await checked({ name: "pr-keep", ttlHours: 24 });
    const { id, outs } = await provider.create(inputs);
    const createdExpiry = Date.parse(String(outs.ttlExpiresAt));

    clock.advance(11 * HOUR + 59 * MINUTE);
    const before = await provider.diff(id, outs, await checked({ name: "pr-keep", ttlHours: 24 }, inputs));
    assert.deepEqual(before, { changes: false, replaces: [], deleteBeforeReplace: false }, "12h01m of 24h left: no renewal yet");
    assert.deepEqual(renewalLines(), []);

    clock.advance(2 * MINUTE);
    const news = await checked({ name: "pr-keep", ttlHours: 24 }, inputs);
    const due = await provider.diff(id, outs, news);
    assert.deepEqual(due, { changes: true, replaces: [], deleteBeforeReplace: false }, "an in-place update");
    assert.equal(renewalLines().length, 1);
    assert.match(renewalLines()[0], /^\[capydb\] diff pr-keep: TTL renewal due: 11h59m of 24h left, less than half of ttlHours \(12h\)/);

    cp.clearRequests();
    const { outs: renewed } = await provider.update(id, outs, news);
    assert.equal(extends_(), 1);
    assert.equal(Date.parse(String(renewed.ttlExpiresAt)), clock.now() + 24 * HOUR, "expiry = update time + ttlHours");
    assert.ok(Date.parse(String(renewed.ttlExpiresAt)) > createdExpiry, "a renewal only lengthens");
    assert.ok(lines.some((l) => /update pr-keep: TTL renewal due: .*extending preview pvw_\w+ to 24h from now/.test(l)), lines.join("\n"));

    assert.deepEqual(await provider.diff(id, renewed, news), { changes: false, replaces: [], deleteBeforeReplace: false },
      "right after a renewal nothing is due");
  });

  it("keepAlive: false never renews; a number of hours sets the threshold; ttlHours renews on every up", async () => {
    const off = await checked({ name: "pr-off", keepAlive: false });
    const a = await provider.create(off);
    clock.advance(23 * HOUR);
    assert.equal((await provider.diff(a.id, a.outs, off)).changes, false, "off: 1h left, still no update");
    cp.clearRequests();
    // An update for another reason (a reset) must not renew either.
    const resetOff = await checked({ name: "pr-off", keepAlive: false, resetTrigger: "1" }, off);
    await provider.update(a.id, a.outs, resetOff);
    assert.equal(extends_(), 0);

    const twenty = await checked({ name: "pr-twenty", ttlHours: 24, keepAlive: 20 });
    const b = await provider.create(twenty);
    clock.advance(3 * HOUR);
    assert.equal((await provider.diff(b.id, b.outs, twenty)).changes, false, "21h left of a 20h threshold");
    clock.advance(2 * HOUR);
    assert.equal((await provider.diff(b.id, b.outs, twenty)).changes, true, "19h left");
    assert.match(renewalLines().at(-1)!, /less than keepAlive \(20h\)/);

    const always = await checked({ name: "pr-always", ttlHours: 24, keepAlive: 24 });
    const c = await provider.create(always);
    clock.advance(MINUTE);
    assert.equal((await provider.diff(c.id, c.outs, always)).changes, true, "keepAlive = ttlHours renews on every up");
  });

  it("never shortens: a preview already extended outside Pulumi is left as it is", async () => {
    const inputs = await checked({ name: "pr-ext", ttlHours: 24 });
    const { id, outs } = await provider.create(inputs);
    clock.advance(13 * HOUR);
    const outside = new CapyDBClient({ apiUrl: cp.url, apiKey: cp.apiKey, clock });
    const extended = await outside.extendPreview(id, 168);
    assert.equal((await provider.diff(id, outs, inputs)).changes, true, "the stored state says 11h are left");

    cp.clearRequests();
    const { outs: after } = await provider.update(id, outs, inputs);
    assert.equal(extends_(), 0, "an extend to 24h would cut 168h short");
    assert.equal(after.ttlExpiresAt, extended.ttl_expires_at, "state learns the live expiry");
    assert.ok(lines.some((l) => /no TTL renewal: preview pvw_\w+ already expires at/.test(l)));
    assert.equal((await provider.diff(id, after, inputs)).changes, false);
  });

  it("a ttlHours change extends once (the renewal adds no second call)", async () => {
    const inputs = await checked({ name: "pr-change", ttlHours: 24 });
    const { id, outs } = await provider.create(inputs);
    clock.advance(20 * HOUR);
    const news = await checked({ name: "pr-change", ttlHours: 48 }, inputs);
    assert.equal((await provider.diff(id, outs, news)).changes, true);
    assert.deepEqual(renewalLines(), [], "the ttlHours change is the reason, not a renewal");
    cp.clearRequests();
    const { outs: after } = await provider.update(id, outs, news);
    assert.equal(extends_(), 1);
    assert.equal(Date.parse(String(after.ttlExpiresAt)), clock.now() + 48 * HOUR);
  });

  it("0.1.0 state (no keepAlive in it) renews by default; switching it off is an update with no API call", async () => {
    const inputs = await checked({ name: "pr-old", ttlHours: 6 });
    const { id, outs } = await provider.create(inputs);
    const { keepAlive: _none, ...old } = outs; // eslint-disable-line @typescript-eslint/no-unused-vars
    assert.equal("keepAlive" in outs, false, "an absent keepAlive is not written to state");
    assert.equal((await provider.diff(id, old, inputs)).changes, false, "no spurious update for old state");
    clock.advance(4 * HOUR);
    assert.equal((await provider.diff(id, old, inputs)).changes, true, "2h of 6h left: renewed by default");

    const off = await checked({ name: "pr-old", ttlHours: 6, keepAlive: false }, inputs);
    assert.equal((await provider.diff(id, old, off)).changes, true, "keepAlive changed");
    cp.clearRequests();
    const { outs: after } = await provider.update(id, old, off);
    assert.equal(extends_(), 0);
    assert.equal(after.keepAlive, false);
    assert.equal((await provider.diff(id, after, off)).changes, false);
  });

  it("an expired preview is not silently kept: the update says to refresh", async () => {
    const inputs = await checked({ name: "pr-late", ttlHours: 2 });
    const { id, outs } = await provider.create(inputs);
    clock.advance(3 * HOUR);
    assert.equal((await provider.diff(id, outs, inputs)).changes, true);
    assert.match(renewalLines().at(-1)!, /expired at .* by CapyDB's clock/);
    const error = await provider.update(id, outs, inputs).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /no longer exists.*pulumi up --refresh/s);
  });

  it("check validates keepAlive, naming the field and the fix", async () => {
    const failures = async (news: Record<string, unknown>) =>
      (await provider.check({}, { __provider: "shim", projectId: "prj_1", name: "pr-1", ...news })).failures ?? [];
    for (const bad of ["yes", 0, -1, 200, { hours: 3 }]) {
      const [failure] = await failures({ keepAlive: bad });
      assert.equal(failure?.property, "keepAlive", `keepAlive ${JSON.stringify(bad)}`);
      assert.match(failure.reason, /true, false or a number of hours/);
    }
    const [tooLong] = await failures({ keepAlive: 30, ttlHours: 24 });
    assert.equal(tooLong?.property, "keepAlive");
    assert.match(tooLong.reason, /at most ttlHours \(24\)/);
    const [defaultTtl] = await failures({ keepAlive: 30 });
    assert.match(defaultTtl?.reason ?? "", /at most ttlHours \(24\)/, "the default ttlHours (24) bounds it too");
    for (const good of [true, false, 12, 0.5, UNKNOWN]) assert.deepEqual(await failures({ keepAlive: good }), [], String(good));
    assert.deepEqual(await failures({ keepAlive: 24, ttlHours: UNKNOWN }), []);
  });

  it("the threshold is strict: exactly keepAlive hours left is not due yet, one millisecond less is", () => {
    const now = Date.UTC(2026, 10, 27, 12, 0, 0);
    const at = (leftMs: number) => ({ state: "ready", ttlExpiresAt: new Date(now + leftMs).toISOString() });
    assert.equal(renewalDue(at(12 * HOUR), { ttlHours: 24 }, now).due, false, "half of 24 h left");
    assert.equal(renewalDue(at(12 * HOUR - 1), { ttlHours: 24 }, now).due, true);
    assert.equal(renewalDue(at(6 * HOUR), { ttlHours: 24, keepAlive: 6 }, now).due, false, "keepAlive: 6 with 6 h left");
    assert.equal(renewalDue(at(6 * HOUR - 1), { ttlHours: 24, keepAlive: 6 }, now).due, true);
  });

  it("diff in preview: unknown ttlHours or keepAlive never plans a renewal by itself, and never throws", () => {
    const olds = { state: "ready", ttlHours: 24, ttlExpiresAt: new Date(clock.now() + HOUR).toISOString() };
    assert.equal(renewalDue(olds, { ttlHours: UNKNOWN }, clock.now()).due, false);
    assert.equal(renewalDue(olds, { ttlHours: 24, keepAlive: UNKNOWN }, clock.now()).due, false);
    assert.equal(renewalDue(olds, { ttlHours: 24 }, clock.now()).due, true);
    assert.equal(renewalDue({ ...olds, state: "provisioning" }, { ttlHours: 24 }, clock.now()).due, false);
    assert.equal(renewalDue({ ...olds, ttlExpiresAt: null }, { ttlHours: 24 }, clock.now()).due, false);
    assert.equal(formatHours(11 * HOUR + 59 * MINUTE), "11h59m");
    assert.equal(formatHours(72 * HOUR), "72h");
    assert.equal(formatHours(49 * HOUR + 5 * MINUTE), "49h05m");
    assert.equal(formatHours(30 * MINUTE), "30m");
  });

  it("words every duration of a renewal line in hours and minutes (never 47h59m next to 2d)", () => {
    const olds = { state: "ready", ttlHours: 168, ttlExpiresAt: new Date(clock.now() + 47 * HOUR + 59 * MINUTE).toISOString() };
    const decision = renewalDue(olds, { ttlHours: 168, keepAlive: 100 }, clock.now());
    assert.equal(decision.due, true);
    assert.match(decision.reason!, /47h59m of 168h left, less than keepAlive \(100h\)/);
    assert.doesNotMatch(decision.reason!, /\d+d/);
  });
});
