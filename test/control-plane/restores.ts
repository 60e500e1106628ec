import type { Backend, BackupHandle, RestoreSource } from "./backend";
import { HttpError } from "./http-error";
import { randomToken } from "./ids";
import type { SerialQueue } from "./serial-queue";
import type { BackupRecord, PreviewRecord, RestorePointRecord, RestoreWindow } from "./types";
import type { RestoreSourceInput } from "./validate";

const iso = (ms: number): string => new Date(ms).toISOString();

interface BackupRow extends BackupRecord {
  handle: BackupHandle;
}

/** The answer's `pitr` member (§2 E11), for restore_time requests. */
export interface PitrAnswer {
  requested_restore_time: string;
  restore_time: string;
  restore_time_clamped: boolean;
}

/** A restore request turned into what the backend rebuilds and what the new preview says about it. */
export interface ResolvedRestore {
  source: RestoreSource;
  provenance: Pick<PreviewRecord, "sourceKind" | "sourceBackupKey" | "sourceRestorePointId" | "sourceRestoreTime">;
  pitr?: PitrAnswer;
}

/**
 * Which backups and restore points each project has, and the window a point-in-time restore can reach:
 * from the oldest backup (nothing older can be rebuilt) to now (a later time is clamped to now).
 */
export class RestoreCatalog {
  private readonly backups: BackupRow[] = [];
  private readonly points: RestorePointRecord[] = [];
  private scheduleTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly backend: Backend,
    private readonly queue: SerialQueue,
    private readonly now: () => number,
    private readonly projectIds: () => string[],
  ) {}

  async takeBackup(projectId: string, trigger: BackupRecord["trigger"]): Promise<BackupRecord> {
    const handle = await this.queue.run(() => this.backend.takeBackup(projectId));
    // The data is the data of the moment the backup ended.
    const row: BackupRow = { key: `bkp_${randomToken(16)}`, projectId, takenAt: this.now(), trigger, handle };
    this.backups.push(row);
    return publicBackup(row);
  }

  listBackups(projectId: string): BackupRecord[] {
    return this.backups.filter((b) => b.projectId === projectId).map(publicBackup);
  }

  async createRestorePoint(projectId: string, name?: string): Promise<RestorePointRecord> {
    const id = `rp_${randomToken(16)}`;
    // The id is the point's name in the WAL: unique, and free of anything a caller typed.
    await this.queue.run(() => this.backend.createRestorePoint(id));
    const point: RestorePointRecord = { id, name: name ?? id, projectId, createdAt: this.now() };
    this.points.push(point);
    return { ...point };
  }

  restorePoints(projectId: string): RestorePointRecord[] {
    return this.points.filter((p) => p.projectId === projectId).map((p) => ({ ...p }));
  }

  /** Undefined when the project has no backup yet: nothing can be restored. */
  window(projectId: string): RestoreWindow | undefined {
    const first = this.backups.find((b) => b.projectId === projectId);
    return first ? { earliest: first.takenAt, latest: this.now() } : undefined;
  }

  /** A backup of every project each `everyMs` of wall time; null stops it. */
  schedule(everyMs: number | null): void {
    if (this.scheduleTimer) clearInterval(this.scheduleTimer);
    this.scheduleTimer = undefined;
    if (everyMs === null) return;
    if (!(Number.isFinite(everyMs) && everyMs > 0)) throw new Error("backup schedule: everyMs must be a positive number of milliseconds, or null to stop");
    let running = false;
    this.scheduleTimer = setInterval(() => {
      // A slow backup must not pile up behind itself.
      if (running) return;
      running = true;
      (async () => {
        for (const projectId of this.projectIds()) {
          // The control plane may be closing between two projects' backups.
          if (this.stopped) return;
          await this.takeBackup(projectId, "scheduled");
        }
      })()
        .catch((err: Error) => process.stderr.write(`[capydb-local] scheduled backup failed: ${err.message}\n`))
        .finally(() => {
          running = false;
        });
    }, everyMs);
    this.scheduleTimer.unref();
  }

  stop(): void {
    this.schedule(null);
    this.stopped = true;
  }

  /** Checks a request's source against the project's catalog (400 naming what is wrong). */
  resolve(projectId: string, input: RestoreSourceInput): ResolvedRestore {
    if ("backupKey" in input) {
      const backup = this.backups.find((b) => b.key === input.backupKey && b.projectId === projectId);
      if (!backup) throw new HttpError(400, `backup_key "${input.backupKey}" matches no backup of project ${projectId}`);
      return { source: { kind: "backup", backup: backup.handle }, provenance: { sourceKind: "backup", sourceBackupKey: backup.key } };
    }
    if ("restorePointId" in input) {
      const point = this.points.find((p) => p.id === input.restorePointId && p.projectId === projectId);
      if (!point) throw new HttpError(400, `restore_point_id "${input.restorePointId}" matches no restore point of project ${projectId}`);
      if (!this.window(projectId)) throw new HttpError(400, `project ${projectId} has no backup to restore from`);
      // A restore point is a named point in time: the preview says "pitr" and when.
      return {
        source: { kind: "restore_point", name: point.id },
        provenance: { sourceKind: "pitr", sourceRestorePointId: point.id, sourceRestoreTime: point.createdAt },
      };
    }
    const window = this.window(projectId);
    if (!window) throw new HttpError(400, `project ${projectId} has no backup to restore from`);
    const requested = input.restoreTime;
    if (requested < window.earliest) {
      throw new HttpError(
        400,
        `restore_time ${iso(requested)} is before the earliest restorable point: restorable window is ${iso(window.earliest)} to ${iso(window.latest)}`,
      );
    }
    const clamped = requested > window.latest;
    const at = clamped ? window.latest : requested;
    return {
      source: { kind: "time", at },
      provenance: { sourceKind: "pitr", sourceRestoreTime: at },
      pitr: { requested_restore_time: iso(requested), restore_time: iso(at), restore_time_clamped: clamped },
    };
  }
}

function publicBackup(row: BackupRow): BackupRecord {
  const { handle: _handle, ...record } = row;
  return { ...record };
}
