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

/**
 * Job states that mean "still working" (§3.2): `pending` and `running` are documented, the others are
 * seen in test doubles or are the usual names of the same thing. Waiting on them is right. A state in
 * neither this list nor `completed`/`failed` may be final (`cancelled`, `succeeded`, `error`…): it ends
 * the wait as soon as anything says the job is over (its `completed_at`, or its preview in a final state).
 */
export const JOB_WORKING_STATES: ReadonlySet<string> = new Set([
  "pending",
  "queued",
  "scheduled",
  "claimed",
  "started",
  "running",
  "in_progress",
  "retrying",
]);

/** Final states that may be another server's word for "completed": success only when the preview agrees. */
export const JOB_SUCCESS_ALIASES: ReadonlySet<string> = new Set(["succeeded", "success", "done", "finished"]);

/**
 * Preview states that mean work on it is under way (§4.1, §6): a wait for "ready" goes on through
 * them. Anything else is final: `ready`, or a state the preview will not leave by waiting (`failed`,
 * `error`, `expired`, `suspended`…), which ends the wait with that state named.
 */
export const PREVIEW_WORKING_STATES: ReadonlySet<string> = new Set([
  "provisioning",
  "creating",
  "pending",
  "queued",
  "resetting",
  "restoring",
  "resuming",
]);

/** What a job wait expects of the preview once the job is over: usable, or no longer listed (a delete). */
export type PreviewGoal = "ready" | "gone";

/** The preview a job works on: looked at when the job's state alone cannot say whether it ended. */
export interface JobPreview {
  projectId: string;
  previewId: string;
  goal: PreviewGoal;
}

/** Has the preview stopped changing, for a wait that expects `goal`? (undefined: no longer listed.) */
export function previewSettled(preview: PreviewDatabase | undefined, goal: PreviewGoal): boolean {
  if (!preview) return true;
  if (goal === "gone") return !PREVIEW_WORKING_STATES.has(preview.state) && preview.state !== "deleting" && preview.state !== "ready";
  return !PREVIEW_WORKING_STATES.has(preview.state);
}

/** The outcome of one look at a job (and, when its state is not enough, at its preview). */
export type JobVerdict =
  | { kind: "working" }
  | { kind: "succeeded"; note?: string }
  | { kind: "failed"; message: string };

/**
 * Decides from everything the job and its preview say (§3.2). `preview` is "unseen" when it was not
 * looked at, undefined when it is not listed.
 */
export function judgeJob(job: Job, preview: PreviewDatabase | undefined | "unseen", goal: PreviewGoal): JobVerdict {
  if (job.state === "completed") return { kind: "succeeded" };
  if (job.state === "failed") return { kind: "failed", message: describeJobFailure(job) };
  if (JOB_WORKING_STATES.has(job.state)) return { kind: "working" };
  const seen = preview === "unseen" ? undefined : preview;
  const ended = Boolean(job.completed_at) || (preview !== "unseen" && previewSettled(seen, goal));
  if (!ended) return { kind: "working" };
  const agrees = preview !== "unseen" && (goal === "ready" ? seen?.state === "ready" : seen === undefined);
  if (JOB_SUCCESS_ALIASES.has(job.state) && agrees) {
    return { kind: "succeeded", note: `job ${job.id} ended "${job.state}" (not "completed"); taken as success since its preview is ${goal}` };
  }
  return { kind: "failed", message: describeJobEnd(job, preview) };
}

/** A job that ended in a state that is not "completed": the state, and the server's reason. */
function describeJobEnd(job: Job, preview: PreviewDatabase | undefined | "unseen"): string {
  const previewText =
    preview === "unseen" ? "" : preview ? `; its preview is "${inert(preview.state)}"` : "; its preview is no longer listed";
  const reason = job.error || (preview !== "unseen" && preview?.last_error) || "no reason was given";
  let message = `${inert(job.type)} job ${inert(job.id)} ended in state "${inert(job.state)}" (not "completed")${previewText}: ${serverText(reason)}`;
  const tail = stderrTail(job.last_stderr ? redact(job.last_stderr) : undefined);
  if (tail) message += `\n${CONTINUATION_INDENT}--- stderr (last lines) ---\n${CONTINUATION_INDENT}${serverText(tail, { keep: "end" })}`;
  return redact(message);
}

/** The work ended and did not succeed: a job that failed or ended otherwise, or a preview in a final state. */
export class WorkFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkFailedError";
  }
}

/** The job reached "failed", or another final state that is not success. */
export class JobFailedError extends WorkFailedError {
  constructor(
    readonly job: Job,
    message = describeJobFailure(job),
  ) {
    super(message);
    this.name = "JobFailedError";
  }
}

/** The preview is in a final state that is not the one waited for (`failed`, `expired`, `suspended`…). */
export class PreviewStateError extends WorkFailedError {
  constructor(readonly preview: PreviewDatabase) {
    super(describePreviewState(preview));
    this.name = "PreviewStateError";
  }
}

export function describePreviewState(preview: PreviewDatabase): string {
  const last = preview.last_error ? `: ${serverText(preview.last_error)}` : " (no last_error was given)";
  return redact(`preview ${inert(preview.id)} is "${inert(preview.state)}", a state it will not leave by waiting${last}`);
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

/** The operation that started a background wait ended first: the wait stopped without a result. */
export class WaitAbortedError extends Error {
  constructor(readonly what: string) {
    super(`stopped waiting for ${what}: the operation ended`);
    this.name = "WaitAbortedError";
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
  signal?: AbortSignal,
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
    // The operation this wait serves has ended (failed elsewhere): not one more request for it.
    if (signal?.aborted) throw new WaitAbortedError(`${label} (${subject})`);
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
 * Waits until the job ends: returns it when it completed, throws JobFailedError when it failed or
 * ended in any other final state (named, with the server's reason), or WaitTimeoutError at the
 * deadline. Given the preview the job works on, a state the provider does not know is decided by
 * looking at the preview too (judgeJob). Given the job as its POST answer described it (not just its
 * id), the schedule can use and extend what the process learned about jobs of its type in its project.
 */
export async function waitForJob(
  ctx: WaitContext,
  jobOrId: string | Job,
  deadline: number,
  label: string,
  preview?: JobPreview,
): Promise<Job> {
  const jobId = typeof jobOrId === "string" ? jobOrId : jobOrId.id;
  const plan = (ctx.schedule ?? defaultPollSchedule).plan({
    apiUrl: ctx.client.apiUrl,
    job: typeof jobOrId === "string" ? undefined : jobOrId,
  });
  return pollUntil<Job>(ctx, plan, deadline, label, `job ${jobId}`, async (call, elapsedMs) => {
    // A 404 here counts as a poll error (§1.4): a job just created may not be visible everywhere yet.
    const job = await ctx.client.getJob(jobId, { deadline, ...call });
    const known = job.state === "completed" || job.state === "failed" || JOB_WORKING_STATES.has(job.state);
    const seen = preview && !known ? await previewOrGone(ctx, preview.projectId, preview.previewId, { deadline, ...call }) : "unseen";
    const verdict = judgeJob(job, seen, preview?.goal ?? "ready");
    if (verdict.kind === "failed") throw new JobFailedError(job, verdict.message);
    if (verdict.kind === "working") return { state: job.state, done: false };
    if (verdict.note) ctx.log.info(`${label}: ${verdict.note}`);
    if (job.state === "completed") plan.completed(job, elapsedMs);
    return { state: job.state, done: true, result: job };
  });
}

/** The preview as listed, or undefined when a well-formed list (or CapyDB's 404 for the project) proves it gone. */
async function previewOrGone(
  ctx: WaitContext,
  projectId: string,
  previewId: string,
  opts: Parameters<CapyDBClient["findPreview"]>[2],
): Promise<PreviewDatabase | undefined> {
  try {
    return await ctx.client.findPreview(projectId, previewId, opts);
  } catch (error) {
    // The project itself is gone (CapyDB's own 404), and its previews with it (§4.6).
    if (error instanceof CapyDBError && error.provesAbsence) return undefined;
    throw error;
  }
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
    const preview = await previewOrGone(ctx, projectId, previewId, { deadline, ...call });
    const state = preview?.state ?? "gone";
    return done(preview) ? { state, done: true, result: preview } : { state, done: false };
  });
}

/**
 * Waits on the list until the preview is ready (returns it) or no longer listed (undefined). A state
 * outside PREVIEW_WORKING_STATES other than `ready` (`failed`, `expired`, `suspended`…) will not
 * change by waiting: PreviewStateError at once, naming the state and its last_error.
 */
export async function waitForPreviewReady(
  ctx: WaitContext,
  projectId: string,
  previewId: string,
  deadline: number,
  label: string,
): Promise<PreviewDatabase | undefined> {
  const preview = await waitForPreview(ctx, projectId, previewId, deadline, label, (p) => previewSettled(p, "ready"));
  if (preview && preview.state !== "ready") throw new PreviewStateError(preview);
  return preview;
}

/** Reads connections until both URLs are present (they may lag behind "ready", §4.7). */
export async function waitForConnections(
  ctx: WaitContext,
  previewId: string,
  deadline: number,
  label: string,
  signal?: AbortSignal,
): Promise<ConnectionInfo> {
  const bound = Math.min(deadline, ctx.clock.now() + CONNECTIONS_MAX_WAIT_MS);
  const subject = `connection URLs of preview ${previewId}`;
  return pollUntil<ConnectionInfo>(
    ctx,
    connectionsPlan,
    bound,
    label,
    subject,
    async () => {
      const info = await ctx.client.getConnections(previewId, { deadline: bound });
      return info.direct_url && info.pooled_url ? { state: "present", done: true, result: info } : { state: "missing", done: false };
    },
    signal,
  );
}
