/**
 * Debugging production as it was at 09:00: a preview restored to that point in time of the project's data
 * (`source: { restoreTime }`), to look at the rows before whatever went wrong after it, without touching
 * production. `pulumi destroy` deletes the preview when you are done.
 *
 *   pulumi config set capydb:projectId prj_123
 *   pulumi config set asOf 2026-12-02T09:00:00+01:00   # optional: 09:00 UTC of today when unset
 *   pulumi up
 *   psql "$(pulumi stack output --show-secrets psqlUrl)"
 *
 * Creating it needs the API key's `backups:write` scope. A time later than CapyDB's latest restorable point is
 * clamped to that point: `clamped` is then true and `restoredAsOf` says the time used. A different `asOf` (or, with
 * it unset, a run on another day) replaces the preview by a restore to the new time.
 */
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const config = new pulumi.Config();
const capydbConfig = new pulumi.Config("capydb");

/** 09:00 UTC of the day the program runs, as RFC 3339. */
function todayAtNineUtc(now: Date = new Date()): string {
  return `${now.toISOString().slice(0, 10)}T09:00:00Z`;
}

const asOf = config.get("asOf") ?? todayAtNineUtc();

const db = new capydb.PreviewDatabase("debug-db", {
  projectId: capydbConfig.require("projectId"),
  name: capydb.previewNameForStack(pulumi.getStack(), "debug-"),
  source: { restoreTime: asOf },
  // A debugging session, not a branch: a working day, and no renewal by later runs.
  ttlHours: 8,
  keepAlive: false,
});

export const requestedAsOf = asOf;
/** The time CapyDB restored to: the one asked for, or the latest restorable point when `clamped`. */
export const restoredAsOf = db.effectiveRestoreTime;
export const clamped = db.restoreTimeClamped;
export const previewName = db.name;
export const psqlUrl = pulumi.secret(db.directUrl);
