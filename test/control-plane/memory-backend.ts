import type { Backend, Endpoint, PreviewPlacement, PreviewTarget, RestoreSource } from "./backend";

const HOST_SUFFIX = "db.capydb.local";

/** No databases at all: for tests that only exercise the API contract, where speed matters. */
export class MemoryBackend implements Backend {
  readonly kind = "memory" as const;
  readonly postgresVersion = "17";
  private readonly databases = new Set<string>();

  projectEndpoint(projectSlug: string): Endpoint {
    return { publicHost: `${projectSlug}.${HOST_SUFFIX}`, directPort: 5432, pooledPort: 6432, sslMode: "require" };
  }

  place(preview: { name: string; shortId: string }): PreviewPlacement {
    return {
      publicHost: `${preview.name}-${preview.shortId.slice(0, 6)}.${HOST_SUFFIX}`,
      directPort: 5432,
      pooledPort: 6432,
      sslMode: "require",
      databaseName: `pv_${preview.shortId}`,
      roleName: `pv_${preview.shortId}_owner`,
    };
  }

  async addProject(): Promise<void> {}

  async provision(target: PreviewTarget): Promise<void> {
    this.databases.add(target.databaseName);
  }

  /** No data: a backup is a record in the catalog and nothing more. */
  async takeBackup(): Promise<undefined> {
    return undefined;
  }

  async createRestorePoint(): Promise<void> {}

  async restore(target: PreviewTarget, _password: string, _source: RestoreSource): Promise<undefined> {
    this.databases.add(target.databaseName);
    return undefined;
  }

  async reset(target: PreviewTarget): Promise<void> {
    if (!this.databases.has(target.databaseName)) throw new Error(`database "${target.databaseName}" does not exist`);
  }

  async destroy(target: PreviewTarget): Promise<void> {
    this.databases.delete(target.databaseName);
  }

  async close(): Promise<void> {
    this.databases.clear();
  }
}
