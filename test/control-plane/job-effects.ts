import type { Backend, Endpoint, PreviewTarget } from "./backend";
import { newPassword } from "./ids";
import type { SerialQueue } from "./serial-queue";
import type { JobRow, PreviewRow, Store } from "./state";

type Outcome = { ok: true; password?: string; endpoint?: Endpoint } | { ok: false; error: string; stderr?: string; exitCode?: number };

export interface JobEffectsDeps {
  store: Store;
  backend: Backend;
  queue: SerialQueue;
  now: () => number;
}

export function targetOf(preview: PreviewRow): PreviewTarget {
  return {
    projectId: preview.projectId,
    databaseName: preview.databaseName,
    roleName: preview.roleName,
    mode: preview.mode,
    source: preview.restoreSource,
  };
}

/** What finishing a job does: the real database work first, then the states a client sees. */
export function jobCompleter(deps: JobEffectsDeps): (job: JobRow, at?: number) => Promise<void> {
  return async (job, at) => {
    const preview = deps.store.previews.get(job.previewId);
    if (job.injectedEnd) return recordEnd(job, preview, Math.min(at ?? Infinity, deps.now()));
    const outcome = job.injectedFailure ? injected(job) : await deps.queue.run(() => doWork(deps.backend, job, preview));
    // Never in the future of the clock, whatever the caller says.
    record(job, preview, outcome, Math.min(at ?? Infinity, deps.now()));
  };
}

function injected(job: JobRow): Outcome {
  const failure = job.injectedFailure!;
  return {
    ok: false,
    error: failure.error ?? `${job.type} failed: injected failure`,
    stderr: failure.stderr ?? "ERROR:  injected failure (capydb local control plane)",
    exitCode: failure.exitCode ?? 1,
  };
}

async function doWork(backend: Backend, job: JobRow, preview: PreviewRow | undefined): Promise<Outcome> {
  // Checked inside the queue: a reaper or out-of-band removal queued before us has already dropped it.
  const gone = !preview || preview.deletedAt !== undefined;
  if (job.kind === "delete" && gone) return { ok: true };
  if (gone) return { ok: false, error: `${job.type} failed: preview was deleted while the job ran` };
  try {
    switch (job.kind) {
      case "create":
        await backend.provision(targetOf(preview), preview.password);
        return { ok: true };
      case "restore":
        return { ok: true, endpoint: await backend.restore(targetOf(preview), preview.password, preview.restoreSource!) };
      case "reset": {
        const password = newPassword();
        const endpoint = await backend.reset(targetOf(preview), password);
        return { ok: true, password, endpoint: endpoint ?? undefined };
      }
      case "delete":
        await backend.destroy(targetOf(preview));
        return { ok: true };
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `${job.type} failed: ${message}`, stderr: `ERROR:  ${message}`, exitCode: 1 };
  }
}

/** An injected end: the job shows the chosen state with completed_at; the preview what the test said. */
function recordEnd(job: JobRow, preview: PreviewRow | undefined, now: number): void {
  const end = job.injectedEnd!;
  job.state = end.state;
  job.completedAt = now;
  job.updatedAt = now;
  if (end.error !== undefined) job.error = end.error;
  if (!preview) return;
  if (preview.activeJobId === job.id) preview.activeJobId = undefined;
  if (preview.deletedAt !== undefined) return;
  preview.updatedAt = now;
  if (end.previewState !== undefined) preview.state = end.previewState;
  if (end.lastError !== undefined) preview.lastError = end.lastError;
}

function record(job: JobRow, preview: PreviewRow | undefined, outcome: Outcome, now: number): void {
  job.state = outcome.ok ? "completed" : "failed";
  job.completedAt = now;
  job.updatedAt = now;
  if (!outcome.ok) {
    job.error = outcome.error;
    job.lastStderr = outcome.stderr;
    job.lastExitCode = outcome.exitCode;
  }
  if (!preview) return;
  if (preview.activeJobId === job.id) preview.activeJobId = undefined;
  if (preview.deletedAt !== undefined) return;
  preview.updatedAt = now;
  preview.hidden = false;
  if (!outcome.ok) {
    preview.state = "failed";
    preview.lastError = outcome.error;
    return;
  }
  preview.lastError = undefined;
  if (job.kind === "delete") {
    preview.state = "deleted";
    preview.deletedAt = now;
    preview.deletedBy = "api";
    return;
  }
  if (outcome.password) preview.password = outcome.password;
  // A restored preview is served where its restored data lives.
  if (outcome.endpoint) Object.assign(preview, outcome.endpoint);
  preview.state = "ready";
}
