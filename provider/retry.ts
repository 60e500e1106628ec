/**
 * When a failed request is sent again (capydb-api.md §1.4-1.5). Kept apart from the transport so the
 * rules can be read, and tested, in one place.
 */

/** GETs on network errors, 408, 5xx: the official schedule, 3 attempts at +0 s, +1 s, +3 s. */
export const GET_RETRY_DELAYS_MS = [1_000, 2_000];
/**
 * Every retry waits at least this long, whatever a schedule or a server says: a zero wait turns a
 * failing endpoint into a tight loop, and many CI jobs retrying in lockstep into a stampede.
 */
export const RETRY_FLOOR_MS = 250;
/** Jitter spreads each nominal wait over ±25 %, so that callers that failed together do not retry together. */
export const RETRY_JITTER = 0.25;

/** 429 without Retry-After: exponential from 1 s, capped at 30 s, with jitter so callers spread out. */
export const RATE_LIMIT_BASE_MS = 1_000;
export const RATE_LIMIT_CAP_MS = 30_000;
/** A Retry-After longer than this is not honoured literally: a minute is the most we idle per answer. */
export const RETRY_AFTER_CAP_MS = 60_000;

export function isIdempotentMethod(method: string): boolean {
  return method === "GET" || method === "HEAD";
}

/**
 * Only GETs are resent after a server or transport failure: a POST or DELETE may have been applied
 * even though the answer was lost, so those are reconciled by the caller instead.
 */
export function shouldRetryFailure(method: string, status: number | undefined, attempt: number): boolean {
  if (!isIdempotentMethod(method)) return false;
  if (attempt > GET_RETRY_DELAYS_MS.length) return false;
  return status === undefined || status === 408 || status >= 500;
}

/**
 * The wait before retry number `attempt` (from 1). Without `random`, the nominal schedule; with it,
 * the nominal wait jittered by ±25 % (random() = 0.5 gives the nominal value), never under the floor.
 */
export function failureRetryDelayMs(attempt: number, random?: () => number): number {
  const nominal = GET_RETRY_DELAYS_MS[Math.min(attempt, GET_RETRY_DELAYS_MS.length) - 1];
  return random ? jittered(nominal, random) : nominal;
}

/** `nominal` spread over ±RETRY_JITTER, floored at RETRY_FLOOR_MS. */
export function jittered(nominal: number, random: () => number): number {
  const spread = 1 - RETRY_JITTER + 2 * RETRY_JITTER * random();
  return Math.max(RETRY_FLOOR_MS, Math.round(nominal * spread));
}

/** Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === "") return undefined;
  const trimmed = raw.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = date - nowMs;
  }
  return Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS);
}

/** Backoff for the nth consecutive 429 (n from 1): 1 s, 2 s, 4 s … 30 s, then jittered down to half. */
export function rateLimitDelayMs(n: number, random: () => number = Math.random): number {
  const full = Math.min(RATE_LIMIT_CAP_MS, RATE_LIMIT_BASE_MS * 2 ** (n - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Backoff while a preview has another operation running (409): same curve as rate limits. */
export const conflictDelayMs = rateLimitDelayMs;
