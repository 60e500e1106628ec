import { strict as assert } from "assert";
import {
  budgetFor,
  MIN_RETRY_WAIT_MS,
  RequestBudget,
  RequestPriority,
  serverWaitMs,
} from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { VirtualClock } from "../helpers/virtual-clock";
import { seeded } from "../helpers/seeded-random";

/** A fixed-window limiter like the local control plane's: `limit` requests per second, then 429. */
function fixedWindow(clock: VirtualClock, limit: number) {
  let start = -Infinity;
  let used = 0;
  return (): boolean => {
    if (clock.now() - start >= 1000) {
      start = clock.now();
      used = 0;
    }
    return used++ < limit;
  };
}

/**
 * `workers` callers each make `calls` requests one after another through one budget, against a server
 * allowing 10 per second. A 429 is retried after the budget's pause, as the client does.
 */
async function crowd(opts: { workers: number; calls: number; retryAfter?: string; budget?: (clock: VirtualClock) => RequestBudget }) {
  const clock = new VirtualClock();
  const budget = opts.budget?.(clock) ?? new RequestBudget({ clock, random: seeded(7), parseRetryAfter });
  const allowed = fixedWindow(clock, 10);
  let sent = 0;
  let limited = 0;
  const start = clock.now();
  const worker = async () => {
    for (let i = 0; i < opts.calls; i++) {
      for (;;) {
        const slot = await budget.acquire({ priority: "progress", deadline: clock.now() + 600_000 });
        assert.ok(slot, "a slot before the deadline");
        sent++;
        const ok = allowed();
        await clock.sleep(5); // the server's answer takes a moment
        slot.answered(ok ? 200 : 429, ok ? undefined : opts.retryAfter);
        if (ok) break;
        limited++;
      }
    }
  };
  await clock.run(Promise.all(Array.from({ length: opts.workers }, worker)));
  // Virtual time on the VirtualClock (seeded jitter): a value of the schedule, not a measurement.
  return { sent, limited, virtualMs: clock.now() - start, budget };
}

describe("request budget", () => {
  for (const retryAfter of [undefined, "1"]) {
    it(`lets 50 callers share a 10 requests/s limit: few 429s, close to the floor (Retry-After ${retryAfter ?? "absent"})`, async () => {
      const { sent, limited, virtualMs } = await crowd({ workers: 50, calls: 4, retryAfter });
      const floorMs = ((50 * 4) / 10) * 1000;
      assert.ok(limited <= sent * 0.1, `${limited} of ${sent} requests answered 429`);
      assert.ok(virtualMs <= floorMs * 1.25, `the schedule ends after ${virtualMs} ms of virtual time, the limit allows ${floorMs}`);
    });
  }

  it("is what makes the difference: callers backing off on their own collide (control for the test above)", async () => {
    // Each worker with its own budget behaves like the 0.1.0 client: no pacing shared with anyone.
    const clock = new VirtualClock();
    const allowed = fixedWindow(clock, 10);
    let sent = 0;
    let limited = 0;
    const worker = async (n: number) => {
      const own = new RequestBudget({ clock, random: seeded(n + 1), parseRetryAfter });
      for (let i = 0; i < 4; i++) {
        for (;;) {
          const slot = await own.acquire({ priority: "progress", deadline: clock.now() + 600_000 });
          sent++;
          const ok = allowed();
          await clock.sleep(5);
          slot!.answered(ok ? 200 : 429, ok ? undefined : "1");
          if (ok) break;
          limited++;
        }
      }
    };
    await clock.run(Promise.all(Array.from({ length: 50 }, (_, n) => worker(n))));
    assert.ok(limited > sent * 0.3, `${limited} of ${sent}: unshared budgets should collide`);
  });

  it("before any 429, lets 10 requests go at once, then paces at 10 per second", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const start = clock.now();
    const grantedAt: number[] = [];
    const all = Promise.all(
      Array.from({ length: 12 }, () =>
        budget.acquire({ priority: "speculative", deadline: start + 60_000 }).then((slot) => {
          grantedAt.push(clock.now() - start);
          slot!.answered(200);
        }),
      ),
    );
    await clock.run(all);
    assert.deepEqual(grantedAt, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200]);
  });

  it("never retries sooner than the floor, even when the server says Retry-After: 0", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const sentAt: number[] = [];
    const work = (async () => {
      for (;;) {
        const slot = await budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 });
        sentAt.push(clock.now());
        const ok = clock.now() - sentAt[0] >= 5_000;
        slot!.answered(ok ? 200 : 429, "0");
        if (ok) return;
      }
    })();
    await clock.run(work);
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]);
    assert.ok(gaps.every((g) => g >= MIN_RETRY_WAIT_MS), `gaps ${gaps}`);
    assert.ok(sentAt.length <= 5_000 / MIN_RETRY_WAIT_MS + 2, `${sentAt.length} requests in 5 s`);
  });

  it("adds jitter to server-given waits, never waiting less than asked", () => {
    assert.equal(serverWaitMs(1000, () => 0), 1000);
    assert.equal(serverWaitMs(1000, () => 0.999999), 1250);
    assert.equal(serverWaitMs(10_000, () => 0.5), 11_000);
    assert.equal(serverWaitMs(0, () => 0), MIN_RETRY_WAIT_MS);
    const spread = new Set(Array.from({ length: 20 }, (_, i) => serverWaitMs(1000, seeded(i + 1))));
    assert.ok(spread.size > 10, "different callers wait different times");
  });

  it("pauses everyone after a 429 and sets the rate just under what got through", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    // 10 answered in the last second, then a 429 with Retry-After: 2.
    const slots = [];
    for (let i = 0; i < 11; i++) {
      slots.push(await clock.run(budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 })));
    }
    for (const slot of slots.slice(0, 10)) slot!.answered(200);
    const limitedAt = clock.now();
    slots[10]!.answered(429, "2");
    assert.ok(Math.abs(budget.ratePerSecond - 9) < 1e-9, `rate ${budget.ratePerSecond}`);
    assert.equal(budget.resumesAt, limitedAt + 2000);
    await clock.run(budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 }));
    assert.equal(clock.now(), limitedAt + 2000, "the next request waits for the pause");
  });

  it("serves calls that move work forward before speculative polls", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const first = await clock.run(budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 }));
    first!.answered(429, "1"); // everyone waits a second; the queue builds up meanwhile
    const order: string[] = [];
    const ask = (name: string, priority: RequestPriority) =>
      budget.acquire({ priority, deadline: clock.now() + 60_000 }).then((slot) => {
        order.push(name);
        slot!.answered(200);
      });
    const all = Promise.all([ask("poll-1", "speculative"), ask("poll-2", "speculative"), ask("create", "progress"), ask("poll-3", "speculative"), ask("list", "progress")]);
    await clock.run(all);
    assert.deepEqual(order, ["create", "list", "poll-1", "poll-2", "poll-3"]);
  });

  it("orders waiting requests: progress, then shareable reads, then speculative polls, the oldest work first", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const first = await clock.run(budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 }));
    first!.answered(429, "1");
    const order: string[] = [];
    const ask = (name: string, priority: RequestPriority, since?: number) =>
      budget.acquire({ priority, since, deadline: clock.now() + 60_000 }).then((slot) => {
        order.push(name);
        slot!.answered(200);
      });
    const t = clock.now();
    const all = Promise.all([
      ask("poll of a job started late", "speculative", t - 1_000),
      ask("list", "shareable"),
      ask("poll of a job started early", "speculative", t - 9_000),
      ask("connections", "progress"),
    ]);
    await clock.run(all);
    assert.deepEqual(order, ["connections", "list", "poll of a job started early", "poll of a job started late"]);
  });

  it("re-asks a waiting request how urgent it is: a poll that became due goes before one still early", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const first = await clock.run(budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 }));
    first!.answered(429, "2");
    const dueAt = clock.now() + 1_000; // while both wait out the pause, this job reaches its expected end
    const order: string[] = [];
    const ask = (name: string, ticket: Parameters<RequestBudget["acquire"]>[0]) =>
      budget.acquire(ticket).then((slot) => {
        order.push(name);
        slot!.answered(200);
      });
    const all = Promise.all([
      ask("early", { priority: "speculative", deadline: clock.now() + 60_000 }),
      ask("due", { priority: "speculative", deadline: clock.now() + 60_000, priorityNow: () => (clock.now() >= dueAt ? "progress" : "speculative") }),
    ]);
    await clock.run(all);
    assert.deepEqual(order, ["due", "early"]);
  });

  it("does not send a request whose slot would come after its deadline", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const slot = await clock.run(budget.acquire({ priority: "progress", deadline: clock.now() + 60_000 }));
    slot!.answered(429, "30");
    const start = clock.now();
    const late = await clock.run(budget.acquire({ priority: "progress", deadline: start + 10_000 }));
    assert.equal(late, undefined);
    assert.equal(clock.now(), start, "refused at once, not after waiting");
  });

  it("is one budget per API key and URL in the process", () => {
    const clock = new VirtualClock();
    const options = { parseRetryAfter };
    const a = budgetFor(clock, "https://capydb.dev/api/capydb", "capy_live_a", options);
    assert.equal(budgetFor(clock, "https://capydb.dev/api/capydb", "capy_live_a", options), a);
    assert.notEqual(budgetFor(clock, "https://capydb.dev/api/capydb", "capy_live_b", options), a);
    assert.notEqual(budgetFor(clock, "http://127.0.0.1:8765", "capy_live_a", options), a);
  });
});
