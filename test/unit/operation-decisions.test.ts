import { strict as assert } from "assert";
import { request } from "undici";
import { createProvider } from "../../provider";
import { classifyNamesake } from "../../provider/operations/names";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";
import { apiPreview } from "../helpers/fixtures";
import type { PreviewDatabase } from "../../provider/api-types";

// How operations decide (issues 14 and 18): whose a namesake is, when to back off and resend, with which
// randomness. Through the provider methods against the local control plane, plus the pure rules.
type Provider = ReturnType<typeof createProvider>;
type Props = Record<string, unknown>;
const HOUR_MS = 3_600_000;

describe("operation decisions (memory control plane)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
  });
  afterEach(async () => {
    await cp.close();
  });

  async function newProvider(random?: () => number): Promise<Provider> {
    const p = createProvider({ clock, sink: (l) => lines.push(l), env: {}, clientOptions: random ? { random } : undefined });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    return p;
  }
  async function checked(p: Provider, news: Props, olds: Props = {}) {
    const result = await p.check(olds, { __provider: "shim", autoNameSeed: "dev-db", projectId: cp.projectId, ...news });
    assert.equal(result.failures, undefined, JSON.stringify(result.failures));
    return result.inputs;
  }
  const count = (method: string, re: RegExp) => cp.requests().filter((r) => r.method === method && re.test(r.path)).length;
  const previewsPath = () => `/v1/projects/${cp.projectId}/preview-databases`;

  /** Another stack's preview, created straight through the API (never by the provider under test). */
  async function strangerCreates(name: string, mode: "clone" | "empty"): Promise<string> {
    const res = await request(`${cp.url}${previewsPath()}`, {
      method: "POST",
      headers: { authorization: `Bearer ${cp.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name, mode, ttl_hours: 24 }),
    });
    const body = (await res.body.json()) as { preview: { id: string } };
    assert.equal(res.statusCode, 201);
    return body.preview.id;
  }

  describe("the ownership rule: a namesake is the create's own only with the same mode and created since the first send", () => {
    it("a namesake created an hour before the lost create is someone else's: already exists, never taken over", async () => {
      const provider = await newProvider();
      const theirs = await strangerCreates("pr-owner", "clone");
      clock.advance(HOUR_MS);
      // Refused before CapyDB applied it (a 503 page): the answer is lost, and the name is held by the older namesake.
      cp.faults.inject({ method: "POST", path: previewsPath(), status: 503, body: "<html>unavailable</html>" });
      const error = await provider.create(await checked(provider, { name: "pr-owner", mode: "clone" })).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error && !(error as { id?: string }).id, `a plain error, got ${error}`);
      assert.match(error.message, new RegExp(`already exists in project ${cp.projectId} \\(id ${theirs}`));
      assert.deepEqual(cp.previews.live().map((p) => p.id), [theirs], "the stranger's preview is untouched");
    });

    it("a namesake of another mode, created just before the lost create, is someone else's", async () => {
      const provider = await newProvider();
      const theirs = await strangerCreates("pr-mode", "empty");
      clock.advance(60_000);
      cp.faults.inject({ method: "POST", path: previewsPath(), status: 503, body: "<html>unavailable</html>" });
      const error = await provider.create(await checked(provider, { name: "pr-mode", mode: "clone" })).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, new RegExp(`already exists in project ${cp.projectId} \\(id ${theirs}`));
    });

    it("classifyNamesake: mode and created_at both decide (the rule G's mutations target)", () => {
      const sentAt = Date.parse("2026-11-27T12:00:00Z");
      const at = (iso: string, mode = "clone") => apiPreview({ created_at: iso, mode }) as PreviewDatabase;
      const lost = { unknownCreateSentAt: sentAt };
      assert.equal(classifyNamesake(at("2026-11-27T12:00:05Z"), { mode: "clone", adopt: false }, lost), "ours");
      assert.equal(classifyNamesake(at("2026-11-27T10:00:00Z"), { mode: "clone", adopt: false }, lost), "foreign", "created 2 h before the send");
      assert.equal(classifyNamesake(at("2026-11-27T12:00:05Z", "empty"), { mode: "clone", adopt: false }, lost), "foreign", "another mode");
      assert.equal(classifyNamesake(at("2026-11-27T12:00:05Z"), { mode: "clone", adopt: false }, {}), "foreign", "no create of ours may have landed");
    });
  });

  describe("reset under 409, and the injected random source", () => {
    it("a reset refused with 409 while the preview is busy backs off and is sent again, once applied", async () => {
      const provider = await newProvider(() => 0);
      const inputs = await checked(provider, { name: "pr-busy-reset" });
      const { id, outs } = await provider.create(inputs);
      cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/reset`, status: 409, body: { error: "preview has an active operation" }, times: 2 });
      clock.sleeps.length = 0;
      const { outs: after } = await provider.update(id, outs, await checked(provider, { name: "pr-busy-reset", resetTrigger: "1" }, inputs));
      assert.equal(after.resetTrigger, "1");
      assert.equal(count("POST", /\/reset$/), 3);
      assert.equal(cp.jobs.list().filter((j) => j.kind === "reset").length, 1, "one reset");
      // random() = 0: the busy back-off is half its nominal 1 s, then 2 s.
      assert.deepEqual(clock.sleeps.slice(0, 2), [500, 1000], `sleeps ${clock.sleeps}`);
      assert.ok(lines.some((l) => l.includes("the preview is busy")), lines.join("\n"));
    });

    for (const [what, rng, resendWait] of [["0", () => 0, 750], ["1", () => 1, 1250]] as const) {
      it(`resends of create, reset and extend wait the jitter of the injected source (random() = ${what}: ${resendWait} ms)`, async () => {
        const provider = await newProvider(rng);
        const inputs = await checked(provider, { name: "pr-jitter" });
        clock.sleeps.length = 0;
        // 503 before CapyDB applied it: the lookup shows it did not land, so it is sent again after the jittered wait.
        cp.faults.inject({ method: "POST", path: previewsPath(), status: 503 });
        const { id, outs } = await provider.create(inputs);
        assert.equal(clock.sleeps[0], resendWait, `create: ${clock.sleeps}`);

        clock.sleeps.length = 0;
        cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/reset`, status: 503 });
        const reset = await provider.update(id, outs, await checked(provider, { name: "pr-jitter", resetTrigger: "1" }, inputs));
        assert.equal(clock.sleeps[0], resendWait, `reset: ${clock.sleeps}`);

        clock.sleeps.length = 0;
        const resetInputs = await checked(provider, { name: "pr-jitter", resetTrigger: "1" }, inputs);
        cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/extend`, status: 503 });
        await provider.update(id, reset.outs, await checked(provider, { name: "pr-jitter", resetTrigger: "1", ttlHours: 5 }, resetInputs));
        assert.equal(clock.sleeps[0], resendWait, `extend: ${clock.sleeps}`);
        assert.equal(count("POST", /preview-databases$/) + count("POST", /\/reset$/) + count("POST", /\/extend$/), 6, "each sent twice");
      });
    }
  });
});
