import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { CapyDBError } from "../../provider/errors";
import { RequestBudget, RequestPolicy } from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { IndependentBackoff, LimitIsFinal } from "../bench/unshared-requests";
import { FakeClock } from "../helpers/fake-clock";
import { Clock } from "../../provider/clock";
import { apiJob, apiPreview, TEST_API_KEY } from "../helpers/fixtures";
import { Handler, startScriptedServer } from "../helpers/scripted-server";

type Server = Awaited<ReturnType<typeof startScriptedServer>>;

/** Sleeps end only when the test moves time on: what is waiting, and what is not, can be seen. */
class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  private time = Date.UTC(2026, 10, 27, 12, 0, 0);
  private timers: { at: number; wake: () => void }[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((wake) => this.timers.push({ at: this.time + ms, wake }));
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.wake();
  }
}

/** Two clients of one process (as two operations would be), both under `policy(clock)`. */
async function withClients<C extends Clock>(
  handler: Handler,
  clock: C,
  policy: (clock: C) => RequestPolicy,
  run: (clients: [CapyDBClient, CapyDBClient], server: Server, clock: C) => Promise<void>,
) {
  const server = await startScriptedServer(handler);
  const budget = policy(clock);
  const client = () => new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock, random: () => 0.5, budget });
  try {
    await run([client(), client()], server, clock);
  } finally {
    await server.close();
  }
}

/** Real time for loopback requests to land; fails rather than hangs. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > giveUpAt) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rejection(promise: Promise<unknown>): Promise<CapyDBError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CapyDBError, `expected CapyDBError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

const limited = (retryAfter?: string) => ({ status: 429, body: { error: "rate limit exceeded" }, headers: retryAfter === undefined ? undefined : { "retry-after": retryAfter } });

/** The first request is refused with Retry-After: 7; everything after it succeeds. */
const firstRefused: Handler = (req, i) => (i === 0 ? limited("7") : req.path.startsWith("/v1/jobs/") ? { body: { job: apiJob() } } : { body: { preview: apiPreview() } });

/** Starts a call that is refused with Retry-After: 7, then another call from a second client. */
async function refusedThenAnother(clients: [CapyDBClient, CapyDBClient], server: Server, clock: ManualClock) {
  const [a, b] = clients;
  const refused = a.extendPreview("pvw_1", 48);
  await until(() => server.requests.length === 1 && clock.sleeps.length === 1, "the first request refused and a wait begun");
  let otherDone = false;
  const other = b.getJob("job_1").then((job) => {
    otherDone = true;
    return job;
  });
  return { refused, other, otherDone: () => otherDone };
}

describe("request policies of clients that share nothing (0.1.0, the Go transport)", () => {
  describe("IndependentBackoff (0.1.0: each call backs off on its own)", () => {
    const independent = (clock: Clock) => new IndependentBackoff({ clock, random: () => 0.5 });

    it("makes only the call that got the 429 wait: another caller's request goes at once", async () => {
      await withClients(firstRefused, new ManualClock(), independent, async (clients, server, clock) => {
        const { refused, otherDone } = await refusedThenAnother(clients, server, clock);
        await until(otherDone, "the other call done while the refused one waits"); // no time passes: nothing holds it back
        assert.deepEqual(server.requests.map((r) => r.method), ["POST", "GET"]);
        assert.deepEqual(clock.sleeps, [7000], "the refused call's own wait: the server's 7 s as given (no jitter, no floor)");
        clock.advance(7000);
        await refused;
        assert.deepEqual(server.requests.map((r) => r.method), ["POST", "GET", "POST"]);
      });
    });

    it("is what the shared budget does differently: there, the other caller waits out the pause too (control)", async () => {
      const shared = (clock: Clock) => new RequestBudget({ clock, random: () => 0, parseRetryAfter });
      await withClients(firstRefused, new ManualClock(), shared, async (clients, server, clock) => {
        const { refused, other, otherDone } = await refusedThenAnother(clients, server, clock);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(otherDone(), false, "the other call waits for the shared pause");
        assert.equal(server.requests.length, 1);
        const both = Promise.all([refused, other]);
        // The pause, then the pace the budget set after the 429: both calls go within a few seconds.
        for (let s = 0; s < 10 && server.requests.length < 3; s++) {
          clock.advance(1000);
          await until(() => clock.pending > 0 || server.requests.length === 3, "the budget waiting or done");
        }
        await both;
        assert.equal(server.requests.length, 3);
      });
    });

    it("without Retry-After backs off 1 s, 2 s, 4 s … per call, jittered, until the deadline", async () => {
      await withClients(() => limited(), new FakeClock(), independent, async ([a], server, clock) => {
        const error = await rejection(a.listPreviews("prj_1", { deadline: clock.now() + 20_000 }));
        assert.equal(error.status, 429);
        // random() = 0.5 → 3/4 of 1 s, 2 s, 4 s, 8 s; the next (12 s) would cross the deadline.
        assert.deepEqual(clock.sleeps, [750, 1500, 3000, 6000]);
        assert.equal(server.requests.length, 5);
        assert.match(error.message, /rate limit exceeded/);
      });
    });

    it("caps Retry-After at 60 s and honours 0 as given", async () => {
      await withClients((_req, i) => (i === 0 ? limited("600") : i === 1 ? limited("0") : { body: { job: apiJob() } }), new FakeClock(), independent, async ([a], server, clock) => {
        await a.getJob("job_1");
        assert.equal(server.requests.length, 3);
        assert.deepEqual(clock.sleeps, [60_000], "600 s capped to 60 s, then 0 s: sent again at once");
      });
    });

    it("retries a GET after a 5xx at +1 s and +3 s, unjittered", async () => {
      await withClients(() => ({ status: 503, body: { error: "upstream busy" } }), new FakeClock(), (clock) => new IndependentBackoff({ clock, random: () => 0.9 }), async ([a], server, clock) => {
        const error = await rejection(a.getJob("job_1"));
        assert.equal(error.status, 503);
        assert.equal(server.requests.length, 3);
        assert.deepEqual(clock.sleeps, [1000, 2000]);
      });
    });
  });

  for (const [name, policy] of [
    ["IndependentBackoff", (clock: Clock) => new IndependentBackoff({ clock })],
    ["LimitIsFinal", () => new LimitIsFinal()],
  ] as const) {
    it(`${name} paces nothing: 12 requests at once all go without waiting`, async () => {
      await withClients(() => ({ body: { job: apiJob() } }), new ManualClock(), policy, async ([a, b], server, clock) => {
        await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).getJob(`job_${i}`)));
        assert.equal(server.requests.length, 12);
        assert.deepEqual(clock.sleeps, []);
      });
    });
  }

  it("where the shared budget lets 10 go at once and holds back the 11th (control)", async () => {
    const shared = (clock: Clock) => new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    await withClients(() => ({ body: { job: apiJob() } }), new ManualClock(), shared, async ([a, b], server, clock) => {
      const all = Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).getJob(`job_${i}`)));
      await until(() => server.requests.length === 10 && clock.pending > 0, "10 sent, the rest waiting for the pace");
      clock.advance(100);
      await until(() => server.requests.length === 11 && clock.pending > 0, "the 11th sent 100 ms later");
      clock.advance(100);
      await all;
      assert.equal(server.requests.length, 12);
    });
  });

  describe("LimitIsFinal (the CapyDB CLI and Terraform provider's Go transport)", () => {
    const final = () => new LimitIsFinal();

    for (const [method, call] of [
      ["POST", (c: CapyDBClient) => c.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 24 })],
      ["GET", (c: CapyDBClient) => c.getJob("job_1")],
    ] as const) {
      it(`fails a ${method} with the 429 at once: one request, no wait, even with Retry-After`, async () => {
        await withClients(() => limited("1"), new FakeClock(), final, async ([a], server, clock) => {
          const error = await rejection(call(a));
          assert.equal(server.requests.length, 1);
          assert.deepEqual(clock.sleeps, []);
          assert.equal(error.status, 429);
          assert.equal(error.method, method);
          assert.match(error.message, /HTTP 429: rate limit exceeded/);
        });
      });
    }

    it("still retries a GET after a 5xx at +1 s and +3 s, unjittered", async () => {
      const answers: Handler = (_req, i) => (i < 2 ? { status: 502, body: { error: "bad gateway" } } : { body: { job: apiJob() } });
      await withClients(answers, new FakeClock(), final, async ([a], server, clock) => {
        const job = await a.getJob("job_1");
        assert.equal(job.id, apiJob().id);
        assert.equal(server.requests.length, 3);
        assert.deepEqual(clock.sleeps, [1000, 2000]);
      });
    });
  });
});
