import { strict as assert } from "assert";
import {
  limitedPauseMs,
  MIN_RETRY_WAIT_MS,
  RequestBudget,
  RequestPriority,
  SPECULATIVE_GAP_INTERVALS,
  UNPROVEN_RATE_PER_S,
} from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { VirtualClock } from "../helpers/virtual-clock";

/**
 * The request budget's rules for a key that other processes use too (issue 16: many CI runners on one
 * key, each with its own budget). Values of the schedule on a virtual clock, never elapsed time.
 */

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

const deadline = (clock: VirtualClock) => clock.now() + 600_000;

describe("pacing under a key shared with other processes", () => {
  it("draws the pause after 429s in a row from a growing range: [R, R + ¼ s] twice, then [R, 2R]", () => {
    const top = () => 0.999999;
    assert.equal(limitedPauseMs(1000, 1, top), 1250, "the first 429: the server's wait and a small jitter");
    assert.equal(limitedPauseMs(1000, 2, top), 1250, "the second too");
    assert.equal(limitedPauseMs(1000, 3, top), 2000);
    assert.equal(limitedPauseMs(1000, 12, top), 2000, "capped");
    assert.equal(limitedPauseMs(7000, 3, () => 0.5), 10_500, "scaled by the server's wait");
    for (let n = 1; n <= 8; n++) {
      for (const r of [0, 0.3, 0.999]) {
        assert.ok(limitedPauseMs(1000, n, () => r) >= 1000, `never before Retry-After (n = ${n}, random ${r})`);
        assert.ok(limitedPauseMs(0, n, () => r) >= MIN_RETRY_WAIT_MS, "never under the floor, even for Retry-After: 0");
      }
    }
    const spread = new Set(Array.from({ length: 20 }, (_, i) => Math.floor(limitedPauseMs(1000, 3, seeded(i + 1)) / 50)));
    assert.ok(spread.size >= 10, `20 processes after a third 429 come back in ${spread.size} different 50 ms slots`);
  });

  it("sends nothing before Retry-After, waits longer while 429s come in a row, and starts over after an answer", async () => {
    const clock = new VirtualClock();
    const budget = new RequestBudget({ clock, random: () => 0.999999, parseRetryAfter });
    const sentAt: number[] = [];
    const limitedAt: number[] = [];
    // The server refuses the 1st-4th and the 6th request with Retry-After: 1.
    const refused = new Set([0, 1, 2, 3, 5]);
    const work = (async () => {
      for (let i = 0; i < 7; i++) {
        const slot = await budget.acquire({ priority: "progress", deadline: deadline(clock) });
        sentAt.push(clock.now());
        await clock.sleep(20);
        if (refused.has(i)) {
          limitedAt.push(clock.now());
          slot!.answered(429, "1");
        } else slot!.answered(200);
      }
    })();
    await clock.run(work);
    const waits = [1, 2, 3, 4, 6].map((i, k) => sentAt[i] - limitedAt[k]);
    assert.deepEqual(waits, [1250, 1250, 2000, 2000, 1250], "pauses after the 1st-4th 429 in a row, then after one following an answer");
    assert.ok(waits.every((w) => w >= 1000), "never before Retry-After");
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
