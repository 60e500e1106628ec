import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { CapyDBError } from "./errors";
import { Logger, formatElapsed } from "./log";
import { ConnectionInfo, Job, PreviewDatabase } from "./schemas";

/**
 * Poll schedule for jobs: the first poll at once (fast jobs finish within a poll), then 0.5 s growing
 * by half to a 2 s cap for the first minute, where clones finish (12-14 s): a create is noticed at most
 * 2 s late, where the Terraform provider's fixed 5 s poll adds up to 5 s. Long jobs then relax to 10 s.
 */
export const POLL_FIRST_DELAY_MS = 500;
export const POLL_GROWTH = 1.5;
export const POLL_FAST_CAP_MS = 2_000;
export const POLL_FAST_PHASE_MS = 60_000;
export const POLL_MAX_DELAY_MS = 10_000;
/** Like the official CLI: a few failed polls in a row mean the job status cannot be known. */
export const MAX_CONSECUTIVE_POLL_ERRORS = 5;
/** URLs can lag behind "ready" (§4.7): poll every 2 s, for at most 3 minutes. */
export const CONNECTIONS_POLL_MS = 2_000;
export const CONNECTIONS_MAX_WAIT_MS = 3 * 60_000;

export function nextPollDelay(previous: number | undefined, elapsedMs = 0): number {
  if (previous === undefined) return POLL_FIRST_DELAY_MS;
  const cap = elapsedMs < POLL_FAST_PHASE_MS ? POLL_FAST_CAP_MS : POLL_MAX_DELAY_MS;
  return Math.min(cap, Math.round(previous * POLL_GROWTH));
}

export interface WaitContext {
  client: CapyDBClient;
  clock: Clock;
  log: Logger;
}

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

export function describeJobFailure(job: Job): string {
  let message = `${job.type} job ${job.id} failed: ${job.error || "no error message was given"}`;
  if (job.last_exit_code != null) message += ` (exit code ${job.last_exit_code})`;
  const tail = stderrTail(job.last_stderr);
  if (tail) message += `\n--- stderr (last lines) ---\n${tail}`;
  return message;
}

/** One observation of a poll: the state to report, and the result once the wait is over. */
type Observation<T> = { state: string; done: false } | { state: string; done: true; result: T };

/**
 * The poll loop shared by job and preview waits: observe, log state changes, stop when done, sleep on
 * the schedule of nextPollDelay, give up at the deadline with the last state seen.
 */
async function pollUntil<T>(
  ctx: WaitContext,
  deadline: number,
  label: string,
  subject: string,
  observe: () => Promise<Observation<T> | undefined>,
): Promise<T> {
  const started = ctx.clock.now();
  let delay: number | undefined;
  let lastState = "unknown";
  for (;;) {
    // undefined: nothing could be observed this time (a tolerated poll error).
    const seen = await observe();
    if (seen && seen.state !== lastState) {
      ctx.log.info(`${label}: ${subject} ${seen.state} after ${formatElapsed(ctx.clock.now() - started)}`);
      lastState = seen.state;
    }
    if (seen?.done) return seen.result;
    delay = nextPollDelay(delay, ctx.clock.now() - started);
    if (ctx.clock.now() + delay > deadline) {
      throw new WaitTimeoutError(`${label} (${subject})`, lastState, ctx.clock.now() - started);
    }
    await ctx.clock.sleep(delay);
  }
}

/** Waits until the job is completed (returns it) or failed (throws JobFailedError), or the deadline passes. */
export async function waitForJob(ctx: WaitContext, jobId: string, deadline: number, label: string): Promise<Job> {
  let pollErrors = 0;
  return pollUntil<Job>(ctx, deadline, label, `job ${jobId}`, async () => {
    let job: Job;
    try {
      job = await ctx.client.getJob(jobId, { deadline });
    } catch (error) {
      if (!(error instanceof CapyDBError)) throw error;
      // A key that stopped working will not start working while we wait.
      if (error.isAuth || ++pollErrors >= MAX_CONSECUTIVE_POLL_ERRORS) throw error;
      return undefined;
    }
    pollErrors = 0;
    if (job.state === "failed") throw new JobFailedError(job);
    // Any other state, known or not (pending, running, queued…), means the job is still running.
    return job.state === "completed" ? { state: job.state, done: true, result: job } : { state: job.state, done: false };
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
  return pollUntil<PreviewDatabase | undefined>(ctx, deadline, label, `preview ${previewId}`, async () => {
    const preview = await ctx.client.findPreview(projectId, previewId, { deadline });
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
  const started = ctx.clock.now();
  const bound = Math.min(deadline, started + CONNECTIONS_MAX_WAIT_MS);
  for (;;) {
    const info = await ctx.client.getConnections(previewId, { deadline: bound });
    if (info.direct_url && info.pooled_url) return info;
    if (ctx.clock.now() + CONNECTIONS_POLL_MS > bound) {
      throw new WaitTimeoutError(`${label}: connection URLs of preview ${previewId}`, "URLs missing", ctx.clock.now() - started);
    }
    await ctx.clock.sleep(CONNECTIONS_POLL_MS);
  }
}
