import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { resolveTimeoutMs, Timeouts } from "../inputs";
import { formatElapsed } from "../log";
import { conflictDelayMs } from "../retry";
import type { Job } from "../api-types";
import { waitForJob, waitForPreview, WaitTimeoutError, WorkFailedError } from "../wait";
import { isPendingCreateId, resolvePendingCreate } from "./pending-create";

const MAX_DELETE_ATTEMPTS = 3;

/**
 * Deletes a preview and waits until CapyDB has finished. Gone already (CapyDB's own 404, or a
 * well-formed list without it) is success: destroy must never get stuck on a preview that expired.
 * Anything short of that proof (a proxy's 404 page, a list that cannot be read) is an error, and the
 * preview stays in the stack.
 */
export async function deletePreviewAndWait(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  deadline: number,
  label: string,
): Promise<void> {
  const started = ctx.clock.now();
  for (let attempt = 1; ; attempt++) {
    let job: Job | undefined;
    try {
      job = await ctx.client.deletePreview(previewId, { deadline });
    } catch (error) {
      if (!(error instanceof CapyDBError)) throw error;
      if (error.provesAbsence) {
        ctx.log.info(`${label}: preview ${previewId} is already gone`);
        return;
      }
      if (!error.isConflict && !error.maybeApplied) throw error;
      // Busy, or the answer was lost: look at the preview before deciding to send DELETE again.
      const preview = await ctx.client.findPreview(projectId, previewId, { deadline });
      if (!preview) return;
      if (preview.state === "deleting") {
        await waitForPreview(ctx, projectId, previewId, deadline, label, (p) => p === undefined);
        return;
      }
      if (attempt >= MAX_DELETE_ATTEMPTS && !error.isConflict) throw error;
      const delay = conflictDelayMs(attempt, ctx.random);
      if (ctx.clock.now() + delay > deadline) throw error;
      await ctx.clock.sleep(delay);
      continue;
    }
    ctx.log.info(`${label}: delete of preview ${previewId} accepted${job ? ` (job ${job.id})` : ""}`);
    if (job) await waitForJob(ctx, job, deadline, label, { projectId, previewId, goal: "gone" });
    else await waitForPreview(ctx, projectId, previewId, deadline, label, (p) => p === undefined);
    ctx.log.info(`${label}: preview ${previewId} deleted in ${formatElapsed(ctx.clock.now() - started)}`);
    return;
  }
}

/** delete(id, outputs): everything needed is in the outputs, since current inputs are not sent. */
export async function deleteOperation(ctx: OperationContext, id: string, props: Record<string, unknown>): Promise<void> {
  const projectId = String(props.projectId ?? "");
  const name = typeof props.name === "string" ? props.name : id;
  const deadline = ctx.clock.now() + resolveTimeoutMs(props.timeouts as Timeouts | undefined, "delete");
  try {
    let previewId = id;
    if (isPendingCreateId(id)) {
      const preview = await resolvePendingCreate(ctx, id, props, deadline);
      if (!preview) {
        ctx.log.info(`delete ${name}: no preview is named "${name}": the create recorded as pending never reached CapyDB; nothing to delete`);
        return;
      }
      previewId = preview.id;
    }
    await deletePreviewAndWait(ctx, projectId, previewId, deadline, `delete ${name}`);
  } catch (error) {
    // Throwing keeps the resource in state, so a later destroy can try again: say so.
    const what =
      error instanceof WorkFailedError || error instanceof WaitTimeoutError || error instanceof CapyDBError
        ? error.message
        : String(error);
    throw new Error(
      `Deleting preview "${name}" (${id}) did not finish: ${what}\n` +
        "The preview stays in the stack; run `pulumi destroy` (or `pulumi up`) again to retry" +
        (error instanceof WaitTimeoutError ? ", or raise `timeouts.delete`." : "."),
    );
  }
}
