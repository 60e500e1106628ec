import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { CapyDBError } from "../../provider/errors";
import { RequestBudget } from "../../provider/request-budget";
import { FakeClock } from "../helpers/fake-clock";
import { apiJob, TEST_API_KEY } from "../helpers/fixtures";
import { Handler, startScriptedServer } from "../helpers/scripted-server";

/** A server on the fake clock: each request is stamped with the clock's time when it arrived. */
async function withServer(handler: Handler, run: (client: CapyDBClient, arrivals: Array<{ method: string; at: number }>, clock: FakeClock) => Promise<void>) {
  const clock = new FakeClock();
  const arrivals: Array<{ method: string; at: number }> = [];
  const server = await startScriptedServer((req, i) => {
    arrivals.push({ method: req.method, at: clock.now() });
    return handler(req, i);
  });
  try {
    await run(new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock, random: () => 0.5 }), arrivals, clock);
  } finally {
    await server.close();
  }
}

const maintenance = { status: 503, body: { error: "down for maintenance" }, headers: { "retry-after": "20" } };

describe("503 with Retry-After: unavailable for a while, not applied (issue 14.6)", () => {
  it("a DELETE waits out Retry-After and is sent again within its deadline, instead of giving up", async () => {
    await withServer((_req, i) => (i < 2 ? maintenance : { status: 202, body: { job: apiJob({ type: "branch.delete" }) } }), async (client, arrivals, clock) => {
      const start = clock.now();
      const job = await client.deletePreview("pvw_1", { deadline: start + 10 * 60_000 });
      assert.equal(job?.type, "branch.delete");
      assert.deepEqual(arrivals.map((a) => a.method), ["DELETE", "DELETE", "DELETE"]);
      // random() = 0.5: 20 s plus half of a fifth of it.
      assert.deepEqual(clock.sleeps, [22_000, 22_000]);
      assert.deepEqual(arrivals.map((a) => a.at - start), [0, 22_000, 44_000]);
    });
  });

  it("every request of the key pauses during the window, not only the one that was answered 503", async () => {
    await withServer((_req, i) => (i === 0 ? maintenance : { body: { job: apiJob({ state: "running" }) } }), async (client, arrivals, clock) => {
      const start = clock.now();
      await assert.rejects(client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 1 }, { deadline: start + 1_000 }), (e: CapyDBError) => {
        // The window ends after the deadline: not sent again, and the error says it was not applied.
        assert.equal(e.status, 503);
        assert.equal(e.maybeApplied, false);
        assert.match(e.message, /come back in 20s/);
        return true;
      });
      await client.getJob("job_1");
      assert.ok(arrivals[1].at - start >= 20_000, `the GET went at +${arrivals[1].at - start} ms, inside the window`);
    });
  });

  it("the pause does not slow the key's pacing down, as a 429 does", async () => {
    for (const status of [503, 429]) {
      await withServer((_req, i) => (i === 0 ? { ...maintenance, status } : { body: { job: apiJob() } }), async (client) => {
        const budget = client.budget as RequestBudget;
        const before = budget.ratePerSecond;
        await client.getJob("job_1");
        if (status === 503) assert.ok(budget.ratePerSecond >= before, `503: pacing not lowered (${before} → ${budget.ratePerSecond})`);
        else assert.ok(budget.ratePerSecond < before, "429: pacing lowered (the control)");
      });
    }
  });

  it("an HTTP-date Retry-After is honoured too", async () => {
    await withServer((_req, i) => (i === 0 ? { ...maintenance, headers: { "retry-after": new Date(Date.UTC(2026, 10, 27, 12, 0, 8)).toUTCString() } } : { body: { job: apiJob() } }), async (client, _arrivals, clock) => {
      await client.getJob("job_1");
      // 8 s from the fake clock's start, floored and jittered: 8 s + 0.5 × 1.6 s.
      assert.deepEqual(clock.sleeps, [8_800]);
    });
  });

  it("a 503 without Retry-After is still a 5xx that may have been applied: a POST is not resent", async () => {
    await withServer(() => ({ status: 503, body: { error: "busy" } }), async (client, arrivals) => {
      const error = await client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 1 }).then(() => assert.fail("expected a 503"), (e: CapyDBError) => e);
      assert.equal(error.maybeApplied, true);
      assert.equal(arrivals.length, 1);
    });
  });
});
