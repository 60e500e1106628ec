import { Agent, Dispatcher, errors } from "undici";
import { FakeClock } from "./fake-clock";

/** How long (virtual ms) the exchange of one request takes; Infinity = no answer ever comes. */
export type LatencyFor = (req: { method: string; path: string }) => number;

export interface VirtualExchange {
  method: string;
  path: string;
  /** The timeout the client gave this request (its headersTimeout). */
  timeoutMs: number;
  /** Virtual time it took: its latency, or its timeout when that came first. */
  tookMs: number;
  timedOut: boolean;
}

/**
 * A transport on which requests take time on a FakeClock, so that "each request's timeout is clipped to
 * the time left" can be measured in virtual time. Each request moves the clock forward by its latency and
 * then goes to the real server; a request whose latency reaches the timeout the client gave it (undici's
 * headersTimeout, which the client sets to the clipped timeout) moves the clock by that timeout instead
 * and fails with undici's own HeadersTimeoutError, without reaching the server. The real timers never
 * fire: every exchange with the local server takes milliseconds of wall time.
 */
export class VirtualLatencyDispatcher extends Dispatcher {
  readonly exchanges: VirtualExchange[] = [];
  private readonly inner = new Agent();

  constructor(
    private readonly clock: FakeClock,
    public latencyFor: LatencyFor,
  ) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const method = String(opts.method);
    const path = String(opts.path).split("?")[0];
    const timeoutMs = opts.headersTimeout ?? 300_000;
    const latency = this.latencyFor({ method, path });
    const timedOut = latency >= timeoutMs;
    const tookMs = timedOut ? timeoutMs : Math.max(0, latency);
    this.clock.advance(tookMs);
    this.exchanges.push({ method, path, timeoutMs, tookMs, timedOut });
    if (!timedOut) return this.inner.dispatch(opts, handler);
    const legacy = handler as { onError?: (err: Error) => void };
    queueMicrotask(() => legacy.onError?.(new errors.HeadersTimeoutError()));
    return true;
  }

  override async close(): Promise<void> {
    await this.inner.close();
  }

  override async destroy(): Promise<void> {
    await this.inner.destroy();
  }
}
