/**
 * The CapyDB API objects the provider reads (capydb-api.md §3), as plain types. schemas.ts validates
 * answers against zod schemas of the same shape (and checks at compile time that they agree); these
 * types are what other modules and the published declarations use, so that a program importing
 * `pulumi-capydb/provider` never type-checks zod's own declarations.
 */
export interface PreviewDatabase {
  id: string;
  project_id: string;
  name: string;
  mode: string;
  state: string;
  ttl_expires_at: string;
  database_name?: string | null;
  role_name?: string | null;
  direct_port?: number | null;
  pooled_port?: number | null;
  created_at?: string | null;
  updated_at?: string | null;
  public_host?: string | null;
  ssl_mode?: string | null;
  last_error?: string | null;
  source_kind?: string | null;
  source_database?: string | null;
  source_backup_key?: string | null;
  source_restore_time?: string | null;
}

export interface Job {
  id: string;
  type: string;
  state: string;
  created_at?: string | null;
  updated_at?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  error?: string | null;
  project_id?: string | null;
  preview_database_id?: string | null;
  attempts?: number | null;
  max_attempts?: number | null;
  last_exit_code?: number | null;
  last_stdout?: string | null;
  last_stderr?: string | null;
}

/** E11's `pitr`: a point-in-time restore later than the latest restorable point is clamped, and says so. */
export interface PitrInfo {
  requested_restore_time?: string | null;
  restore_time?: string | null;
  restore_time_clamped?: boolean | null;
}

export interface ConnectionInfo {
  username?: string | null;
  direct_url?: string | null;
  pooled_url?: string | null;
}
