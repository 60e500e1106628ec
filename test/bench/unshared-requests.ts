import { Clock } from "../../provider/clock";
import type { RequestPolicy, RequestSlot } from "../../provider/request-budget";
import { failureRetryDelayMs, parseRetryAfter, rateLimitDelayMs } from "../../provider/retry";

/**
 * The request policies of clients that share nothing between calls: every request goes at once, and
 * what happens after a 429 concerns only the call that got it. Neither is the provider's default (the
 * shared budget of request-budget.ts); they are kept, as RequestPolicy implementations handed to the
 * same client through `clientOptions.budget`, so that the benchmark compares them with it side by side
 * (test/bench/strategies.ts). Failed GETs are retried on the official schedule as is, +1 s and +3 s,
 * without jitter, as both clients do.
 */

/** Nothing is reported back: no one else's requests depend on how this one went. */
const UNSHARED_SLOT: RequestSlot = { answered: () => undefined };

abstract class UnsharedRequests implements RequestPolicy {
  /** No caller is ever paused on another's behalf. */
  readonly resumesAt = 0;

  /** No pacing and no queue: the slot is granted at once, whatever else is in flight. */
  acquire(): Promise<RequestSlot | undefined> {
    return Promise.resolve(UNSHARED_SLOT);
  }

  abstract afterLimited(count: number, retryAfter: string | string[] | undefined): number | "final";

  failureRetryDelayMs(attempt: number): number {
    return failureRetryDelayMs(attempt);
  }
}

/**
 * pulumi-capydb 0.1.0: each call backs off on its own after a 429. Retry-After is honoured as given
 * (capped at 60 s, no floor, no jitter); without it, 1 s, 2 s, 4 s … 30 s for the call's 1st, 2nd, 3rd…
 * 429, jittered down to half. Calls that were refused together come back together with Retry-After.
 */
export class IndependentBackoff extends UnsharedRequests {
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(options: { clock: Clock; random?: () => number }) {
    super();
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
  }

  afterLimited(count: number, retryAfter: string | string[] | undefined): number {
    return parseRetryAfter(retryAfter, this.clock.now()) ?? rateLimitDelayMs(count, this.random);
  }
}

/**
 * The official Go transport (the CapyDB CLI and Terraform provider, capydb-api.md §1.5 and §5): a 429
 * is not retried; the call fails with it at once.
 */
export class LimitIsFinal extends UnsharedRequests {
  afterLimited(): "final" {
    return "final";
  }
}
