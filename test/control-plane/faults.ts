import type { FaultRule, RateLimitOptions } from "./types";

export interface ActiveFault {
  /** Replaces the real response (status/body) or drops the connection. */
  replaces: boolean;
  drop: boolean;
  afterRespond: boolean;
  delayMs: number;
  status: number;
  body?: string | object;
  headers: Record<string, string>;
  rewrite?: (body: unknown, status: number) => unknown;
  applyAfterMs?: number;
}

interface StoredRule {
  rule: FaultRule;
  remaining: number;
  skip: number;
}

/** Scripted misbehaviour, consumed in insertion order, one rule per matching request. */
export class FaultRegistry {
  private rules: StoredRule[] = [];

  inject(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!(times >= 1)) throw new Error("fault rule times must be at least 1");
    if (rule.skip !== undefined && !(rule.skip >= 0)) throw new Error("fault rule skip must be at least 0");
    this.rules.push({ rule: { ...rule }, remaining: times, skip: rule.skip ?? 0 });
  }

  clear(): void {
    this.rules = [];
  }

  take(method: string, path: string): ActiveFault | undefined {
    const stored = this.rules.find((s) => matches(s.rule, method, path));
    if (!stored) return undefined;
    if (stored.skip > 0) {
      stored.skip--;
      return undefined;
    }
    if (--stored.remaining <= 0) this.rules = this.rules.filter((s) => s !== stored);
    const { rule } = stored;
    const drop = rule.drop === true;
    const deferred = rule.applyAfterMs !== undefined;
    return {
      replaces: drop || rule.status !== undefined || rule.body !== undefined || deferred,
      drop,
      afterRespond: rule.after === "respond" || rule.rewrite !== undefined,
      delayMs: rule.delayMs ?? 0,
      status: rule.status ?? 500,
      body: rule.body,
      headers: { ...(rule.headers ?? {}) },
      rewrite: rule.rewrite,
      applyAfterMs: rule.applyAfterMs,
    };
  }
}

/** Requests an applyAfterMs fault answered without applying: applied later, in arrival order. */
export class DeferredRequests<R> {
  private held: { dueAt: number; request: R }[] = [];

  constructor(
    private readonly now: () => number,
    private readonly apply: (request: R) => Promise<void>,
  ) {}

  hold(request: R, afterMs: number): void {
    this.held.push({ dueAt: this.now() + afterMs, request });
    // Stable: equal due times keep arrival order.
    this.held.sort((a, b) => a.dueAt - b.dueAt);
  }

  get count(): number {
    return this.held.length;
  }

  /** Applies the requests due by now (all of them with `all`), oldest first. */
  async applyDue(all = false): Promise<void> {
    const now = this.now();
    while (this.held.length > 0 && (all || this.held[0].dueAt <= now)) {
      const next = this.held.shift()!;
      await this.apply(next.request);
    }
  }
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.path === undefined) return true;
  if (typeof rule.path === "string") return rule.path === path;
  rule.path.lastIndex = 0;
  return rule.path.test(path);
}

export type RateDecision = { limited: false } | { limited: true; retryAfterSeconds: number | null };

/** A fixed-window budget per caller, on the control-plane clock so fake-clock tests can move past it. */
export class RateLimiter {
  private config?: Required<RateLimitOptions>;
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly now: () => number) {}

  configure(opts: RateLimitOptions): void {
    if (!(opts.budget >= 0)) throw new Error("rate limit budget must be >= 0");
    const retryAfterSeconds = opts.retryAfterSeconds === undefined ? 1 : opts.retryAfterSeconds;
    this.config = {
      budget: opts.budget,
      retryAfterSeconds,
      windowMs: opts.windowMs ?? (retryAfterSeconds ?? 1) * 1000,
    };
    this.windows.clear();
  }

  clear(): void {
    this.config = undefined;
    this.windows.clear();
  }

  check(callerId: string): RateDecision {
    if (!this.config) return { limited: false };
    const now = this.now();
    let window = this.windows.get(callerId);
    if (!window || now - window.start >= this.config.windowMs) {
      window = { start: now, used: 0 };
      this.windows.set(callerId, window);
    }
    if (window.used < this.config.budget) {
      window.used++;
      return { limited: false };
    }
    return { limited: true, retryAfterSeconds: this.config.retryAfterSeconds };
  }
}
