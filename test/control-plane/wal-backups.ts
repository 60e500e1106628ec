import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Client } from "pg";
import type { RestoreSource } from "./backend";
import type { PostgresServer } from "./embedded-postgres";
import { randomToken } from "./ids";

/** A physical base backup of the whole cluster, taken with the low-level API. */
export interface BaseBackup {
  dir: string;
  /** WAL position where the copy is consistent: a restore "of the backup" stops here. */
  stopLsn: bigint;
  /** Wall time once pg_backup_stop returned: every commit in the backup is older. */
  stopWallMs: number;
}

/** A data directory ready to start: base backup + recovery.signal, and the settings its recovery needs. */
export interface PreparedRestore {
  dataDir: string;
  settings: Record<string, string>;
}

/** Of these, only the directory itself belongs in a base backup (PostgreSQL docs, "Making a Base Backup"). */
const CONTENTS_SKIPPED = new Set(["pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"]);
const FILES_SKIPPED = new Set(["postmaster.pid", "postmaster.opts", "current_logfiles", "backup_label", "tablespace_map"]);

const ARCHIVE_POLL_MS = 20;
const ARCHIVE_WAIT_MS = 30_000;
const FUTURE_SLACK_MS = 5_000;

export function parseLsn(lsn: string): bigint {
  const [high, low] = lsn.split("/");
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/**
 * Backups, restore points and point-in-time recovery for the embedded cluster, all real: the cluster archives
 * every WAL segment; a base backup is pg_backup_start, a copy of the data directory, pg_backup_stop and its
 * backup_label; a restore is a copy of a base backup that replays the archive up to its target and promotes.
 * A backup holds the whole cluster; what a project sees of it is its source database (postgres-backend).
 */
export class WalBackups {
  private readonly backups: BaseBackup[] = [];
  private readonly points = new Map<string, bigint>();

  private constructor(
    private readonly server: PostgresServer,
    private readonly root: string,
    /** A new superuser session on the maintenance database of the live cluster. */
    private readonly connect: () => Promise<Client>,
  ) {}

  static async create(server: PostgresServer, connect: () => Promise<Client>): Promise<WalBackups> {
    return new WalBackups(server, await mkdtemp(path.join(os.tmpdir(), "capydb-pg-backups-")), connect);
  }

  async takeBaseBackup(): Promise<BaseBackup> {
    const dir = path.join(this.root, `base-${this.backups.length + 1}-${randomToken(6)}`);
    // Non-exclusive backup: the session that starts it must be the one that stops it.
    const session = await this.connect();
    try {
      await session.query("SELECT pg_backup_start($1, true)", [path.basename(dir)]);
      try {
        await copyDataDir(this.server.dataDir, dir);
      } catch (err) {
        await session.query("SELECT pg_backup_stop(false)").catch(() => undefined);
        throw err;
      }
      // pg_backup_stop(true) would wait for the archive in whole seconds; we poll it ourselves, more often.
      const stop = (
        await session.query<{ lsn: string; labelfile: string; segment: string }>(
          "SELECT lsn::text, labelfile, pg_walfile_name(lsn) AS segment FROM pg_backup_stop(false)",
        )
      ).rows[0];
      await writeFile(path.join(dir, "backup_label"), stop.labelfile);
      await waitForArchive(session, this.server.dataDir, stop.segment);
      const backup: BaseBackup = { dir, stopLsn: parseLsn(stop.lsn), stopWallMs: Date.now() };
      this.backups.push(backup);
      return backup;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    } finally {
      await session.end().catch(() => undefined);
    }
  }

  async createRestorePoint(name: string): Promise<void> {
    const session = await this.connect();
    try {
      const { lsn } = (await session.query<{ lsn: string }>("SELECT pg_create_restore_point($1)::text AS lsn", [name])).rows[0];
      this.points.set(name, parseLsn(lsn));
    } finally {
      await session.end().catch(() => undefined);
    }
  }

  /** A fresh data directory that recovers to `source`'s target when started, then promotes. */
  async prepare(source: RestoreSource): Promise<PreparedRestore> {
    const { backup, target } = await this.planFor(source);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "capydb-pg-restore-"));
    try {
      await cp(backup.dir, dataDir, { recursive: true });
      await writeFile(path.join(dataDir, "recovery.signal"), "");
      await this.server.giveToServerUser(dataDir);
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
    return {
      dataDir,
      settings: {
        ...target,
        restore_command: `cp ${this.server.archiveDir}/%f %p`,
        recovery_target_action: "promote",
        // Only the archive's own history: restored clusters never archive, so there is one timeline.
        recovery_target_timeline: "current",
        archive_mode: "off",
      },
    };
  }

  async close(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  private async planFor(source: RestoreSource): Promise<{ backup: BaseBackup; target: Record<string, string> }> {
    switch (source.kind) {
      case "backup":
        return { backup: source.backup as BaseBackup, target: { recovery_target: "immediate" } };
      case "restore_point": {
        const lsn = this.points.get(source.name);
        if (lsn === undefined) throw new Error(`restore point ${source.name} is not in this cluster's history`);
        const backup = this.latestBackup((b) => b.stopLsn <= lsn, `restore point ${source.name}`);
        await this.archiveUpToNow();
        return { backup, target: { recovery_target_name: source.name } };
      }
      case "time": {
        // Postgres's own spelling: it refuses the "T…Z" form here.
        const target = new Date(source.at).toISOString().replace("T", " ").replace("Z", "+00");
        const backup = this.latestBackup((b) => b.stopWallMs <= source.at, target);
        // The catalog clamps to its clock; a fake clock ahead of this machine's would have us wait for the future.
        if (source.at - Date.now() > FUTURE_SLACK_MS) {
          throw new Error(`restore time ${target} is in this machine's future: the postgres backend needs the control plane's clock to be the real one`);
        }
        // Recovery finds where to stop only at the first commit after the target: make one, archived.
        while (Date.now() <= source.at) await sleep(Math.min(ARCHIVE_POLL_MS, source.at - Date.now() + 1));
        await this.archiveUpToNow();
        return { backup, target: { recovery_target_time: target, recovery_target_inclusive: "on" } };
      }
    }
  }

  private latestBackup(usable: (b: BaseBackup) => boolean, what: string): BaseBackup {
    const backup = [...this.backups].reverse().find(usable);
    if (!backup) throw new Error(`no base backup of this cluster is older than ${what}`);
    return backup;
  }

  /** Commits, ends the current WAL segment and waits until the archive has it, so recovery can read up to now. */
  private async archiveUpToNow(): Promise<void> {
    const session = await this.connect();
    try {
      // A commit (with its timestamp, which a time target needs to stop) also makes sure there is a segment to
      // switch: with nothing written since the last switch, pg_switch_wal would name the unfinished next one.
      await session.query("SELECT pg_current_xact_id()");
      const segment = (await session.query<{ name: string }>("SELECT pg_walfile_name(pg_switch_wal()) AS name")).rows[0].name;
      await waitForArchive(session, this.server.dataDir, segment);
    } finally {
      await session.end().catch(() => undefined);
    }
  }
}

/**
 * Until `segment` is in the archive: its archive_status file says ".done", or the archiver has since archived
 * a later segment (a checkpoint may have recycled the segment and its status file). `last_archived_wal` can
 * also name a backup history file (`<segment>.<offset>.backup`), which does not prove its segment archived.
 */
async function waitForArchive(session: Client, dataDir: string, segment: string): Promise<void> {
  const deadline = Date.now() + ARCHIVE_WAIT_MS;
  for (;;) {
    if (existsSync(path.join(dataDir, "pg_wal", "archive_status", `${segment}.done`))) return;
    const archiver = (
      await session.query<{ last: string | null; failed: string | null }>("SELECT last_archived_wal AS last, last_failed_wal AS failed FROM pg_stat_archiver")
    ).rows[0];
    // Segment names of one timeline sort in WAL order.
    const lastSegment = archiver.last?.slice(0, segment.length);
    if (archiver.last === segment || (lastSegment !== undefined && lastSegment > segment)) return;
    if (Date.now() > deadline) {
      throw new Error(`WAL segment ${segment} was not archived within ${ARCHIVE_WAIT_MS} ms (last archived ${archiver.last}, last failed ${archiver.failed})`);
    }
    await sleep(ARCHIVE_POLL_MS);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));

/**
 * Copies a live data directory, skipping what a base backup leaves out and files that vanish meanwhile.
 * `structureOnly`: directories only (the skipped directories keep their layout, e.g. pg_wal/archive_status).
 */
async function copyDataDir(from: string, to: string, relative = "", structureOnly = false): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  for (const entry of await readdir(from, { withFileTypes: true }).catch(ignoreVanished([]))) {
    const childRelative = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) {
      await copyDataDir(path.join(from, entry.name), path.join(to, entry.name), childRelative, structureOnly || CONTENTS_SKIPPED.has(childRelative));
      continue;
    }
    if (structureOnly || (relative === "" && FILES_SKIPPED.has(entry.name))) continue;
    if (entry.name.startsWith("pgsql_tmp") || entry.name === "pg_internal.init") continue;
    await copyFile(path.join(from, entry.name), path.join(to, entry.name)).catch(ignoreVanished(undefined));
  }
}

function ignoreVanished<T>(value: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === "ENOENT") return value;
    throw err;
  };
}
