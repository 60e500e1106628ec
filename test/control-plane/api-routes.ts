import { presentedKey, requireProjectAccess, requireScope, type KeyStore, type Principal } from "./auth";
import type { Backend } from "./backend";
import { HttpError } from "./http-error";
import type { JobEngine } from "./jobs";
import type { PreviewService } from "./previews";
import type { RestoreCatalog } from "./restores";
import { json, Router, type ApiRequest, type Reply } from "./router";
import type { JobRow, ProjectRow, Store } from "./state";
import { parseCreatePreview, parseExtend, parseJobsLimit, parseJsonObject, parseRestore } from "./validate";
import { jobJson, listJson, organizationJson, previewJson, projectJson } from "./wire";

export interface ApiDeps {
  store: Store;
  keys: KeyStore;
  backend: Backend;
  jobs: JobEngine;
  previews: PreviewService;
  catalog: RestoreCatalog;
  explicitNulls: boolean;
  listAdvancesJobs: boolean;
}

/** E1–E11 of capydb-api.md §2: authentication, scopes and wire shapes around PreviewService. */
export function apiHandler(deps: ApiDeps): (req: ApiRequest) => Promise<Reply> {
  const { store, keys, backend, jobs, previews, explicitNulls } = deps;
  const orgId = store.organization.id;
  const previewOut = (p: Parameters<typeof previewJson>[0]) => previewJson(p, explicitNulls);
  const jobOut = (j: JobRow) => jobJson(j, orgId, explicitNulls);

  const principal = (req: ApiRequest) => keys.authenticate(presentedKey(req.headers));

  const projectFor = (who: Principal, projectId: string): ProjectRow => {
    requireProjectAccess(who, projectId);
    const project = store.projects.get(projectId);
    if (!project) throw new HttpError(404, "project not found");
    return project;
  };

  const previewFor = (who: Principal, previewId: string, opts?: { allowExpired?: boolean }) => {
    const preview = previews.find(previewId, opts);
    requireProjectAccess(who, preview.projectId);
    return preview;
  };

  const router = new Router()
    .add("GET", "/v1/me", (req) => {
      const who = principal(req);
      return json(200, {
        organization: organizationJson(store.organization),
        principal: {
          auth_source: "api_key",
          scopes: who.scopes,
          is_admin: false,
          organization_id: who.organizationId,
          ...(who.projectId ? { project_id: who.projectId } : {}),
        },
      });
    })
    .add("GET", "/v1/projects/:projectId", (req, { projectId }) => {
      const who = principal(req);
      requireScope(who, "projects:read");
      const project = projectFor(who, projectId);
      const latest = newestJobs(store, project.id, 1)[0];
      return json(200, { project: projectJson(project, backend.projectEndpoint(project.slug), backend.postgresVersion, latest?.id, explicitNulls) });
    })
    .add("GET", "/v1/projects/:projectId/preview-databases", async (req, { projectId }) => {
      const who = principal(req);
      requireScope(who, "projects:read");
      const project = projectFor(who, projectId);
      if (deps.listAdvancesJobs) {
        const active = store.listed(project.id).map((p) => store.activeJob(p)).filter((j): j is JobRow => j !== undefined);
        await Promise.all(active.map((job) => jobs.observe(job)));
      }
      return json(200, { preview_databases: listJson(store.listed(project.id).map(previewOut), explicitNulls) });
    })
    .add("POST", "/v1/projects/:projectId/preview-databases", (req, { projectId }) => {
      const who = principal(req);
      requireScope(who, "projects:write");
      const project = projectFor(who, projectId);
      const { preview, job } = previews.create(project, parseCreatePreview(parseJsonObject(req.body)));
      return json(201, { preview: previewOut(preview), job: jobOut(job) });
    })
    .add("POST", "/v1/projects/:projectId/restores", (req, { projectId }) => {
      const who = principal(req);
      requireScope(who, "backups:write");
      const project = projectFor(who, projectId);
      const input = parseRestore(parseJsonObject(req.body));
      const resolved = deps.catalog.resolve(project.id, input.source);
      const { job } = previews.restore(project, { name: input.previewName, ttlHours: input.ttlHours, resolved });
      return json(202, { job: jobOut(job), ...(resolved.pitr ? { pitr: resolved.pitr } : {}) });
    })
    .add("POST", "/v1/preview-databases/:previewId/extend", (req, { previewId }) => {
      const who = principal(req);
      requireScope(who, "projects:write");
      const preview = previewFor(who, previewId, { allowExpired: true });
      const ttlHours = parseExtend(parseJsonObject(req.body));
      return json(200, { preview: previewOut(previews.extend(preview, ttlHours)) });
    })
    .add("POST", "/v1/preview-databases/:previewId/reset", (req, { previewId }) => {
      const who = principal(req);
      requireScope(who, "projects:write");
      return json(202, { job: jobOut(previews.reset(previewFor(who, previewId))) });
    })
    .add("DELETE", "/v1/preview-databases/:previewId", (req, { previewId }) => {
      const who = principal(req);
      requireScope(who, "projects:write");
      return json(202, { job: jobOut(previews.delete(previewFor(who, previewId))) });
    })
    .add("GET", "/v1/preview-databases/:previewId/connections", (req, { previewId }) => {
      const who = principal(req);
      requireScope(who, "credentials:read");
      const info = previews.connections(previewFor(who, previewId));
      const connections = explicitNulls ? { direct_url: null, pooled_url: null, ...info } : info;
      return json(200, { connections });
    })
    .add("GET", "/v1/jobs/:jobId", async (req, { jobId }) => {
      const who = principal(req);
      requireScope(who, "jobs:read");
      const job = store.jobs.get(jobId);
      if (!job) throw new HttpError(404, "job not found");
      requireProjectAccess(who, job.projectId);
      job.polls++;
      await jobs.observe(job);
      return json(200, { job: jobOut(job) });
    })
    .add("GET", "/v1/projects/:projectId/jobs", (req, { projectId }) => {
      const who = principal(req);
      requireScope(who, "jobs:read");
      const project = projectFor(who, projectId);
      const limit = parseJobsLimit(req.query.get("limit"));
      return json(200, { jobs: listJson(newestJobs(store, project.id, limit).map(jobOut), explicitNulls) });
    });

  return async (req) => {
    await jobs.advanceAll();
    return router.dispatch(req);
  };
}

function newestJobs(store: Store, projectId: string, limit: number): JobRow[] {
  // Insertion order breaks ties between jobs created in the same millisecond.
  return [...store.jobs.values()]
    .filter((j) => j.projectId === projectId)
    .reverse()
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, limit);
}
