import type { Dispatcher } from "undici";
import { Clock } from "../../provider/clock";

/**
 * The benchmark's clock, shared by the control plane (its `now`) and every simulated provider process
 * of a scenario. Time passes as in reality, except when nothing is happening: when no HTTP request is
 * in flight and every process is asleep (waiting for its next poll, a rate-limit pause or a job), the
 * clock jumps to the earliest wake-up. So a 300 s job costs only the time its requests really take,
 * while every request, every answer and all the work between them run at real speed.
 *
 * Idle means: no request in flight through a tracked dispatcher, and that twice in a row a millisecond
 * apart (so whatever a wake-up or an answer set off has reached the network or gone back to sleep).
 */
export class FastForwardClock implements Clock {
  private offset = 0;
  private seq = 0;
  private inflight = 0;
  private idleChecks = 0;
  private timers: { at: number; seq: number; wake: () => void }[] = [];
  private checker?: NodeJS.Timeout;
  /** Virtual time skipped so far, for the report. */
  skippedMs = 0;

  now(): number {
    return Date.now() + this.offset;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      this.timers.push({ at: this.now() + Math.max(0, ms), seq: this.seq++, wake });
      this.arm();
    });
  }

  /** Counts the requests sent through `dispatcher` as "something is happening". */
  track(dispatcher: Dispatcher): Dispatcher {
    const dispatch = dispatcher.dispatch.bind(dispatcher);
    const clock = this;
    dispatcher.dispatch = (options, handler) => {
      clock.inflight++;
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          clock.inflight--;
          clock.arm();
        }
      };
      const ends = new Set(["onComplete", "onError", "onResponseEnd", "onResponseError"]);
      const wrapped = new Proxy(handler as object, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (ends.has(String(property))) finish();
            return value.apply(target, args);
          };
        },
      }) as typeof handler;
      try {
        return dispatch(options, wrapped);
      } catch (error) {
        finish();
        throw error;
      }
    };
    return dispatcher;
  }

  private arm(): void {
    if (!this.checker) this.checker = setTimeout(() => this.check(), 1);
  }

  private check(): void {
    this.checker = undefined;
    if (this.wakeDue()) {
      // What was just woken has not run yet: it is not idle, whatever the count of requests says.
      this.idleChecks = 0;
      this.arm();
      return;
    }
    if (this.timers.length === 0) return;
    this.idleChecks = this.inflight === 0 ? this.idleChecks + 1 : 0;
    if (this.idleChecks >= 2) {
      this.idleChecks = 0;
      const next = this.timers.reduce((a, b) => (b.at < a.at || (b.at === a.at && b.seq < a.seq) ? b : a));
      const skip = next.at - this.now();
      if (skip > 0) {
        this.offset += skip;
        this.skippedMs += skip;
      }
      this.wakeDue();
    }
    this.arm();
  }

  /** Wakes every sleeper whose time has come; true if there was one. */
  private wakeDue(): boolean {
    const now = this.now();
    const due = this.timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    if (due.length === 0) return false;
    this.timers = this.timers.filter((t) => t.at > now);
    for (const t of due) t.wake();
    return true;
  }
}
