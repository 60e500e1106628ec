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
}

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
  /** Re-clones or wipes and sets the new password. */
  reset(target: PreviewTarget, password: string): Promise<void>;
  /** Drops database and role; succeeds when they are already gone. */
  destroy(target: PreviewTarget): Promise<void>;
  /** See LoginControl.delayNext; absent where there are no logins (memory). */
  delayNextLogin?(ms: number): void;
  close(): Promise<void>;
}
