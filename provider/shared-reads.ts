import { outranks, RequestTicket } from "./request-budget";

/**
 * Identical GETs asked for at the same time are sent once, and every caller gets the same answer
 * (50 refreshes of one project then cost one list call, not 50).
 *
 * Joining is always safe while the shared request is still waiting for its slot: it will be sent
 * after everyone asked. Joining one already on the wire is only for callers that accept an answer
 * begun a moment before they asked (`joinSent`): a refresh is such a snapshot, whereas a caller that
 * just saw a job finish needs a list sent after that.
 */
interface Shared<T> {
  ticket: RequestTicket;
  sent: boolean;
  promise: Promise<T>;
}

export class SharedReads {
  private readonly pending = new Map<string, Shared<unknown>>();

  /**
   * `start` sends the request under the shared ticket (whose priority and deadline rise to those of
   * the most demanding caller) and calls `markSent` once it is on the wire.
   */
  run<T>(key: string, ticket: RequestTicket, joinSent: boolean, start: (ticket: RequestTicket, markSent: () => void) => Promise<T>): Promise<T> {
    const existing = this.pending.get(key) as Shared<T> | undefined;
    if (existing && (!existing.sent || joinSent)) {
      existing.ticket.deadline = Math.max(existing.ticket.deadline, ticket.deadline);
      if (outranks(ticket.priority, existing.ticket.priority)) existing.ticket.priority = ticket.priority;
      return existing.promise;
    }
    const shared: Shared<T> = { ticket: { ...ticket }, sent: false, promise: undefined as unknown as Promise<T> };
    shared.promise = start(shared.ticket, () => {
      shared.sent = true;
    }).finally(() => {
      if (this.pending.get(key) === shared) this.pending.delete(key);
    });
    this.pending.set(key, shared);
    return shared.promise;
  }

  /** Requests currently shared (for tests). */
  get size(): number {
    return this.pending.size;
  }
}
