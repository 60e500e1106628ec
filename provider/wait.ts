import { cutText, cutTextKeepingEnd } from "./bounded-text";
import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { CapyDBError } from "./errors";
import { Logger, formatElapsed } from "./log";
import { redact } from "./redact";
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
/**
 * Like the official CLI: a few failed polls in a row mean the status cannot be known. One tolerance
 * for every read that waits (jobs, the preview list, connection URLs): each failed poll has already
 * been retried by the client (3 attempts), so 5 in a row is a real outage, not a blip.
 */
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

/**
 * The job's own words, cut to a sane length and redacted: a failed clone's stderr is exactly where
 * a connection string or a PGPASSWORD shows up.
 */
export function describeJobFailure(job: Job): string {
  let message = `${job.type} job ${job.id} failed: ${cutText(job.error || "no error message was given")}`;
  if (job.last_exit_code != null) message += ` (exit code ${job.last_exit_code})`;
  const tail = stderrTail(job.last_stderr);
  if (tail) message += `\n--- stderr (last lines) ---\n${cutTextKeepingEnd(tail)}`;
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
 * The poll loop shared by job and preview waits: observe, log state changes, stop when done, sleep on
 * the schedule of nextPollDelay, give up at the deadline with the last state seen.
 */
async function pollUntil<T>(
  ctx: WaitContext,
  deadline: number,
  label: string,
  subject: string,
  observe: () => Promise<Observation<T>>,
  schedule: (previous: number | undefined, elapsedMs: number) => number = nextPollDelay,
): Promise<T> {
  const started = ctx.clock.now();
  const errors = new PollErrors();
  let delay: number | undefined;
  let lastState = "unknown";
  for (;;) {
    // undefined: nothing could be observed this time (a tolerated poll error).
    let seen: Observation<T> | undefined;
    try {
      seen = await observe();
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
    delay = schedule(delay, ctx.clock.now() - started);
    if (ctx.clock.now() + delay > deadline) {
      throw new WaitTimeoutError(`${label} (${subject})`, lastState, ctx.clock.now() - started);
    }
    await ctx.clock.sleep(delay);
  }
}

/** Waits until the job is completed (returns it) or failed (throws JobFailedError), or the deadline passes. */
export async function waitForJob(ctx: WaitContext, jobId: string, deadline: number, label: string): Promise<Job> {
  return pollUntil<Job>(ctx, deadline, label, `job ${jobId}`, async () => {
    // A 404 here counts as a poll error (§1.4): a job just created may not be visible everywhere yet.
    const job = await ctx.client.getJob(jobId, { deadline });
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
    let preview: PreviewDatabase | undefined;
    try {
      preview = await ctx.client.findPreview(projectId, previewId, { deadline });
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
  return pollUntil<ConnectionInfo>(
    ctx,
    bound,
    label,
    `connection URLs of preview ${previewId}`,
    async () => {
      const info = await ctx.client.getConnections(previewId, { deadline: bound });
      return info.direct_url && info.pooled_url ? { state: "present", done: true, result: info } : { state: "missing", done: false };
    },
    () => CONNECTIONS_POLL_MS,
  );
}
