import { fork, ChildProcess } from "child_process";
import * as path from "path";
import { startControlPlane } from "../control-plane";
import { kindOf } from "./cli";
import { seeded } from "../helpers/seeded-random";

/**
 * Many CI runners sharing one API key (issue 16): K separate processes, one preview each, against one
 * control plane that lets the key make `rate` requests per second (fixed 1 s windows, Retry-After: 1),
 * with `latencyMs` added to every request and job lengths jittered ±20% around `jobMs`. No process can
 * see the others' requests: only the 429s and their Retry-After tell them about each other.
 *
 * Creates all at once, then deletes all at once. Per phase: wall time from "go" to the last runner
 * done, the floor (the slowest job plus the minimum calls' round trips, or the minimum calls of all
 * runners at `rate`, whichever is longer), the share of calls answered 429, and each runner's time.
 */
export interface RunnersSettings {
  k: number;
  rate: number;
  jobMs: number;
  latencyMs: number;
  seed: number;
  /** Runner i's create and delete jobs take lengthsMs[i] exactly (default: jobMs ± 20 %). */
  lengthsMs?: number[];
  /** Creates only, no deletes (the lateness run). */
  createOnly?: boolean;
  /** Keep each phase's request log and replies (for looking at one runner's calls). */
  keepLog?: boolean;
}

export interface PhaseFigures {
  wallMs: number;
  floorMs: number;
  calls: number;
  limited: number;
  medianMs: number;
  slowestMs: number;
  failures: number;
  errors: string[];
  /** With keepLog: ms from "go", method, path, status of every request; each runner's reply. */
  log?: { ms: number; method: string; path: string; status: number }[];
  replies?: Reply[];
  /** Per second from "go": [answered, refused with 429]. */
  timeline: [number, number][];
  /** Calls by kind (cli.ts kindOf): [answered, refused with 429]. */
  kinds: Record<string, [number, number]>;
}

function byKind(requests: { method: string; path: string; status: number }[]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const r of requests) (out[kindOf(r)] ??= [0, 0])[r.status === 429 ? 1 : 0]++;
  return out;
}

/**
 * The fewest calls an operation of this provider makes. Create: the key's scopes (GET /v1/me, so that a
 * key without jobs:read or credentials:read fails before anything exists, README "What happens when"),
 * the POST, the project (GET /v1/projects/{id}: the postgresVersion and region outputs, read during the
 * job), one job poll, the URLs: 5. The project read was added after this floor was first written
 * with 4; leaving it out made the floor 2 s (of 10 s) lower than any schedule of these calls can reach.
 * Delete: DELETE, one job poll.
 */
export const MIN_CALLS = { create: 5, delete: 2 } as const;

type Reply = { ready?: true; ok?: boolean; ms?: number; id?: string; outs?: Record<string, unknown>; error?: string };

function perSecond(requests: { wallAt: number; status: number }[], from: number): [number, number][] {
  const out: [number, number][] = [];
  for (const r of requests) {
    const second = Math.max(0, Math.floor((r.wallAt - from) / 1000));
    while (out.length <= second) out.push([0, 0]);
    out[second][r.status === 429 ? 1 : 0]++;
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : NaN;
}

async function startRunners(k: number): Promise<{ child: ChildProcess; next: () => Promise<Reply> }[]> {
  const script = path.join(__dirname, "runner-child.js");
  return Promise.all(
    Array.from({ length: k }, async () => {
      const child = fork(script, [], { stdio: ["ignore", "ignore", "pipe", "ipc"], env: { PATH: process.env.PATH ?? "" } });
      const queue: Reply[] = [];
      const waiters: ((r: Reply) => void)[] = [];
      child.on("message", (m: Reply) => (waiters.length ? waiters.shift()!(m) : queue.push(m)));
      child.on("exit", () => waiters.splice(0).forEach((w) => w({ ok: false, error: "runner exited" })));
      const next = () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise<Reply>((resolve) => waiters.push(resolve)));
      await next(); // "ready": loaded, not yet timed
      return { child, next };
    }),
  );
}

export async function manyRunnersRun(s: RunnersSettings): Promise<{ create: PhaseFigures; delete?: PhaseFigures; createMs: number[] }> {
  const random = seeded(s.seed);
  const lengths = new Map<string, number>();
  const jobLength = (job: { kind: string; previewName: string }) => {
    const key = `${job.kind}:${job.previewName}`;
    const given = s.lengthsMs?.[Number(/^runner-(\d+)$/.exec(job.previewName)?.[1])];
    if (!lengths.has(key)) lengths.set(key, given ?? Math.round(s.jobMs * (0.8 + 0.4 * random())));
    return lengths.get(key)!;
  };
  const cp = await startControlPlane({ jobProgression: "time", previewLimit: 100_000, jobDurationMs: jobLength });
  const runners = await startRunners(s.k);
  try {
    cp.faults.inject({ delayMs: s.latencyMs, times: 1e9 });
    if (Number.isFinite(s.rate)) cp.faults.rateLimit({ budget: s.rate, retryAfterSeconds: 1 });
    const names = Array.from({ length: s.k }, (_, i) => `runner-${i}`);

    const phase = async (op: "create" | "delete", made: Reply[]): Promise<{ figures: PhaseFigures; replies: Reply[] }> => {
      cp.clearRequests();
      const go = Date.now();
      const replies = await Promise.all(
        runners.map(async (r, i) => {
          r.child.send({ op, apiUrl: cp.url, apiKey: cp.apiKey, projectId: cp.projectId, name: names[i], id: made[i]?.id, outs: made[i]?.outs });
          return r.next();
        }),
      );
      const wallMs = Date.now() - go;
      const requests = cp.requests();
      const kind = op === "create" ? "create" : "delete";
      const slowestJob = Math.max(0, ...names.map((n) => lengths.get(`${kind}:${n}`) ?? 0));
      const floorMs = Math.max(slowestJob + MIN_CALLS[op] * s.latencyMs, Number.isFinite(s.rate) ? (s.k * MIN_CALLS[op] * 1000) / s.rate : 0);
      const times = replies.map((r) => r.ms ?? NaN);
      return {
        replies,
        figures: {
          wallMs,
          floorMs,
          calls: requests.length,
          limited: requests.filter((r) => r.status === 429).length,
          medianMs: median(times),
          slowestMs: Math.max(...times),
          failures: replies.filter((r) => !r.ok).length,
          errors: replies.filter((r) => !r.ok).map((r) => r.error ?? "?").slice(0, 3),
          timeline: perSecond(requests, go),
          kinds: byKind(requests),
          ...(s.keepLog ? { log: requests.map((r) => ({ ms: r.wallAt - go, method: r.method, path: r.path, status: r.status })), replies } : {}),
        },
      };
    };

    const created = await phase("create", []);
    if (s.createOnly) return { create: created.figures, createMs: created.replies.map((r) => r.ms ?? NaN) };
    const deleted = await phase("delete", created.replies);
    return { create: created.figures, delete: deleted.figures, createMs: created.replies.map((r) => r.ms ?? NaN) };
  } finally {
    for (const r of runners) r.child.kill();
    await cp.close();
  }
}
