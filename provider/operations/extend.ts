import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { failureRetryDelayMs } from "../retry";
import type { PreviewDatabase } from "../api-types";
import { retryWhileBusy } from "./conflict";
import { PreviewGoneError } from "./create";

const MAX_EXTEND_SENDS = 3;
/**
 * Extend sets expiry = server time + ttl_hours (§4.2). After a lost answer, an expiry within this
 * much of (send time + ttl_hours) means the extend landed; the margin absorbs clock skew and a
 * server that applied it late.
 */
export const EXTEND_MATCH_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;

/**
 * Extend, with a lost answer reconciled by the preview's expiry before anything is sent again.
 * Sending twice would do no harm (extend is absolute), but an update must not fail, or report a
 * stale expiry, because one answer went missing.
 */
export async function extendReconciled(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  ttlHours: number,
  deadline: number,
  label: string,
): Promise<PreviewDatabase> {
  for (let sends = 1; ; sends++) {
    // In CapyDB's time: the expiry it sets is its clock plus ttl_hours.
    const sentAt = ctx.serverNow();
    let lost: CapyDBError;
    try {
      return await retryWhileBusy(ctx, deadline, label, () => ctx.client.extendPreview(previewId, ttlHours, { deadline }), { projectId, previewId });
    } catch (error) {
      if (!(error instanceof CapyDBError) || !error.maybeApplied) throw error;
      lost = error;
    }
    const preview = await ctx.client.findPreview(projectId, previewId, { deadline });
    if (!preview) throw new PreviewGoneError(previewId, projectId);
    const expiresAt = Date.parse(preview.ttl_expires_at);
    if (!Number.isNaN(expiresAt) && Math.abs(expiresAt - (sentAt + ttlHours * HOUR_MS)) <= EXTEND_MATCH_MS) {
      ctx.log.info(`${label}: the extend's answer was lost, but the preview now expires at ${preview.ttl_expires_at}: it landed`);
      return preview;
    }
    const delay = failureRetryDelayMs(sends, Math.random);
    if (sends >= MAX_EXTEND_SENDS || ctx.clock.now() + delay > deadline) throw lost;
    ctx.log.info(`${label}: the extend's answer was lost and the expiry did not move; sending it again in ${Math.round(delay / 1000)}s`);
    await ctx.clock.sleep(delay);
  }
}
