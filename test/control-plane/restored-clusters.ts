import { rm } from "node:fs/promises";
import { Client } from "pg";
import type { Endpoint, RestoreSource } from "./backend";
import type { PostgresServer } from "./embedded-postgres";
import { freePort } from "./free-port";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";
import type { WalBackups } from "./wal-backups";

const START_ATTEMPTS = 3;

export interface Superuser {
  host: string;
  user: string;
  password: string;
}

/** What a restored preview's database is made of, and who gets it. */
export interface RestoredDatabase {
  /** The project's source database as the cluster knows it, and the role owning its objects. */
  sourceDatabase: string;
  sourceOwner: string;
  databaseName: string;
  roleName: string;
  password: string;
  /** false: the role is created NOLOGIN (LoginControl.delayNext). */
  canLogin: boolean;
}

interface Served {
  port: number;
  /**
   * The pooled port's pass-through. It reads `target` at each connection, so a reset moves it to the new
   * postmaster and the preview keeps both its ports.
   */
  proxy: TcpProxy;
  target: { host: string; port: number };
  /** The running postmaster, while there is one. */
  cluster?: { dataDir: string; stop: () => Promise<void> };
}

/**
 * Restored previews of the postgres backend: each is served by a postmaster of its own, started on a recovered
 * copy of a base backup (wal-backups.ts), holding only the project's source database renamed to the preview's.
 */
export class RestoredClusters {
  /** By preview database name. */
  private readonly served = new Map<string, Served>();

  constructor(
    private readonly server: PostgresServer,
    private readonly wal: WalBackups,
    private readonly superuser: Superuser,
  ) {}

  has(databaseName: string): boolean {
    return this.served.has(databaseName);
  }

  /** Recovers `source` into a postmaster serving `db`; one already serving that name is replaced, on the same ports. */
  async serve(source: RestoreSource, db: RestoredDatabase): Promise<Endpoint> {
    const served = await this.start(source, db.databaseName);
    await this.keepOnly(served.port, db);
    return { publicHost: this.superuser.host, directPort: served.port, pooledPort: served.proxy.port, sslMode: "disable" };
  }

  /** Superuser SQL on the postmaster serving `databaseName` (for a login allowed late). */
  async run(databaseName: string, sql: string): Promise<void> {
    const served = this.served.get(databaseName);
    if (!served?.cluster) return;
    await this.inCluster(served.port, "postgres", (client) => client.query(sql));
  }

  /** Stops the postmaster, removes its directory and closes its ports. */
  async remove(databaseName: string): Promise<void> {
    const served = this.served.get(databaseName);
    if (!served) return;
    this.served.delete(databaseName);
    await stopCluster(served);
    await served.proxy.close();
  }

  async closeAll(): Promise<void> {
    for (const name of [...this.served.keys()]) await this.remove(name);
  }

  private async start(source: RestoreSource, databaseName: string): Promise<Served> {
    const existing = this.served.get(databaseName);
    if (existing) await stopCluster(existing);
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const prepared = await this.wal.prepare(source);
      // Another process may take a free port before the postmaster binds it: then try another one.
      const port = existing && attempt === 1 ? existing.port : await freePort();
      try {
        const stop = await this.server.startCluster({ dataDir: prepared.dataDir, port, settings: prepared.settings });
        const target = existing?.target ?? { host: this.superuser.host, port };
        target.port = port;
        const served: Served = existing ?? { port, target, proxy: await startTcpProxy(target) };
        served.port = port;
        served.cluster = { dataDir: prepared.dataDir, stop };
        this.served.set(databaseName, served);
        return served;
      } catch (err) {
        await rm(prepared.dataDir, { recursive: true, force: true });
        lastError = err;
      }
    }
    throw lastError;
  }

  /**
   * The recovered cluster holds every database and role of the original at that time: keep the project's
   * source, renamed to the preview's database and owned by the preview's role, and drop everything else.
   */
  private async keepOnly(port: number, db: RestoredDatabase): Promise<void> {
    await this.inCluster(port, "postgres", async (client) => {
      const ident = (name: string) => client.escapeIdentifier(name);
      const others = await client.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname NOT IN ('postgres', $1)",
        [db.sourceDatabase],
      );
      for (const { datname } of others.rows) await client.query(`DROP DATABASE ${ident(datname)} WITH (FORCE)`);
      await client.query(`ALTER DATABASE ${ident(db.sourceDatabase)} RENAME TO ${ident(db.databaseName)}`);
      const previewRoles = await client.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'pv\\_%'");
      for (const { rolname } of previewRoles.rows) await client.query(`DROP ROLE ${ident(rolname)}`);
      const login = db.canLogin ? "LOGIN" : "NOLOGIN";
      await client.query(`CREATE ROLE ${ident(db.roleName)} ${login} PASSWORD ${client.escapeLiteral(db.password)}`);
      await client.query(`ALTER DATABASE ${ident(db.databaseName)} OWNER TO ${ident(db.roleName)}`);
    });
    await this.inCluster(port, db.databaseName, (client) =>
      client.query(`REASSIGN OWNED BY ${client.escapeIdentifier(db.sourceOwner)} TO ${client.escapeIdentifier(db.roleName)}`),
    );
  }

  private async inCluster<T>(port: number, database: string, work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ host: this.superuser.host, port, user: this.superuser.user, password: this.superuser.password, database });
    client.on("error", () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

async function stopCluster(served: Served): Promise<void> {
  const cluster = served.cluster;
  if (!cluster) return;
  served.cluster = undefined;
  await cluster.stop();
  await rm(cluster.dataDir, { recursive: true, force: true });
}
