import { Clock } from "./clock";

/**
 * Answers of recent list calls, kept for refresh: the engine sends a refresh's reads in waves (each
 * wave when enough earlier reads have returned), so reads of one project that missed the list in
 * flight would each send their own. A list sent a moment ago answers them as well as a new one.
 *
 * Why that is safe: a refresh is a snapshot, and the engine's own reads of a stack already span
 * seconds; a read answered from a list sent `maxAge` ago reports what a read sent that much earlier
 * would have. Two limits keep it from reporting something this process knows to be out of date:
 * - no write of this client (POST, DELETE) may have been sent since the list was: after a create or
 *   delete of this process, only a list sent afterwards is believed;
 * - a kept list proves presence only (the caller decides): a preview absent from it may be newer
 *   than the list, so dropping it from state still needs a list sent after the read was asked for.
 */

/** When a request was sent: the clock, and its place in this client's order of sends. */
export interface SendStamp {
  at: number;
  seq: number;
}

export class RecentLists<T> {
  private seq = 0;
  /** The seq of the last write sent or answered; lists sent before it are not kept. */
  private lastWriteSeq = -1;
  private writesInFlight = 0;
  private readonly kept = new Map<string, { value: T; sent: SendStamp }>();

  constructor(private readonly clock: Clock) {}

  /** Stamps a request as it goes on the wire. */
  stamp(): SendStamp {
    return { at: this.clock.now(), seq: ++this.seq };
  }

  /** Runs a write: every kept list is forgotten when it is sent, and lists sent while it runs are not kept. */
  async duringWrite<R>(write: () => Promise<R>): Promise<R> {
    this.writesInFlight++;
    this.lastWriteSeq = ++this.seq;
    this.kept.clear();
    try {
      return await write();
    } finally {
      this.writesInFlight--;
      this.lastWriteSeq = ++this.seq;
      this.kept.clear();
    }
  }

  /** Keeps `value` unless a write was under way or sent after the list was; the newest send wins. */
  remember(key: string, value: T, sent: SendStamp): void {
    if (this.writesInFlight > 0 || sent.seq < this.lastWriteSeq) return;
    const current = this.kept.get(key);
    if (!current || current.sent.seq < sent.seq) this.kept.set(key, { value, sent });
  }

  /** The kept answer for `key` if its request was sent at or after `sentSince` (epoch ms). */
  find(key: string, sentSince: number): T | undefined {
    const entry = this.kept.get(key);
    return entry && entry.sent.at >= sentSince ? entry.value : undefined;
  }

  /** Lists kept (for tests). */
  get size(): number {
    return this.kept.size;
  }
}
