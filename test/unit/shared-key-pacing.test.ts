import { strict as assert } from "assert";
import { RequestBudget, RequestPriority, serverWaitMs, SPECULATIVE_GAP_INTERVALS, UNPROVEN_RATE_PER_S } from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { VirtualClock } from "../helpers/virtual-clock";

/**
 * The request budget's rules for a key that other processes use too (issue 16: many CI runners on one
 * key, each with its own budget). Values of the schedule on a virtual clock, never elapsed time.
 */

const deadline = (clock: VirtualClock) => clock.now() + 600_000;

describe("pacing under a key shared with other processes", () => {
  it("sends nothing before Retry-After, however many 429s come in a row", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const sentAt: number[] = [];
    const limitedAt: number[] = [];
    // The server refuses the 1st-4th and the 6th request, with Retry-After: 1 and then 2.
    const refused = new Map([[0, "1"], [1, "1"], [2, "2"], [3, "1"], [5, "1"]]);
    const work = (async () => {
      for (let i = 0; i < 7; i++) {
        const slot = await budget.acquire({ priority: "progress", deadline: deadline(clock) });
        sentAt.push(clock.now());
        await clock.sleep(20);
        const retryAfter = refused.get(i);
        if (retryAfter !== undefined) {
          limitedAt.push(clock.now());
          slot!.answered(429, retryAfter);
        } else slot!.answered(200);
      }
    })();
    await clock.run(work);
    const waits = [1, 2, 3, 4, 6].map((i, k) => sentAt[i] - limitedAt[k]);
    assert.deepEqual(waits, [1000, 1000, 2000, 1000, 1000], "exactly Retry-After with random() = 0, never earlier");
    assert.equal(serverWaitMs(1000, () => 0.999999), 1250, "up to a quarter second later, so that processes refused together spread out");
  });

  it("after a 429 when nothing of its own got through, starts again from 1 request/s, not half the starting rate", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const slot = await clock.run(budget.acquire({ priority: "progress", deadline: deadline(clock) }));
    slot!.answered(429, "1");
    assert.equal(budget.ratePerSecond, UNPROVEN_RATE_PER_S);
    assert.equal(UNPROVEN_RATE_PER_S, 1);
  });

  it("under a known limit, a speculative poll waits 1.5 intervals since the last request; calls that move work forward wait one", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const start = clock.now();
    const first = await clock.run(budget.acquire({ priority: "progress", deadline: deadline(clock) }));
    first!.answered(429, "1"); // nothing got through: 1 request/s, everyone paused for 1 s
    const grantedAt: number[] = [];
    const rateAfter: number[] = [];
    const ask = async (priority: RequestPriority) => {
      const slot = await budget.acquire({ priority, deadline: deadline(clock) });
      grantedAt.push(clock.now() - start);
      slot!.answered(200);
      rateAfter.push(budget.ratePerSecond);
    };
    await clock.run(ask("progress")); // at the end of the pause
    await clock.run(ask("speculative"));
    await clock.run(ask("progress"));
    assert.equal(grantedAt[0], 1000);
    assert.ok(rateAfter[0] >= 1 && rateAfter[0] < 1.1, `about 1 request/s (${rateAfter[0]})`);
    assert.equal(grantedAt[1] - grantedAt[0], Math.round((SPECULATIVE_GAP_INTERVALS * 1000) / rateAfter[0]), "the poll: 1.5 intervals");
    assert.ok(Math.abs(grantedAt[2] - grantedAt[1] - 1000 / rateAfter[1]) <= 1, `the next call: one interval (${grantedAt[2] - grantedAt[1]} ms)`);
  });

  it("before any 429, speculative polls are paced like everything else", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const start = clock.now();
    const grantedAt: number[] = [];
    for (const priority of ["progress", "speculative", "speculative"] as const) {
      const slot = await clock.run(budget.acquire({ priority, deadline: deadline(clock) }));
      grantedAt.push(clock.now() - start);
      slot!.answered(200);
    }
    assert.deepEqual(grantedAt, [0, 0, 0]);
  });

  it("recovers its rate once 429s stop: additive increase while work waits for slots", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0, parseRetryAfter });
    const first = await clock.run(budget.acquire({ priority: "progress", deadline: deadline(clock) }));
    first!.answered(429, "1");
    const after429 = budget.ratePerSecond;
    const rates: number[] = [];
    // Ten callers with work queued for 60 s of virtual time, every answer a success.
    const end = clock.now() + 60_000;
    const caller = async () => {
      while (clock.now() < end) {
        const slot = await budget.acquire({ priority: "progress", deadline: deadline(clock) });
        await clock.sleep(20);
        slot!.answered(200);
        rates.push(budget.ratePerSecond);
      }
    };
    await clock.run(Promise.all(Array.from({ length: 10 }, caller)));
    assert.ok(rates.every((r, i) => i === 0 || r >= rates[i - 1]), "never decreases without a 429");
    assert.ok(rates[rates.length - 1] >= after429 + 2, `from ${after429}/s to ${rates[rates.length - 1].toFixed(2)}/s in 60 s`);
    assert.ok(rates[rates.length - 1] <= after429 + 4, "slowly: about 0.05 requests/s more per second");
  });
});
