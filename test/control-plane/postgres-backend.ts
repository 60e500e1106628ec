import { Client } from "pg";
import { rm } from "node:fs/promises";
import type { Backend, Endpoint, PreviewPlacement, PreviewTarget, RestoreSource } from "./backend";
import { startEmbeddedPostgres, type PostgresServer } from "./embedded-postgres";
import { freePort } from "./free-port";
import { randomToken } from "./ids";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";
import { WalBackups, type BaseBackup } from "./wal-backups";

/** A restored preview's own postmaster, on its own port, serving the restored copy of the source database. */
interface RestoredCluster {
  dataDir: string;
  port: number;
  /** The pooled port; its target follows the cluster across resets. */
  proxy: TcpProxy;
  proxyTarget: { host: string; port: number };
  stop: () => Promise<void>;
}

const START_ATTEMPTS = 3;

interface ServerAccess {
  host: string;
  port: number;
  user: string;
  password: string;
  maintenanceDb: string;
}

function accessFromUrl(postgresUrl: string): ServerAccess {
  const url = new URL(postgresUrl);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    maintenanceDb: decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres",
  };
}

const SEED_SQL = `
  CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE
  );
  INSERT INTO customers (name, email) VALUES
    ('Ada Lovelace', 'ada@example.com'),
    ('Grace Hopper', 'grace@example.com'),
    ('Alan Turing', 'alan@example.com');
`;

/**
 * Each preview is a real role and database on a real server, so the URLs the API hands out
 * really log in. Source data belongs to a no-login role; after a clone its objects are reassigned
 * to the preview's role, which thereby owns everything it can see.
 */
export class PostgresBackend implements Backend {
  readonly kind = "postgres" as const;
  private readonly sourceOwner = `capydb_src_owner_${randomToken(8)}`;
  private readonly sourceDatabases = new Map<string, string>();
  private readonly previewDatabases = new Set<string>();
  private readonly previewRoles = new Set<string>();
  private sourceOwnerCreated = false;
  /** Login delays for the next provisions/resets, first come first served (LoginControl.delayNext). */
  private readonly loginDelays: number[] = [];
  private readonly loginTimers = new Set<NodeJS.Timeout>();
  /** By preview database name. */
  private readonly restored = new Map<string, RestoredCluster>();

  private constructor(
    private readonly access: ServerAccess,
    private readonly admin: Client,
    private readonly proxy: TcpProxy,
    private readonly embedded: PostgresServer | undefined,
    /** Absent on a server given by URL: no WAL archive of it here, so no backups or restores. */
    private readonly wal: WalBackups | undefined,
    readonly postgresVersion: string,
  ) {}

  static async start(opts: { postgresUrl?: string }): Promise<PostgresBackend> {
    const embedded = opts.postgresUrl ? undefined : await startEmbeddedPostgres();
    const access: ServerAccess = embedded
      ? { host: embedded.host, port: embedded.port, user: embedded.user, password: embedded.password, maintenanceDb: "postgres" }
      : accessFromUrl(opts.postgresUrl!);
    let admin: Client | undefined;
    let proxy: TcpProxy | undefined;
    let wal: WalBackups | undefined;
    try {
      admin = connectionTo(access, access.maintenanceDb);
      await admin.connect();
      const versionNum = Number((await admin.query<{ server_version_num: string }>("SHOW server_version_num")).rows[0].server_version_num);
      proxy = await startTcpProxy({ host: access.host, port: access.port });
      if (embedded) {
        wal = await WalBackups.create(embedded, async () => {
          const session = connectionTo(access, access.maintenanceDb);
          await session.connect();
          return session;
        });
      }
      return new PostgresBackend(access, admin, proxy, embedded, wal, String(Math.floor(versionNum / 10000)));
    } catch (err) {
      await admin?.end().catch(() => undefined);
      await proxy?.close();
      await wal?.close();
      await embedded?.stop();
      throw err;
    }
  }

  projectEndpoint(): Endpoint {
    return { publicHost: this.access.host, directPort: this.access.port, pooledPort: this.proxy.port, sslMode: "disable" };
  }

  place(preview: { name: string; shortId: string }): PreviewPlacement {
    return {
      ...this.projectEndpoint(),
      databaseName: `pv_${preview.shortId}`,
      roleName: `pv_${preview.shortId}_owner`,
    };
  }

  async addProject(projectId: string): Promise<void> {
    if (!this.sourceOwnerCreated) {
      await this.admin.query(`CREATE ROLE ${this.ident(this.sourceOwner)} NOLOGIN`);
      this.sourceOwnerCreated = true;
    }
    const database = `capydb_src_${randomToken(10)}`;
    await this.admin.query(`CREATE DATABASE ${this.ident(database)}`);
    this.sourceDatabases.set(projectId, database);
    await this.admin.query(`REVOKE CONNECT ON DATABASE ${this.ident(database)} FROM PUBLIC`);
    // The session must end before the first clone: a template may have no other connections.
    await this.inDatabase(database, async (client) => {
      await client.query(SEED_SQL);
      await client.query(`ALTER TABLE customers OWNER TO ${this.ident(this.sourceOwner)}`);
    });
  }

  /** A base backup of the whole cluster (the project's source database is in it); none on a server given by URL. */
  async takeBackup(): Promise<BaseBackup | undefined> {
    return this.wal?.takeBaseBackup();
  }

  async createRestorePoint(name: string): Promise<void> {
    await this.wal?.createRestorePoint(name);
  }

  async restore(target: PreviewTarget, password: string, source: RestoreSource): Promise<Endpoint> {
    const delay = this.loginDelays.shift();
    const cluster = await this.startRestored(target, source, undefined);
    await this.ownRestoredDatabase(cluster, target, password, delay);
    return this.restoredEndpoint(cluster);
  }

  async querySource(projectId: string, sql: string): Promise<Record<string, unknown>[]> {
    const database = this.sourceDatabases.get(projectId);
    if (!database) throw new Error(`no source database for project ${projectId}`);
    return this.inDatabase(database, async (client) => {
      const result = (await client.query(sql)) as unknown as { rows?: Record<string, unknown>[] } | { rows?: Record<string, unknown>[] }[];
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      return last?.rows ?? [];
    });
  }

  delayNextLogin(ms: number): void {
    this.loginDelays.push(ms);
  }

  async provision(target: PreviewTarget, password: string): Promise<void> {
    const delay = this.loginDelays.shift();
    this.previewRoles.add(target.roleName);
    const login = delay === undefined ? "LOGIN" : "NOLOGIN";
    await this.admin.query(`CREATE ROLE ${this.ident(target.roleName)} ${login} PASSWORD ${this.admin.escapeLiteral(password)}`);
    await this.createDatabase(target);
    this.allowLoginAfter(target.roleName, delay);
  }

  async reset(target: PreviewTarget, password: string): Promise<Endpoint | void> {
    const delay = this.loginDelays.shift();
    const current = this.restored.get(target.databaseName);
    if (current && target.source) {
      // Back to the data it was restored from, served on the same ports.
      await this.stopRestored(target.databaseName);
      const cluster = await this.startRestored(target, target.source, current);
      await this.ownRestoredDatabase(cluster, target, password, delay);
      return this.restoredEndpoint(cluster);
    }
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.ident(target.databaseName)} WITH (FORCE)`);
    await this.createDatabase(target);
    const login = delay === undefined ? "LOGIN" : "NOLOGIN";
    await this.admin.query(`ALTER ROLE ${this.ident(target.roleName)} ${login} PASSWORD ${this.admin.escapeLiteral(password)}`);
    this.allowLoginAfter(target.roleName, delay);
  }

  /** The job completes now; the role logs in `delay` ms later (never for Infinity). */
  private allowLoginAfter(role: string, delay: number | undefined, cluster?: RestoredCluster): void {
    if (delay === undefined || !Number.isFinite(delay)) return;
    const sql = `ALTER ROLE ${this.ident(role)} LOGIN`;
    const timer = setTimeout(() => {
      this.loginTimers.delete(timer);
      const done = cluster ? this.inCluster(cluster, "postgres", (client) => client.query(sql)) : this.admin.query(sql);
      done.catch(() => undefined);
    }, Math.max(0, delay));
    timer.unref();
    this.loginTimers.add(timer);
  }

  async destroy(target: PreviewTarget): Promise<void> {
    if (this.restored.has(target.databaseName)) {
      const cluster = this.restored.get(target.databaseName)!;
      await this.stopRestored(target.databaseName);
      await cluster.proxy.close();
      return;
    }
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.ident(target.databaseName)} WITH (FORCE)`);
    await this.admin.query(`DROP ROLE IF EXISTS ${this.ident(target.roleName)}`);
    this.previewDatabases.delete(target.databaseName);
    this.previewRoles.delete(target.roleName);
  }

  async close(): Promise<void> {
    for (const timer of this.loginTimers) clearTimeout(timer);
    for (const [name, cluster] of [...this.restored]) {
      await this.stopRestored(name);
      await cluster.proxy.close();
    }
    await this.wal?.close();
    await this.proxy.close();
    // Dropping one by one only matters on a shared server; an embedded cluster is deleted whole.
    if (!this.embedded) await this.dropEverything();
    await this.admin.end().catch(() => undefined);
    await this.embedded?.stop();
  }

  private async dropEverything(): Promise<void> {
    const failures: string[] = [];
    const run = async (sql: string): Promise<void> => {
      await this.admin.query(sql).catch((err: Error) => failures.push(`${sql}: ${err.message}`));
    };
    for (const db of [...this.previewDatabases, ...this.sourceDatabases.values()]) {
      await run(`DROP DATABASE IF EXISTS ${this.ident(db)} WITH (FORCE)`);
    }
    for (const role of this.previewRoles) await run(`DROP ROLE IF EXISTS ${this.ident(role)}`);
    if (this.sourceOwnerCreated) await run(`DROP ROLE IF EXISTS ${this.ident(this.sourceOwner)}`);
    if (failures.length > 0) throw new Error(`postgres backend cleanup failed:\n${failures.join("\n")}`);
  }

  private async createDatabase(target: PreviewTarget): Promise<void> {
    const source = this.sourceDatabases.get(target.projectId);
    if (target.mode === "clone" && !source) throw new Error(`no source database for project ${target.projectId}`);
    const template = target.mode === "clone" ? ` TEMPLATE ${this.ident(source!)}` : "";
    this.previewDatabases.add(target.databaseName);
    await this.admin.query(
      `CREATE DATABASE ${this.ident(target.databaseName)} OWNER ${this.ident(target.roleName)}${template}`,
    );
    await this.admin.query(`REVOKE CONNECT ON DATABASE ${this.ident(target.databaseName)} FROM PUBLIC`);
    if (target.mode === "clone") {
      await this.inDatabase(target.databaseName, (client) =>
        client.query(`REASSIGN OWNED BY ${this.ident(this.sourceOwner)} TO ${this.ident(target.roleName)}`),
      );
    }
  }

  /**
   * Starts a postmaster on a recovered copy of a base backup. `reuse`: the ports (and pooled proxy) of the
   * cluster this one replaces; else fresh ones.
   */
  private async startRestored(target: PreviewTarget, source: RestoreSource, reuse: RestoredCluster | undefined): Promise<RestoredCluster> {
    if (!this.wal || !this.embedded) {
      throw new Error("restores need the embedded Postgres: a server given by postgresUrl has no WAL archive here");
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const prepared = await this.wal.prepare(source);
      // Another process may take a free port before the postmaster binds it: then try another one.
      const port = reuse && attempt === 1 ? reuse.port : await freePort();
      try {
        const stop = await this.embedded.startCluster({ dataDir: prepared.dataDir, port, settings: prepared.settings });
        const proxyTarget = reuse?.proxyTarget ?? { host: this.access.host, port };
        // The proxy reads its target at each connection: a reset moves it to the new postmaster.
        proxyTarget.port = port;
        const proxy = reuse?.proxy ?? (await startTcpProxy(proxyTarget));
        const cluster: RestoredCluster = { dataDir: prepared.dataDir, port, proxy, proxyTarget, stop };
        this.restored.set(target.databaseName, cluster);
        return cluster;
      } catch (err) {
        await rm(prepared.dataDir, { recursive: true, force: true });
        lastError = err;
      }
    }
    throw lastError;
  }

  /**
   * The restored cluster holds every database of the original at that time: keep the project's source,
   * renamed to the preview's database and owned by the preview's role, and drop everything else.
   */
  private async ownRestoredDatabase(cluster: RestoredCluster, target: PreviewTarget, password: string, delay: number | undefined): Promise<void> {
    const source = this.sourceDatabases.get(target.projectId);
    if (!source) throw new Error(`no source database for project ${target.projectId}`);
    const ident = (name: string) => this.ident(name);
    await this.inCluster(cluster, "postgres", async (client) => {
      const others = await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname NOT IN ('postgres', $1)",
        [source],
      );
      for (const { datname } of others.rows) await client.query(`DROP DATABASE ${ident(datname)} WITH (FORCE)`);
      await client.query(`ALTER DATABASE ${ident(source)} RENAME TO ${ident(target.databaseName)}`);
      const roles = await client.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'pv\\_%'");
      for (const { rolname } of roles.rows) await client.query(`DROP ROLE ${ident(rolname)}`);
      const login = delay === undefined ? "LOGIN" : "NOLOGIN";
      await client.query(`CREATE ROLE ${ident(target.roleName)} ${login} PASSWORD ${client.escapeLiteral(password)}`);
      await client.query(`ALTER DATABASE ${ident(target.databaseName)} OWNER TO ${ident(target.roleName)}`);
    });
    await this.inCluster(cluster, target.databaseName, (client) =>
      client.query(`REASSIGN OWNED BY ${ident(this.sourceOwner)} TO ${ident(target.roleName)}`),
    );
    this.allowLoginAfter(target.roleName, delay, cluster);
  }

  private restoredEndpoint(cluster: RestoredCluster): Endpoint {
    return { publicHost: this.access.host, directPort: cluster.port, pooledPort: cluster.proxy.port, sslMode: "disable" };
  }

  /** Stops the postmaster and removes its directory; the pooled proxy stays (a reset reuses it). */
  private async stopRestored(databaseName: string): Promise<void> {
    const cluster = this.restored.get(databaseName);
    if (!cluster) return;
    this.restored.delete(databaseName);
    await cluster.stop();
    await rm(cluster.dataDir, { recursive: true, force: true });
  }

  private async inCluster<T>(cluster: RestoredCluster, database: string, work: (client: Client) => Promise<T>): Promise<T> {
    const client = connectionTo({ ...this.access, port: cluster.port }, database);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  private async inDatabase<T>(database: string, work: (client: Client) => Promise<T>): Promise<T> {
    const client = connectionTo(this.access, database);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  private ident(name: string): string {
    return this.admin.escapeIdentifier(name);
  }
}

function connectionTo(access: ServerAccess, database: string): Client {
  const client = new Client({ host: access.host, port: access.port, user: access.user, password: access.password, database });
  // A server going away mid-close would otherwise surface as an uncaught 'error' event.
  client.on("error", () => undefined);
  return client;
}
