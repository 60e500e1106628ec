import { LearningSchedule, JobDurations, PollPlan } from "../../provider/poll-schedule";
import { RequestBudget, RequestPriority, RequestSlot, RequestTicket, serverWaitMs } from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { VirtualClock } from "../helpers/virtual-clock";
import { seeded } from "../helpers/seeded-random";

/**
 * A virtual-time model of many-runners.ts, for choosing the request budget's rules for a shared key
 * (issue 16): N processes, each with its own RequestBudget and poll schedule (nothing shared, nothing
 * learned), one fixed window of `rate` requests per second like the local control plane's (a 429 does
 * not count, Retry-After: 1), `latencyMs` per request. Each process creates one preview (the key's
 * scopes, the POST, the project read during the job, job polls, the URLs), then deletes it (DELETE, job polls), in the
 * same process as the benchmark does. Seeded: a run of seconds on the real clock takes milliseconds,
 * so rules can be compared over many seeds where the real benchmark, on a loaded machine, gives one
 * noisy run at a time. It models the client's loop (acquire, send, report, retry a 429), not the
 * provider's code: the real benchmark stays the judge.
 *
 * Besides the provider's RequestBudget it runs a fair-share oracle (FairShareOracle below): a pacer told
 * at every moment how many processes are still working, which no client can know. What the oracle
 * cannot reach with these calls, no rule of the budget can either: it bounds what issue 16's targets
 * ask of a client that shares a key with processes it cannot see.
 *
 *   npm run build && node dist/test/bench/shared-key-model.js [processes] [seeds]
 */
export interface ModelSettings {
  processes: number;
  rate: number;
  jobMs: number;
  latencyMs: number;
  seed: number;
  /** "budget" (default): the provider's RequestBudget per process; "oracle": FairShareOracle. */
  pacing?: "budget" | "oracle";
  /** The create flow before issue 16's last change: the project read before the POST, not during the job. */
  projectFirst?: boolean;
}

/** What the model's processes ask of their pacer: the provider's RequestBudget has this shape. */
interface Pacer {
  acquire(ticket: RequestTicket): Promise<RequestSlot | undefined>;
}

/** The share of the key the oracle paces the processes at: a little headroom, so that windows rarely overflow. */
export const ORACLE_UTILISATION = 0.9;

/**
 * A pacer no client can be: it knows how many processes are working at every moment, and sends at exactly
 * its share of the key (ORACLE_UTILISATION × rate ÷ working processes), one request per interval. Whenever
 * it starts sending again (after idling, or after a 429's pause) it picks a random phase within one
 * interval, so that processes told the same share do not send together. Like the budget it serves
 * progress before shareable before speculative requests and honours Retry-After; it has no other rule.
 */
class FairShareOracle implements Pacer {
  private readonly queue: { ticket: RequestTicket; resolve: (slot: RequestSlot) => void }[] = [];
  private grantedAt: number;
  private pausedUntil = 0;
  private pumping = false;

  constructor(
    private readonly clock: VirtualClock,
    private readonly random: () => number,
    private readonly shareMs: () => number,
  ) {
    // A random phase: the first request goes within one interval of the start.
    this.grantedAt = clock.now() - random() * shareMs();
  }

  acquire(ticket: RequestTicket): Promise<RequestSlot> {
    const now = this.clock.now();
    // Idle for more than an interval: start again from a random phase.
    if (this.queue.length === 0 && now - this.grantedAt > this.shareMs()) this.grantedAt = now - this.random() * this.shareMs();
    return new Promise((resolve) => {
      this.queue.push({ ticket, resolve });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const now = this.clock.now();
        // Asked again after every sleep: as other processes finish, the share grows.
        const at = Math.max(this.grantedAt + this.shareMs(), this.pausedUntil);
        if (at > now) {
          await this.clock.sleep(Math.min(at - now, 50));
          continue;
        }
        const rank = (t: RequestTicket) => ["progress", "shareable", "speculative"].indexOf(t.priorityNow?.() ?? t.priority);
        const head = this.queue.reduce((best, w) => (rank(w.ticket) < rank(best.ticket) ? w : best));
        this.queue.splice(this.queue.indexOf(head), 1);
        this.grantedAt = now;
        head.resolve({
          answered: (status, retryAfter) => {
            if (status !== 429) return;
            const serverMs = parseRetryAfter(retryAfter, this.clock.now()) ?? 1000;
            this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + serverWaitMs(serverMs, this.random));
            // After the pause, a random phase again.
            this.grantedAt = this.pausedUntil - this.random() * this.shareMs();
          },
        });
      }
    } finally {
      this.pumping = false;
    }
  }
}

export interface ModelPhase {
  wallMs: number;
  floorMs: number;
  calls: number;
  limited: number;
  medianMs: number;
  slowestMs: number;
}

const CREATE_CALLS = 5;
const DELETE_CALLS = 2;

export async function modelRun(s: ModelSettings): Promise<{ create: ModelPhase; delete: ModelPhase }> {
  const clock = new VirtualClock();
  const random = seeded(s.seed);
  let windowStart = -Infinity;
  let used = 0;
  const allowed = () => {
    if (clock.now() - windowStart >= 1000) {
      windowStart = clock.now();
      used = 0;
    }
    return used < s.rate ? (used++, true) : false;
  };
  let working = s.processes;
  const oracleShareMs = () => 1000 / ((ORACLE_UTILISATION * s.rate) / Math.max(1, working));
  const budgets: Pacer[] = Array.from({ length: s.processes }, (_, i) =>
    s.pacing === "oracle"
      ? new FairShareOracle(clock, seeded(s.seed * 100 + i + 1), oracleShareMs)
      : new RequestBudget({ clock, random: seeded(s.seed * 100 + i + 1), parseRetryAfter }),
  );
  const schedules = budgets.map(() => new LearningSchedule(new JobDurations()));
  let calls = 0;
  let limited = 0;

  const call = async (budget: Pacer, priority: RequestPriority = "progress", priorityNow?: () => RequestPriority) => {
    for (;;) {
      const slot = await budget.acquire({ priority, deadline: clock.now() + 600_000, priorityNow });
      await clock.sleep(s.latencyMs / 2);
      const ok = allowed();
      calls++;
      await clock.sleep(s.latencyMs / 2);
      slot!.answered(ok ? 200 : 429, ok ? undefined : "1");
      if (ok) return;
      limited++;
    }
  };
  const waitJob = async (budget: Pacer, plan: PollPlan, jobMs: number) => {
    const started = clock.now();
    for (let polls = 0; ; polls++) {
      const step = plan.next(clock.now() - started, polls);
      await clock.sleep(step.delayMs);
      await call(budget, step.priority, () => plan.priorityAt(clock.now() - started));
      // The server looked at the job half a round trip before the answer came back.
      if (clock.now() - s.latencyMs / 2 >= started + jobMs - s.latencyMs / 2) return;
    }
  };
  const phase = async (minCalls: number, work: (budget: Pacer, i: number, jobMs: number) => Promise<void>): Promise<ModelPhase> => {
    const jobs = budgets.map(() => Math.round(s.jobMs * (0.8 + 0.4 * random())));
    const start = clock.now();
    const [calls0, limited0] = [calls, limited];
    working = s.processes;
    const times = await clock.run(
      Promise.all(
        budgets.map(async (budget, i) => {
          await work(budget, i, jobs[i]);
          working--;
          return clock.now() - start;
        }),
      ),
    );
    const sorted = [...times].sort((a, b) => a - b);
    return {
      wallMs: clock.now() - start,
      floorMs: Math.max(Math.max(...jobs) + minCalls * s.latencyMs, (s.processes * minCalls * 1000) / s.rate),
      calls: calls - calls0,
      limited: limited - limited0,
      medianMs: sorted[Math.floor((sorted.length - 1) / 2)],
      slowestMs: sorted[sorted.length - 1],
    };
  };

  const create = await phase(CREATE_CALLS, async (budget, i, jobMs) => {
    await call(budget); // the key's scopes
    if (s.projectFirst) await call(budget); // the project, before the POST (the earlier flow)
    await call(budget); // the POST
    // The project during the job (operations/create.ts), shareable; awaited with the URLs.
    const project = s.projectFirst ? undefined : call(budget, "shareable");
    await waitJob(budget, schedules[i].plan({ apiUrl: "model", job: { type: "branch.create", project_id: "p" } }), jobMs);
    await Promise.all([project, call(budget)]); // the URLs
  });
  const del = await phase(DELETE_CALLS, async (budget, i, jobMs) => {
    await call(budget);
    await waitJob(budget, schedules[i].plan({ apiUrl: "model", job: { type: "branch.delete", project_id: "p" } }), jobMs);
  });
  return { create, delete: del };
}

/** The mean of each figure over `seeds` runs, per phase. */
export interface ModelSummary {
  label: string;
  phases: Record<"create" | "delete", { wallOverFloor: number; worstWallOverFloor: number; calls: number; limitedShare: number; slowestOverMedian: number }>;
}

export async function modelSummary(label: string, settings: Omit<ModelSettings, "seed">, seeds: number): Promise<ModelSummary> {
  const all: { create: ModelPhase; delete: ModelPhase }[] = [];
  for (let seed = 1; seed <= seeds; seed++) all.push(await modelRun({ ...settings, seed }));
  const phase = (name: "create" | "delete") => {
    const mean = (f: (p: ModelPhase) => number) => all.reduce((a, r) => a + f(r[name]), 0) / all.length;
    return {
      wallOverFloor: mean((p) => p.wallMs / p.floorMs),
      worstWallOverFloor: Math.max(...all.map((r) => r[name].wallMs / r[name].floorMs)),
      calls: mean((p) => p.calls),
      limitedShare: mean((p) => p.limited / p.calls),
      slowestOverMedian: mean((p) => p.slowestMs / p.medianMs),
    };
  };
  return { label, phases: { create: phase("create"), delete: phase("delete") } };
}

/** The model's three rows: the provider, the oracle with the provider's calls, the oracle with the project read first. */
export async function modelRows(base: Pick<ModelSettings, "processes" | "rate" | "jobMs" | "latencyMs">, seeds: number): Promise<ModelSummary[]> {
  return [
    await modelSummary("this provider (request budget, the project read during the job)", base, seeds),
    await modelSummary("fair-share oracle, the same calls", { ...base, pacing: "oracle" }, seeds),
    await modelSummary("fair-share oracle, the project read before the POST (the earlier flow)", { ...base, pacing: "oracle", projectFirst: true }, seeds),
  ];
}

export async function main(): Promise<void> {
  const processes = Number(process.argv[2] ?? 20);
  const seeds = Number(process.argv[3] ?? 8);
  for (const row of await modelRows({ processes, rate: 10, jobMs: 5_000, latencyMs: 20 }, seeds)) {
    for (const name of ["create", "delete"] as const) {
      const p = row.phases[name];
      console.log(
        `${row.label}, ${name}: wall ${p.wallOverFloor.toFixed(2)} × floor (worst ${p.worstWallOverFloor.toFixed(2)}), ${p.calls.toFixed(0)} calls, ` +
          `${(p.limitedShare * 100).toFixed(0)} % 429, slowest ${p.slowestOverMedian.toFixed(2)} × median (mean of ${seeds} seeds, ${processes} processes)`,
      );
    }
  }
}

if (require.main === module) void main();
