import { OperationContext } from "../context";
import type { PreviewDatabase } from "../api-types";
import { PreviewGoneError } from "./create";
import { extendReconciled } from "./extend";

const HOUR_MS = 3_600_000;

export interface RenewRequest {
  projectId: string;
  previewId: string;
  ttlHours: number;
  deadline: number;
  label: string;
  /** From keep-alive.ts: why the renewal is due (hours left, the rule). */
  reason: string;
}

/**
 * The keep-alive renewal: extend with ttlHours (absolute: expiry = now + ttlHours). The decision was
 * made from stored state; the live expiry may be later (extended outside Pulumi, or state older than
 * the last renewal), and an extend would then shorten it: skip, and publish the live expiry instead.
 */
export async function renewTtl(ctx: OperationContext, req: RenewRequest): Promise<PreviewDatabase> {
  const { projectId, previewId, ttlHours, deadline, label } = req;
  const live = await ctx.client.findPreview(projectId, previewId, { deadline });
  if (!live) throw new PreviewGoneError(previewId, projectId);
  const liveExpiry = Date.parse(live.ttl_expires_at);
  if (!Number.isNaN(liveExpiry) && liveExpiry >= ctx.serverNow() + ttlHours * HOUR_MS) {
    ctx.log.info(
      `${label}: no TTL renewal: preview ${previewId} already expires at ${live.ttl_expires_at}, ` +
        `later than a renewal to ${ttlHours}h from now would`,
    );
    return live;
  }
  ctx.log.info(`${label}: ${req.reason}; extending preview ${previewId} to ${ttlHours}h from now`);
  return extendReconciled(ctx, projectId, previewId, ttlHours, deadline, label);
}
