import { z } from "zod";
import type { ConnectionInfo, Job, PitrInfo, PreviewDatabase } from "./api-types";
import { isPathSafeId } from "./path-segment";

export type { ConnectionInfo, Job, PreviewDatabase } from "./api-types";

/**
 * CapyDB API response shapes (capydb-api.md §3). Strict only where a missing field would be a bug
 * (the six fields the API always sends); everything else may be absent, null, "" or 0, and unknown
 * fields are ignored because the published docs lag behind the server.
 */
const optionalString = z.string().nullish();
const optionalNumber = z.number().nullish();
/** Ids go back into request paths (delete, extend, jobs): one that would move the path is refused here. */
const pathId = z.string().min(1).refine(isPathSafeId, { message: "not usable as an id in a request path" });

export const PreviewDatabaseSchema = z.object({
  id: pathId,
  project_id: z.string().min(1),
  name: z.string(),
  // Documented as clone|empty, but a new mode must not break refresh of every stack.
  mode: z.string(),
  // No enum on purpose: only "ready" is usable and any other value means "not ready" (§4.1).
  state: z.string(),
  ttl_expires_at: z.string(),
  database_name: optionalString,
  role_name: optionalString,
  direct_port: optionalNumber,
  pooled_port: optionalNumber,
  created_at: optionalString,
  updated_at: optionalString,
  public_host: optionalString,
  ssl_mode: optionalString,
  last_error: optionalString,
  source_kind: optionalString,
  source_database: optionalString,
  source_backup_key: optionalString,
  source_restore_time: optionalString,
});

export const JobSchema = z.object({
  id: pathId,
  type: z.string(),
  state: z.string(),
  created_at: optionalString,
  updated_at: optionalString,
  started_at: optionalString,
  completed_at: optionalString,
  error: optionalString,
  project_id: optionalString,
  preview_database_id: optionalString,
  attempts: optionalNumber,
  max_attempts: optionalNumber,
  last_exit_code: optionalNumber,
  last_stdout: optionalString,
  last_stderr: optionalString,
});

export const PitrSchema = z.object({
  requested_restore_time: optionalString,
  restore_time: optionalString,
  restore_time_clamped: z.boolean().nullish(),
});

export const ConnectionInfoSchema = z.object({
  username: optionalString,
  direct_url: optionalString,
  pooled_url: optionalString,
});

/** true when A and B are the same type; the schemas and the plain types of api-types.ts must agree. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemasMatchTypes: [
  Same<z.infer<typeof PreviewDatabaseSchema>, PreviewDatabase>,
  Same<z.infer<typeof JobSchema>, Job>,
  Same<z.infer<typeof ConnectionInfoSchema>, ConnectionInfo>,
  Same<z.infer<typeof PitrSchema>, PitrInfo>,
] = [true, true, true, true];
void schemasMatchTypes;

export const ErrorBodySchema = z.object({ error: z.string() });

// Envelopes, one per endpoint. Lists may be null for an empty project: normalised to [].
// The key itself is required: `{}`, an empty body or a renamed key prove nothing about which previews
// exist, and taking them for "none" would make refresh drop live previews and delete skip them.
export const ListPreviewsResponse = z.object({
  preview_databases: z.array(PreviewDatabaseSchema).nullable().transform((v) => v ?? []),
});
export const ListJobsResponse = z.object({
  jobs: z.array(JobSchema).nullable().transform((v) => v ?? []),
});
export const PreviewAndJobResponse = z.object({ preview: PreviewDatabaseSchema, job: JobSchema });
export const PreviewResponse = z.object({ preview: PreviewDatabaseSchema });
export const JobResponse = z.object({ job: JobSchema });
/** E11: the restore's job, and `pitr` for a point-in-time restore (absent or null otherwise). */
export const RestoreResponse = z.object({ job: JobSchema, pitr: PitrSchema.nullish() });
export const ConnectionsResponse = z.object({ connections: ConnectionInfoSchema });

export { known } from "./known";

// Only the field of E1's answer (GET /v1/me) that scope-check.ts reads; the rest is ignored (the docs lag the server).
export const MeResponse = z.object({
  principal: z.object({ scopes: z.array(z.string()).nullish(), project_id: z.string().nullish() }).nullish(),
});
/** E2: the project check reads only that it answers; its fields are not read. */
export const ProjectResponse = z.unknown();
/** E2, as the project facts read it (project-facts.ts): only the two fields used; the rest is ignored. */
export const ProjectFactsResponse = z.object({
  project: z.object({
    postgres_version: z.union([z.string(), z.number()]).nullish(),
    region: z.string().nullish(),
  }),
});
