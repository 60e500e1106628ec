import { newId } from "./ids";
import { jobEnded, TERMINAL_JOB_STATES, type JobRow, type PreviewRow, type Store } from "./state";
import type { JobEnd, JobFailure, JobKind } from "./types";

const JOB_TYPES: Record<JobKind, string> = {
  create: "branch.create",
  reset: "branch.reset",
  delete: "branch.delete",
  restore: "project.restore",
};

const perKind = <T>(make: () => T): Record<JobKind, T> => ({ create: make(), reset: make(), delete: make(), restore: make() });

export interface JobEngineOptions {
  progression: "polls" | "time";
  durationsMs: Record<JobKind, number>;
  durationFor?: (job: { kind: JobKind; projectId: string; previewName: string }) => number | undefined;
  now: () => number;
  /** Does the job's work and records its terminal state, as of `at` if given; called at most once per job. */
  complete: (job: JobRow, at?: number) => Promise<void>;
}

/**
 * Decides when a job moves on; what finishing means for the preview lives in job-effects.
 * "polls": each observation is one step (pending → running → terminal), as in the Terraform test
 * double. "time": terminal once its duration has elapsed on the control-plane clock.
 */
export class JobEngine {
  private readonly failures = perKind<JobFailure[]>(() => []);
  private readonly stalls = perKind(() => 0);
  private readonly unknownStates = perKind<string[]>(() => []);
  private readonly ends = perKind<JobEnd[]>(() => []);
  private withheldPreviewIds = 0;

  constructor(
    private readonly store: Store,
    private readonly opts: JobEngineOptions,
  ) {}

  failNext(kind: JobKind, failure: JobFailure = {}): void {
    this.failures[kind].push({ ...failure });
  }

  stallNext(kind: JobKind): void {
    this.stalls[kind]++;
  }

  unknownStateNext(kind: JobKind, state = "queued"): void {
    if (TERMINAL_JOB_STATES.has(state)) throw new Error(`"${state}" is terminal, not an unknown non-terminal state`);
    this.unknownStates[kind].push(state);
  }

  endNext(kind: JobKind, end: JobEnd): void {
    this.ends[kind].push({ ...end });
  }

  withholdPreviewIdNext(): void {
    this.withheldPreviewIds++;
  }

  releaseStalled(): void {
    for (const job of this.store.jobs.values()) job.stalled = false;
  }

  /** Creates the job for an operation on `preview`, which now counts as busy. */
  open(kind: JobKind, preview: PreviewRow): JobRow {
    const now = this.opts.now();
    const unknownState = this.unknownStates[kind].shift();
    const stalled = this.stalls[kind] > 0;
    if (stalled) this.stalls[kind]--;
    let previewIdShown: JobRow["previewIdShown"] = "always";
    if (kind === "restore") {
      previewIdShown = this.withheldPreviewIds > 0 ? "never" : "on-completion";
      if (this.withheldPreviewIds > 0) this.withheldPreviewIds--;
    }
    const job: JobRow = {
      id: newId("job"),
      kind,
      type: JOB_TYPES[kind],
      state: "pending",
      projectId: preview.projectId,
      previewId: preview.id,
      createdAt: now,
      updatedAt: now,
      polls: 0,
      pendingSteps: unknownState ? [unknownState, "running"] : ["running"],
      unknownState,
      stalled,
      injectedFailure: this.failures[kind].shift(),
      injectedEnd: this.ends[kind].shift(),
      previewIdShown,
      durationMs: this.opts.durationFor?.({ kind, projectId: preview.projectId, previewName: preview.name }) ?? this.opts.durationsMs[kind],
    };
    this.store.jobs.set(job.id, job);
    preview.activeJobId = job.id;
    return job;
  }

  /** A client looked at the job (GET /v1/jobs/{id}, or a listing showing its preview). */
  async observe(job: JobRow): Promise<void> {
    if (this.opts.progression === "time") return this.evaluate(job);
    if (jobEnded(job)) return;
    if (job.finishing) return job.finishing;
    const next = job.pendingSteps.shift();
    if (next !== undefined) return this.show(job, next);
    if (!job.stalled) return this.finish(job);
  }

  /** "time" progression: brings every active job up to date with the clock. */
  async advanceAll(): Promise<void> {
    if (this.opts.progression !== "time") return;
    const active = [...this.store.jobs.values()].filter((job) => !jobEnded(job));
    await Promise.all(active.map((job) => this.evaluate(job)));
  }

  private async evaluate(job: JobRow): Promise<void> {
    if (jobEnded(job)) return;
    if (job.finishing) return job.finishing;
    // Any evaluation comes after the request that created the job, so its POST answer said "pending".
    if (job.state === "pending") this.show(job, job.unknownState ?? "running");
    const due = this.opts.now() - job.createdAt >= job.durationMs;
    // A job that was due before anyone looked finished when it was due, not when it was seen: a client
    // reading completed_at (to learn how long such jobs take) must not see the lateness of its own poll.
    if (due && !job.stalled) await this.finish(job, job.createdAt + job.durationMs);
  }

  private show(job: JobRow, state: string): void {
    const now = this.opts.now();
    if (job.startedAt === undefined) job.startedAt = now;
    job.state = state;
    job.updatedAt = now;
  }

  private finish(job: JobRow, at?: number): Promise<void> {
    if (!job.finishing) {
      job.finishing = this.opts.complete(job, at).finally(() => {
        job.finishing = undefined;
      });
    }
    return job.finishing;
  }
}
