import { LearningSchedule, JobDurations, PollPlan } from "../../provider/poll-schedule";
import { RequestBudget, RequestPriority } from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { VirtualClock } from "../helpers/virtual-clock";

/**
 * A virtual-time model of many-runners.ts, for choosing the request budget's rules for a shared key
 * (issue 16): N processes, each with its own RequestBudget and poll schedule (nothing shared, nothing
 * learned), one fixed window of `rate` requests per second like the local control plane's (a 429 does
 * not count, Retry-After: 1), `latencyMs` per request. Each process creates one preview (the key's
 * scopes, the project, the POST, job polls, the URLs), then deletes it (DELETE, job polls), in the
 * same process as the benchmark does. Seeded: a run of seconds on the real clock takes milliseconds,
 * so rules can be compared over many seeds where the real benchmark, on a loaded machine, gives one
 * noisy run at a time. It models the client's loop (acquire, send, report, retry a 429), not the
 * provider's code: the real benchmark stays the judge.
 *
 *   npm run build && node dist/test/bench/shared-key-model.js [processes] [seeds]
 */
export interface ModelSettings {
  processes: number;
  rate: number;
  jobMs: number;
  latencyMs: number;
  seed: number;
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

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

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
  const budgets = Array.from({ length: s.processes }, (_, i) => new RequestBudget({ clock, random: seeded(s.seed * 100 + i + 1), parseRetryAfter }));
  const schedules = budgets.map(() => new LearningSchedule(new JobDurations()));
  let calls = 0;
  let limited = 0;

  const call = async (budget: RequestBudget, priority: RequestPriority = "progress", priorityNow?: () => RequestPriority) => {
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
  const waitJob = async (budget: RequestBudget, plan: PollPlan, jobMs: number) => {
    const started = clock.now();
    for (let polls = 0; ; polls++) {
      const step = plan.next(clock.now() - started, polls);
      await clock.sleep(step.delayMs);
      await call(budget, step.priority, () => plan.priorityAt(clock.now() - started));
      // The server looked at the job half a round trip before the answer came back.
      if (clock.now() - s.latencyMs / 2 >= started + jobMs - s.latencyMs / 2) return;
    }
  };
  const phase = async (minCalls: number, work: (budget: RequestBudget, i: number, jobMs: number) => Promise<void>): Promise<ModelPhase> => {
    const jobs = budgets.map(() => Math.round(s.jobMs * (0.8 + 0.4 * random())));
    const start = clock.now();
    const [calls0, limited0] = [calls, limited];
    const times = await clock.run(
      Promise.all(
        budgets.map(async (budget, i) => {
          await work(budget, i, jobs[i]);
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
    await call(budget); // the project
    await call(budget); // the POST
    await waitJob(budget, schedules[i].plan({ apiUrl: "model", job: { type: "branch.create", project_id: "p" } }), jobMs);
    await call(budget); // the URLs
  });
  const del = await phase(DELETE_CALLS, async (budget, i, jobMs) => {
    await call(budget);
    await waitJob(budget, schedules[i].plan({ apiUrl: "model", job: { type: "branch.delete", project_id: "p" } }), jobMs);
  });
  return { create, delete: del };
}

export async function main(): Promise<void> {
  const processes = Number(process.argv[2] ?? 20);
  const seeds = Number(process.argv[3] ?? 8);
  const all: { create: ModelPhase; delete: ModelPhase }[] = [];
  for (let seed = 1; seed <= seeds; seed++) all.push(await modelRun({ processes, rate: 10, jobMs: 5_000, latencyMs: 20, seed }));
  for (const name of ["create", "delete"] as const) {
    const mean = (f: (p: ModelPhase) => number) => all.reduce((a, r) => a + f(r[name]), 0) / all.length;
    console.log(
      `${name}: wall ${mean((p) => p.wallMs / p.floorMs).toFixed(2)} × floor (worst ${Math.max(...all.map((r) => r[name].wallMs / r[name].floorMs)).toFixed(2)}), ` +
        `${mean((p) => p.calls).toFixed(0)} calls, ${(mean((p) => p.limited / p.calls) * 100).toFixed(0)} % 429, ` +
        `slowest ${mean((p) => p.slowestMs / p.medianMs).toFixed(2)} × median (mean of ${seeds} seeds, ${processes} processes)`,
    );
  }
}

if (require.main === module) void main();
