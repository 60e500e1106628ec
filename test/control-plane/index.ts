import { previewSlug } from "../../provider/slug";
import { adminHandler } from "./admin-routes";
import { apiHandler } from "./api-routes";
import { KeyStore } from "./auth";
import type { Backend } from "./backend";
import { presentedKey } from "./auth";
import { DeferredRequests, FaultRegistry, RateLimiter } from "./faults";
import { HttpError } from "./http-error";
import { startHttpServer } from "./http-server";
import { newId } from "./ids";
import { jobCompleter } from "./job-effects";
import { JobEngine } from "./jobs";
import { MemoryBackend } from "./memory-backend";
import { PostgresBackend } from "./postgres-backend";
import { PreviewService } from "./previews";
import { RequestLog } from "./request-log";
import { RestoreCatalog } from "./restores";
import type { ApiRequest } from "./router";
import { SerialQueue } from "./serial-queue";
import { jobSnapshot, previewSnapshot, Store, type PreviewRow } from "./state";
import type { ControlPlane, ControlPlaneOptions, JobKind } from "./types";

export type {
  AuthVia,
  BackupControl,
  BackupRecord,
  ControlPlane,
  ControlPlaneOptions,
  FaultControl,
  FaultRule,
  Job,
  JobControl,
  JobEnd,
  JobFailure,
  JobKind,
  LoginControl,
  PreviewControl,
  PreviewMode,
  PreviewRecord,
  RateLimitOptions,
  RequestLogEntry,
  RestoreControl,
  RestorePointRecord,
  RestoreWindow,
  SourceControl,
} from "./types";

/** The scopes the provider needs (§1.2), given to the seeded project-scoped key. */
export const PROVIDER_SCOPES = ["projects:read", "projects:write", "credentials:read", "jobs:read"];

const DEFAULT_JOB_DURATION_MS = 50;

function slugOf(name: string): string {
  return previewSlug(name) || "project";
}

/** Starts the emulator of capydb-api.md on 127.0.0.1, seeded with one project and two keys. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const now = opts.now ?? Date.now;
  const progression = opts.jobProgression ?? "polls";
  const durationsMs: Record<JobKind, number> = {
    create: opts.jobDurationsMs?.create ?? DEFAULT_JOB_DURATION_MS,
    reset: opts.jobDurationsMs?.reset ?? DEFAULT_JOB_DURATION_MS,
    delete: opts.jobDurationsMs?.delete ?? DEFAULT_JOB_DURATION_MS,
    restore: opts.jobDurationsMs?.restore ?? DEFAULT_JOB_DURATION_MS,
  };
  const explicitNulls = opts.explicitNulls ?? false;

  const store = new Store({ id: newId("org"), name: "Local Organization", slug: "local", createdAt: now() }, now);
  const keys = new KeyStore(store.organization.id, now);
  const faults = new FaultRegistry();
  const rateLimiter = new RateLimiter(now);
  const log = new RequestLog();
  const queue = new SerialQueue();
  const backend: Backend =
    opts.backend === "postgres" ? await PostgresBackend.start({ postgresUrl: opts.postgresUrl }) : new MemoryBackend();

  const timers: NodeJS.Timeout[] = [];
  const catalog = new RestoreCatalog(backend, queue, now, () => [...store.projects.keys()]);
  try {
    const jobs = new JobEngine(store, {
      progression,
      durationsMs,
      durationFor: opts.jobDurationMs,
      now,
      complete: jobCompleter({ store, backend, queue, now }),
    });
    const previews = new PreviewService(
      store,
      backend,
      jobs,
      queue,
      {
        previewLimit: opts.previewLimit ?? 5,
        previewLimitStatus: opts.previewLimitStatus ?? 403,
        removeOnDeleteImmediately: opts.removeOnDeleteImmediately ?? false,
      },
      now,
    );

    const createProject = async (projectOpts: { name?: string } = {}): Promise<string> => {
      const id = newId("prj");
      const name = projectOpts.name ?? `project-${store.projects.size + 1}`;
      await queue.run(() => backend.addProject(id));
      const at = now();
      store.projects.set(id, { id, name, slug: slugOf(name), organizationId: store.organization.id, createdAt: at, updatedAt: at });
      // Its first backup opens the project's restorable window.
      await catalog.takeBackup(id, "initial");
      return id;
    };
    const projectId = await createProject({ name: "local" });

    const knownProject = (id: string): string => {
      if (!store.projects.has(id)) throw new Error(`unknown project ${id}`);
      return id;
    };

    const previewRow = (id: string): PreviewRow => {
      const row = store.previews.get(id);
      if (!row) throw new HttpError(404, `unknown preview ${id}`);
      return row;
    };

    let plane: ControlPlane | undefined;
    const api = apiHandler({ store, keys, backend, jobs, previews, catalog, explicitNulls, listAdvancesJobs: opts.listAdvancesJobs ?? true });
    // A held request is applied as the server would have: its answer goes nowhere, the log says so.
    const deferred = new DeferredRequests<ApiRequest>(now, async (req) => {
      let status: number;
      try {
        status = (await api(req)).status;
      } catch (err) {
        status = err instanceof HttpError ? err.status : 500;
      }
      log.record({ method: req.method, path: req.path, at: now(), wallAt: Date.now(), auth: presentedKey(req.headers).via, status, fault: "applied-late" });
    });
    const server = await startHttpServer({
      port: opts.port ?? 0,
      api,
      admin: adminHandler(() => plane!),
      faults,
      deferred,
      rateLimiter,
      log,
      now,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
      dateNow: opts.dateHeader === "wall" ? Date.now : now,
    });

    if (opts.backupEveryMs !== undefined) catalog.schedule(opts.backupEveryMs);
    timers.push(setInterval(() => previews.reapExpired(), opts.reaperIntervalMs ?? 1000));
    if (progression === "time") {
      const tickMs = Math.max(5, Math.min(25, Math.min(...Object.values(durationsMs)) / 2));
      timers.push(
        setInterval(() => {
          jobs.advanceAll().catch((err: Error) => process.stderr.write(`[capydb-local] job worker: ${err.message}\n`));
        }, tickMs),
      );
    }
    // Timers must never be what keeps a test process alive.
    for (const timer of timers) timer.unref();

    let closing: Promise<void> | undefined;
    plane = {
      url: server.url,
      apiKey: keys.create({ scopes: ["*"] }),
      projectId,
      projectScopedKey: keys.create({ scopes: PROVIDER_SCOPES, projectId }),
      createProject,
      createApiKey: (keyOpts) => keys.create(keyOpts),
      revokeApiKey: (key) => keys.revoke(key),
      faults: {
        inject: (rule) => faults.inject(rule),
        clear: () => {
          faults.clear();
          rateLimiter.clear();
        },
        rateLimit: (limit) => rateLimiter.configure(limit),
        applyDeferred: () => deferred.applyDue(true),
        deferredCount: () => deferred.count,
      },
      jobs: {
        failNext: (kind, failure) => jobs.failNext(kind, failure),
        stallNext: (kind) => jobs.stallNext(kind),
        releaseStalled: () => jobs.releaseStalled(),
        unknownStateNext: (kind, state) => jobs.unknownStateNext(kind, state),
        endNext: (kind, end) => jobs.endNext(kind, end),
        list: () => [...store.jobs.values()].map(jobSnapshot),
      },
      previews: {
        list: () => [...store.previews.values()].map(previewSnapshot),
        live: (id) => store.listed(id).map(previewSnapshot),
        expireNow: (id) => {
          previewRow(id).ttlExpiresAt = now();
        },
        connectionsMissingFor: (id, polls) => {
          previewRow(id).connectionsMissingPolls = polls;
        },
        setState: (id, state, lastError) => {
          const row = previewRow(id);
          row.state = state;
          row.lastError = lastError;
          row.updatedAt = now();
        },
        remove: (id) => previews.retire(previewRow(id), "out-of-band"),
      },
      logins: {
        delayNext: (ms) => {
          if (!backend.delayNextLogin) throw new Error("logins.delayNext needs the postgres backend: the memory backend has no logins");
          backend.delayNextLogin(ms);
        },
      },
      backups: {
        list: (id = projectId) => catalog.listBackups(knownProject(id)),
        take: (id = projectId) => catalog.takeBackup(knownProject(id), "manual"),
        schedule: (everyMs) => catalog.schedule(everyMs),
      },
      restores: {
        createRestorePoint: (pointOpts = {}) => catalog.createRestorePoint(knownProject(pointOpts.projectId ?? projectId), pointOpts.name),
        restorePoints: (id = projectId) => catalog.restorePoints(knownProject(id)),
        window: (id = projectId) => {
          const window = catalog.window(knownProject(id));
          if (!window) throw new Error(`project ${id} has no backup yet`);
          return window;
        },
        withholdPreviewIdNext: () => jobs.withholdPreviewIdNext(),
      },
      sources: {
        query: (sql, id = projectId) => {
          if (!backend.querySource) throw new Error("sources.query needs the postgres backend: the memory backend has no data");
          return queue.run(() => backend.querySource!(knownProject(id), sql));
        },
      },
      requests: () => log.list(),
      clearRequests: () => log.clear(),
      close: () => {
        closing ??= (async () => {
          for (const timer of timers) clearInterval(timer);
          catalog.stop();
          await server.close();
          await queue.drain();
          await backend.close();
        })();
        return closing;
      },
    };
    return plane;
  } catch (err) {
    for (const timer of timers) clearInterval(timer);
    catalog.stop();
    await backend.close().catch(() => undefined);
    throw err;
  }
}
