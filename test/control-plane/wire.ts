import type { Endpoint } from "./backend";
import type { JobRow, Organization, PreviewRow, ProjectRow } from "./state";

type Json = Record<string, unknown>;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The real server omits empty optional fields; `explicitNulls` sends them as null instead, so
 * clients are tested against both shapes (§3.1).
 */
function withOptional(base: Json, optional: Record<string, unknown>, explicitNulls: boolean): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined && value !== "") out[key] = value;
    else if (explicitNulls) out[key] = null;
  }
  return out;
}

export function previewJson(p: PreviewRow, explicitNulls: boolean): Json {
  return withOptional(
    {
      id: p.id,
      project_id: p.projectId,
      name: p.name,
      mode: p.mode,
      state: p.state,
      ttl_expires_at: iso(p.ttlExpiresAt),
      database_name: p.databaseName,
      role_name: p.roleName,
      public_host: p.publicHost,
      direct_port: p.directPort,
      pooled_port: p.pooledPort,
      ssl_mode: p.sslMode,
      created_at: iso(p.createdAt),
      updated_at: iso(p.updatedAt),
    },
    {
      last_error: p.lastError,
      source_kind: p.sourceKind,
      source_database: undefined,
      source_backup_key: p.sourceBackupKey,
      source_restore_time: p.sourceRestoreTime !== undefined ? iso(p.sourceRestoreTime) : undefined,
    },
    explicitNulls,
  );
}

export function jobJson(job: JobRow, organizationId: string, explicitNulls: boolean): Json {
  const started = job.startedAt !== undefined;
  // A restore names its preview only once done (§2 E11); until then it holds the project.
  const showPreview = job.previewIdShown === "always" || (job.previewIdShown === "on-completion" && job.state === "completed");
  return withOptional(
    {
      id: job.id,
      type: job.type,
      state: job.state,
      organization_id: organizationId,
      project_id: job.projectId,
      attempts: started ? 1 : 0,
      max_attempts: 3,
      locked_resource: job.kind === "restore" ? `project:${job.projectId}` : `preview_database:${job.previewId}`,
      created_at: iso(job.createdAt),
      updated_at: iso(job.updatedAt),
    },
    {
      preview_database_id: showPreview ? job.previewId : undefined,
      claimed_at: started ? iso(job.startedAt!) : undefined,
      claimed_by: started ? "capydb-local-worker" : undefined,
      started_at: started ? iso(job.startedAt!) : undefined,
      completed_at: job.completedAt !== undefined ? iso(job.completedAt) : undefined,
      error: job.error,
      last_exit_code: job.lastExitCode,
      last_stderr: job.lastStderr,
    },
    explicitNulls,
  );
}

export function projectJson(
  project: ProjectRow,
  endpoint: Endpoint,
  postgresVersion: string,
  latestJobId: string | undefined,
  explicitNulls: boolean,
): Json {
  return withOptional(
    {
      id: project.id,
      name: project.name,
      slug: project.slug,
      organization_id: project.organizationId,
      environment: "non_production",
      state: "ready",
      plan: "ship",
      region: "local",
      postgres_version: postgresVersion,
      public_host: endpoint.publicHost,
      direct_port: endpoint.directPort,
      pooled_port: endpoint.pooledPort,
      ssl_mode: endpoint.sslMode,
      runtime_status: "active",
      always_on: false,
      created_at: iso(project.createdAt),
      updated_at: iso(project.updatedAt),
    },
    { last_error: undefined, latest_job_id: latestJobId },
    explicitNulls,
  );
}

export function organizationJson(org: Organization): Json {
  return { id: org.id, name: org.name, slug: org.slug, billing_plan: "ship", billing_status: "active", created_at: iso(org.createdAt) };
}

/** Empty lists go out as null under `explicitNulls`, as some servers do (§2 E3, E10). */
export function listJson(items: Json[], explicitNulls: boolean): Json[] | null {
  return items.length === 0 && explicitNulls ? null : items;
}
