import * as pulumi from "@pulumi/pulumi";
import { LOOKUP_OUTPUTS } from "../provider/lookup-outputs";
import { SECRET_OUTPUTS } from "../provider/secret-outputs";

/** Arguments of {@link getPreviewDatabase}. */
export interface GetPreviewDatabaseArgs {
  /** Id of the CapyDB project the preview lives in (`"prj_…"`). */
  projectId: pulumi.Input<string>;
  /** The preview's name, compared case-insensitively as CapyDB does (e.g. `"pr-42"`). */
  name: pulumi.Input<string>;
}

/** What {@link getPreviewDatabase} returns: the fields of a {@link PreviewDatabase}'s outputs, each an Output. */
export interface GetPreviewDatabaseResult {
  /** The preview's CapyDB id (`"pvw_…"`). */
  id: pulumi.Output<string>;
  /** The project the preview belongs to (`project_id`). */
  projectId: pulumi.Output<string>;
  /** The preview's name, as CapyDB reports it. */
  name: pulumi.Output<string>;
  /** `"clone"` or `"empty"`, as CapyDB reports it. */
  mode: pulumi.Output<string>;
  /** CapyDB's state of the preview at the time of the lookup (`"ready"`, `"provisioning"`, …). */
  state: pulumi.Output<string>;
  /** Host name to connect to (`public_host`), or `null` when CapyDB reports none. */
  host: pulumi.Output<string | null>;
  /** TCP port of direct Postgres connections (`direct_port`), or `null`. */
  directPort: pulumi.Output<number | null>;
  /** TCP port of the connection pooler (`pooled_port`), or `null`. */
  pooledPort: pulumi.Output<number | null>;
  /** The Postgres role both URLs log in as (`role_name`), or `null`. */
  roleName: pulumi.Output<string | null>;
  /** The Postgres database name (`database_name`), or `null`. */
  databaseName: pulumi.Output<string | null>;
  /** The `sslmode` clients should use (`ssl_mode`), or `null`. */
  sslMode: pulumi.Output<string | null>;
  /** When CapyDB deletes the preview (`ttl_expires_at`, RFC 3339). */
  ttlExpiresAt: pulumi.Output<string>;
  /** When CapyDB created the preview (`created_at`), or `null`. */
  createdAt: pulumi.Output<string | null>;
  /** CapyDB's message about the last failed operation on the preview (`last_error`), or `null`. */
  lastError: pulumi.Output<string | null>;
  /** How CapyDB made the preview (`source_kind`, e.g. `"backup"` or `"pitr"` for a restore), or `null`. */
  sourceKind: pulumi.Output<string | null>;
  /** The backup the preview was restored from (`source_backup_key`), or `null`. */
  sourceBackupKey: pulumi.Output<string | null>;
  /** The point in time the preview's data was restored as of (`source_restore_time`, RFC 3339), or `null`. */
  sourceRestoreTime: pulumi.Output<string | null>;
  /** The project's Postgres major version (`postgres_version`, e.g. `"17"`), or `null` when it could not be read. */
  postgresVersion: pulumi.Output<string | null>;
  /** The project's region (`region`), or `null` when it could not be read. */
  region: pulumi.Output<string | null>;
  /** **Secret.** `postgres://` URL on the direct port, with the password; `null` while the preview is not ready. */
  directUrl: pulumi.Output<string | null>;
  /** **Secret.** `postgres://` URL through the pooler, with the password; `null` while the preview is not ready. */
  pooledUrl: pulumi.Output<string | null>;
  /** **Secret.** The role's password; `null` while the preview is not ready. */
  password: pulumi.Output<string | null>;
}

const SECRET_FIELDS = new Set<string>(SECRET_OUTPUTS);
/** The provider's list: every field of the result, and no other (a field named here but not declared fails to compile). */
const FIELDS: ReadonlyArray<keyof GetPreviewDatabaseResult> = LOOKUP_OUTPUTS;

/**
 * Reads a live preview database that something else manages (the CapyDB GitHub Action, another stack, the CLI)
 * without managing it: nothing is created, changed or deleted, and `pulumi destroy` leaves it alone.
 *
 * The lookup runs in the program itself (on `pulumi preview` too), with the credentials a {@link PreviewDatabase}
 * uses: stack config `capydb:apiKey` (secret) and `capydb:apiUrl`, else `CAPYDB_API_KEY` / `CAPYDB_API_URL`. It is
 * not recorded in state: each run reads the preview again, so rotated credentials (a reset) are picked up.
 * `directUrl`, `pooledUrl` and `password` are secret Outputs. A preview that does not exist (or has expired) fails
 * the program with an error naming the project and the name.
 *
 * @example
 * ```ts
 * import * as capydb from "pulumi-capydb";
 *
 * const shared = capydb.getPreviewDatabase({ projectId: "prj_123", name: "pr-42" });
 * export const sharedHost = shared.host;
 * export const sharedUrl = shared.pooledUrl; // secret
 * ```
 */
export function getPreviewDatabase(args: GetPreviewDatabaseArgs): GetPreviewDatabaseResult {
  const config = new pulumi.Config("capydb");
  // The key is read as a plain value on purpose: a secret input would make every field of the result secret.
  // It goes only to the lookup's requests, never into a result.
  const credentials = { apiKey: config.get("apiKey"), apiUrl: config.get("apiUrl"), allowInsecureHttp: config.get("allowInsecureHttp") };
  const found = pulumi
    .all([args.projectId, args.name])
    .apply(async ([projectId, name]) => {
      // Loaded only when a lookup runs: a program that never looks anything up never loads the API client.
      const { lookupPreviewDatabase } = await import("../provider/lookup");
      return lookupPreviewDatabase({ projectId, name }, credentials);
    });
  const result: Record<string, pulumi.Output<unknown>> = {};
  for (const field of FIELDS) {
    const value = found.apply((outs) => (outs[field] ?? null) as unknown);
    result[field] = SECRET_FIELDS.has(field) ? pulumi.secret(value) : value;
  }
  return result as unknown as GetPreviewDatabaseResult;
}
