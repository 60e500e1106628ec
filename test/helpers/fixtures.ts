/** API objects as the server sends them (capydb-api.md §3), with every optional field filled. */
export function apiPreview(overrides: Record<string, unknown> = {}) {
  return {
    id: "pvw_1",
    project_id: "prj_1",
    name: "pr-42",
    mode: "clone",
    state: "ready",
    ttl_expires_at: "2026-11-28T12:00:00Z",
    database_name: "pr_42",
    role_name: "pr_42_role",
    direct_port: 5432,
    pooled_port: 6432,
    created_at: "2026-11-27T12:00:00Z",
    updated_at: "2026-11-27T12:00:00Z",
    public_host: "pr-42.db.capydb.dev",
    ssl_mode: "require",
    ...overrides,
  };
}

export function apiJob(overrides: Record<string, unknown> = {}) {
  return {
    id: "job_1",
    type: "branch.create",
    state: "pending",
    created_at: "2026-11-27T12:00:00Z",
    preview_database_id: "pvw_1",
    ...overrides,
  };
}

export const TEST_API_KEY = "capy_live_test_0123456789abcdef";
