/**
 * TTL keep-alive: `pulumi up` renews a preview's TTL once enough of it has been used, so a branch
 * that is still pushed keeps its database, and a forgotten one still expires.
 *
 * The rule: renew when less than `keepAlive` hours are left, where `keepAlive: true` (the default)
 * means half of `ttlHours`, a number means that many hours, and `false` switches renewal off.
 * A renewal is the API's extend with `ttlHours` (expiry = time of the update + ttlHours), so it can
 * only lengthen the life: it happens only when fewer than ttlHours are left.
 *
 * Decided in diff (offline: stored outputs + the clock), so `pulumi preview` shows it as an update;
 * decided again in update with the same clock rule, which then checks the live expiry first. `now` is
 * always CapyDB's time (server-clock.ts): `ttl_expires_at` is CapyDB's timestamp, and a runner whose
 * clock is hours off must neither renew a fresh TTL on every up nor let one run out.
 */
import { DEFAULT_TTL_HOURS } from "./inputs";
import { isUnknown } from "./unknown";

const HOUR_MS = 3_600_000;
export const DEFAULT_KEEP_ALIVE = true;

export interface RenewalDecision {
  due: boolean;
  /** Why a renewal is due, for the progress line of diff (preview) and update. */
  reason?: string;
}

const NOT_DUE: RenewalDecision = { due: false };

/** Hours left below which a renewal is due, or undefined when keep-alive is off or undecidable. */
export function renewBelowHours(keepAlive: unknown, ttlHours: number): number | undefined {
  if (keepAlive === undefined || keepAlive === null || keepAlive === true) return ttlHours / 2;
  if (typeof keepAlive === "number" && keepAlive > 0) return Math.min(keepAlive, ttlHours);
  return undefined;
}

/**
 * Is a renewal due? olds = stored outputs (the preview as last seen), news = checked inputs,
 * serverNow = CapyDB's current time (our clock plus the measured offset).
 * Only for a ready preview whose expiry is known; never while the inputs are unknown (preview).
 */
export function renewalDue(olds: Record<string, unknown>, news: Record<string, unknown>, serverNow: number): RenewalDecision {
  if (olds.state !== "ready") return NOT_DUE;
  const ttlRaw = news.ttlHours ?? DEFAULT_TTL_HOURS;
  if (isUnknown(ttlRaw) || isUnknown(news.keepAlive) || typeof ttlRaw !== "number") return NOT_DUE;
  const ttlHours = ttlRaw;
  const below = renewBelowHours(news.keepAlive, ttlHours);
  if (below === undefined) return NOT_DUE;
  const expiresAt = typeof olds.ttlExpiresAt === "string" ? Date.parse(olds.ttlExpiresAt) : NaN;
  if (Number.isNaN(expiresAt)) return NOT_DUE;
  const leftMs = expiresAt - serverNow;
  if (leftMs >= below * HOUR_MS) return NOT_DUE;
  const rule = news.keepAlive === undefined || news.keepAlive === null || news.keepAlive === true
    ? `less than half of ttlHours (${formatHours(below * HOUR_MS)})`
    : `less than keepAlive (${formatHours(below * HOUR_MS)})`;
  const left = leftMs > 0 ? `${formatHours(leftMs)} of ${ttlHours}h left` : `expired at ${olds.ttlExpiresAt} by CapyDB's clock`;
  return { due: true, reason: `TTL renewal due: ${left}, ${rule}; the update extends it to ${ttlHours}h from the time it runs` };
}

/**
 * "13h05m", "45m", "72h": hours and minutes only, the unit of ttlHours, so that two durations in one
 * line ("47h59m of 72h left") always read alike.
 */
export function formatHours(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m ? `${h}h${String(m).padStart(2, "0")}m` : `${h}h`;
}
