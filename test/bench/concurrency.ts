import { startControlPlane, type ControlPlane, type RequestLogEntry } from "../control-plane";
import { isList } from "./attribution";
import { FastForwardClock } from "./clock";
import { BenchProcess, createPreview, startProcess, timed } from "./process";
import { LimitStrategy, OURS } from "./strategies";

export type Phase = "creates" | "refreshes" | "deletes";

export interface PhaseResult {
  phase: Phase;
  /** Operations run: n creates; refreshes and deletes of the previews the creates left tracked. */
  operations: number;
  wallMs: number;
  /** The least time the limit allows for the calls this phase cannot do without (see `floorMs`). */
  floorMs: number;
  calls: number;
  limited: number;
  failures: number;
  /** Failures whose error was a 429 (the Go transport's), and waits that ran out of time. */
  limitFailures: number;
  timeouts: number;
  tcpConnections: number;
  lists: number;
}

/**
 * The floor the limit forces, from the calls no client can avoid at `rate` requests per second, `n`
 * operations and jobs of `jobMs`:
 * - creates: the key's scopes, the project (read once, during the first job), n POSTs, then for each job one poll after it ended and one connections
 *   read: all 2n of those come after the first job can have ended, so jobMs + 2n/rate (issue 16: a
 *   create no longer lists the project);
 * - refreshes: one list (issue 16: the URLs of previews unchanged since their create are not read again);
 * - deletes: n DELETEs, then one poll per job after it ended: jobMs + n/rate.
 * `jobMs` is the longest job of the phase (lengths are jittered).
 */
export function floorMs(phase: Phase, n: number, jobMs: number, rate: number): number {
  const per = 1000 / rate;
  if (phase === "creates") return Math.max((3 * n + 2) * per, jobMs + 2 * n * per);
  if (phase === "refreshes") return per;
  return Math.max(2 * n * per, jobMs + n * per);
}

/** Job lengths ±20 % around `jobMs`, seeded by the preview's name: the same for every policy. */
export function jitteredJobMs(jobMs: number, name: string): number {
  let seed = 0;
  for (const c of name) seed = (seed * 31 + c.charCodeAt(0)) % 2147483648;
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.round(jobMs * (0.8 + 0.4 * (seed / 2147483648)));
}

/** The limiter's fixed window. */
const WINDOW_MS = 1000;

/** What a failed operation died of, for the report: a 429 given up on, or a wait that ran out of time. */
function cause(error: unknown): "limit" | "timeout" | "other" {
  const message = error instanceof Error ? error.message : String(error);
  if (/HTTP 429|rate limit/i.test(message)) return "limit";
  if (/timed out|deadline/i.test(message)) return "timeout";
  return "other";
}

/** What Pulumi would go on tracking after a create: its outputs, or a failed create's id and properties. */
type Tracked = { id: string; outs: Record<string, unknown> };

function trackedAfter(result: PromiseSettledResult<Tracked>): Tracked | undefined {
  if (result.status === "fulfilled") return result.value;
  const partial = result.reason as { id?: unknown; properties?: unknown };
  if (typeof partial?.id === "string" && partial.properties && typeof partial.properties === "object") {
    return { id: partial.id, outs: partial.properties as Record<string, unknown> };
  }
  return undefined;
}

/**
 * `n` creates at once in one provider process, then refreshes and deletes of every preview the
 * creates left tracked (all n unless some failed before anything existed, as Pulumi would), against a
 * key limited to `rate` requests per second (fixed one-second windows), with or without Retry-After.
 * `limits` is the request policy of the process (default: this version's shared budget); the poll
 * schedule is always this version's. Every operation keeps the provider's own deadline (20 minutes on
 * the benchmark's clock), so a policy that backs off more takes longer, or fails, and shows it.
 */
export async function concurrencyRun(opts: { n: number; jobMs: number; rate: number; retryAfter: boolean; limits?: LimitStrategy }): Promise<PhaseResult[]> {
  const clock = new FastForwardClock();
  const cp: ControlPlane = await startControlPlane({
    jobProgression: "time",
    now: () => clock.now(),
    previewLimit: 100_000,
    jobDurationsMs: { create: opts.jobMs, reset: opts.jobMs, delete: opts.jobMs },
    jobDurationMs: (job) => jitteredJobMs(opts.jobMs, job.previewName),
    keepAliveTimeoutMs: 0,
  });
  let p: BenchProcess | undefined;
  try {
    cp.faults.rateLimit({ budget: opts.rate, retryAfterSeconds: opts.retryAfter ? 1 : null, windowMs: WINDOW_MS });
    p = await startProcess({ cp, clock, schedule: OURS.schedule(), limits: opts.limits, countConnections: true });
    const process = p;
    const results: PhaseResult[] = [];
    const longestJobMs = Math.max(...Array.from({ length: opts.n }, (_, i) => jitteredJobMs(opts.jobMs, `c-${i}`)));
    const phase = async <T>(name: Phase, count: number, work: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> => {
      // Each phase starts on a fresh window, as a separate command would a moment later: a policy that
      // does not retry a 429 would otherwise also meet the calls the previous phase ended with.
      if (results.length > 0) await clock.sleep(WINDOW_MS);
      cp.clearRequests();
      const connectionsBefore = process.proxy!.connections();
      const run = await timed(clock, () => Promise.allSettled(Array.from({ length: count }, (_, i) => work(i))));
      const log: RequestLogEntry[] = cp.requests();
      const failed = run.value.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      results.push({
        phase: name,
        operations: count,
        wallMs: run.ms,
        floorMs: count === 0 ? NaN : floorMs(name, count, longestJobMs, opts.rate),
        calls: log.length,
        limited: log.filter((e) => e.status === 429).length,
        failures: failed.length,
        limitFailures: failed.filter((r) => cause(r.reason) === "limit").length,
        timeouts: failed.filter((r) => cause(r.reason) === "timeout").length,
        tcpConnections: process.proxy!.connections() - connectionsBefore,
        lists: log.filter(isList).length,
      });
      return run.value;
    };
    const created = await phase("creates", opts.n, (i) => createPreview(process, clock, cp.projectId, `c-${i}`).then((t) => t.value as Tracked));
    const tracked = created.map(trackedAfter).filter((t): t is Tracked => t !== undefined);
    await phase("refreshes", tracked.length, (i) => process.provider.read(tracked[i].id, tracked[i].outs));
    await phase("deletes", tracked.length, (i) => process.provider.delete(tracked[i].id, tracked[i].outs));
    return results;
  } finally {
    await p?.close();
    await cp.close();
  }
}
