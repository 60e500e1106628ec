import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { conflictDelayMs } from "../retry";
import { serverText } from "../server-text";
import type { Job, PreviewDatabase } from "../api-types";
import { judgeJob, PREVIEW_WORKING_STATES } from "../wait";

/** How many of the project's newest jobs are searched for one still running on the preview. */
const ACTIVE_JOB_SCAN = 50;

/** A preview that cannot take the call now and will not become able to by waiting: say so at once. */
export class PreviewNotUsableError extends Error {
  constructor(
    readonly previewId: string,
    readonly reason: "gone" | "expired" | "not-ready",
    message: string,
  ) {
    super(message);
    this.name = "PreviewNotUsableError";
  }
}

type Refusal = { busy: true; why: string } | { busy: false; error: PreviewNotUsableError };

/**
 * Why a 409 on a preview: "busy" (another operation runs on it: waiting helps) or "not usable"
 * (gone, expired, or in a state that is not ready and will not become ready by waiting: waiting until
 * the update timeout only delays the way out). The API says both with 409 and only its message tells
 * them apart, which clients must not branch on (§1.3). The preview itself decides first; the project's
 * job list only refines "busy" (which job), since it may not list preview jobs at all (E10): a job
 * list that cannot be read proves nothing.
 */
export async function explainRefusal(ctx: OperationContext, projectId: string, previewId: string, deadline: number): Promise<Refusal> {
  let preview: PreviewDatabase | undefined;
  try {
    preview = await ctx.client.findPreview(projectId, previewId, { deadline });
  } catch (error) {
    // CapyDB's own 404 for the project: it is gone, and its previews with it (§4.6).
    if (!(error instanceof CapyDBError && error.provesAbsence)) {
      // Cannot look: waiting is the cautious answer, the deadline still bounds it.
      return { busy: true, why: `could not inspect the preview: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  if (!preview) {
    return { busy: false, error: new PreviewNotUsableError(previewId, "gone", `preview ${previewId} is no longer listed in project ${projectId}: it expired or was deleted`) };
  }
  const expiresAt = Date.parse(preview.ttl_expires_at);
  // CapyDB's expiry against CapyDB's clock (server-clock.ts): a runner hours off must not call a live preview expired.
  if (!Number.isNaN(expiresAt) && expiresAt <= ctx.serverNow()) {
    return {
      busy: false,
      error: new PreviewNotUsableError(previewId, "expired", `preview ${previewId} expired at ${preview.ttl_expires_at} and is waiting to be removed by CapyDB`),
    };
  }
  if (preview.state === "deleting") {
    return { busy: false, error: new PreviewNotUsableError(previewId, "gone", `preview ${previewId} is being deleted`) };
  }
  // Provisioning, resetting…: an operation is under way on it, and waiting for it is what helps.
  if (PREVIEW_WORKING_STATES.has(preview.state)) return { busy: true, why: `the preview is ${preview.state}` };
  if (preview.state !== "ready") {
    const last = preview.last_error ? ` (last error: ${serverText(preview.last_error)})` : "";
    return {
      busy: false,
      error: new PreviewNotUsableError(previewId, "not-ready", `preview ${previewId} is "${preview.state}", not ready, and will not become ready by waiting${last}`),
    };
  }
  return { busy: true, why: await busyJobOf(ctx, projectId, previewId, deadline) };
}

/** Which job keeps a ready preview busy, as far as the job list tells; never an error. */
async function busyJobOf(ctx: OperationContext, projectId: string, previewId: string, deadline: number): Promise<string> {
  let jobs: Job[];
  try {
    jobs = await ctx.client.listJobs(projectId, ACTIVE_JOB_SCAN, { deadline });
  } catch (error) {
    return `the preview is ready; its jobs could not be listed (${error instanceof Error ? error.message : String(error)})`;
  }
  // Still working by judgeJob's rule: a job in an unknown state that has ended (completed_at) is not active.
  const active = jobs.find((j) => j.preview_database_id === previewId && judgeJob(j, "unseen", "ready").kind === "working");
  if (active) return `job ${active.id} is ${active.state}`;
  return "the preview is ready and idle, so CapyDB is busy elsewhere";
}

/**
 * Runs a mutating call on a preview, backing off while the preview has another operation running
 * (409, §6: one mutating call per preview at a time) until the deadline. A 409 from a preview that
 * is gone, expired or not ready fails at once with PreviewNotUsableError.
 */
export async function retryWhileBusy<T>(
  ctx: OperationContext,
  deadline: number,
  label: string,
  call: () => Promise<T>,
  target?: { projectId: string; previewId: string },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof CapyDBError) || !error.isConflict) throw error;
      let why = error.serverMessage ?? String(error.status);
      if (target) {
        const refusal = await explainRefusal(ctx, target.projectId, target.previewId, deadline);
        if (!refusal.busy) throw refusal.error;
        why = `${why}: ${refusal.why}`;
      }
      const delay = conflictDelayMs(attempt, ctx.random);
      if (ctx.clock.now() + delay > deadline) throw error;
      ctx.log.info(`${label}: the preview is busy (${why}); retrying in ${Math.round(delay / 1000)}s`);
      await ctx.clock.sleep(delay);
    }
  }
}
