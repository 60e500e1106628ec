import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { CapyDBError } from "../../provider/errors";
import { createLogger } from "../../provider/log";
import { JobFailedError, nextPollDelay, waitForConnections, waitForJob, waitForPreview, WaitTimeoutError } from "../../provider/wait";
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
  it("polls at once, then on a growing schedule capped at 2 s for a minute, 10 s after", () => {
    const delays: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 6; i++) delays.push((d = nextPollDelay(d, 1_000)));
    assert.deepEqual(delays, [500, 750, 1125, 1688, 2000, 2000]);
    const late: number[] = [];
    for (let i = 0; i < 5; i++) late.push((d = nextPollDelay(d, 61_000)));
    assert.deepEqual(late, [3000, 4500, 6750, 10000, 10000]);
  });

  it("treats unknown states as still running and returns the completed job", async () => {
    const states = ["pending", "queued", "running", "something-new", "completed"];
    await withWait((_req, i) => ({ body: { job: apiJob({ state: states[i] }) } }), async (ctx, requests) => {
      const job = await waitForJob(ctx, "job_1", ctx.clock.now() + 60_000, "create pr-42");
      assert.equal(job.state, "completed");
      assert.equal(requests.length, 5);
      assert.deepEqual(ctx.clock.sleeps, [500, 750, 1125, 1688]);
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
