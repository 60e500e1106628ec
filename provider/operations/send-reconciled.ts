import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { failureRetryDelayMs } from "../retry";

/**
 * "Send, reconcile if the answer may have landed, resend": the one loop behind create, reset, extend
 * and delete. CapyDB has no idempotency token and a POST or DELETE is never resent blindly (§4.9):
 * once an answer may have been lost, what the request changes is looked at first (the name for a
 * create, the job list for a reset, the expiry for an extend, the preview for a delete), and the
 * request is sent again only when that proves it did not land.
 */

/** Sends in all, the first included, while answers keep getting lost and nothing shows they landed. */
export const MAX_SENDS = 3;

/** What one send knows of the ones before it. */
export interface SendHistory {
  /** Clock time of this send. */
  sentAt: number;
  /** Clock time of the first send whose outcome is unknown (lost answer, timeout, unreadable 2xx), if any. */
  firstLostAt?: number;
}

export interface ReconciledRequest<T> {
  /** What is sent, for log lines: "create", "reset"… */
  what: string;
  label: string;
  deadline: number;
  /** Sends the request once; waiting out a busy preview (409) belongs here. */
  send: (history: SendHistory) => Promise<T>;
  /**
   * After a send that may have landed (or any failed send once an earlier one may have): the result
   * if a send landed, undefined when it provably did not. Throws when that cannot be learned.
   */
  reconcile: (failure: CapyDBError, history: SendHistory & { firstLostAt: number }) => Promise<T | undefined>;
  /** The error to end with while whether it landed stays unknown (at the send limit or the deadline). */
  unknown: (failure: CapyDBError) => Error;
}

/**
 * Sends until the request lands, reconciling every answer that may have been lost. A refusal (a 4xx)
 * before any answer was lost is rethrown as is: nothing changed. Resends wait the failure schedule
 * (1 s, 2 s), jittered by the operation's random source, within the deadline and MAX_SENDS.
 */
export async function sendReconciled<T>(ctx: OperationContext, req: ReconciledRequest<T>): Promise<T> {
  let firstLostAt: number | undefined;
  for (let sends = 1; ; sends++) {
    const history: SendHistory = { sentAt: ctx.clock.now(), firstLostAt };
    let failure: CapyDBError;
    try {
      return await req.send(history);
    } catch (error) {
      if (!(error instanceof CapyDBError)) throw error;
      if (!error.maybeApplied && firstLostAt === undefined) throw error;
      if (error.maybeApplied) firstLostAt ??= history.sentAt;
      failure = error;
    }
    const landed = await req.reconcile(failure, { ...history, firstLostAt: firstLostAt! });
    if (landed !== undefined) return landed;
    const delay = failureRetryDelayMs(sends, ctx.random);
    // A refusal after a lost answer: that earlier send may still land late, so its fate stays unknown.
    if (!failure.maybeApplied || sends >= MAX_SENDS || ctx.clock.now() + delay > req.deadline) throw req.unknown(failure);
    ctx.log.info(`${req.label}: the ${req.what} did not land (${failure.message}); sending it again in ${Math.round(delay / 1000)}s`);
    await ctx.clock.sleep(delay);
  }
}
