import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { CapyDBError } from "../../provider/errors";
import { createLogger } from "../../provider/log";
import { growingIntervalMs, JobDurations, LearningSchedule } from "../../provider/poll-schedule";
import type { Job, PreviewDatabase } from "../../provider/api-types";
import {
  JOB_WORKING_STATES,
  JobFailedError,
  judgeJob,
  PREVIEW_WORKING_STATES,
  previewSettled,
  PreviewStateError,
  waitForConnections,
  waitForJob,
  waitForPreview,
  waitForPreviewReady,
  WaitTimeoutError,
} from "../../provider/wait";
import { FakeClock } from "../helpers/fake-clock";
import { apiJob, apiPreview, TEST_API_KEY } from "../helpers/fixtures";
import { Handler, startScriptedServer } from "../helpers/scripted-server";

async function withWait(handler: Handler, run: (ctx: { client: CapyDBClient; clock: FakeClock; log: ReturnType<typeof createLogger>; lines: string[] }, requests: { path: string }[]) => Promise<void>) {
  const server = await startScriptedServer(handler);
  const clock = new FakeClock();
  const lines: string[] = [];
  try {
    const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock });
    await run({ client, clock, log: createLogger((l) => lines.push(l)), lines }, server.requests);
  } finally {
    await server.close();
  }
}

describe("job waiter", () => {
  // Issue 10 replaced the 0.1.0 schedule (0.5 s growing to a 2 s cap for a minute, then 10 s): this
  // test now pins the new one's fallback for jobs of a kind the process has not seen complete.
  // Issue 16: every 0.7 s up to 20 s (was 1.2 s growing to 1.6 s), then 2.2 s from 25 s to 2 minutes.
  it("polls at once, then 0.5 s later, then every 0.7 s up to 20 s, growing to 2.2 s at 25 s, 2.2 s to 2 min, then by 15% of the further wait", () => {
    assert.deepEqual([0, 1].map((polls) => growingIntervalMs(0, polls)), [0, 500]);
    assert.deepEqual([500, 4_000, 8_000, 19_999].map((t) => growingIntervalMs(t, 3)), [700, 700, 700, 700]);
    assert.deepEqual([20_000, 22_500, 24_999, 25_000, 60_000, 119_999].map((t) => growingIntervalMs(t, 20)), [700, 1450, 2200, 2200, 2200, 2200]);
    assert.deepEqual([120_000, 200_000, 300_000, 600_000].map((t) => growingIntervalMs(t, 20)), [2200, 14200, 29200, 30000]);
  });

  it("treats unknown states as still running and returns the completed job", async () => {
    const states = ["pending", "queued", "running", "something-new", "completed"];
    await withWait((_req, i) => ({ body: { job: apiJob({ state: states[i] }) } }), async (ctx, requests) => {
      const job = await waitForJob(ctx, "job_1", ctx.clock.now() + 60_000, "create pr-42");
      assert.equal(job.state, "completed");
      assert.equal(requests.length, 5);
      assert.deepEqual(ctx.clock.sleeps, [500, 700, 700, 700]);
      assert.ok(ctx.lines.some((l) => l.includes("job job_1 queued")), ctx.lines.join("\n"));
    });
  });

  it("throws JobFailedError with the job's error and stderr tail", async () => {
    const stderr = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n");
    await withWait(() => ({ body: { job: apiJob({ state: "failed", error: "pg_dump failed", last_stderr: stderr, last_exit_code: 1 }) } }), async (ctx) => {
      const error = await waitForJob(ctx, "job_1", ctx.clock.now() + 60_000, "x").then(() => undefined, (e) => e);
      assert.ok(error instanceof JobFailedError);
      assert.match(error.message, /branch\.create job job_1 failed: pg_dump failed \(exit code 1\)/);
      assert.match(error.message, /line 30/);
      assert.ok(!error.message.includes("line 10\n"), "only the tail of stderr");
    });
  });

  it("stops at the deadline with the last state", async () => {
    await withWait(() => ({ body: { job: apiJob({ state: "running" }) } }), async (ctx) => {
      const start = ctx.clock.now();
      const error = await waitForJob(ctx, "job_1", start + 10_000, "x").then(() => undefined, (e) => e);
      assert.ok(error instanceof WaitTimeoutError);
      assert.equal(error.lastState, "running");
      assert.ok(ctx.clock.now() <= start + 10_000);
    });
  });

  it("aborts at once on 401/403", async () => {
    await withWait(() => ({ status: 403, body: { error: "forbidden" } }), async (ctx, requests) => {
      const error = await waitForJob(ctx, "job_1", ctx.clock.now() + 60_000, "x").then(() => undefined, (e) => e);
      assert.ok(error instanceof CapyDBError && error.status === 403);
      assert.equal(requests.length, 1);
    });
  });

  it("gives up after five poll errors in a row, but not after fewer", async () => {
    await withWait((_req, i) => (i < 4 ? { status: 404, body: { error: "job not found" } } : { body: { job: apiJob({ state: "completed" }) } }), async (ctx) => {
      assert.equal((await waitForJob(ctx, "job_1", ctx.clock.now() + 60_000, "x")).state, "completed");
    });
    await withWait(() => ({ status: 404, body: { error: "job not found" } }), async (ctx, requests) => {
      const error = await waitForJob(ctx, "job_1", ctx.clock.now() + 600_000, "x").then(() => undefined, (e) => e);
      assert.ok(error instanceof CapyDBError && error.status === 404);
      assert.equal(requests.length, 5);
    });
  });

  it("polls connections every 2 s until both URLs are present", async () => {
    const full = { username: "u", direct_url: "postgres://u:p4ssw0rd-x@h:5432/db", pooled_url: "postgres://u:p4ssw0rd-x@h:6432/db" };
    await withWait((_req, i) => ({ body: { connections: i < 2 ? { username: "u" } : full } }), async (ctx) => {
      const info = await waitForConnections(ctx, "pvw_1", ctx.clock.now() + 600_000, "x");
      assert.equal(info.pooled_url, full.pooled_url);
      assert.deepEqual(ctx.clock.sleeps, [2000, 2000]);
    });
  });

  it("list and connection-URL waits share the job wait's tolerance: 4 failed polls pass, a 5th ends the wait", async () => {
    // Each failed poll is one GET answered 503 three times (the client's own retries), or a malformed list.
    const failingPolls = (n: number, ok: unknown) => (_req: unknown, i: number) =>
      i < n * 3 ? (i % 2 ? { status: 503, body: { error: "busy" } } : { body: { previews: [] } }) : { body: ok };
    const listed = { preview_databases: [apiPreview({ state: "ready" })] };
    await withWait(failingPolls(4, listed), async (ctx) => {
      const preview = await waitForPreview(ctx, "prj_1", "pvw_1", ctx.clock.now() + 600_000, "x", (p) => p?.state === "ready");
      assert.equal(preview?.id, "pvw_1");
    });
    await withWait(failingPolls(5, listed), async (ctx, requests) => {
      const error = await waitForPreview(ctx, "prj_1", "pvw_1", ctx.clock.now() + 600_000, "x", (p) => p?.state === "ready").then(() => undefined, (e) => e);
      assert.ok(error instanceof CapyDBError, String(error));
      assert.equal(requests.length, 15);
    });
    const urls = { connections: { username: "u", direct_url: "postgres://u:p4ss-word@h:5432/db", pooled_url: "postgres://u:p4ss-word@h:6432/db" } };
    await withWait(failingPolls(4, urls), async (ctx) => {
      assert.ok((await waitForConnections(ctx, "pvw_1", ctx.clock.now() + 600_000, "x")).direct_url);
    });
    await withWait(failingPolls(5, urls), async (ctx) => {
      const error = await waitForConnections(ctx, "pvw_1", ctx.clock.now() + 600_000, "x").then(() => undefined, (e) => e);
      assert.ok(error instanceof CapyDBError, String(error));
    });
  });

  it("a list wait takes CapyDB's own 404 for the project as the preview gone, and a proxy's 404 page as an error", async () => {
    await withWait(() => ({ status: 404, body: { error: "project not found" } }), async (ctx) => {
      assert.equal(await waitForPreview(ctx, "prj_1", "pvw_1", ctx.clock.now() + 60_000, "x", (p) => p === undefined), undefined);
    });
    await withWait(() => ({ status: 404, body: "<html>Not Found</html>" }), async (ctx) => {
      const error = await waitForPreview(ctx, "prj_1", "pvw_1", ctx.clock.now() + 600_000, "x", (p) => p === undefined).then(() => undefined, (e) => e);
      assert.ok(error instanceof CapyDBError && error.status === 404, String(error));
    });
  });
});

describe("job waiter with a learned duration", () => {
  // The server says the first job of its kind took 10 s (created 12:00:00, completed 12:00:10).
  const first = apiJob({ state: "completed", project_id: "prj_1", completed_at: "2026-11-27T12:00:10.000Z" });

  /** One server for both waits: what the process learns is per API URL, project and job type. */
  async function twoWaits(second: Record<string, unknown>, secondEndsAfterMs: number) {
    const schedule = new LearningSchedule(new JobDurations());
    let secondEnd = Infinity;
    let clock: FakeClock | undefined;
    let secondPolls = 0;
    await withWait((req) => {
      if (req.path.endsWith("/job_1")) return { body: { job: first } };
      secondPolls++;
      return { body: { job: apiJob({ ...second, id: "job_2", state: clock!.now() >= secondEnd ? "completed" : "running" }) } };
    }, async (ctx) => {
      clock = ctx.clock;
      await waitForJob({ ...ctx, schedule }, apiJob({ project_id: "prj_1" }), ctx.clock.now() + 60_000, "first");
      ctx.clock.sleeps.length = 0;
      const start = ctx.clock.now();
      secondEnd = start + secondEndsAfterMs;
      await waitForJob({ ...ctx, schedule }, apiJob({ ...second, id: "job_2" }), start + 60_000, "second");
    });
    return { sleeps: clock!.sleeps, polls: secondPolls, lateMs: clock!.now() - secondEnd };
  }

  it("polls the next job of the same type and project around the expected end, not at once", async () => {
    const { sleeps, polls, lateMs } = await twoWaits({ project_id: "prj_1" }, 10_300);
    assert.ok(sleeps[0] >= 7_000, `first poll after ${sleeps[0]} ms`);
    assert.ok(polls <= 10, `${polls} polls`);
    assert.ok(lateMs >= 0 && lateMs < 600, `noticed ${lateMs} ms late`);
  });

  it("learns nothing across projects or job types", async () => {
    for (const other of [{ project_id: "prj_2" }, { project_id: "prj_1", type: "branch.delete" }]) {
      const { sleeps } = await twoWaits(other, 10_300);
      assert.deepEqual(sleeps.slice(0, 2), [500, 700], `${JSON.stringify(other)}: the schedule of a job of a new kind`);
    }
  });
});

describe("job and preview states the provider does not know (issue 14 item 4, issue 18 item 7)", () => {
  const at = (state: string, extra: Record<string, unknown> = {}) => apiJob({ state, ...extra }) as Job;
  const preview = (state: string, extra: Record<string, unknown> = {}) => apiPreview({ state, ...extra }) as PreviewDatabase;

  it("judgeJob: completed succeeds, failed fails, the working states wait, an unknown state waits only while nothing says it ended", () => {
    assert.equal(judgeJob(at("completed"), "unseen", "ready").kind, "succeeded");
    assert.equal(judgeJob(at("failed", { error: "boom" }), "unseen", "ready").kind, "failed");
    for (const state of JOB_WORKING_STATES) assert.equal(judgeJob(at(state, { completed_at: "2026-11-27T12:00:10Z" }), preview("ready"), "ready").kind, "working", state);
    assert.equal(judgeJob(at("paused"), "unseen", "ready").kind, "working", "nothing says it ended");
    assert.equal(judgeJob(at("paused"), preview("provisioning"), "ready").kind, "working", "the preview is still being worked on");
    const cancelled = judgeJob(at("cancelled", { completed_at: "2026-11-27T12:00:10Z", error: "cancelled by an operator" }), "unseen", "ready");
    assert.deepEqual(cancelled.kind, "failed");
    assert.match((cancelled as { message: string }).message, /branch\.create job job_1 ended in state "cancelled" \(not "completed"\): cancelled by an operator/);
    const byPreview = judgeJob(at("error"), preview("failed", { last_error: "disk full" }), "ready");
    assert.match((byPreview as { message: string }).message, /ended in state "error".*its preview is "failed": disk full/);
  });

  it("judgeJob: a success alias is success only when the preview agrees (ready, or gone for a delete)", () => {
    const done = { completed_at: "2026-11-27T12:00:10Z" };
    assert.equal(judgeJob(at("succeeded", done), preview("ready"), "ready").kind, "succeeded");
    assert.equal(judgeJob(at("succeeded", done), preview("failed"), "ready").kind, "failed");
    assert.equal(judgeJob(at("succeeded", done), "unseen", "ready").kind, "failed", "nothing confirms it");
    assert.equal(judgeJob(at("succeeded", { type: "branch.delete" }), undefined, "gone").kind, "succeeded");
    assert.equal(judgeJob(at("canceled", { type: "branch.delete" }), preview("ready"), "gone").kind, "working", "a delete whose preview is still listed ready may not have started");
    assert.equal(judgeJob(at("canceled", { type: "branch.delete", ...done }), preview("ready"), "gone").kind, "failed");
  });

  it("previewSettled: the working states wait, anything else is final", () => {
    for (const state of PREVIEW_WORKING_STATES) assert.equal(previewSettled(preview(state), "ready"), false, state);
    for (const state of ["ready", "failed", "expired", "error", "suspended", "deleting", "something-new"]) assert.equal(previewSettled(preview(state), "ready"), true, state);
    assert.equal(previewSettled(undefined, "ready"), true);
    assert.equal(previewSettled(preview("deleting"), "gone"), false);
  });

  /** A server that answers the job poll with `job` and the project's list with `previews`. */
  const jobAndList = (job: () => Record<string, unknown>, previews: () => Record<string, unknown>[]): Handler => (req) =>
    req.path.startsWith("/v1/jobs/") ? { body: { job: job() } } : { body: { preview_databases: previews() } };
  const target = { projectId: "prj_1", previewId: "pvw_1", goal: "ready" as const };

  for (const state of ["cancelled", "canceled", "error", "aborted"]) {
    it(`a job that ends "${state}" (completed_at set) fails at the first poll that shows it, with the state and the server's reason`, async () => {
      const job = () => apiJob({ state, completed_at: "2026-11-27T12:00:10Z", error: `job was ${state} by the scheduler` });
      await withWait(jobAndList(job, () => [apiPreview({ state: "provisioning" })]), async (ctx, requests) => {
        const error = await waitForJob(ctx, "job_1", ctx.clock.now() + 20 * 60_000, "create pr-42", target).then(() => undefined, (e) => e);
        assert.ok(error instanceof JobFailedError, String(error));
        assert.match(error.message, new RegExp(`ended in state "${state}".*its preview is "provisioning": job was ${state} by the scheduler`));
        assert.equal(requests.filter((r) => r.path.startsWith("/v1/jobs/")).length, 1, "one poll");
        assert.deepEqual(ctx.clock.sleeps, []);
      });
    });
  }

  it("a job in an unknown state without completed_at ends when its preview is final, naming the preview's last_error", async () => {
    const job = () => apiJob({ state: "paused" });
    let listed = "provisioning";
    await withWait(jobAndList(job, () => [apiPreview({ state: listed, last_error: "quota exceeded" })]), async (ctx, requests) => {
      setTimeout(() => (listed = "suspended"), 0);
      const error = await waitForJob(ctx, "job_1", ctx.clock.now() + 20 * 60_000, "create pr-42", target).then(() => undefined, (e) => e);
      assert.ok(error instanceof JobFailedError, String(error));
      assert.match(error.message, /ended in state "paused".*its preview is "suspended": quota exceeded/);
      assert.ok(requests.length <= 6, `${requests.length} requests`);
    });
  });

  it("a job that ends succeeded with its preview ready is taken as success, and says so", async () => {
    const job = () => apiJob({ state: "succeeded", completed_at: "2026-11-27T12:00:10Z" });
    await withWait(jobAndList(job, () => [apiPreview({ state: "ready" })]), async (ctx) => {
      const done = await waitForJob(ctx, "job_1", ctx.clock.now() + 60_000, "create pr-42", target);
      assert.equal(done.state, "succeeded");
      assert.ok(ctx.lines.some((l) => l.includes('job job_1 ended "succeeded" (not "completed"); taken as success since its preview is ready')), ctx.lines.join("\n"));
    });
  });

  for (const state of ["expired", "error", "suspended", "failed"]) {
    it(`the ready wait ends at once on a preview "${state}", naming the state and its last_error`, async () => {
      await withWait(() => ({ body: { preview_databases: [apiPreview({ state, last_error: `it is ${state}` })] } }), async (ctx, requests) => {
        const error = await waitForPreviewReady(ctx, "prj_1", "pvw_1", ctx.clock.now() + 20 * 60_000, "update pr-42").then(() => undefined, (e) => e);
        assert.ok(error instanceof PreviewStateError, String(error));
        assert.match(error.message, new RegExp(`preview pvw_1 is "${state}", a state it will not leave by waiting: it is ${state}`));
        assert.equal(requests.length, 1);
      });
    });
  }

  it("the ready wait goes on through the working states", async () => {
    const states = ["provisioning", "resetting", "ready"];
    await withWait((_req, i) => ({ body: { preview_databases: [apiPreview({ state: states[i] })] } }), async (ctx) => {
      assert.equal((await waitForPreviewReady(ctx, "prj_1", "pvw_1", ctx.clock.now() + 60_000, "x"))?.state, "ready");
    });
  });
});
