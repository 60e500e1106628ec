import type { Backend } from "./backend";
import { HttpError } from "./http-error";
import { newId, newPassword, randomToken } from "./ids";
import { targetOf } from "./job-effects";
import type { JobEngine } from "./jobs";
import type { SerialQueue } from "./serial-queue";
import type { JobRow, PreviewRow, ProjectRow, Store } from "./state";
import type { ResolvedRestore } from "./restores";
import type { PreviewRecord } from "./types";
import type { CreatePreviewInput } from "./validate";

const HOUR_MS = 3_600_000;

export interface PreviewRules {
  previewLimit: number;
  previewLimitStatus: 400 | 403 | 409;
  removeOnDeleteImmediately: boolean;
}

export interface ConnectionInfo {
  username: string;
  direct_url?: string;
  pooled_url?: string;
}

/** The preview state machine of §4 and §6, independent of HTTP and of the backend. */
export class PreviewService {
  constructor(
    private readonly store: Store,
    private readonly backend: Backend,
    private readonly jobs: JobEngine,
    private readonly queue: SerialQueue,
    private readonly rules: PreviewRules,
    private readonly now: () => number,
  ) {}

  create(project: ProjectRow, input: CreatePreviewInput): { preview: PreviewRow; job: JobRow } {
    const preview = this.insert(project, { name: input.name, mode: input.mode, ttlHours: input.ttlHours });
    return { preview, job: this.jobs.open("create", preview) };
  }

  /** E11 with target_kind new_preview: a new preview, listed at once, that a `project.restore` job fills. */
  restore(project: ProjectRow, input: { name?: string; ttlHours: number; resolved: ResolvedRestore }): { preview: PreviewRow; job: JobRow } {
    const preview = this.insert(project, { name: input.name, mode: "clone", ttlHours: input.ttlHours }, input.resolved.provenance);
    preview.restoreSource = input.resolved.source;
    return { preview, job: this.jobs.open("restore", preview) };
  }

  private insert(
    project: ProjectRow,
    input: { name?: string; mode: PreviewRow["mode"]; ttlHours: number },
    provenance: Partial<PreviewRecord> = {},
  ): PreviewRow {
    const listed = this.store.listed(project.id);
    const name = input.name ?? `preview-${randomToken(8)}`;
    if (listed.some((p) => p.name.toLowerCase() === name.toLowerCase())) {
      throw new HttpError(409, "a preview with this name already exists");
    }
    if (listed.length >= this.rules.previewLimit) {
      throw new HttpError(this.rules.previewLimitStatus, "preview limit reached for this plan");
    }
    const now = this.now();
    const shortId = randomToken(10);
    const preview: PreviewRow = {
      id: newId("pvw"),
      projectId: project.id,
      name,
      mode: input.mode,
      state: "provisioning",
      ...this.backend.place({ name, shortId }),
      ttlExpiresAt: now + input.ttlHours * HOUR_MS,
      createdAt: now,
      updatedAt: now,
      password: newPassword(),
      hidden: false,
      connectionsMissingPolls: 0,
      ...provenance,
    };
    this.store.previews.set(preview.id, preview);
    return preview;
  }

  /**
   * A preview a client may still address. Expired-but-unreaped previews are "not ready" for
   * extend (§6) and gone for everything else (§4.2).
   */
  find(id: string, opts: { allowExpired?: boolean } = {}): PreviewRow {
    const preview = this.store.previews.get(id);
    const addressable =
      preview !== undefined &&
      preview.deletedAt === undefined &&
      !preview.hidden &&
      (opts.allowExpired === true || !this.store.isExpired(preview));
    if (!addressable) throw new HttpError(404, "preview not found");
    return preview;
  }

  extend(preview: PreviewRow, ttlHours: number): PreviewRow {
    this.requireIdle(preview);
    if (preview.state !== "ready" || this.store.isExpired(preview)) throw new HttpError(409, "preview is not ready");
    const now = this.now();
    preview.ttlExpiresAt = now + ttlHours * HOUR_MS;
    preview.updatedAt = now;
    return preview;
  }

  reset(preview: PreviewRow): JobRow {
    this.requireIdle(preview);
    if (preview.state !== "ready") throw new HttpError(409, "preview is not ready");
    preview.state = "resetting";
    preview.updatedAt = this.now();
    return this.jobs.open("reset", preview);
  }

  delete(preview: PreviewRow): JobRow {
    this.requireIdle(preview);
    preview.state = "deleting";
    preview.updatedAt = this.now();
    preview.hidden = this.rules.removeOnDeleteImmediately;
    return this.jobs.open("delete", preview);
  }

  connections(preview: PreviewRow): ConnectionInfo {
    const username = preview.roleName;
    if (preview.connectionsMissingPolls > 0) {
      preview.connectionsMissingPolls--;
      return { username };
    }
    // No database exists yet (or any more) to point a URL at (§4.7).
    if (preview.state === "provisioning" || preview.state === "failed") return { username };
    const url = (port: number): string =>
      `postgres://${encodeURIComponent(preview.roleName)}:${encodeURIComponent(preview.password)}@${preview.publicHost}:${port}/${encodeURIComponent(preview.databaseName)}?sslmode=${preview.sslMode}`;
    return { username, direct_url: url(preview.directPort), pooled_url: url(preview.pooledPort) };
  }

  /** Gone for clients at once; the database is dropped in the background, in queue order. */
  retire(preview: PreviewRow, by: "ttl" | "out-of-band"): void {
    if (preview.deletedAt !== undefined) return;
    const now = this.now();
    preview.deletedAt = now;
    preview.deletedBy = by;
    preview.state = "deleted";
    preview.hidden = false;
    preview.updatedAt = now;
    const target = targetOf(preview);
    this.queue.run(() => this.backend.destroy(target)).catch((err: Error) => {
      process.stderr.write(`[capydb-local] dropping ${preview.id} failed: ${err.message}\n`);
    });
  }

  reapExpired(): void {
    for (const preview of this.store.previews.values()) {
      if (preview.deletedAt === undefined && this.store.isExpired(preview)) this.retire(preview, "ttl");
    }
  }

  private requireIdle(preview: PreviewRow): void {
    if (this.store.activeJob(preview)) throw new HttpError(409, "preview has an active operation");
  }
}
