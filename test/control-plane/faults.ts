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
}

interface StoredRule {
  rule: FaultRule;
  remaining: number;
}

/** Scripted misbehaviour, consumed in insertion order, one rule per matching request. */
export class FaultRegistry {
  private rules: StoredRule[] = [];

  inject(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!(times >= 1)) throw new Error("fault rule times must be at least 1");
    this.rules.push({ rule: { ...rule }, remaining: times });
  }

  clear(): void {
    this.rules = [];
  }

  take(method: string, path: string): ActiveFault | undefined {
    const stored = this.rules.find((s) => matches(s.rule, method, path));
    if (!stored) return undefined;
    if (--stored.remaining <= 0) this.rules = this.rules.filter((s) => s !== stored);
    const { rule } = stored;
    const drop = rule.drop === true;
    return {
      replaces: drop || rule.status !== undefined || rule.body !== undefined,
      drop,
      afterRespond: rule.after === "respond",
      delayMs: rule.delayMs ?? 0,
      status: rule.status ?? 500,
      body: rule.body,
      headers: { ...(rule.headers ?? {}) },
    };
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
