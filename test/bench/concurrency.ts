import { startControlPlane, type ControlPlane, type RequestLogEntry } from "../control-plane";
import { isList } from "./attribution";
import { FastForwardClock } from "./clock";
import { BenchProcess, createPreview, startProcess, timed } from "./process";
import { OURS } from "./strategies";

export type Phase = "creates" | "refreshes" | "deletes";

export interface PhaseResult {
  phase: Phase;
  wallMs: number;
  /** The least time the limit allows for the calls this phase cannot do without (see `floorMs`). */
  floorMs: number;
  calls: number;
  limited: number;
  failures: number;
  tcpConnections: number;
  lists: number;
}

/**
 * The floor the limit forces, from the calls no client can avoid at `rate` requests per second, `n`
 * operations and jobs of `jobMs`:
 * - creates: n POSTs, then for each job one poll after it ended and one connections read, and at least
 *   one list: all 2n+1 of those come after the first job can have ended, so jobMs + (2n+1)/rate;
 * - refreshes: one list and n connections reads: (n+1)/rate;
 * - deletes: n DELETEs, then one poll per job after it ended: jobMs + n/rate.
 */
export function floorMs(phase: Phase, n: number, jobMs: number, rate: number): number {
  const per = 1000 / rate;
  if (phase === "creates") return Math.max((3 * n + 1) * per, jobMs + (2 * n + 1) * per);
  if (phase === "refreshes") return (n + 1) * per;
  return Math.max(2 * n * per, jobMs + n * per);
}

/**
 * `n` creates at once in one provider process, then `n` refreshes, then `n` deletes, against a key
 * limited to `rate` requests per second (fixed one-second windows), with or without Retry-After.
 */
export async function concurrencyRun(opts: { n: number; jobMs: number; rate: number; retryAfter: boolean }): Promise<PhaseResult[]> {
  const clock = new FastForwardClock();
  const cp: ControlPlane = await startControlPlane({
    jobProgression: "time",
    now: () => clock.now(),
    previewLimit: 100_000,
    jobDurationsMs: { create: opts.jobMs, reset: opts.jobMs, delete: opts.jobMs },
    keepAliveTimeoutMs: 0,
  });
  let p: BenchProcess | undefined;
  try {
    cp.faults.rateLimit({ budget: opts.rate, retryAfterSeconds: opts.retryAfter ? 1 : null, windowMs: 1000 });
    p = await startProcess({ cp, clock, schedule: OURS.schedule(), countConnections: true });
    const process = p;
    const results: PhaseResult[] = [];
    const phase = async <T>(name: Phase, work: (i: number) => Promise<T>): Promise<(T | undefined)[]> => {
      cp.clearRequests();
      const connectionsBefore = process.proxy!.connections();
      const run = await timed(clock, () => Promise.allSettled(Array.from({ length: opts.n }, (_, i) => work(i))));
      const log: RequestLogEntry[] = cp.requests();
      results.push({
        phase: name,
        wallMs: run.ms,
        floorMs: floorMs(name, opts.n, opts.jobMs, opts.rate),
        calls: log.length,
        limited: log.filter((e) => e.status === 429).length,
        failures: run.value.filter((r) => r.status === "rejected").length,
        tcpConnections: process.proxy!.connections() - connectionsBefore,
        lists: log.filter(isList).length,
      });
      return run.value.map((r) => (r.status === "fulfilled" ? r.value : undefined));
    };
    const created = await phase("creates", (i) => createPreview(process, clock, cp.projectId, `c-${i}`).then((t) => t.value));
    const live = created.filter((c): c is NonNullable<typeof c> => c !== undefined);
    await phase("refreshes", (i) => (live[i] ? process.provider.read(live[i].id, live[i].outs) : Promise.reject(new Error("not created"))));
    await phase("deletes", (i) => (live[i] ? process.provider.delete(live[i].id, live[i].outs) : Promise.reject(new Error("not created"))));
    return results;
  } finally {
    await p?.close();
    await cp.close();
  }
}
