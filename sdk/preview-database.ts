import * as pulumi from "@pulumi/pulumi";
import { SECRET_OUTPUTS } from "../provider/secret-outputs";
import { previewDatabaseProvider } from "./provider-shim";

export interface PreviewDatabaseTimeouts {
  /** How long `pulumi up` waits for the create job, e.g. "20m" (default), "90s", "1h". */
  create?: pulumi.Input<string>;
  /** Bound for in-place updates (extend, reset). Default "20m". */
  update?: pulumi.Input<string>;
  /** How long destroy waits for the delete job. Default "20m". */
  delete?: pulumi.Input<string>;
}

export interface PreviewDatabaseArgs {
  /** The CapyDB project to branch from ("prj_…"). Changing it replaces the preview. */
  projectId: pulumi.Input<string>;
  /**
   * Preview name: lowercase letters, digits and '-', at most 63 characters. Default: a stable name from
   * the stack and resource names. Changing it replaces the preview.
   */
  name?: pulumi.Input<string>;
  /** "clone" (copy of the project's current data, default) or "empty". Changing it replaces the preview. */
  mode?: pulumi.Input<"clone" | "empty">;
  /** Hours to live, 1..168 (default 24). A change extends in place: expiry = time of the update + ttlHours. */
  ttlHours?: pulumi.Input<number>;
  /** Change this value (any string or number) to reset the preview in place: re-clone or wipe. */
  resetTrigger?: pulumi.Input<string | number>;
  /** Manage an existing live preview of the same name instead of failing with "already exists". */
  adopt?: pulumi.Input<boolean>;
  /** Waits for CapyDB jobs (customTimeouts does not reach dynamic providers). */
  timeouts?: pulumi.Input<PreviewDatabaseTimeouts>;
}

/** Outputs that carry credentials; the engine stores them encrypted. */
export const PREVIEW_DATABASE_SECRET_OUTPUTS: string[] = [...SECRET_OUTPUTS];

/**
 * A CapyDB preview database: a disposable Postgres database branched from a project, with a TTL.
 * Credentials come from stack config (`capydb:apiKey`, `capydb:apiUrl`) or CAPYDB_API_KEY /
 * CAPYDB_API_URL, never from arguments.
 */
export class PreviewDatabase extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly mode: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  /** Public host (SNI-routed). */
  declare readonly host: pulumi.Output<string | null>;
  declare readonly directPort: pulumi.Output<number | null>;
  declare readonly pooledPort: pulumi.Output<number | null>;
  declare readonly roleName: pulumi.Output<string | null>;
  declare readonly databaseName: pulumi.Output<string | null>;
  declare readonly sslMode: pulumi.Output<string | null>;
  declare readonly ttlHours: pulumi.Output<number>;
  /** RFC 3339; moves on every extend. */
  declare readonly ttlExpiresAt: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string | null>;
  declare readonly lastError: pulumi.Output<string | null>;
  /** Id of the last CapyDB job this resource waited on (create or reset). */
  declare readonly lastJobId: pulumi.Output<string | null>;
  /** Secret. postgres:// URL on the direct port: migrations, psql, advisory locks, LISTEN/NOTIFY. */
  declare readonly directUrl: pulumi.Output<string>;
  /** Secret. postgres:// URL through the pooler (transaction pooling): application runtime. */
  declare readonly pooledUrl: pulumi.Output<string>;
  /** Secret. The role's password (the same one both URLs carry). */
  declare readonly password: pulumi.Output<string>;

  constructor(name: string, args: PreviewDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    // Output-only keys must be present (as undefined) for Pulumi to create their Output properties.
    const props = {
      state: undefined,
      host: undefined,
      directPort: undefined,
      pooledPort: undefined,
      roleName: undefined,
      databaseName: undefined,
      sslMode: undefined,
      ttlExpiresAt: undefined,
      createdAt: undefined,
      lastError: undefined,
      lastJobId: undefined,
      directUrl: undefined,
      pooledUrl: undefined,
      password: undefined,
      ...args,
      // The plugin never sees the URN, so the stable auto-name is seeded here.
      autoNameSeed: `${pulumi.getStack()}-${name}`,
    };
    super(
      previewDatabaseProvider,
      name,
      props,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: PREVIEW_DATABASE_SECRET_OUTPUTS }),
      "capydb",
      "PreviewDatabase",
    );
  }
}
