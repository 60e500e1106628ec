import { Client } from "pg";
import type { Backend, Endpoint, PreviewPlacement, PreviewTarget, RestoreSource } from "./backend";
import { startEmbeddedPostgres, type PostgresServer } from "./embedded-postgres";
import { randomToken } from "./ids";
import { RestoredClusters } from "./restored-clusters";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";
import { WalBackups, type BaseBackup } from "./wal-backups";

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
  private readonly restored: RestoredClusters | undefined;

  private constructor(
    private readonly access: ServerAccess,
    private readonly admin: Client,
    private readonly proxy: TcpProxy,
    private readonly embedded: PostgresServer | undefined,
    /** Absent on a server given by URL: no WAL archive of it here, so no backups or restores. */
    private readonly wal: WalBackups | undefined,
    readonly postgresVersion: string,
  ) {
    this.restored = embedded && wal ? new RestoredClusters(embedded, wal, access) : undefined;
  }

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
    return this.serveRestored(target, password, source, this.loginDelays.shift());
  }

  /** A restored preview gets a postmaster of its own (restored-clusters.ts); a reset replaces it on the same ports. */
  private async serveRestored(target: PreviewTarget, password: string, source: RestoreSource, delay: number | undefined): Promise<Endpoint> {
    if (!this.restored) throw new Error("restores need the embedded Postgres: a server given by postgresUrl has no WAL archive here");
    const sourceDatabase = this.sourceDatabases.get(target.projectId);
    if (!sourceDatabase) throw new Error(`no source database for project ${target.projectId}`);
    const endpoint = await this.restored.serve(source, {
      sourceDatabase,
      sourceOwner: this.sourceOwner,
      databaseName: target.databaseName,
      roleName: target.roleName,
      password,
      canLogin: delay === undefined,
    });
    this.allowLoginAfter(target.roleName, delay, target.databaseName);
    return endpoint;
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
    // A restored preview goes back to the data it was restored from.
    if (target.source) return this.serveRestored(target, password, target.source, delay);
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.ident(target.databaseName)} WITH (FORCE)`);
    await this.createDatabase(target);
    const login = delay === undefined ? "LOGIN" : "NOLOGIN";
    await this.admin.query(`ALTER ROLE ${this.ident(target.roleName)} ${login} PASSWORD ${this.admin.escapeLiteral(password)}`);
    this.allowLoginAfter(target.roleName, delay);
  }

  /** The job completes now; the role logs in `delay` ms later (never for Infinity). */
  private allowLoginAfter(role: string, delay: number | undefined, restoredDatabase?: string): void {
    if (delay === undefined || !Number.isFinite(delay)) return;
    const sql = `ALTER ROLE ${this.ident(role)} LOGIN`;
    const timer = setTimeout(() => {
      this.loginTimers.delete(timer);
      const done = restoredDatabase !== undefined ? this.restored!.run(restoredDatabase, sql) : this.admin.query(sql);
      done.catch(() => undefined);
    }, Math.max(0, delay));
    timer.unref();
    this.loginTimers.add(timer);
  }

  async destroy(target: PreviewTarget): Promise<void> {
    if (this.restored?.has(target.databaseName)) return this.restored.remove(target.databaseName);
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.ident(target.databaseName)} WITH (FORCE)`);
    await this.admin.query(`DROP ROLE IF EXISTS ${this.ident(target.roleName)}`);
    this.previewDatabases.delete(target.databaseName);
    this.previewRoles.delete(target.roleName);
  }

  async close(): Promise<void> {
    for (const timer of this.loginTimers) clearTimeout(timer);
    await this.restored?.closeAll();
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
