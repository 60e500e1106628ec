import { createHash } from "crypto";
import { Clock } from "./clock";
import { failureRetryDelayMs, rateLimitDelayMs } from "./retry";

/**
 * One request budget per API key and URL in the process, shared by every operation (capydb-api.md
 * §1.5: limits exist, are keyed per caller, and are undocumented). Every request takes a slot from it
 * first, so a 429 slows everyone down at once instead of each operation backing off on its own and
 * all of them coming back in the same second.
 *
 * - Pacing: a token bucket. The rate starts low and doubles per second of demand (slow start) until
 *   the first 429; then it is set just under the rate that was getting through and creeps up slowly
 *   (additive increase, multiplicative decrease), with no burst beyond one request, since a burst on
 *   top of a full rate is exactly what a fixed-window limiter refuses. A 429 before anything of ours
 *   got through means other processes fill the key: the rate starts again from 1/s.
 * - A 429 pauses the whole budget: for the server's Retry-After (with a floor and jitter, never
 *   shorter), or for an exponential backoff when there is none. So does a 503 with Retry-After
 *   (maintenance), without changing the pacing.
 * - Calls that move work forward go first; reads many operations can share next (waiting lets more
 *   of them join one request); polls of jobs that are unlikely to have finished ("speculative")
 *   only get slots nobody else is waiting for, oldest job first, and under a known limit only after
 *   a longer idle gap, leaving room for the other processes that share the key.
 * - Nothing waits past its deadline: a request whose slot would come too late is not sent.
 */

/** What a request is for, most urgent first: see the module comment. */
export type RequestPriority = "progress" | "shareable" | "speculative";
const PRIORITY_ORDER: readonly RequestPriority[] = ["progress", "shareable", "speculative"];

/** Whether `a` is more urgent than `b`. */
export function outranks(a: RequestPriority, b: RequestPriority): boolean {
  return PRIORITY_ORDER.indexOf(a) < PRIORITY_ORDER.indexOf(b);
}

/** One request's claim on the budget. Mutable: a shared read raises it for everyone who joined. */
export interface RequestTicket {
  priority: RequestPriority;
  /** Epoch ms (the budget's clock); no slot is granted after it. */
  deadline: number;
  /** When the work it serves began; within a priority the oldest goes first (default: when it asked). */
  since?: number;
  /**
   * The priority now, for requests that become more urgent while they wait: a poll queued before
   * the process learned how long such jobs take may be due by the time a slot frees up.
   */
  priorityNow?: () => RequestPriority;
}

/** The more urgent of the ticket's own priority (raised by joiners) and what it says now. */
function effectivePriority(ticket: RequestTicket): RequestPriority {
  const now = ticket.priorityNow?.();
  return now !== undefined && outranks(now, ticket.priority) ? now : ticket.priority;
}

/** A granted slot: report how the request went, so the budget can adapt. */
export interface RequestSlot {
  /** The server answered; `retryAfter` is the raw Retry-After header, if any. */
  answered(status: number, retryAfter?: string | string[]): void;
}

/**
 * How the requests of one API key are let through and sent again: what the client asks before every
 * request, and after a 429 or a failed GET. The default is the shared RequestBudget below; the
 * policies of other clients, which share nothing (test/bench/unshared-requests.ts), implement it too so that the
 * benchmark can run them through the same client.
 */
export interface RequestPolicy {
  /** Waits for a slot; undefined when none can be had before the ticket's deadline. */
  acquire(ticket: RequestTicket): Promise<RequestSlot | undefined>;
  /** When the next request may go at the earliest (a pause every caller waits out in `acquire`). */
  readonly resumesAt: number;
  /**
   * After the `count`th 429 to one call: how long that call waits on its own before asking for a slot
   * again (0: only the wait in `acquire`), or "final": the call fails with the 429 at once.
   */
  afterLimited(count: number, retryAfter: string | string[] | undefined): number | "final";
  /** The wait before retry number `attempt` (from 1) of a GET that failed (network error, 408, 5xx). */
  failureRetryDelayMs(attempt: number, random: () => number): number;
}

/**
 * Before any 429 the limit is unknown: up to 10 requests at once (an operation finishing and the next
 * starting easily make 5), then 10/s, doubling per busy second. A process that meets a low limit pays
 * for it with a few 429s at its first burst, then follows what got through.
 */
export const INITIAL_RATE_PER_S = 10;
export const INITIAL_BURST = 10;
/** Under a known limit: no bursts (see the module comment). */
export const LIMITED_BURST = 1;
export const MIN_RATE_PER_S = 0.5;
export const MAX_RATE_PER_S = 1000;
/** After a 429, the new rate is this share of what got through in the last second. */
export const DECREASE_TO_SHARE_OF_OBSERVED = 0.9;
/** Additive increase under a known limit: slow, so that a phase of work rarely meets a 429 twice. */
export const INCREASE_PER_S = 0.05;
/** No retry after a 429 comes sooner than this, whatever the server says (a Retry-After of 0 included). */
export const MIN_RETRY_WAIT_MS = 500;
/** Server-given waits get up to this much extra (or a fifth of the wait, if more), so callers spread out. */
export const SERVER_WAIT_JITTER_MS = 250;
/** Without a deadline, a request waits at most this long for its slot. */
export const DEFAULT_SLOT_WAIT_MS = 5 * 60_000;

/**
 * How long to pause after a 429 whose Retry-After was `retryAfterMs`: the server's wait, floored, plus jitter.
 * The jitter does not grow while 429s come in a row. Drawing the pause from [R, 2R] from the third 429 in a
 * row on was tried for many CI runners sharing a key (issue 16): on the virtual-time model with 50 processes
 * it cut the creates' calls by a fifth, but in the real 20-process benchmark it made stragglers (a runner
 * drawing long pauses again and again while the window had room): creates took 1.78–2.18 × the floor
 * against 1.53–1.58 × without it, at the same 429 share (BENCHMARKS.md, many runners).
 */
export function serverWaitMs(retryAfterMs: number, random: () => number = Math.random): number {
  const base = Math.max(retryAfterMs, MIN_RETRY_WAIT_MS);
  return Math.round(base + random() * Math.max(SERVER_WAIT_JITTER_MS, base / 5));
}

/**
 * A 429 when nothing of this process got through in the last second: the key is busy with other
 * processes' requests, and this one's share is unknown but small. Halving the starting 10/s would still
 * send 5/s into a full key; 1/s is where it starts growing from instead. On the model
 * (test/bench/shared-key-model.ts, 20 processes): creates make 195 calls instead of 211, 34 % answered
 * 429 instead of 40 %, and take 1.75 × the floor instead of 1.87 ×.
 */
export const UNPROVEN_RATE_PER_S = 1;

/**
 * Under a known limit, a speculative request (a poll of a job unlikely to have ended) waits until the
 * budget has been idle for this many intervals at the current rate, where other requests need one.
 * Within the process those polls already yield to every other request; this is for the processes it
 * cannot see. When 20 runners share a key and each gets 0.5 requests/s, every runner polling at its
 * full share keeps the key full of polls that find nothing, and the others' creates, URLs and deletes
 * wait behind them. On the model (test/bench/shared-key-model.ts, 20 processes): creates make 195
 * calls instead of 233 and take 1.75 × the floor instead of 1.93 ×; deletes 85 calls instead of 102,
 * 19 % answered 429 instead of 32 %. The cost: a job is noticed up to half an interval later, under a
 * limit only, which is what the deletes (bound by their jobs, not the rate) pay: 1.70 × instead of 1.63 ×.
 */
export const SPECULATIVE_GAP_INTERVALS = 1.5;

/** Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3); anything else means "none given". */
export type RetryAfterParser = (value: string | string[] | undefined, nowMs: number) => number | undefined;

interface Waiter {
  ticket: RequestTicket;
  askedAt: number;
  resolve: (slot: RequestSlot | undefined) => void;
  /** True once the waiter could not be served at once: the budget was the bottleneck. */
  waited: boolean;
}

export interface RequestBudgetOptions {
  clock: Clock;
  random?: () => number;
  parseRetryAfter: RetryAfterParser;
}

export class RequestBudget implements RequestPolicy {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly parseRetryAfter: RetryAfterParser;

  private rate = INITIAL_RATE_PER_S;
  private burst = INITIAL_BURST;
  private tokens = INITIAL_BURST;
  private refilledAt: number;
  private limitSeen = false;
  private pausedUntil = 0;
  /** When the last decrease happened: 429s to requests sent before it belong to the same event. */
  private decreasedAt = -Infinity;
  private consecutiveLimited = 0;
  private readonly successes: number[] = [];
  /** When the last slot was granted (the speculative gap counts from it). */
  private grantedAt = -Infinity;
  private readonly queue: Waiter[] = [];
  private pumping = false;

  /** Counters for benchmarks and tests. */
  readonly stats = { granted: 0, limited: 0, expired: 0 };

  constructor(options: RequestBudgetOptions) {
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.parseRetryAfter = options.parseRetryAfter;
    this.refilledAt = this.clock.now();
  }

  /** Current pacing, requests per second. */
  get ratePerSecond(): number {
    return this.rate;
  }

  /** When the next request may go at the earliest (a 429 pause). */
  get resumesAt(): number {
    return this.pausedUntil;
  }

  /** Waits for a slot; undefined when none can be had before the ticket's deadline. */
  acquire(ticket: RequestTicket): Promise<RequestSlot | undefined> {
    return new Promise((resolve) => {
      this.queue.push({ ticket, askedAt: this.clock.now(), resolve, waited: false });
      void this.pump();
    });
  }

  /** Nothing of its own: the 429 has paused every caller of the key, and the retry waits in `acquire` like any request. */
  afterLimited(): number {
    return 0;
  }

  /** The official schedule, jittered so that callers that failed together do not retry together (retry.ts). */
  failureRetryDelayMs(attempt: number, random: () => number): number {
    return failureRetryDelayMs(attempt, random);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const now = this.clock.now();
        this.refill(now);
        // Under a millisecond of debt is rounding, not pacing.
        const tokenWait = this.tokens >= 1 - 1e-6 ? 0 : Math.max(1, Math.round(((1 - this.tokens) / this.rate) * 1000));
        let at = Math.max(now + tokenWait, this.pausedUntil);
        const next = this.head();
        if (next && this.limitSeen && effectivePriority(next.ticket) === "speculative") {
          at = Math.max(at, this.grantedAt + Math.round((SPECULATIVE_GAP_INTERVALS * 1000) / this.rate));
        }
        this.expire(at);
        const head = this.head();
        if (!head) break;
        if (at > now) {
          for (const waiter of this.queue) waiter.waited = true;
          // Re-evaluated after the sleep: a new 429 may have moved the pause, a new call may outrank.
          await this.clock.sleep(at - now);
          continue;
        }
        this.tokens = Math.max(this.tokens, 1) - 1;
        this.grantedAt = now;
        this.queue.splice(this.queue.indexOf(head), 1);
        this.stats.granted++;
        head.resolve(this.slot(head, now));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The most urgent priority first; within it the oldest work, then first come, first served. */
  private head(): Waiter | undefined {
    let best: { waiter: Waiter; priority: RequestPriority } | undefined;
    for (const waiter of this.queue) {
      const priority = effectivePriority(waiter.ticket);
      const older = () => (waiter.ticket.since ?? waiter.askedAt) < (best!.waiter.ticket.since ?? best!.waiter.askedAt);
      if (!best || outranks(priority, best.priority) || (priority === best.priority && older())) best = { waiter, priority };
    }
    return best?.waiter;
  }

  private expire(grantAt: number): void {
    for (const waiter of [...this.queue]) {
      if (waiter.ticket.deadline < grantAt) {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        this.stats.expired++;
        waiter.resolve(undefined);
      }
    }
  }

  private refill(now: number): void {
    if (now <= this.refilledAt) return;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
  }

  private slot(waiter: Waiter, sentAt: number): RequestSlot {
    let reported = false;
    return {
      answered: (status, retryAfter) => {
        if (reported) return;
        reported = true;
        if (status === 429) this.onLimited(sentAt, retryAfter);
        else if (status === 503 && this.parseRetryAfter(retryAfter, this.clock.now()) !== undefined) this.onUnavailable(retryAfter);
        else this.onAnswered(waiter);
      },
    };
  }

  private onAnswered(waiter: Waiter): void {
    const now = this.clock.now();
    this.consecutiveLimited = 0;
    this.successes.push(now);
    while (this.successes.length > 0 && this.successes[0] < now - 1000) this.successes.shift();
    // Grow only when the budget was what held work back: an idle budget proves nothing about the limit,
    // and polls that yield to everyone else must not push the rate up either.
    if (!waiter.waited || effectivePriority(waiter.ticket) !== "progress") return;
    const grown = this.limitSeen ? this.rate + INCREASE_PER_S / this.rate : this.rate + 1;
    this.setRate(grown);
  }

  private onLimited(sentAt: number, retryAfter: string | string[] | undefined): void {
    const now = this.clock.now();
    this.stats.limited++;
    // Answers to requests sent before the last decrease report the congestion we already reacted to.
    if (sentAt < this.decreasedAt) return;
    this.decreasedAt = now;
    this.consecutiveLimited++;
    const gotThrough = this.successes.filter((t) => t >= now - 1000).length;
    const first = !this.limitSeen;
    this.limitSeen = true;
    this.burst = LIMITED_BURST;
    const decreased = gotThrough > 0 ? gotThrough * DECREASE_TO_SHARE_OF_OBSERVED : Math.min(this.rate / 2, UNPROVEN_RATE_PER_S);
    this.setRate(first ? decreased : Math.min(this.rate, decreased));
    const serverMs = this.parseRetryAfter(retryAfter, now);
    const pause = serverMs === undefined ? rateLimitDelayMs(this.consecutiveLimited, this.random) : serverWaitMs(serverMs, this.random);
    this.pausedUntil = Math.max(this.pausedUntil, now + pause);
    // The pause replaces pacing: the first request after it goes at once, the rest at the new rate.
    this.tokens = 1;
    this.refilledAt = this.pausedUntil;
  }

  /**
   * A 503 with Retry-After: the service is down for a while (maintenance), whatever the rate. Every caller
   * of the key pauses for the server's wait, floored and jittered as after a 429; the pacing learnt so far
   * is kept, since this says nothing about the rate limit.
   */
  private onUnavailable(retryAfter: string | string[] | undefined): void {
    const now = this.clock.now();
    const serverMs = this.parseRetryAfter(retryAfter, now) ?? 0;
    this.pausedUntil = Math.max(this.pausedUntil, now + serverWaitMs(serverMs, this.random));
    this.tokens = Math.max(this.tokens, 1);
    this.refilledAt = Math.max(this.refilledAt, this.pausedUntil);
  }

  private setRate(rate: number): void {
    this.rate = Math.min(MAX_RATE_PER_S, Math.max(MIN_RATE_PER_S, rate));
  }
}

/**
 * The process-wide registry. Budgets are kept per clock as well, so that every fake clock in the tests
 * gets fresh ones; the provider's real clock is a single object, so real use shares by key and URL only.
 */
const registry = new WeakMap<Clock, Map<string, RequestBudget>>();

export function budgetFor(
  clock: Clock,
  apiUrl: string,
  apiKey: string | undefined,
  options: Omit<RequestBudgetOptions, "clock">,
): RequestBudget {
  let byKey = registry.get(clock);
  if (!byKey) registry.set(clock, (byKey = new Map()));
  // Hashed: the registry has no reason to hold the key itself.
  const id = createHash("sha256").update(`${apiUrl}\u0000${apiKey ?? ""}`).digest("hex");
  let budget = byKey.get(id);
  if (!budget) byKey.set(id, (budget = new RequestBudget({ clock, ...options })));
  return budget;
}
