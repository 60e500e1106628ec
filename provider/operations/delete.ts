import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { resolveTimeoutMs, Timeouts } from "../inputs";
import { formatElapsed } from "../log";
import { conflictDelayMs } from "../retry";
import type { Job } from "../api-types";
import { waitForJob, waitForPreview, WaitTimeoutError, WorkFailedError } from "../wait";
import { isPendingCreateId, resolvePending } from "./pending-create";
import { sendReconciled } from "./send-reconciled";

/** What a DELETE led to: its job, or the preview already gone, or a delete already running on it. */
type DeleteSent = { kind: "accepted"; job?: Job } | { kind: "gone" } | { kind: "deleting" };

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
  /** The preview says the delete is done or under way; undefined: it is listed and not being deleted. */
  const look = async (): Promise<DeleteSent | undefined> => {
    const preview = await ctx.client.findPreview(projectId, previewId, { deadline });
    if (!preview) return { kind: "gone" };
    return preview.state === "deleting" ? { kind: "deleting" } : undefined;
  };
  const sent = await sendReconciled<DeleteSent>(ctx, {
    what: "delete",
    label,
    deadline,
    send: async () => {
      for (let busy = 1; ; busy++) {
        try {
          return { kind: "accepted", job: await ctx.client.deletePreview(previewId, { deadline }) };
        } catch (error) {
          if (!(error instanceof CapyDBError)) throw error;
          if (error.provesAbsence) return { kind: "gone" };
          if (!error.isConflict) throw error;
          // Busy: another operation (perhaps a delete) runs on it. Look before sending DELETE again.
          const seen = await look();
          if (seen) return seen;
          const delay = conflictDelayMs(busy, ctx.random);
          if (ctx.clock.now() + delay > deadline) throw error;
          ctx.log.info(`${label}: the preview is busy (${error.serverMessage ?? error.status}); retrying in ${Math.round(delay / 1000)}s`);
          await ctx.clock.sleep(delay);
        }
      }
    },
    reconcile: () => look(),
    unknown: (lost) => lost,
  });
  if (sent.kind === "gone") {
    ctx.log.info(`${label}: preview ${previewId} is already gone`);
    return;
  }
  if (sent.kind === "accepted") ctx.log.info(`${label}: delete of preview ${previewId} accepted${sent.job ? ` (job ${sent.job.id})` : ""}`);
  if (sent.kind === "accepted" && sent.job) await waitForJob(ctx, sent.job, deadline, label, { projectId, previewId, goal: "gone" });
  else await waitForPreview(ctx, projectId, previewId, deadline, label, (p) => p === undefined);
  ctx.log.info(`${label}: preview ${previewId} deleted in ${formatElapsed(ctx.clock.now() - started)}`);
}

/** delete(id, outputs): everything needed is in the outputs, since current inputs are not sent. */
export async function deleteOperation(ctx: OperationContext, id: string, props: Record<string, unknown>): Promise<void> {
  const projectId = String(props.projectId ?? "");
  const name = typeof props.name === "string" ? props.name : id;
  const deadline = ctx.clock.now() + resolveTimeoutMs(props.timeouts as Timeouts | undefined, "delete");
  // The id the error names: the real one once a pending-create stand-in is resolved.
  let previewId = id;
  try {
    if (isPendingCreateId(id)) {
      const preview = await resolvePending(ctx, id, props, deadline, `delete ${name}`);
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
      `Deleting preview "${name}" (${previewId}${previewId !== id ? `, recorded in the stack as ${id}` : ""}) did not finish: ${what}\n` +
        "The preview stays in the stack; run `pulumi destroy` (or `pulumi up`) again to retry" +
        (error instanceof WaitTimeoutError ? ", or raise `timeouts.delete`." : "."),
    );
  }
}
