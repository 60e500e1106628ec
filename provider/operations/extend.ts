import { OperationContext } from "../context";
import type { PreviewDatabase } from "../api-types";
import { retryWhileBusy } from "./conflict";
import { PreviewGoneError } from "./create";
import { sendReconciled } from "./send-reconciled";

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
  return sendReconciled<PreviewDatabase>(ctx, {
    what: "extend",
    label,
    deadline,
    send: () => retryWhileBusy(ctx, deadline, label, () => ctx.client.extendPreview(previewId, ttlHours, { deadline }), { projectId, previewId }),
    reconcile: async (_lost, { sentAt }) => {
      const preview = await ctx.client.findPreview(projectId, previewId, { deadline });
      if (!preview) throw new PreviewGoneError(previewId, projectId);
      // In CapyDB's time: the expiry it sets is its clock plus ttl_hours.
      const expiresAt = Date.parse(preview.ttl_expires_at);
      if (Number.isNaN(expiresAt) || Math.abs(expiresAt - (sentAt + ctx.serverSkewMs() + ttlHours * HOUR_MS)) > EXTEND_MATCH_MS) return undefined;
      ctx.log.info(`${label}: the extend's answer was lost, but the preview now expires at ${preview.ttl_expires_at}: it landed`);
      return preview;
    },
    unknown: (lost) => lost,
  });
}
