import { HttpError } from "./http-error";
import { json, Router, type ApiRequest, type Reply } from "./router";
import type { ControlPlane, FaultRule, JobKind, RateLimitOptions } from "./types";
import { parseJsonObject } from "./validate";

export const ADMIN_PREFIX = "/_capydb_local";

const JOB_KINDS: readonly JobKind[] = ["create", "reset", "delete", "restore"];

function jobKind(value: unknown): JobKind {
  if (!JOB_KINDS.includes(value as JobKind)) throw new HttpError(400, `kind must be one of ${JOB_KINDS.join(", ")}`);
  return value as JobKind;
}

/** JSON cannot carry a RegExp, so the HTTP form takes `pathRegex` (a pattern string) beside `path`. */
function faultRule(body: Record<string, unknown>): FaultRule {
  const { pathRegex, ...rest } = body;
  const rule = rest as FaultRule;
  if (typeof pathRegex === "string") rule.path = new RegExp(pathRegex);
  return rule;
}

const ok = (): Reply => json(200, { ok: true });

const optionalString = (value: unknown, field: string): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new HttpError(400, `${field} must be a string`);
  return value;
};

/**
 * The test-control surface over HTTP, for tests in other processes (engine harness, `npm start`).
 * Each route is a one-line call into the in-process API; no real client ever uses this prefix.
 */
export function adminHandler(plane: () => ControlPlane): (req: ApiRequest) => Promise<Reply> {
  const body = (req: ApiRequest) => parseJsonObject(req.body);
  const router = new Router()
    .add("GET", `${ADMIN_PREFIX}/info`, () => json(200, { url: plane().url, project_id: plane().projectId }))
    .add("POST", `${ADMIN_PREFIX}/faults`, (req) => (plane().faults.inject(faultRule(body(req))), ok()))
    .add("DELETE", `${ADMIN_PREFIX}/faults`, () => (plane().faults.clear(), ok()))
    .add("POST", `${ADMIN_PREFIX}/faults/apply-deferred`, async () => (await plane().faults.applyDeferred(), ok()))
    .add("POST", `${ADMIN_PREFIX}/rate-limit`, (req) => (plane().faults.rateLimit(body(req) as unknown as RateLimitOptions), ok()))
    .add("POST", `${ADMIN_PREFIX}/jobs/fail-next`, (req) => {
      const { kind, error, stderr, exitCode } = body(req) as Record<string, never>;
      plane().jobs.failNext(jobKind(kind), { error, stderr, exitCode });
      return ok();
    })
    .add("POST", `${ADMIN_PREFIX}/jobs/stall-next`, (req) => (plane().jobs.stallNext(jobKind(body(req).kind)), ok()))
    .add("POST", `${ADMIN_PREFIX}/jobs/release`, () => (plane().jobs.releaseStalled(), ok()))
    .add("POST", `${ADMIN_PREFIX}/jobs/unknown-state-next`, (req) => {
      const { kind, state } = body(req);
      plane().jobs.unknownStateNext(jobKind(kind), typeof state === "string" ? state : undefined);
      return ok();
    })
    .add("POST", `${ADMIN_PREFIX}/jobs/end-next`, (req) => {
      const { kind, state, error, previewState, lastError } = body(req) as Record<string, never>;
      if (typeof state !== "string") throw new HttpError(400, "state must be a string");
      plane().jobs.endNext(jobKind(kind), { state, error, previewState, lastError });
      return ok();
    })
    .add("POST", `${ADMIN_PREFIX}/previews/:id/state`, (req, { id }) => {
      const { state, lastError } = body(req);
      if (typeof state !== "string") throw new HttpError(400, "state must be a string");
      plane().previews.setState(id, state, typeof lastError === "string" ? lastError : undefined);
      return ok();
    })
    .add("GET", `${ADMIN_PREFIX}/jobs`, () => json(200, { jobs: plane().jobs.list() }))
    .add("GET", `${ADMIN_PREFIX}/previews`, (req) => {
      const live = req.query.get("live") === "true";
      const projectId = req.query.get("projectId") ?? undefined;
      return json(200, { previews: live ? plane().previews.live(projectId) : plane().previews.list() });
    })
    .add("POST", `${ADMIN_PREFIX}/previews/:id/expire`, (_req, { id }) => (plane().previews.expireNow(id), ok()))
    .add("POST", `${ADMIN_PREFIX}/previews/:id/connections-missing`, (req, { id }) => {
      const polls = body(req).polls;
      if (!Number.isInteger(polls)) throw new HttpError(400, "polls must be an integer");
      plane().previews.connectionsMissingFor(id, polls as number);
      return ok();
    })
    .add("DELETE", `${ADMIN_PREFIX}/previews/:id`, (_req, { id }) => (plane().previews.remove(id), ok()))
    .add("GET", `${ADMIN_PREFIX}/requests`, () => json(200, { requests: plane().requests() }))
    .add("DELETE", `${ADMIN_PREFIX}/requests`, () => (plane().clearRequests(), ok()))
    .add("POST", `${ADMIN_PREFIX}/projects`, async (req) => {
      const name = body(req).name;
      return json(201, { id: await plane().createProject({ name: typeof name === "string" ? name : undefined }) });
    })
    .add("POST", `${ADMIN_PREFIX}/api-keys`, (req) => {
      const { scopes, projectId, expiresAt } = body(req);
      if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) {
        throw new HttpError(400, "scopes must be an array of strings");
      }
      const key = plane().createApiKey({
        scopes,
        projectId: typeof projectId === "string" ? projectId : undefined,
        expiresAt: typeof expiresAt === "number" ? expiresAt : undefined,
      });
      return json(201, { key });
    })
    .add("GET", `${ADMIN_PREFIX}/backups`, (req) => json(200, { backups: plane().backups.list(req.query.get("projectId") ?? undefined) }))
    .add("POST", `${ADMIN_PREFIX}/backups`, async (req) =>
      json(201, { backup: await plane().backups.take(optionalString(body(req).projectId, "projectId")) }),
    )
    .add("POST", `${ADMIN_PREFIX}/backups/schedule`, (req) => {
      const everyMs = body(req).everyMs;
      if (everyMs !== null && typeof everyMs !== "number") throw new HttpError(400, "everyMs must be a number of milliseconds, or null to stop");
      plane().backups.schedule(everyMs);
      return ok();
    })
    .add("GET", `${ADMIN_PREFIX}/restore-points`, (req) =>
      json(200, { restore_points: plane().restores.restorePoints(req.query.get("projectId") ?? undefined) }),
    )
    .add("POST", `${ADMIN_PREFIX}/restore-points`, async (req) => {
      const { projectId, name } = body(req);
      const point = await plane().restores.createRestorePoint({
        projectId: optionalString(projectId, "projectId"),
        name: optionalString(name, "name"),
      });
      return json(201, { restore_point: point });
    })
    .add("GET", `${ADMIN_PREFIX}/restore-window`, (req) => json(200, { window: plane().restores.window(req.query.get("projectId") ?? undefined) }))
    .add("POST", `${ADMIN_PREFIX}/restores/withhold-preview-id-next`, () => (plane().restores.withholdPreviewIdNext(), ok()))
    .add("POST", `${ADMIN_PREFIX}/sources/query`, async (req) => {
      const { sql, projectId } = body(req);
      if (typeof sql !== "string") throw new HttpError(400, "sql must be a string");
      return json(200, { rows: await plane().sources.query(sql, optionalString(projectId, "projectId")) });
    })
    .add("POST", `${ADMIN_PREFIX}/api-keys/revoke`, (req) => {
      const key = body(req).key;
      if (typeof key !== "string") throw new HttpError(400, "key must be a string");
      plane().revokeApiKey(key);
      return ok();
    });

  return async (req) => {
    try {
      return await router.dispatch(req);
    } catch (err) {
      // The in-process API throws plain Errors for bad arguments; over HTTP they are the caller's fault.
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, err instanceof Error ? err.message : String(err));
    }
  };
}
