/**
 * The engine's Cancel (Ctrl-C) reaches the core as time that stops: the core waits only through its
 * Clock, so a clock whose sleeps reject once cancelled ends every wait promptly, and each operation
 * then takes the path it takes for any failed wait (a create keeps the preview tracked by its id).
 */
import type { Clock } from "../provider/clock";

export class CancelledError extends Error {
  constructor() {
    super("the operation was cancelled (Ctrl-C, or the engine stopped the plugin) while it waited for CapyDB");
    this.name = "CancelledError";
  }
}

export interface CancellableClock extends Clock {
  cancel(): void;
  readonly cancelled: boolean;
}

export function cancellableClock(inner: Clock): CancellableClock {
  let cancelled = false;
  const pending = new Set<(error: Error) => void>();
  return {
    now: () => inner.now(),
    sleep(ms: number): Promise<void> {
      if (cancelled) return Promise.reject(new CancelledError());
      return new Promise<void>((resolve, reject) => {
        pending.add(reject);
        inner.sleep(ms).then(
          () => {
            pending.delete(reject);
            resolve();
          },
          (error: unknown) => {
            pending.delete(reject);
            reject(error);
          },
        );
      });
    },
    cancel(): void {
      cancelled = true;
      for (const reject of pending) reject(new CancelledError());
      pending.clear();
    },
    get cancelled() {
      return cancelled;
    },
  };
}
