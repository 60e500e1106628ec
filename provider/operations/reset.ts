import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import type { Job } from "../api-types";
import { retryWhileBusy } from "./conflict";
import { sendReconciled } from "./send-reconciled";

/**
 * Reset wipes the preview's data, and a POST is never resent blindly (§4.9): after a lost answer the
 * reset may well be running. CapyDB has no idempotency token, but every reset starts a job on the
 * preview, and the project's job list (E10) is newest first. So the newest job of the preview is
 * noted before the reset is sent, and "a job of the preview newer than that one" is the proof that a
 * reset landed, within this update or, recorded as `pendingReset`, on the next `pulumi up`.
 */

/** How many of the project's newest jobs are searched. */
const JOB_SCAN = 50;

/**
 * The preview's newest listed job before the reset (null: none of the listed jobs is the preview's),
 * or undefined when the job list could not be read: then a lost answer cannot be reconciled.
 */
export type ResetAnchor = string | null | undefined;

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

/** The reset was sent, its answer was lost, and without the job list nothing can tell whether it landed. */
export class ResetUnreconcilableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ResetUnreconcilableError";
  }
}

/**
 * The preview's newest listed job id, noted before a reset. A job list that cannot be read (an API
 * that does not list preview jobs there answers 404, E10) proves nothing about the preview: the reset
 * goes ahead, and only a lost answer loses its reconciliation, said here in one line.
 */
export async function newestJobOf(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  deadline: number,
  label: string,
): Promise<ResetAnchor> {
  try {
    const jobs = await ctx.client.listJobs(projectId, JOB_SCAN, { deadline });
    return jobs.find((j) => j.preview_database_id === previewId)?.id ?? null;
  } catch (error) {
    if (!(error instanceof CapyDBError) || error.isAuth || error.kind === "config") throw error;
    ctx.log.info(
      `${label}: the project's job list cannot be read (${error.message}); resetting anyway, but a lost answer to the reset could not be reconciled`,
    );
    return undefined;
  }
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
 * Throws ResetOutcomeUnknownError when the reset was sent and its fate stays unknown, and
 * ResetUnreconcilableError when the answer was lost and the job list could not be read before.
 */
export async function resetReconciled(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  anchor: ResetAnchor,
  deadline: number,
  label: string,
): Promise<Job> {
  return sendReconciled<Job>(ctx, {
    what: "reset",
    label,
    deadline,
    // One mutating call per preview at a time (§6): a 409 while another operation runs is waited out.
    send: () => retryWhileBusy(ctx, deadline, label, () => ctx.client.resetPreview(previewId, { deadline }), { projectId, previewId }),
    reconcile: async (lost) => {
      if (anchor === undefined) {
        throw new ResetUnreconcilableError(`the reset's answer was lost (${lost.message}), and the job list, which would show whether it landed, cannot be read`);
      }
      let landed: Job | undefined;
      try {
        landed = await findJobSince(ctx, projectId, previewId, anchor, deadline);
      } catch (error) {
        throw new ResetOutcomeUnknownError(anchor, `the reset's answer was lost (${lost.message}) and the job list could not be read (${(error as Error).message})`);
      }
      if (landed) ctx.log.info(`${label}: the reset's answer was lost, but its job ${landed.id} is listed; waiting for it instead of resetting again`);
      return landed;
    },
    // Not listed: most likely never applied, but a late one cannot be ruled out. Keep it recorded.
    unknown: (lost) => new ResetOutcomeUnknownError(anchor ?? null, `the reset's answer was lost (${lost.message}) and no reset job is listed yet`),
  });
}
