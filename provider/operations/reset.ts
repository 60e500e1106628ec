import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { failureRetryDelayMs } from "../retry";
import type { Job } from "../api-types";
import { retryWhileBusy } from "./conflict";

/**
 * Reset wipes the preview's data, and a POST is never resent blindly (§4.9): after a lost answer the
 * reset may well be running. CapyDB has no idempotency token, but every reset starts a job on the
 * preview, and the project's job list (E10) is newest first. So the newest job of the preview is
 * noted before the reset is sent, and "a job of the preview newer than that one" is the proof that a
 * reset landed, within this update or, recorded as `pendingReset`, on the next `pulumi up`.
 */

/** How many of the project's newest jobs are searched. */
const JOB_SCAN = 50;
const MAX_RESET_SENDS = 3;

/** Recorded in the outputs when a reset was sent but whether it landed could not be learned. */
export interface PendingReset {
  /** The resetTrigger value the reset was sent for. */
  trigger: string;
  /** The preview's newest job before the reset was sent; null when none was listed. */
  afterJobId: string | null;
}

export function isPendingReset(value: unknown): value is PendingReset {
  const v = value as PendingReset | null | undefined;
  return typeof v === "object" && v !== null && typeof v.trigger === "string" && (v.afterJobId === null || typeof v.afterJobId === "string");
}

/** The reset was sent, and whether it landed could not be learned before the deadline. */
export class ResetOutcomeUnknownError extends Error {
  constructor(readonly anchor: string | null, reason: string) {
    super(reason);
    this.name = "ResetOutcomeUnknownError";
  }
}

/** The preview's newest listed job id (null when none of the listed jobs is the preview's). */
export async function newestJobOf(ctx: OperationContext, projectId: string, previewId: string, deadline: number): Promise<string | null> {
  const jobs = await ctx.client.listJobs(projectId, JOB_SCAN, { deadline });
  return jobs.find((j) => j.preview_database_id === previewId)?.id ?? null;
}

/**
 * A job of the preview listed above `afterJobId` (any of its jobs, when that one is no longer
 * listed): with one mutating operation per preview at a time (§6), that is the reset we sent.
 */
export async function findJobSince(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  afterJobId: string | null,
  deadline: number,
): Promise<Job | undefined> {
  const jobs = await ctx.client.listJobs(projectId, JOB_SCAN, { deadline });
  const cut = afterJobId === null ? -1 : jobs.findIndex((j) => j.id === afterJobId);
  const newer = cut === -1 ? jobs : jobs.slice(0, cut);
  return newer.find((j) => j.preview_database_id === previewId && (afterJobId === null || j.id !== afterJobId));
}

/**
 * Sends a reset and returns its job, reconciling a lost answer by the job list before sending again.
 * Throws ResetOutcomeUnknownError when the reset was sent and its fate stays unknown.
 */
export async function resetReconciled(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  anchor: string | null,
  deadline: number,
  label: string,
): Promise<Job> {
  for (let sends = 1; ; sends++) {
    let lost: CapyDBError;
    try {
      return await retryWhileBusy(ctx, deadline, label, () => ctx.client.resetPreview(previewId, { deadline }), { projectId, previewId });
    } catch (error) {
      if (!(error instanceof CapyDBError) || !error.maybeApplied) throw error;
      lost = error;
    }
    let landed: Job | undefined;
    try {
      landed = await findJobSince(ctx, projectId, previewId, anchor, deadline);
    } catch (error) {
      throw new ResetOutcomeUnknownError(anchor, `the reset's answer was lost (${lost.message}) and the job list could not be read (${(error as Error).message})`);
    }
    if (landed) {
      ctx.log.info(`${label}: the reset's answer was lost, but its job ${landed.id} is listed; waiting for it instead of resetting again`);
      return landed;
    }
    const delay = failureRetryDelayMs(sends, ctx.random);
    if (sends >= MAX_RESET_SENDS || ctx.clock.now() + delay > deadline) {
      // Not listed: most likely never applied, but a late one cannot be ruled out. Keep it recorded.
      throw new ResetOutcomeUnknownError(anchor, `the reset's answer was lost (${lost.message}) and no reset job is listed yet`);
    }
    ctx.log.info(`${label}: the reset's answer was lost and no reset job is listed, so it did not land; sending it again in ${Math.round(delay / 1000)}s`);
    await ctx.clock.sleep(delay);
  }
}
