import { strict as assert } from "assert";
import { EARLY_GAP_MS } from "../../provider/poll-schedule";
import { modelRun, modelSummary } from "../bench/shared-key-model";

/**
 * The virtual-time model behind BENCHMARKS.md's "what any client can reach" table (issue 16): its
 * fair-share oracle must pace as it says, or the bound it gives the targets means nothing.
 */
describe("the shared-key model's fair-share oracle", function () {
  this.timeout(60_000);
  const base = { rate: 10, jobMs: 5_000, latencyMs: 20 };

  it("alone, a process is paced at the whole key: no 429, its job seen within one poll gap, and its pacing", async () => {
    for (const seed of [1, 2, 3]) {
      const run = await modelRun({ ...base, processes: 1, seed, pacing: "oracle" });
      assert.equal(run.create.limited + run.delete.limited, 0);
      // The floor counts the job and five round trips; the poll schedule sees the end within one gap of it,
      // and the oracle spaces requests 1/9 s apart (0.9 × 10/s) from a random phase: at most five such waits.
      const bound = run.create.floorMs + EARLY_GAP_MS + 5 * (1000 / 9) + base.latencyMs;
      assert.ok(run.create.wallMs <= bound, `seed ${seed}: create ${run.create.wallMs} ms, bound ${bound} ms`);
    }
  });

  it("with 20 processes, keeps the key's windows from overflowing far more than the request budget does", async () => {
    const [oracle, budget] = await Promise.all([
      modelSummary("oracle", { ...base, processes: 20, pacing: "oracle" }, 10),
      modelSummary("budget", { ...base, processes: 20 }, 10),
    ]);
    assert.ok(oracle.phases.create.limitedShare < budget.phases.create.limitedShare / 2,
      `oracle ${oracle.phases.create.limitedShare}, budget ${budget.phases.create.limitedShare}`);
    assert.ok(oracle.phases.create.wallOverFloor < budget.phases.create.wallOverFloor);
  });

  it("shows what reading the project before the POST costs 20 runners' creates, even paced perfectly", async () => {
    const [during, before] = await Promise.all([
      modelSummary("during", { ...base, processes: 20, pacing: "oracle" }, 10),
      modelSummary("before", { ...base, processes: 20, pacing: "oracle", projectFirst: true }, 10),
    ]);
    assert.ok(before.phases.create.wallOverFloor - during.phases.create.wallOverFloor >= 0.1,
      `before ${before.phases.create.wallOverFloor}, during ${during.phases.create.wallOverFloor}`);
  });
});
