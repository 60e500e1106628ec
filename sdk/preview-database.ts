import * as pulumi from "@pulumi/pulumi";
import { AUTO_NAME_SEED } from "../provider/auto-name-seed";
import { SECRET_OUTPUTS } from "../provider/secret-outputs";
import { previewDatabaseProvider } from "./provider-shim";

/**
 * How long the provider waits for CapyDB, as durations such as `"20m"`, `"90s"` or `"1h30m"` (1 s to 24 h).
 * Pulumi's `customTimeouts` never reaches a dynamic provider; these do. Changing them makes no API call that
 * changes the preview: they only bound the next operations.
 */
export interface PreviewDatabaseTimeouts {
  /**
   * Bound for `pulumi up` creating the preview: the create job, then the connection URLs. Default `"20m"`. A create
   * still unfinished at this bound is kept in the stack (a partial failure) and the next `pulumi up` waits again,
   * also with this bound.
   */
  create?: pulumi.Input<string>;
  /** Bound for an in-place update: the reset job (`resetTrigger`) and the extend (`ttlHours`). Default `"20m"`. */
  update?: pulumi.Input<string>;
  /**
   * Bound for `pulumi destroy` (and replacements) waiting for the delete job. Default `"20m"`. Destroy reads it from
   * the state, so a new value applies once a `pulumi up` has recorded it.
   */
  delete?: pulumi.Input<string>;
}

/**
 * What a preview is restored from, instead of a clone of the project's current data: exactly one of the three.
 * CapyDB restores it into a new preview (`POST /v1/projects/{projectId}/restores` with `target_kind: "new_preview"`),
 * which needs the API key's `backups:write` scope.
 */
export interface PreviewDatabaseSource {
  /** Key of a backup of the project to restore (CapyDB's `backup_key`). */
  backupKey?: pulumi.Input<string>;
  /** Id of a restore point of the project to restore (CapyDB's `restore_point_id`). */
  restorePointId?: pulumi.Input<string>;
  /**
   * A point in time to restore the project's data as of: an RFC 3339 date-time with a time zone, such as
   * `"2026-11-30T09:00:00Z"` or `"2026-11-30T10:00:00+01:00"` (CapyDB's `restore_time`). Stored in UTC, so two
   * spellings of one instant are the same value. A time later than the latest restorable point is clamped by CapyDB
   * to that point: `restoreTimeClamped` is then `true`, `effectiveRestoreTime` says the time used, and one progress
   * line says both.
   */
  restoreTime?: pulumi.Input<string>;
}

/** Inputs of {@link PreviewDatabase}. None is secret; credentials never go here (see the class). */
export interface PreviewDatabaseArgs {
  /**
   * Id of the CapyDB project the preview belongs to and, in `clone` mode, copies its data from (`"prj_…"`).
   * Required. Changing it replaces the preview.
   */
  projectId: pulumi.Input<string>;
  /**
   * The preview's name, unique within the project: 1 to 63 lowercase letters, digits or `-`, starting and ending
   * with a letter or digit (e.g. `"pr-42"`). Default: a name derived from the stack and resource names, the same
   * on every `pulumi up`; removing an explicit name keeps the current one. Changing it replaces the preview,
   * deleting the old one first (two at once could exceed the plan's preview limit).
   */
  name?: pulumi.Input<string>;
  /**
   * `"clone"` (default): a copy of the project's data at creation time. `"empty"`: an empty database. Changing it
   * replaces the preview; the old preview is deleted first (names are unique).
   */
  mode?: pulumi.Input<"clone" | "empty">;
  /**
   * Time to live in hours, a whole number from 1 to 168 (7 days). Default 24. CapyDB deletes the preview when it
   * expires. A change is applied in place by extending the preview: the new expiry is the time of that update plus
   * `ttlHours` (absolute, so it can also shorten it). An unchanged value is renewed by `pulumi up` once less than
   * half of it is left (see `keepAlive`).
   */
  ttlHours?: pulumi.Input<number>;
  /**
   * TTL keep-alive: whether and when `pulumi up` renews the TTL. `true` (default): renew once less than half of
   * `ttlHours` is left. A number of hours (greater than 0, at most `ttlHours`): renew once fewer hours than that are
   * left; `keepAlive: ttlHours` renews on every `up`. `false`: never renew, only a `ttlHours` change extends.
   * Decided from the stored expiry in CapyDB's time (its clock offset is measured and kept in the state); `pulumi preview` shows a due renewal as an in-place update and
   * prints why. A renewal sets the expiry to the time of the update plus `ttlHours`, and is skipped when the
   * preview already expires later, so it never shortens the life. Changing this value alone only re-reads the preview.
   */
  keepAlive?: pulumi.Input<boolean | number>;
  /**
   * Any string or number (numbers are stored as strings). Setting it on an existing preview, or changing it, resets
   * the preview in place: `clone` copies the project's current data again, `empty` wipes it. The password (and so
   * both URLs) changes. Removing it resets nothing. Ignored when the preview is first created. On a preview with a
   * `source`, setting or changing it replaces the preview by a new restore from that source instead (see `source`).
   */
  resetTrigger?: pulumi.Input<string | number>;
  /**
   * `true`: when the preview is created and a live preview of the same name (compared case-insensitively) already
   * exists in the project, manage that one instead of failing with "already exists". This is how to take over a
   * preview made outside this stack, since `pulumi import` cannot work for dynamic providers. From then on it is
   * an ordinary resource of the stack: `pulumi destroy` deletes it (add the `retainOnDelete` option to keep it).
   * Default `false`. Only read at creation; changing it later makes no API call that changes the preview.
   */
  adopt?: pulumi.Input<boolean>;
  /**
   * When `pulumi up` considers a created or reset preview ready. `"login"` (default): once CapyDB's job has completed
   * AND both `directUrl` and `pooledUrl` accept a login with the new password and run `SELECT 1`, retried within the
   * operation's timeout (`timeouts.create` or `timeouts.update`), so the next step of a pipeline can connect at once.
   * A login that never works fails the `up` naming the URL (host, port, database and user; never the password) and
   * what the server answered, and keeps the preview in the stack; the next `up` tries the logins again. `"job"`: as
   * soon as the job has completed, for runners that cannot reach the database. The environment variable
   * `CAPYDB_READINESS` (`login` or `job`) sets the default for resources that leave this unset. Changing it makes no
   * API call that changes the preview.
   */
  readiness?: pulumi.Input<"login" | "job">;
  /** How long to wait for CapyDB; see {@link PreviewDatabaseTimeouts}. Default `"20m"` for each. */
  timeouts?: pulumi.Input<PreviewDatabaseTimeouts>;
  /**
   * Restore the preview from a backup, a restore point or a point in time instead of cloning the project's current
   * data: exactly one of `{ backupKey }`, `{ restorePointId }` or `{ restoreTime }` (see
   * {@link PreviewDatabaseSource}). Needs the API key's `backups:write` scope, asked for only when `source` is set.
   * Cannot be combined with `mode: "empty"`. Changing it (or adding or removing it) replaces the preview, deleting
   * the old one first. On a preview with a `source`, a new or changed `resetTrigger` also replaces it: the preview
   * is restored again from the same source, back to the restored moment (with a new id and password), because
   * CapyDB's in-place reset would copy the project's current data instead.
   */
  source?: pulumi.Input<PreviewDatabaseSource>;
}

/** Outputs that carry credentials; the engine stores them encrypted. */
export const PREVIEW_DATABASE_SECRET_OUTPUTS: string[] = [...SECRET_OUTPUTS];

/**
 * A CapyDB preview database: a disposable Postgres database in a CapyDB project, with a TTL. `pulumi up` creates it
 * and waits until it is ready, `pulumi refresh` drops it from the stack once it has expired or been deleted, and
 * `pulumi destroy` deletes it and waits for the delete to finish.
 *
 * Credentials are read at run time from stack config (`capydb:apiKey`, secret, and `capydb:apiUrl`) or from
 * `CAPYDB_API_KEY` / `CAPYDB_API_URL`, never from arguments, and never appear in the resource's state. Pulumi does
 * record the stack config, `capydb:apiKey` included (encrypted), as the inputs of the default `pulumi-nodejs`
 * provider, and refresh and destroy use that recorded config: see the README, "Configure".
 *
 * Outputs are what CapyDB reports after the last create, update or refresh; fields CapyDB leaves empty are `null`.
 * `directUrl`, `pooledUrl` and `password` are secret: the resource asks the engine (`additionalSecretOutputs`) to
 * store them encrypted and to hand them to the program as secrets. Under `pulumi.runtime.setMocks` there is no
 * engine, so unit tests see them as plain values.
 *
 * @example
 * ```ts
 * import * as pulumi from "@pulumi/pulumi";
 * import * as capydb from "pulumi-capydb";
 *
 * const db = new capydb.PreviewDatabase("db", {
 *   projectId: new pulumi.Config("capydb").require("projectId"),
 *   name: capydb.previewNameForBranch(pulumi.getStack()),
 *   ttlHours: 72,
 * });
 *
 * export const host = db.host;
 * export const databaseUrl = db.pooledUrl; // secret: `pulumi stack output databaseUrl --show-secrets`
 * ```
 */
export class PreviewDatabase extends pulumi.dynamic.Resource {
  /** The project the preview belongs to, as CapyDB reports it (`project_id`). */
  declare readonly projectId: pulumi.Output<string>;
  /** The preview's name, as CapyDB reports it. */
  declare readonly name: pulumi.Output<string>;
  /** `"clone"` or `"empty"`, as CapyDB reports it (a string, so that a mode added by CapyDB later still reads). */
  declare readonly mode: pulumi.Output<string>;
  /**
   * CapyDB's state of the preview: `"ready"` once `pulumi up` has succeeded; while a create or a reset is
   * unfinished (kept as a partial failure), the state CapyDB last reported, normally `"provisioning"`, or
   * `"resetting"`; after a refresh, whatever CapyDB reports. `null` while a create whose answer was lost is
   * recorded as pending (nothing is known of the preview yet).
   */
  declare readonly state: pulumi.Output<string | null>;
  /** Host name to connect to (`public_host`), or `null` when CapyDB reports none. */
  declare readonly host: pulumi.Output<string | null>;
  /** TCP port of direct Postgres connections (`direct_port`), or `null` when unknown. */
  declare readonly directPort: pulumi.Output<number | null>;
  /** TCP port of the connection pooler (`pooled_port`), or `null` when unknown. */
  declare readonly pooledPort: pulumi.Output<number | null>;
  /** The Postgres role both URLs log in as (`role_name`), or `null` when unknown. Kept across resets. */
  declare readonly roleName: pulumi.Output<string | null>;
  /** The Postgres database name (`database_name`), or `null` when unknown. Kept across resets. */
  declare readonly databaseName: pulumi.Output<string | null>;
  /** The `sslmode` clients should use (`ssl_mode`, e.g. `"require"`), or `null` when unknown. */
  declare readonly sslMode: pulumi.Output<string | null>;
  /** The `ttlHours` input in effect (hours; 24 when not set). */
  declare readonly ttlHours: pulumi.Output<number>;
  /**
   * When CapyDB deletes the preview (`ttl_expires_at`, an RFC 3339 timestamp as CapyDB sends it). Set at creation
   * and moved by every extend: a `ttlHours` change or a keep-alive renewal (see `keepAlive`). `null` while a create
   * whose answer was lost is recorded as pending.
   */
  declare readonly ttlExpiresAt: pulumi.Output<string | null>;
  /** When CapyDB created the preview (`created_at`, RFC 3339), or `null` when unknown. */
  declare readonly createdAt: pulumi.Output<string | null>;
  /** CapyDB's message about the last failed operation on the preview (`last_error`), or `null` when none. */
  declare readonly lastError: pulumi.Output<string | null>;
  /**
   * How CapyDB made the preview (`source_kind`, e.g. `"backup"` or `"pitr"` for a restore), or `null` when CapyDB
   * does not say (as for an ordinary clone).
   */
  declare readonly sourceKind: pulumi.Output<string | null>;
  /** The backup the preview was restored from (`source_backup_key`), or `null` when it was not restored from one. */
  declare readonly sourceBackupKey: pulumi.Output<string | null>;
  /**
   * The point in time the preview's data was restored as of (`source_restore_time`, RFC 3339), as CapyDB lists it,
   * or `null` when it was not a point-in-time restore (or CapyDB does not say).
   */
  declare readonly sourceRestoreTime: pulumi.Output<string | null>;
  /**
   * With `source.restoreTime`: `true` when CapyDB clamped the requested time (it was later than the latest
   * restorable point) and restored to an earlier one, `false` when it restored to the time asked for; `null`
   * without a `restoreTime` source. Recorded at creation from the restore's answer (`pitr`) and kept by refresh and
   * update; when the answer does not say, judged from the preview's `sourceRestoreTime` (to the second), and `null`
   * when that is missing too.
   */
  declare readonly restoreTimeClamped: pulumi.Output<boolean | null>;
  /**
   * The point in time CapyDB restored to (RFC 3339): the restore answer's `pitr.restore_time`, else the preview's
   * `source_restore_time`; `null` when the preview was not restored to a point in time. Differs from
   * `source.restoreTime` exactly when `restoreTimeClamped` is `true`. Recorded at creation and kept by refresh and
   * update.
   */
  declare readonly effectiveRestoreTime: pulumi.Output<string | null>;
  /**
   * The preview's `updated_at` (RFC 3339) as CapyDB listed it just before the connection URLs in state were read,
   * or `null` when unknown. A refresh that lists the preview ready with this same `updated_at` (and no reset
   * pending) keeps the URLs in state instead of reading them again: only a reset changes them, and a reset moves
   * `updated_at`.
   */
  declare readonly connectionsAsOf: pulumi.Output<string | null>;
  /**
   * The Postgres major version the preview runs, as its project reports it (`postgres_version`, e.g. `"17"`).
   * Read once per provider process per project; `null` when the project could not be read or, in state written
   * before this output existed, until the next refresh or update.
   */
  declare readonly postgresVersion: pulumi.Output<string | null>;
  /** The region of the preview's project (`region`, e.g. `"eu-central-1"`); `null` as for `postgresVersion`. */
  declare readonly region: pulumi.Output<string | null>;
  /**
   * Id of the last CapyDB job this resource waited on: the create job, then each reset job. `null` when there was
   * none (e.g. an adopted preview that was never reset).
   */
  declare readonly lastJobId: pulumi.Output<string | null>;
  /**
   * **Secret.** `postgres://` URL on the direct port, with the role's password: for migrations, `psql`, advisory
   * locks, LISTEN/NOTIFY. Changes on every reset; a refresh picks up the current one. `null` until CapyDB has
   * handed out the URLs: after a create kept as a partial failure, or while a create is recorded as pending.
   */
  declare readonly directUrl: pulumi.Output<string | null>;
  /**
   * **Secret.** `postgres://` URL through the connection pooler, with the role's password: for the application at
   * run time (e.g. `DATABASE_URL`). Changes on every reset; a refresh picks up the current one. `null` in the same
   * cases as `directUrl`.
   */
  declare readonly pooledUrl: pulumi.Output<string | null>;
  /** **Secret.** The role's password, the one both URLs carry. Changes on every reset. `null` when the URLs are. */
  declare readonly password: pulumi.Output<string | null>;

  constructor(name: string, args: PreviewDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    // Every declared output must be a key of props for Pulumi to create its Output property: the
    // output-only ones, and the optional inputs that are also outputs (name, mode, ttlHours: the provider fills them).
    // An undefined input is not sent, so seeding them changes nothing the provider sees.
    const props = {
      name: undefined,
      mode: undefined,
      ttlHours: undefined,
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
      sourceKind: undefined,
      sourceBackupKey: undefined,
      sourceRestoreTime: undefined,
      restoreTimeClamped: undefined,
      effectiveRestoreTime: undefined,
      lastJobId: undefined,
      connectionsAsOf: undefined,
      postgresVersion: undefined,
      region: undefined,
      directUrl: undefined,
      pooledUrl: undefined,
      password: undefined,
      ...args,
      // The plugin never sees the URN, so the stable auto-name is seeded here. The `__` prefix keeps this
      // bookkeeping out of `pulumi preview --diff`, as it does `__provider`.
      [AUTO_NAME_SEED]: `${pulumi.getStack()}-${name}`,
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
