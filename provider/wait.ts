import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { CapyDBError } from "./errors";
import { Logger, formatElapsed } from "./log";
import { defaultPollSchedule, growingIntervalMs, PollPlan, PollSchedule } from "./poll-schedule";
import { redact } from "./redact";
import { CONTINUATION_INDENT, inert, serverText } from "./server-text";
import { RequestPriority } from "./request-budget";
import type { ConnectionInfo, Job, PreviewDatabase } from "./api-types";

/**
 * Like the official CLI: a few failed polls in a row mean the status cannot be known. One tolerance
 * for every read that waits (jobs, the preview list, connection URLs): each failed poll has already
 * been retried by the client (3 attempts), so 5 in a row is a real outage, not a blip.
 */
export const MAX_CONSECUTIVE_POLL_ERRORS = 5;
/** URLs can lag behind "ready" (§4.7): poll every 2 s, for at most 3 minutes. */
export const CONNECTIONS_POLL_MS = 2_000;
export const CONNECTIONS_MAX_WAIT_MS = 3 * 60_000;

export interface WaitContext {
  client: CapyDBClient;
  clock: Clock;
  log: Logger;
  /** Default: the learning schedule of poll-schedule.ts. */
  schedule?: PollSchedule;
}

/** Waits on the preview list know nothing to learn from: they poll at the growing interval. */
const growingPlan: PollPlan = {
  next: (elapsedMs, polls) => ({ delayMs: growingIntervalMs(elapsedMs, polls), priority: "speculative" }),
  priorityAt: () => "speculative",
  completed: () => undefined,
};

/** Connection URLs lag behind "ready" only briefly, and the operation waits for them: every 2 s, first at once. */
const connectionsPlan: PollPlan = {
  next: (_elapsedMs, polls) => ({ delayMs: polls === 0 ? 0 : CONNECTIONS_POLL_MS, priority: "progress" }),
  priorityAt: () => "progress",
  completed: () => undefined,
};

/** What a poll tells the request budget about itself (request-budget.ts). */
type PollCall = { priority: RequestPriority; since: number; priorityNow: () => RequestPriority };

/** The job reached "failed". */
export class JobFailedError extends Error {
  constructor(readonly job: Job) {
    super(describeJobFailure(job));
    this.name = "JobFailedError";
  }
}

/** The deadline passed while the work was still running; `lastState` says where it was. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly lastState: string,
    readonly waitedMs: number,
  ) {
    super(`timed out after ${formatElapsed(waitedMs)} waiting for ${what} (last state: ${lastState})`);
    this.name = "WaitTimeoutError";
  }
}

export function stderrTail(stderr: string | null | undefined, lines = 20): string | undefined {
  if (!stderr) return undefined;
  const all = stderr.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/**
 * The job's own words, redacted, cut to a sane length and made inert (server-text.ts): a failed clone's
 * stderr is exactly where a connection string or a PGPASSWORD shows up. The stderr is redacted whole
 * before its tail is taken, so that a secret across the cut is masked whole.
 */
export function describeJobFailure(job: Job): string {
  let message = `${inert(job.type)} job ${inert(job.id)} failed: ${serverText(job.error || "no error message was given")}`;
  if (job.last_exit_code != null) message += ` (exit code ${job.last_exit_code})`;
  const tail = stderrTail(job.last_stderr ? redact(job.last_stderr) : undefined);
  if (tail) message += `\n${CONTINUATION_INDENT}--- stderr (last lines) ---\n${CONTINUATION_INDENT}${serverText(tail, { keep: "end" })}`;
  return redact(message);
}

/** Counts failed polls in a row; says whether one more can be tolerated. */
export class PollErrors {
  private consecutive = 0;
  constructor(private readonly max = MAX_CONSECUTIVE_POLL_ERRORS) {}

  /** True when the wait may go on after `error`; false when it must end with it. */
  tolerate(error: unknown): boolean {
    if (!(error instanceof CapyDBError)) return false;
    // A key that stopped working will not start working while we wait; a bad config neither.
    if (error.isAuth || error.kind === "config" || error.kind === "deadline") return false;
    return ++this.consecutive < this.max;
  }

  succeeded(): void {
    this.consecutive = 0;
  }
}

/** One observation of a poll: the state to report, and the result once the wait is over. */
type Observation<T> = { state: string; done: false } | { state: string; done: true; result: T };

/**
 * The poll loop shared by every wait: sleep as the plan says, observe, log state changes, stop when
 * done, give up at the deadline with the last state seen.
 */
async function pollUntil<T>(
  ctx: WaitContext,
  plan: PollPlan,
  deadline: number,
  label: string,
  subject: string,
  observe: (call: PollCall, elapsedMs: number) => Promise<Observation<T>>,
): Promise<T> {
  const started = ctx.clock.now();
  const errors = new PollErrors();
  let lastState = "unknown";
  for (let polls = 0; ; polls++) {
    const step = plan.next(ctx.clock.now() - started, polls);
    if (step.delayMs > 0) {
      if (ctx.clock.now() + step.delayMs > deadline) {
        throw new WaitTimeoutError(`${label} (${subject})`, lastState, ctx.clock.now() - started);
      }
      await ctx.clock.sleep(step.delayMs);
    }
    // Polls of the longest-running waits go first among equals: those are the likeliest to be over.
    const call: PollCall = { priority: step.priority, since: started, priorityNow: () => plan.priorityAt(ctx.clock.now() - started) };
    // undefined: nothing could be observed this time (a tolerated poll error).
    let seen: Observation<T> | undefined;
    try {
      seen = await observe(call, ctx.clock.now() - started);
      errors.succeeded();
    } catch (error) {
      if (error instanceof CapyDBError && error.kind === "deadline") {
        throw new WaitTimeoutError(`${label} (${subject})`, lastState, ctx.clock.now() - started);
      }
      if (!errors.tolerate(error)) throw error;
      ctx.log.info(`${label}: could not read ${subject} (${(error as Error).message}); trying again`);
    }
    if (seen && seen.state !== lastState) {
      ctx.log.info(`${label}: ${subject} ${seen.state} after ${formatElapsed(ctx.clock.now() - started)}`);
      lastState = seen.state;
    }
    if (seen?.done) return seen.result;
  }
}

/**
 * Waits until the job is completed (returns it) or failed (throws JobFailedError), or the deadline passes.
 * Given the job as its POST answer described it (not just its id), the schedule can use and extend what
 * the process learned about jobs of its type in its project.
 */
export async function waitForJob(ctx: WaitContext, jobOrId: string | Job, deadline: number, label: string): Promise<Job> {
  const jobId = typeof jobOrId === "string" ? jobOrId : jobOrId.id;
  const plan = (ctx.schedule ?? defaultPollSchedule).plan({
    apiUrl: ctx.client.apiUrl,
    job: typeof jobOrId === "string" ? undefined : jobOrId,
  });
  return pollUntil<Job>(ctx, plan, deadline, label, `job ${jobId}`, async (call, elapsedMs) => {
    // A 404 here counts as a poll error (§1.4): a job just created may not be visible everywhere yet.
    const job = await ctx.client.getJob(jobId, { deadline, ...call });
    if (job.state === "failed") throw new JobFailedError(job);
    // Any other state, known or not (pending, running, queued…), means the job is still running.
    if (job.state !== "completed") return { state: job.state, done: false };
    plan.completed(job, elapsedMs);
    return { state: job.state, done: true, result: job };
  });
}

/**
 * Waits on the preview list until `done(preview)` holds. Used when no job id is known: a create or
 * delete whose answer was lost, or an old state written before the job finished. `undefined` is
 * passed when the preview is no longer listed.
 */
export async function waitForPreview(
  ctx: WaitContext,
  projectId: string,
  previewId: string,
  deadline: number,
  label: string,
  done: (preview: PreviewDatabase | undefined) => boolean,
): Promise<PreviewDatabase | undefined> {
  return pollUntil<PreviewDatabase | undefined>(ctx, growingPlan, deadline, label, `preview ${previewId}`, async (call) => {
    let preview: PreviewDatabase | undefined;
    try {
      preview = await ctx.client.findPreview(projectId, previewId, { deadline, ...call });
    } catch (error) {
      // The project itself is gone (CapyDB's own 404), and its previews with it (§4.6).
      if (!(error instanceof CapyDBError && error.provesAbsence)) throw error;
    }
    const state = preview?.state ?? "gone";
    return done(preview) ? { state, done: true, result: preview } : { state, done: false };
  });
}

/** Reads connections until both URLs are present (they may lag behind "ready", §4.7). */
export async function waitForConnections(
  ctx: WaitContext,
  previewId: string,
  deadline: number,
  label: string,
): Promise<ConnectionInfo> {
  const bound = Math.min(deadline, ctx.clock.now() + CONNECTIONS_MAX_WAIT_MS);
  return pollUntil<ConnectionInfo>(ctx, connectionsPlan, bound, label, `connection URLs of preview ${previewId}`, async () => {
    const info = await ctx.client.getConnections(previewId, { deadline: bound });
    return info.direct_url && info.pooled_url ? { state: "present", done: true, result: info } : { state: "missing", done: false };
  });
}
