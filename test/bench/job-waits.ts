import { startControlPlane, type ControlPlane } from "../control-plane";
import { Attribution, isJobPoll } from "./attribution";
import { FastForwardClock } from "./clock";
import { BenchProcess, createPreview, startProcess, timed, Timed } from "./process";
import { seeded } from "./stats";
import type { Strategy } from "./strategies";

/** One create or delete, measured. */
export interface JobOp {
  strategy: string;
  kind: "create" | "delete";
  /** The job's length on the control plane's clock. */
  jobMs: number;
  /** Wall time of the provider operation (create: POST to outputs; delete: DELETE to job done) minus the job's length. */
  overshootMs: number;
  /** GET /v1/jobs/{id} of this operation's job. */
  jobPolls: number;
  /** Every request of the operation: POST/DELETE, polls, list and connection reads. */
  calls: number;
  /** Place in a run of similar jobs (0: the first one, nothing learned). */
  index: number;
}

type Clock = FastForwardClock;

/** Job lengths by operation and preview name, read by the control plane when a job opens. */
class Lengths {
  private readonly byName = new Map<string, number>();
  set(kind: "create" | "delete", name: string, ms: number): void {
    this.byName.set(`${kind}:${name}`, ms);
  }
  get(kind: string, name: string): number | undefined {
    return this.byName.get(`${kind}:${name}`);
  }
}

async function benchControlPlane(clock: Clock, lengths: Lengths): Promise<ControlPlane> {
  return startControlPlane({
    jobProgression: "time",
    now: () => clock.now(),
    previewLimit: 100_000,
    jobDurationMs: ({ kind, previewName }) => lengths.get(kind, previewName),
    // Like a load balancer with a long idle timeout: the client's keep-alive decides (dispatcher.ts).
    keepAliveTimeoutMs: 0,
  });
}

/** One preview's life in the benchmark: created, then deleted. */
interface Life {
  strategy: Strategy;
  projectId: string;
  previewId: string;
  index: number;
  createMs: number;
  deleteMs: number;
  /** The length the row is reported under, when the job's own length was jittered around it. */
  nominalMs?: number;
  created: Timed<unknown>;
  deleted: Timed<unknown>;
}

async function createAndDelete(p: BenchProcess, clock: Clock, plan: { projectId: string; name: string }) {
  const created = await createPreview(p, clock, plan.projectId, plan.name);
  const deleted = timed(clock, () => p.provider.delete(created.value.id, created.value.outs));
  return { created, deleted };
}

/** Each operation's calls and job polls, from the control plane's request log. */
function measure(cp: ControlPlane, lives: Life[]): JobOp[] {
  const attribution = new Attribution(cp.jobs.list(), lives.map((l) => ({ id: l.previewId, projectId: l.projectId })));
  const log = cp.requests();
  const ops: JobOp[] = [];
  for (const life of lives) {
    for (const kind of ["create", "delete"] as const) {
      const window = kind === "create" ? life.created : life.deleted;
      const during = (at: number) => at >= window.fromWall - 1 && at <= window.toWall + 1;
      const mine = log.filter((e) => {
        const about = attribution.of(e);
        if (about.job) return about.job.previewId === life.previewId && about.job.kind === kind;
        if (about.previewId) return about.previewId === life.previewId && during(e.wallAt);
        // Project-wide calls (POST create, list) belong to the operation of that project then running.
        return about.projectId === life.projectId && during(e.wallAt) && kind === "create";
      });
      ops.push({
        strategy: life.strategy.id,
        kind,
        jobMs: life.nominalMs ?? (kind === "create" ? life.createMs : life.deleteMs),
        overshootMs: window.ms - (kind === "create" ? life.createMs : life.deleteMs),
        jobPolls: mine.filter(isJobPoll).length,
        calls: mine.length,
        index: life.index,
      });
    }
  }
  return ops;
}

/** The nominal length moved by up to ±5 % (at least ±250 ms), the same for every strategy. */
export function jitteredLength(nominalMs: number): number {
  let seed = (nominalMs * 2654435761) % 2147483648;
  seed = (seed * 1103515245 + 12345) % 2147483648;
  const u = seed / 2147483648;
  return Math.max(1, Math.round(nominalMs + (2 * u - 1) * Math.max(250, 0.05 * nominalMs)));
}

/**
 * Every strategy, every job length, each preview in a fresh process (nothing learned), one after the
 * other: as many `pulumi up`s on separate machines would, and none slows another's requests down.
 * Delete jobs take as long as the create jobs.
 */
export async function lengthsRun(opts: { strategies: Strategy[]; lengthsMs: number[] }): Promise<JobOp[]> {
  const clock = new FastForwardClock();
  const lengths = new Lengths();
  const cp = await benchControlPlane(clock, lengths);
  try {
    const plans: { strategy: Strategy; projectId: string; name: string; jobMs: number; nominalMs: number }[] = [];
    for (const strategy of opts.strategies) {
      for (const nominalMs of opts.lengthsMs) {
        // Jittered (issue 16): lengths on a round grid (60 s, 300 s) flatter a fixed 5 s interval. Every
        // strategy meets the same length for a row: the offset depends on the nominal length only.
        const jobMs = jitteredLength(nominalMs);
        const name = `w-${strategy.id}-${nominalMs}`;
        lengths.set("create", name, jobMs);
        lengths.set("delete", name, jobMs);
        plans.push({ strategy, projectId: await cp.createProject({ name }), name, jobMs, nominalMs });
      }
    }
    const lives: Life[] = [];
    for (const plan of plans) {
      const p = await startProcess({ cp, clock, schedule: plan.strategy.schedule() });
      try {
        const { created, deleted } = await createAndDelete(p, clock, plan);
        const d = await deleted;
        lives.push({ strategy: plan.strategy, projectId: plan.projectId, previewId: created.value.id, index: 0, createMs: plan.jobMs, deleteMs: plan.jobMs, nominalMs: plan.nominalMs, created, deleted: d });
      } finally {
        await p.close();
      }
    }
    return measure(cp, lives);
  } finally {
    await cp.close();
  }
}

/**
 * A run of `count` jobs of similar length (base ± spread, uniform) in one process per strategy, one
 * after the other, as a program creating several previews in turn would: from the second on, jobs of
 * the kind have been seen. Each preview is deleted as soon as it is ready, while the next one is
 * created, so deletes learn from deletes in the same way. Every strategy meets the same lengths.
 */
export async function similarRun(opts: { strategies: Strategy[]; count: number; baseMs: number; spread: number; seed: number }): Promise<JobOp[]> {
  const clock = new FastForwardClock();
  const lengths = new Lengths();
  const cp = await benchControlPlane(clock, lengths);
  try {
    const random = seeded(opts.seed);
    const draw = () => Math.round(opts.baseMs * (1 - opts.spread + 2 * opts.spread * random()));
    const createMs = Array.from({ length: opts.count }, draw);
    const deleteMs = Array.from({ length: opts.count }, draw);
    const perStrategy: Life[][] = [];
    for (const strategy of opts.strategies) {
      perStrategy.push(await (async () => {
        const projectId = await cp.createProject({ name: `similar-${strategy.id}` });
        const p = await startProcess({ cp, clock, schedule: strategy.schedule() });
        const pending: Promise<Life>[] = [];
        try {
          for (let index = 0; index < opts.count; index++) {
            const name = `s-${strategy.id}-${index}`;
            lengths.set("create", name, createMs[index]);
            lengths.set("delete", name, deleteMs[index]);
            const { created, deleted } = await createAndDelete(p, clock, { projectId, name });
            pending.push(
              deleted.then((d) => ({ strategy, projectId, previewId: created.value.id, index, createMs: createMs[index], deleteMs: deleteMs[index], created, deleted: d })),
            );
          }
          return await Promise.all(pending);
        } finally {
          await Promise.allSettled(pending);
          await p.close();
        }
      })());
    }
    return measure(cp, perStrategy.flat());
  } finally {
    await cp.close();
  }
}
