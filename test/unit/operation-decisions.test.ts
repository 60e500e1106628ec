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
    const p = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" }, clientOptions: random ? { random } : undefined });
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

  describe("jobs and previews that end in states the provider does not know (issue 14 item 4, issue 18 item 7)", () => {
    const jobPolls = () => count("GET", /^\/v1\/jobs\//);

    for (const state of ["cancelled", "error"]) {
      it(`a create whose job ends "${state}" fails at the first poll that shows it, names the state and reason, and deletes the preview`, async () => {
        const provider = await newProvider();
        cp.jobs.endNext("create", { state, error: `create was ${state}: host drained`, lastError: "host drained" });
        const started = clock.now();
        const error = await provider.create(await checked(provider, { name: `pr-${state}` })).then(() => undefined, (e) => e);
        assert.ok(error instanceof Error && !(error as { id?: string }).id, `a plain error, got ${error}`);
        assert.match(error.message, new RegExp(`ended in state "${state}" \\(not "completed"\\).*create was ${state}: host drained`));
        assert.match(error.message, /was deleted, so nothing is left behind/);
        assert.deepEqual(cp.previews.live(), []);
        // pending, then the end: two job polls; the clean-up's delete job adds its own.
        const createJob = cp.jobs.list().find((j) => j.kind === "create")!;
        assert.ok(createJob.polls <= 2, `${createJob.polls} polls of the create job`);
        assert.ok(clock.now() - started < 10_000, `ended after ${clock.now() - started} ms of (fake) time`);
      });
    }

    it("a create whose job ends succeeded with the preview ready is taken as success, and logged", async () => {
      const provider = await newProvider();
      cp.jobs.endNext("create", { state: "succeeded", previewState: "ready" });
      const { outs } = await provider.create(await checked(provider, { name: "pr-succeeded" }));
      assert.equal(outs.state, "ready");
      assert.ok(outs.pooledUrl, "connection URLs");
      assert.ok(lines.some((l) => l.includes('ended "succeeded" (not "completed"); taken as success')), lines.join("\n"));
    });

    it("a create job completed on a preview left failed fails at once with the state and last_error, without waiting for URLs", async () => {
      const provider = await newProvider();
      cp.jobs.endNext("create", { state: "completed", previewState: "failed", lastError: "pg_restore: out of disk" });
      const started = clock.now();
      const error = await provider.create(await checked(provider, { name: "pr-failed-preview" })).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, /is "failed", a state it will not leave by waiting: pg_restore: out of disk/);
      assert.match(error.message, /nothing is left behind/);
      assert.deepEqual(cp.previews.live(), []);
      // The URL wait started with the check of the preview, and stopped with it: no URL poll after the clean-up began.
      const log = cp.requests();
      const lastUrlPoll = log.map((r, i) => (r.path.endsWith("/connections") ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
      const cleanup = log.findIndex((r) => r.method === "DELETE");
      assert.ok(cleanup > lastUrlPoll, `URL polls after the clean-up began: ${log.map((r) => `${r.method} ${r.path}`).join(", ")}`);
      assert.ok(count("GET", /\/connections$/) <= 2, `${count("GET", /\/connections$/)} connection polls`);
      assert.ok(clock.now() - started < 10_000, `ended after ${clock.now() - started} ms of (fake) time`);
      assert.ok(jobPolls() >= 1);
    });

    it("an up that resumes an unfinished preview found suspended fails at once naming the state, and so does every later up", async () => {
      const provider = await newProvider();
      const inputs = await checked(provider, { name: "pr-suspended", timeouts: { create: "30s" } });
      // A create whose answer is lost while listing is down: recorded as pending; its job never finishes.
      cp.jobs.stallNext("create");
      cp.faults.inject({ method: "POST", path: previewsPath(), status: 502, body: "<html>bad gateway</html>", after: "respond" });
      cp.faults.inject({ method: "GET", path: previewsPath(), status: 503, times: 100_000 });
      const partial = (await provider.create(inputs).then(() => undefined, (e) => e)) as Error & { id: string; properties: Props };
      assert.match(partial.id, /^pending-create\//);
      cp.faults.clear();
      const [live] = cp.previews.live();
      cp.previews.setState(live.id, "suspended", "billing inactive");
      for (const attempt of [1, 2]) {
        const started = clock.now();
        const error = await provider.update(partial.id, partial.properties, inputs).then(() => undefined, (e) => e);
        assert.ok(error instanceof Error && !(error as { id?: string }).id, `attempt ${attempt}: a plain error, got ${error}`);
        assert.match(error.message, new RegExp(`Preview "pr-suspended" \\(${live.id}\\) failed to become ready: preview ${live.id} is "suspended".*billing inactive`));
        assert.ok(clock.now() - started < 5_000, `attempt ${attempt}: ended after ${clock.now() - started} ms of (fake) time`);
      }
      cp.jobs.releaseStalled();
      await provider.delete(partial.id, partial.properties);
      assert.deepEqual(cp.previews.live(), []);
    });
  });

  describe("a 409 is explained from the preview first; the job list only refines busy (issue 14 item 9, issue 18 item 12)", () => {
    const jobListPath = () => `/v1/projects/${cp.projectId}/jobs`;
    const jobList404 = () => cp.faults.inject({ method: "GET", path: jobListPath(), status: 404, body: { error: "not found" }, times: 100_000 });

    async function ready(name: string) {
      const provider = await newProvider();
      const inputs = await checked(provider, { name });
      const { id, outs } = await provider.create(inputs);
      return { provider, inputs, id, outs };
    }

    it("a reset works while the project's job list answers 404, saying in one line what that costs", async () => {
      const { provider, inputs, id, outs } = await ready("pr-nojobs");
      jobList404();
      const { outs: after } = await provider.update(id, outs, await checked(provider, { name: "pr-nojobs", resetTrigger: "1" }, inputs));
      assert.equal(after.state, "ready");
      assert.equal(after.resetTrigger, "1");
      assert.notEqual(after.password, outs.password, "the reset ran: credentials rotated");
      assert.equal(count("POST", /\/reset$/), 1);
      assert.equal(lines.filter((l) => l.includes("job list cannot be read")).length, 1, lines.join("\n"));
    });

    it("a reset whose answer is lost while the job list answers 404 fails naming the preview and the way out, never \"no longer exists\"", async () => {
      const { provider, inputs, id, outs } = await ready("pr-nojobs-lost");
      jobList404();
      cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/reset`, status: 502, body: "<html>bad gateway</html>", after: "respond" });
      const error = await provider.update(id, outs, await checked(provider, { name: "pr-nojobs-lost", resetTrigger: "1" }, inputs)).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.doesNotMatch(error.message, /no longer exists/);
      assert.match(error.message, new RegExp(`Preview "pr-nojobs-lost" \\(${id}\\): whether the reset was applied is unknown[\\s\\S]*Run \`pulumi up\` again`));
      assert.equal(count("POST", /\/reset$/), 1, "not resent blindly");
    });

    it("extend refused (409) on a preview listed as expired fails at once, even with the job list unreadable", async () => {
      const { provider, inputs, id, outs } = await ready("pr-expired-listed");
      jobList404();
      cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/extend`, status: 409, body: { error: "preview is not ready" }, times: 100_000 });
      cp.previews.setState(id, "expired");
      const started = clock.now();
      const error = await provider.update(id, outs, await checked(provider, { name: "pr-expired-listed", ttlHours: 5 }, inputs)).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, /is "expired", not ready, and will not become ready by waiting[\s\S]*--replace/);
      assert.equal(count("POST", /\/extend$/), 1, "no retry");
      assert.ok(clock.now() - started < 5_000, `ended after ${clock.now() - started} ms of (fake) time`);
    });

    it("a reset refused (409) on a ready preview is waited out although the job list answers 404", async () => {
      const { provider, inputs, id, outs } = await ready("pr-busy-nojobs");
      jobList404();
      cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/reset`, status: 409, body: { error: "preview has an active operation" }, times: 2 });
      const { outs: after } = await provider.update(id, outs, await checked(provider, { name: "pr-busy-nojobs", resetTrigger: "1" }, inputs));
      assert.equal(after.resetTrigger, "1");
      assert.equal(count("POST", /\/reset$/), 3);
      assert.ok(lines.some((l) => l.includes("its jobs could not be listed")), lines.join("\n"));
    });

    it("a job of the preview that ended in an unknown state (completed_at set) does not count as the one keeping it busy", async () => {
      const { provider, inputs, id, outs } = await ready("pr-ended-job");
      cp.faults.inject({
        method: "GET",
        path: jobListPath(),
        rewrite: (body) => ({ jobs: [{ id: "job_cancelled", type: "branch.reset", state: "cancelled", created_at: new Date(clock.now()).toISOString(), completed_at: new Date(clock.now()).toISOString(), preview_database_id: id }, ...(body as { jobs: unknown[] }).jobs] }),
        times: 100_000,
      });
      cp.faults.inject({ method: "POST", path: `/v1/preview-databases/${id}/extend`, status: 409, body: { error: "preview has an active operation" } });
      await provider.update(id, outs, await checked(provider, { name: "pr-ended-job", ttlHours: 5 }, inputs));
      const busy = lines.find((l) => l.includes("the preview is busy"));
      assert.ok(busy, lines.join("\n"));
      assert.doesNotMatch(busy, /job_cancelled/);
      assert.match(busy, /ready and idle/);
    });
  });

  describe("error paths name the preview (issue 18 item 8)", () => {
    it("a failed reset names the preview, its id and the next step, with the job's error", async () => {
      const provider = await newProvider();
      const inputs = await checked(provider, { name: "pr-reset-fails" });
      const { id, outs } = await provider.create(inputs);
      cp.jobs.failNext("reset", { error: "branch.reset failed: source unreachable" });
      const error = await provider.update(id, outs, await checked(provider, { name: "pr-reset-fails", resetTrigger: "1" }, inputs)).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.match(
        error.message,
        new RegExp(`^Resetting preview "pr-reset-fails" \\(${id}\\) failed: the reset \\(job job_\\w+\\) did not complete: branch\\.reset job job_\\w+ failed: branch\\.reset failed: source unreachable`),
      );
      assert.match(error.message, /Run `pulumi up` again to send the reset again; .*`pulumi up --replace <its URN>`.*`pulumi destroy`/);
    });

    it("a delete of a pending-create stand-in that fails names the real id it resolved", async () => {
      const provider = await newProvider();
      const inputs = await checked(provider, { name: "pr-standin", timeouts: { create: "30s" } });
      cp.faults.inject({ method: "POST", path: previewsPath(), status: 502, body: "<html>bad gateway</html>", after: "respond" });
      cp.faults.inject({ method: "GET", path: previewsPath(), status: 503, times: 100_000 });
      const partial = (await provider.create(inputs).then(() => undefined, (e) => e)) as Error & { id: string; properties: Props };
      assert.equal(partial.id, "pending-create/pr-standin");
      cp.faults.clear();
      const [live] = cp.previews.live();
      cp.faults.inject({ method: "DELETE", path: `/v1/preview-databases/${live.id}`, status: 400, body: { error: "deletion protection is on" } });
      const error = await provider.delete(partial.id, partial.properties).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, new RegExp(`Deleting preview "pr-standin" \\(${live.id}, recorded in the stack as pending-create/pr-standin\\) did not finish: .*deletion protection is on`));
      await provider.delete(partial.id, partial.properties);
      assert.deepEqual(cp.previews.live(), []);
    });
  });
});
