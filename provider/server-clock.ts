/**
 * CapyDB's clock, as seen from this machine. Every time the provider compares one of CapyDB's
 * timestamps (`ttl_expires_at`, `created_at`) with "now", "now" must be CapyDB's: a CI runner whose
 * clock is hours off would otherwise renew a fresh TTL on every `up`, let a TTL run out, or take its
 * own preview for someone else's.
 *
 * The offset (server time minus local time) is measured from the `Date` header of every answer, the
 * way NTP does it: the server read its clock somewhere between our send and our receipt, so the
 * estimate is `Date − midpoint`, good to half the round trip plus the header's one-second
 * resolution; the answer with the shortest round trip wins. diff runs offline, so the offset last
 * measured is also kept in the resource's state (`__serverClockSkewMs`, see SKEW_OUTPUT).
 */

/** The state key of the stored offset. The `__` prefix keeps it out of the CLI's diffs, like `__provider`. */
export const SKEW_OUTPUT = "__serverClockSkewMs";

/**
 * Offsets below this are measurement noise (the Date header has one-second resolution) or the
 * ordinary drift of synchronised clocks: they count as 0, so that state does not change with every
 * measurement and exact rules (renew when less than half is left) are decided exactly as the
 * local clock says on a well-kept machine.
 */
export const NEGLIGIBLE_SKEW_MS = 60_000;

export class ServerClock {
  private best: { skewMs: number; roundTripMs: number } | undefined;

  /** One answer: its `Date` header and the local send and receive times. Unreadable headers are ignored. */
  observe(dateHeader: string | string[] | undefined, sentAt: number, receivedAt: number): void {
    const text = Array.isArray(dateHeader) ? dateHeader[0] : dateHeader;
    if (!text) return;
    const date = Date.parse(text);
    if (Number.isNaN(date) || receivedAt < sentAt) return;
    // The header is cut to the second: the server's reading was up to 999 ms later than it says.
    const skewMs = date + 500 - (sentAt + receivedAt) / 2;
    const roundTripMs = receivedAt - sentAt;
    if (!this.best || roundTripMs <= this.best.roundTripMs) this.best = { skewMs, roundTripMs };
  }

  /** Server time minus local time, settled (see settledSkewMs); undefined before any dated answer. */
  skewMs(): number | undefined {
    return this.best === undefined ? undefined : settledSkewMs(this.best.skewMs);
  }
}

/**
 * Whole minutes, and 0 below NEGLIGIBLE_SKEW_MS: finer would be noise (the header's resolution, the
 * round trip), and a stable value keeps state from changing with every measurement.
 */
export function settledSkewMs(rawMs: number): number {
  if (!Number.isFinite(rawMs) || Math.abs(rawMs) < NEGLIGIBLE_SKEW_MS) return 0;
  return Math.round(rawMs / 60_000) * 60_000;
}

/** The offset a resource's state recorded; 0 for state written before it was recorded (0.1.0). */
export function storedSkewMs(props: Record<string, unknown> | undefined): number {
  const value = props?.[SKEW_OUTPUT];
  return typeof value === "number" && Number.isFinite(value) ? settledSkewMs(value) : 0;
}
