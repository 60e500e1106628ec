import type { RestoreSource } from "./backend";
import type { Job, JobEnd, JobFailure, PreviewRecord } from "./types";

export interface Organization {
  id: string;
  name: string;
  slug: string;
  createdAt: number;
}

export interface ProjectRow {
  id: string;
  name: string;
  slug: string;
  organizationId: string;
  createdAt: number;
  updatedAt: number;
}

export interface PreviewRow extends PreviewRecord {
  /** Never leaves the control plane except inside connection URLs. */
  password: string;
  activeJobId?: string;
  /** Delete requested with removeOnDeleteImmediately: gone from lists, job still running. */
  hidden: boolean;
  connectionsMissingPolls: number;
  /** Restored previews: what the backend rebuilds them from (and a reset goes back to). */
  restoreSource?: RestoreSource;
}

export interface JobRow extends Job {
  /** Non-terminal states still to show before the job may finish ("polls" progression). */
  pendingSteps: string[];
  /** State shown during the whole non-terminal phase in "time" progression, if not "running". */
  unknownState?: string;
  stalled: boolean;
  injectedFailure?: JobFailure;
  injectedEnd?: JobEnd;
  /** "time" progression: how long after creation the job finishes. */
  durationMs: number;
  finishing?: Promise<void>;
  /**
   * When `preview_database_id` is on the wire: preview jobs always; a restore once it has completed
   * (§2 E11), or never (RestoreControl.withholdPreviewIdNext).
   */
  previewIdShown: "always" | "on-completion" | "never";
}

export const TERMINAL_JOB_STATES: ReadonlySet<string> = new Set(["completed", "failed"]);

/** Over: a documented terminal state, or any state with completed_at set (an injected end). */
export function jobEnded(job: Job): boolean {
  return TERMINAL_JOB_STATES.has(job.state) || job.completedAt !== undefined;
}

/** The one place that says which previews a client can still see. */
export class Store {
  readonly projects = new Map<string, ProjectRow>();
  readonly previews = new Map<string, PreviewRow>();
  readonly jobs = new Map<string, JobRow>();

  constructor(
    readonly organization: Organization,
    private readonly now: () => number,
  ) {}

  isExpired(preview: PreviewRow): boolean {
    return preview.ttlExpiresAt <= this.now();
  }

  /** Present in E3: not deleted, not hidden by an immediate delete, not past its TTL. */
  isListed(preview: PreviewRow): boolean {
    return preview.deletedAt === undefined && !preview.hidden && !this.isExpired(preview);
  }

  listed(projectId?: string): PreviewRow[] {
    return [...this.previews.values()]
      .filter((p) => (projectId === undefined || p.projectId === projectId) && this.isListed(p))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  activeJob(preview: PreviewRow): JobRow | undefined {
    if (!preview.activeJobId) return undefined;
    const job = this.jobs.get(preview.activeJobId);
    return job && !jobEnded(job) ? job : undefined;
  }
}

export function previewSnapshot(row: PreviewRow): PreviewRecord {
  const {
    password: _password,
    activeJobId: _job,
    hidden: _hidden,
    connectionsMissingPolls: _missing,
    restoreSource: _source,
    ...record
  } = row;
  return { ...record };
}

export function jobSnapshot(row: JobRow): Job {
  const {
    pendingSteps: _steps,
    unknownState: _unknown,
    stalled: _stalled,
    injectedFailure: _failure,
    injectedEnd: _end,
    durationMs: _duration,
    finishing: _finishing,
    previewIdShown: _shown,
    ...job
  } = row;
  return { ...job };
}
