import type { PreviewMode } from "./types";

/** Where clients reach a database: what the API reports as host, ports and ssl_mode. */
export interface Endpoint {
  publicHost: string;
  directPort: number;
  pooledPort: number;
  sslMode: string;
}

export interface PreviewPlacement extends Endpoint {
  databaseName: string;
  roleName: string;
}

/** What a job needs to know to act on the real (or pretend) database of a preview. */
export interface PreviewTarget {
  projectId: string;
  databaseName: string;
  roleName: string;
  mode: PreviewMode;
  /** Restored previews: where their data came from; a reset goes back to it. */
  source?: RestoreSource;
}

/** Where a restore's data comes from, as the backend gets it. */
export type RestoreSource =
  | { kind: "backup"; backup: BackupHandle }
  | { kind: "restore_point"; name: string }
  /** `at`: control-plane clock, ms (the postgres backend takes it as wall time). */
  | { kind: "time"; at: number };

/** What a backend keeps to rebuild a backup; opaque outside it. */
export type BackupHandle = unknown;

/**
 * The physical side of the control plane. The API state machine lives elsewhere and is the same
 * for every backend; a backend only makes, wipes and drops databases.
 */
export interface Backend {
  readonly kind: "memory" | "postgres";
  /** Major version as the API reports it (`project.postgres_version`). */
  readonly postgresVersion: string;
  projectEndpoint(projectSlug: string): Endpoint;
  /** Names and routes for a new preview; must be unique across the backend. */
  place(preview: { name: string; shortId: string }): PreviewPlacement;
  /** Prepares the data a `clone` preview of this project copies. */
  addProject(projectId: string): Promise<void>;
  provision(target: PreviewTarget, password: string): Promise<void>;
  /** Re-clones, wipes, or (a restored preview) restores its source again, and sets the new password. */
  reset(target: PreviewTarget, password: string): Promise<Endpoint | void>;
  /** Drops database and role; succeeds when they are already gone. */
  destroy(target: PreviewTarget): Promise<void>;
  /** A backup of the project's source data as of now. */
  takeBackup(projectId: string): Promise<BackupHandle>;
  /** Marks a named point in the history of every project's data. */
  createRestorePoint(name: string): Promise<void>;
  /**
   * Makes the preview's database from `source`, with a role logging in with `password`; answers the
   * endpoint the preview is served on when it is not the one `place` gave.
   */
  restore(target: PreviewTarget, password: string, source: RestoreSource): Promise<Endpoint | undefined>;
  /** SourceControl.query; absent where there is no data (memory). */
  querySource?(projectId: string, sql: string): Promise<Record<string, unknown>[]>;
  /** See LoginControl.delayNext; absent where there are no logins (memory). */
  delayNextLogin?(ms: number): void;
  close(): Promise<void>;
}
