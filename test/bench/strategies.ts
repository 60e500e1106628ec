import { Clock } from "../../provider/clock";
import { JobDurations, LearningSchedule, PollSchedule } from "../../provider/poll-schedule";
import { RequestBudget, RequestPolicy } from "../../provider/request-budget";
import { parseRetryAfter } from "../../provider/retry";
import { IndependentBackoff, LimitIsFinal } from "./unshared-requests";

/**
 * The job-wait strategies compared. Each is a PollSchedule handed to the same provider code through
 * `createProvider({ schedule })`; only when to poll differs. Incumbents poll with no memory.
 */
export interface Strategy {
  id: string;
  label: string;
  /** A fresh schedule: what one process would start with. */
  schedule(): PollSchedule;
}

function memoryless(delay: (elapsedMs: number, polls: number, previous: number | undefined) => number): PollSchedule {
  return {
    plan: () => {
      let previous: number | undefined;
      return {
        next: (elapsedMs, polls) => {
          const delayMs = polls === 0 ? 0 : delay(elapsedMs, polls, previous);
          if (polls > 0) previous = delayMs;
          return { delayMs, priority: "speculative" };
        },
        priorityAt: () => "speculative",
        completed: () => undefined,
      };
    },
  };
}

export const OURS: Strategy = {
  id: "ours",
  label: "pulumi-capydb (this version: learning, growing-interval fallback)",
  schedule: () => new LearningSchedule(new JobDurations()),
};

/**
 * The fallback interval issue 16 replaced (for a kind of job not seen complete): at once, 0.5 s, then
 * 1.2 s growing by 5% of the time waited to 1.6 s up to 20 s, growing on to 2.8 s at 2 minutes, then by
 * 15% of the further wait up to 30 s. Same learning as this version: only the fallback differs.
 */
export function issue10IntervalMs(elapsedMs: number, polls: number): number {
  if (polls === 0) return 0;
  if (polls === 1) return 500;
  if (elapsedMs < 20_000) return Math.round(Math.min(1_600, 1_200 + 0.05 * elapsedMs));
  if (elapsedMs < 120_000) return Math.round(1_600 + ((elapsedMs - 20_000) / 100_000) * 1_200);
  return Math.round(Math.min(30_000, 2_800 + 0.15 * (elapsedMs - 120_000)));
}

export const STRATEGIES: Strategy[] = [
  OURS,
  {
    id: "i10",
    label: "the schedule before issue 16 (learning; fallback 1.2 s growing to 1.6 s up to 20 s, to 2.8 s at 2 min)",
    schedule: () => new LearningSchedule(new JobDurations(), issue10IntervalMs),
  },
  {
    id: "v010",
    label: "pulumi-capydb 0.1.0 (0.5 s ×1.5 to 2 s for a minute, then to 10 s)",
    schedule: () =>
      memoryless((elapsedMs, _polls, previous) =>
        previous === undefined ? 500 : Math.min(elapsedMs < 60_000 ? 2_000 : 10_000, Math.round(previous * 1.5)),
      ),
  },
  {
    id: "fixed5",
    label: "fixed 5 s (CapyDB Terraform provider)",
    schedule: () => memoryless(() => 5_000),
  },
  {
    id: "cli",
    label: "2 s doubling to 10 s (CapyDB CLI)",
    schedule: () => memoryless((_elapsedMs, _polls, previous) => (previous === undefined ? 2_000 : Math.min(10_000, previous * 2))),
  },
];

/**
 * The ways of living with a rate limit compared: each a RequestPolicy handed to the same provider code
 * through `createProvider({ clientOptions: { budget } })`; only when requests go, and what a 429 does,
 * differs. The poll schedule is this version's in every row.
 */
export interface LimitStrategy {
  id: string;
  label: string;
  /** A fresh policy: what one process would start with. */
  policy(clock: Clock): RequestPolicy;
}

export const OURS_LIMIT: LimitStrategy = {
  id: "ours",
  label: "pulumi-capydb (this version: one shared budget per key)",
  policy: (clock) => new RequestBudget({ clock, parseRetryAfter }),
};

export const LIMIT_STRATEGIES: LimitStrategy[] = [
  OURS_LIMIT,
  {
    id: "v010",
    label: "0.1.0: each call backs off on its own",
    policy: (clock) => new IndependentBackoff({ clock }),
  },
  {
    id: "go",
    label: "CapyDB Terraform provider / CLI (Go transport): 429 is final",
    policy: () => new LimitIsFinal(),
  },
];
