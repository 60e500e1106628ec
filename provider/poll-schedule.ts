import { RequestPriority } from "./request-budget";
import type { Job } from "./api-types";

/**
 * When to poll a job. A schedule that knows nothing cannot notice the end of a job quickly and poll
 * rarely at the same time, so this one uses what the process has learned: jobs of the same type in the
 * same project take similar times, so once one has completed, the others are polled around their
 * expected end. With nothing learned yet it falls back to a growing interval.
 */

/** The next poll: how long to sleep first, and whether it is likely to find the job done. */
export interface PollStep {
  delayMs: number;
  priority: RequestPriority;
}

/** One wait's plan. `elapsedMs` counts from the start of the wait; `polls` is how many were sent. */
export interface PollPlan {
  next(elapsedMs: number, polls: number): PollStep;
  /** How likely a poll at `elapsedMs` is to find the job done, as a request priority; asked again while it waits. */
  priorityAt(elapsedMs: number): RequestPriority;
  /** The job completed: a plan that learns records how long it took. */
  completed(job: Job, elapsedMs: number): void;
}

/** What a job wait is about: `job` is the job as its POST answer described it, when this process started it. */
export interface WaitSubject {
  apiUrl: string;
  job?: Pick<Job, "type" | "project_id">;
}

/** Swappable (the benchmark compares strategies with the same client): one plan per wait. */
export interface PollSchedule {
  plan(subject: WaitSubject): PollPlan;
}

// ---- the growing interval, for jobs of a kind not seen before ------------------------------------------

/** A second poll soon after the first, at once: short jobs finish within a second. */
export const SECOND_POLL_AFTER_MS = 500;
/**
 * Up to 20 s, where most jobs end (clones take 12-14 s, §4.1; deletes a few seconds), a poll every
 * 0.7 s: a job is noticed 0.35 s late on average and 0.7 s at most, where the Terraform provider's fixed
 * 5 s adds 2.5 s. The price is polls: about 30 for a 20 s job (15 with the 1.2-1.6 s gaps this replaced),
 * so a lone wait asks for 1.4 requests/s, and seven waits of kinds nothing is known about fill a key's
 * 10 requests/s. Within one process that is bounded: such polls are "speculative" and only take slots
 * nobody else wants (request-budget.ts), and once one job of a kind completes the others are polled
 * around its length (at most 9 polls in that window). Across processes sharing a key, only 429s tell
 * them about each other.
 */
export const EARLY_PHASE_MS = 20_000;
export const EARLY_GAP_MS = 700;
/**
 * From 20 to 25 s the gap grows to 2.2 s, then stays there up to 2 minutes (long clones, restores): a
 * job of 30-120 s is noticed 1.1 s late on average, 2.2 s at most, for about 77 polls of a lone 2-minute
 * job (as many as a gap growing from 1.6 s at 20 s to 2.8 s at 2 minutes, which noticed such jobs 1.14 s
 * late on average and 2.8 s at most). Even gaps give the least lateness for a number of polls when the
 * end is equally likely anywhere in the range; a gap growing with the time waited (15% of it) made 28
 * polls but noticed such jobs 5-9 s late.
 */
export const RAMP_END_MS = 25_000;
export const MID_PHASE_MS = 120_000;
export const MID_GAP_MS = 2_200;
/** After 2 minutes the gap grows by 15% of the further time waited, up to 30 s: about 95 polls in five minutes. */
export const LATE_GAP_SHARE = 0.15;
export const MAX_GAP_MS = 30_000;

/** Delay before poll number `polls + 1` of a job nothing is known about. */
export function growingIntervalMs(elapsedMs: number, polls: number): number {
  if (polls === 0) return 0;
  if (polls === 1) return SECOND_POLL_AFTER_MS;
  if (elapsedMs < EARLY_PHASE_MS) return EARLY_GAP_MS;
  if (elapsedMs < RAMP_END_MS) {
    const share = (elapsedMs - EARLY_PHASE_MS) / (RAMP_END_MS - EARLY_PHASE_MS);
    return Math.round(EARLY_GAP_MS + share * (MID_GAP_MS - EARLY_GAP_MS));
  }
  if (elapsedMs < MID_PHASE_MS) return MID_GAP_MS;
  return Math.round(Math.min(MAX_GAP_MS, MID_GAP_MS + LATE_GAP_SHARE * (elapsedMs - MID_PHASE_MS)));
}

// ---- what the process learns --------------------------------------------------------------------------

/** Recent durations per (API, project, job type); bounded, since a process may see many projects. */
export const SAMPLES_PER_KIND = 10;
const MAX_KINDS = 200;

export class JobDurations {
  private readonly byKind = new Map<string, number[]>();

  record(kind: string, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const samples = this.byKind.get(kind) ?? [];
    this.byKind.delete(kind);
    samples.push(ms);
    if (samples.length > SAMPLES_PER_KIND) samples.shift();
    this.byKind.set(kind, samples);
    if (this.byKind.size > MAX_KINDS) this.byKind.delete(this.byKind.keys().next().value as string);
  }

  samples(kind: string): readonly number[] {
    return this.byKind.get(kind) ?? [];
  }
}

/** The process's memory: every operation in the plugin process learns from every other. */
export const processJobDurations = new JobDurations();

export function kindOf(subject: WaitSubject): string | undefined {
  if (!subject.job?.type) return undefined;
  return `${subject.apiUrl}\u0000${subject.job.project_id ?? ""}\u0000${subject.job.type}`;
}

/** The server's own timestamps measure the job exactly; when they are missing, what the wait saw will do. */
export function jobDurationMs(job: Job, observedMs: number): number {
  const created = job.created_at ? Date.parse(job.created_at) : NaN;
  const completed = job.completed_at ? Date.parse(job.completed_at) : NaN;
  const measured = completed - created;
  return Number.isFinite(measured) && measured >= 0 ? measured : observedMs;
}

// ---- the plan around the expected end ----------------------------------------------------------------

/** Polls spread evenly over the window where the job is expected to end: few, and close together. */
export const POLLS_IN_WINDOW = 9;
/** With one sample, the window is ±20% around it, narrowing as samples come in. */
export const PRIOR_SPREAD = 0.2;
/** Beyond this spread (the widest sample more than twice the narrowest window), learning says too little. */
const MAX_RELATIVE_WIDTH = 1;
/** Never two polls closer than this. */
export const MIN_POLL_GAP_MS = 250;

export interface ExpectedEnd {
  /** Poll times, ms after the wait began. */
  times: number[];
  /** Polls before this are unlikely to find the job done. */
  median: number;
  spacing: number;
}

/**
 * The window the next job of a kind should end in: the range of what was seen, widened on each side by
 * the gap expected between n samples of a uniform spread and its ends, (max-min)/(n+1), and at least
 * ±20%/√n around the median (with one sample, the spread is unknown).
 */
export function expectedEnd(samples: readonly number[]): ExpectedEnd | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = sorted[Math.floor((n - 1) / 2)];
  const min = sorted[0];
  const max = sorted[n - 1];
  const prior = (median * PRIOR_SPREAD) / Math.sqrt(n);
  const gap = n > 1 ? (max - min) / (n + 1) : 0;
  const lo = Math.max(0, Math.min(min - gap, median - prior));
  const hi = Math.max(max + gap, median + prior);
  if (median <= 0 || (hi - lo) / median > MAX_RELATIVE_WIDTH * 2) return undefined;
  const spacing = Math.max(MIN_POLL_GAP_MS, (hi - lo) / POLLS_IN_WINDOW);
  const times: number[] = [];
  for (let t = hi; t > lo + 1e-9 && times.length < POLLS_IN_WINDOW; t -= spacing) times.unshift(Math.round(t));
  return { times, median, spacing };
}

/** When to poll a job of a kind nothing is known about: the delay before poll number `polls + 1`. */
export type FallbackInterval = (elapsedMs: number, polls: number) => number;

class LearningPlan implements PollPlan {
  private overdue = 0;
  /** The planned time of the last poll: the next one is the next slot after it. */
  private lastSlot = -Infinity;

  constructor(
    private readonly durations: JobDurations,
    private readonly kind: string | undefined,
    private readonly fallback: FallbackInterval,
  ) {}

  private expected(): ExpectedEnd | undefined {
    // Looked up at every step: a job of the same kind that completes meanwhile informs this wait too.
    return this.kind ? expectedEnd(this.durations.samples(this.kind)) : undefined;
  }

  priorityAt(elapsedMs: number): RequestPriority {
    const expected = this.expected();
    return expected && elapsedMs >= expected.median ? "progress" : "speculative";
  }

  next(elapsedMs: number, polls: number): PollStep {
    const expected = this.expected();
    if (!expected) return { delayMs: this.fallback(elapsedMs, polls), priority: "speculative" };
    const upcoming = expected.times.filter((t) => t > this.lastSlot);
    if (upcoming.length > 0) {
      // Slots an answer was too slow for are skipped, but what is late is looked at now.
      const at = upcoming.find((t) => t >= elapsedMs) ?? upcoming[upcoming.length - 1];
      this.lastSlot = at;
      return { delayMs: Math.max(0, at - elapsedMs), priority: at >= expected.median ? "progress" : "speculative" };
    }
    // Later than every job of its kind so far: likely to end soon, so poll at a gap growing from the
    // window's spacing, never sparser than a job nothing is known about.
    const gap = Math.min(expected.spacing * 1.5 ** this.overdue++, Math.max(this.fallback(elapsedMs, polls), MIN_POLL_GAP_MS));
    return { delayMs: Math.round(gap), priority: "progress" };
  }

  completed(job: Job, elapsedMs: number): void {
    if (this.kind) this.durations.record(this.kind, jobDurationMs(job, elapsedMs));
  }
}

/**
 * The provider's schedule: learns per (API, project, job type) into `durations`, by default the process's.
 * The benchmark swaps the fallback to compare earlier versions' intervals with the same learning.
 */
export class LearningSchedule implements PollSchedule {
  constructor(
    readonly durations: JobDurations = processJobDurations,
    private readonly fallback: FallbackInterval = growingIntervalMs,
  ) {}

  plan(subject: WaitSubject): PollPlan {
    return new LearningPlan(this.durations, kindOf(subject), this.fallback);
  }
}

export const defaultPollSchedule: PollSchedule = new LearningSchedule();
