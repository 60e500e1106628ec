import { Clock } from "../../provider/clock";

/**
 * A clock for many concurrent sleepers (FakeClock suits one at a time): sleeps are timers on a virtual
 * timeline, and `run` moves time to the earliest timer whenever nothing else can happen. For code that
 * does no real I/O while it runs.
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];

  constructor(start = Date.UTC(2026, 10, 27, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: this.time + Math.max(0, ms), seq: this.seq++, fire: resolve });
    });
  }

  /** Runs until `work` settles; fails if it would need more than `limitMs` of virtual time. */
  async run<T>(work: Promise<T>, limitMs = 24 * 3600_000): Promise<T> {
    let settled = false;
    const result = work.finally(() => {
      settled = true;
    });
    result.catch(() => undefined);
    const end = this.time + limitMs;
    for (;;) {
      // Let every promise chain that can move without time passing do so.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      if (settled) return result;
      if (this.timers.length === 0) throw new Error("VirtualClock: nothing left to wait for, but the work never settled");
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      if (next.at > end) throw new Error(`VirtualClock: still running after ${limitMs} ms of virtual time`);
      this.time = Math.max(this.time, next.at);
      next.fire();
    }
  }
}
