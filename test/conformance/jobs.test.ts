import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, listPreviews, ManualClock, pollJob, type ApiClient } from "./helpers";

describe("control plane: job progression (§3.2, §6)", () => {
  let cp: ControlPlane;
  let api: ApiClient;

  afterEach(() => cp?.close());

  async function start(opts: Parameters<typeof startControlPlane>[0] = {}) {
    cp = await startControlPlane(opts);
    api = apiClient(cp);
  }
  const create = (body: Record<string, unknown> = {}) => api.post(`/v1/projects/${cp.projectId}/preview-databases`, body);
  const jobState = async (id: string) => (await api.get(`/v1/jobs/${id}`)).body.job.state as string;

  describe("polls progression (default)", () => {
    beforeEach(() => start());

    it("goes pending (POST) → running (1st GET) → completed (2nd GET), and the preview becomes ready", async () => {
      const created = await create({ name: "p" });
      assert.equal(created.body.job.state, "pending");
      const jobId = created.body.job.id;
      const first = await api.get(`/v1/jobs/${jobId}`);
      assert.equal(first.status, 200);
      assert.equal(first.body.job.state, "running");
      assert.ok(first.body.job.started_at);
      assert.equal(cp.previews.live()[0].state, "provisioning");
      const second = (await api.get(`/v1/jobs/${jobId}`)).body.job;
      assert.equal(second.state, "completed");
      assert.ok(second.completed_at);
      assert.equal(second.error, undefined);
      assert.equal(await jobState(jobId), "completed", "terminal states stay put");
      assert.equal((await listPreviews(api, cp.projectId))[0].state, "ready");
      assert.equal(cp.jobs.list().find((j) => j.id === jobId)!.polls, 3);
    });

    it("failNext: the job fails with error, stderr and exit code; the preview is failed and stays listed until deleted", async () => {
      cp.jobs.failNext("create", { error: "clone failed: disk full", stderr: "pg_restore: error: disk full", exitCode: 3 });
      const created = await create({ name: "doomed" });
      const job = await pollJob(api, created.body.job.id);
      assert.equal(job.state, "failed");
      assert.equal(job.error, "clone failed: disk full");
      assert.equal(job.last_stderr, "pg_restore: error: disk full");
      assert.equal(job.last_exit_code, 3);
      const [preview] = await listPreviews(api, cp.projectId);
      assert.equal(preview.state, "failed");
      assert.equal(preview.last_error, "clone failed: disk full");
      assert.equal((await api.post(`/v1/preview-databases/${preview.id}/reset`)).status, 409);
      const del = await api.del(`/v1/preview-databases/${preview.id}`);
      assert.equal(del.status, 202);
      assert.equal((await pollJob(api, del.body.job.id)).state, "completed");
      assert.deepEqual(await listPreviews(api, cp.projectId), []);
    });

    it("failNext defaults give a failed job with a message and stderr; only the next job of that kind fails", async () => {
      cp.jobs.failNext("reset");
      const created = await create({ name: "r" });
      assert.equal((await pollJob(api, created.body.job.id)).state, "completed");
      const id = created.body.preview.id;
      const failed = await pollJob(api, (await api.post(`/v1/preview-databases/${id}/reset`)).body.job.id);
      assert.equal(failed.state, "failed");
      assert.match(failed.error, /branch\.reset/);
      assert.ok(failed.last_stderr);
      assert.equal((await listPreviews(api, cp.projectId))[0].state, "failed");
      const del = await pollJob(api, (await api.del(`/v1/preview-databases/${id}`)).body.job.id);
      assert.equal(del.state, "completed");
    });

    it("unknownStateNext reports the unknown state for one poll before progressing", async () => {
      cp.jobs.unknownStateNext("create");
      const created = await create();
      const id = created.body.job.id;
      assert.deepEqual([await jobState(id), await jobState(id), await jobState(id)], ["queued", "running", "completed"]);
      cp.jobs.unknownStateNext("create", "claimed");
      const other = (await create()).body.job.id;
      assert.equal(await jobState(other), "claimed");
    });

    it("stallNext keeps the job running until releaseStalled, and the preview busy", async () => {
      cp.jobs.stallNext("create");
      const created = await create({ name: "stuck" });
      const id = created.body.job.id;
      for (let i = 0; i < 5; i++) assert.equal(await jobState(id), "running");
      const busy = await api.del(`/v1/preview-databases/${created.body.preview.id}`);
      assert.deepEqual([busy.status, busy.body], [409, { error: "preview has an active operation" }]);
      cp.jobs.releaseStalled();
      assert.equal(await jobState(id), "completed");
    });

    it("a listing advances the jobs of the previews it shows, so a client that lost the job id still sees ready", async () => {
      await create({ name: "lost" });
      const states = [];
      for (let i = 0; i < 3; i++) states.push((await listPreviews(api, cp.projectId))[0].state);
      assert.deepEqual(states, ["provisioning", "ready", "ready"]);
    });

    it("listAdvancesJobs: false leaves progression to job polls alone", async () => {
      await cp.close();
      await start({ listAdvancesJobs: false });
      const created = await create();
      for (let i = 0; i < 3; i++) assert.equal((await listPreviews(api, cp.projectId))[0].state, "provisioning");
      assert.equal(await jobState(created.body.job.id), "running");
    });
  });

  describe("time progression", () => {
    it("follows the injected clock: pending, then running, then terminal once the duration has passed", async () => {
      const clock = new ManualClock();
      await start({ jobProgression: "time", now: clock.now, jobDurationsMs: { create: 10_000 } });
      const created = await create({ name: "t" });
      assert.equal(created.body.job.state, "pending");
      const id = created.body.job.id;
      assert.equal(await jobState(id), "running");
      clock.advance(9_999);
      assert.equal(await jobState(id), "running");
      assert.equal((await listPreviews(api, cp.projectId))[0].state, "provisioning");
      clock.advance(1);
      // The listing alone (no job poll) observes completion: checked lazily on every request.
      assert.equal((await listPreviews(api, cp.projectId))[0].state, "ready");
      assert.equal(await jobState(id), "completed");
    });

    it("completes in the background on the real clock, without polls", async () => {
      await start({ jobProgression: "time", jobDurationsMs: { create: 30, delete: 30 } });
      const created = await create({ name: "bg" });
      const deadline = Date.now() + 2_000;
      while (cp.jobs.list()[0].state !== "completed" && Date.now() < deadline) await sleep(10);
      assert.equal(cp.jobs.list()[0].state, "completed");
      assert.equal(cp.previews.live()[0].state, "ready");
      assert.equal(cp.jobs.list()[0].polls, 0);
      assert.equal(created.status, 201);
    });

    it("honours stall, failure and unknown state too", async () => {
      const clock = new ManualClock();
      await start({ jobProgression: "time", now: clock.now });
      cp.jobs.stallNext("create");
      const stalled = (await create({ name: "s" })).body.job.id;
      cp.jobs.unknownStateNext("create", "queued");
      const queued = (await create({ name: "q" })).body.job.id;
      cp.jobs.failNext("create", { error: "boom" });
      const failing = (await create({ name: "f" })).body.job.id;
      assert.equal(await jobState(queued), "queued");
      clock.advance(60_000);
      assert.equal(await jobState(stalled), "running");
      assert.equal(await jobState(queued), "completed");
      assert.equal((await api.get(`/v1/jobs/${failing}`)).body.job.error, "boom");
      cp.jobs.releaseStalled();
      assert.equal(await jobState(stalled), "completed");
    });
  });
});
