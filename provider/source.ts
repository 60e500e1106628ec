import { containsUnknown } from "./unknown";
import { describeValue } from "./describe-value";

/**
 * The `source` input (issue 17): what a preview is restored from, through CapyDB's restore endpoint
 * (E11) instead of a clone. Exactly one of the three; each is one field of the restore request.
 */
export interface PreviewSource {
  /** A backup of the project, by its key (E11 `backup_key`). */
  backupKey?: string;
  /** A restore point of the project, by its id (E11 `restore_point_id`). */
  restorePointId?: string;
  /** A point in time, RFC 3339; check normalises it to UTC (E11 `restore_time`). */
  restoreTime?: string;
}

export const SOURCE_KEYS = ["backupKey", "restorePointId", "restoreTime"] as const;
export type SourceKey = (typeof SOURCE_KEYS)[number];

/** The restore request's field for each source key. */
export const SOURCE_WIRE_FIELDS: Record<SourceKey, "backup_key" | "restore_point_id" | "restore_time"> = {
  backupKey: "backup_key",
  restorePointId: "restore_point_id",
  restoreTime: "restore_time",
};

const EXAMPLES =
  '{ backupKey: "bkp_…" }, { restorePointId: "rp_…" } or { restoreTime: "2026-11-30T09:00:00Z" }';

/**
 * RFC 3339 date-time (section 5.6): full date, "T" (or "t", or a space, as RFC 3339 allows), time with
 * seconds, optional fraction, and a zone ("Z" or ±hh:mm). No zone is refused: a restore time must not
 * depend on the runner's time zone.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * The same instant in UTC, "YYYY-MM-DDTHH:MM:SS[.fraction]Z", with the fraction kept to the digits
 * given (trailing zeros dropped): two spellings of one instant compare equal in diff, and nothing
 * finer than what the user wrote is invented. undefined when the text is not an RFC 3339 date-time or
 * names a day or time that does not exist (Feb 30, 25:00).
 */
export function normalizeRestoreTime(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000);
  if (utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999) return undefined;
  const fraction = (m[7] ?? "").replace(/0+$/, "");
  return `${utc.toISOString().slice(0, 19)}${fraction === "." ? "" : fraction}Z`;
}

/**
 * Validates `source` (known parts only) and returns it normalised, or the failures, each naming the
 * field and the fix. Absent (undefined or null) is no source: an ordinary create.
 */
export function checkSource(value: unknown): { source?: unknown; failures: Array<{ property: string; reason: string }> } {
  const failures: Array<{ property: string; reason: string }> = [];
  if (value === undefined || value === null) return { failures };
  if (typeof value !== "object" || Array.isArray(value)) {
    if (containsUnknown(value)) return { source: value, failures };
    failures.push({ property: "source", reason: `source must be an object with exactly one of backupKey, restorePointId or restoreTime, such as ${EXAMPLES}; got ${describeValue(value)}.` });
    return { failures };
  }
  const given = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(given)) {
    if (v === undefined || v === null) continue;
    if (!(SOURCE_KEYS as readonly string[]).includes(key)) {
      failures.push({ property: `source.${key}`, reason: `source.${key} is not a restore source; use exactly one of backupKey, restorePointId or restoreTime, such as ${EXAMPLES}.` });
      continue;
    }
    out[key] = v;
  }
  const present = SOURCE_KEYS.filter((k) => out[k] !== undefined);
  if (present.length !== 1 && failures.length === 0) {
    failures.push({
      property: "source",
      reason:
        present.length === 0
          ? `source must name exactly one of backupKey, restorePointId or restoreTime, such as ${EXAMPLES}; it names none. Remove \`source\` for a clone of the project's current data.`
          : `source must name exactly one of backupKey, restorePointId or restoreTime; it names ${present.join(" and ")}. Keep the one to restore from, such as ${EXAMPLES}.`,
    });
  }
  for (const key of present) {
    const v = out[key];
    if (containsUnknown(v)) continue;
    if (typeof v !== "string" || v.trim() === "") {
      failures.push({ property: `source.${key}`, reason: `source.${key} must be a non-empty string, got ${describeValue(v)}.` });
    } else if (key === "restoreTime") {
      const normal = normalizeRestoreTime(v);
      if (normal === undefined) {
        failures.push({
          property: "source.restoreTime",
          reason:
            `source.restoreTime must be an RFC 3339 date-time with a time zone, such as "2026-11-30T09:00:00Z" or ` +
            `"2026-11-30T10:00:00+01:00", got ${describeValue(v)}.`,
        });
      } else {
        out[key] = normal;
      }
    } else if (v !== v.trim()) {
      failures.push({ property: `source.${key}`, reason: `source.${key} has leading or trailing whitespace: ${describeValue(v)}; remove it.` });
    }
  }
  return { source: out, failures };
}

/** The one source key a checked source names, or undefined for no source (or one not known yet). */
export function sourceKeyOf(source: unknown): SourceKey | undefined {
  if (!source || typeof source !== "object") return undefined;
  return SOURCE_KEYS.find((k) => typeof (source as Record<string, unknown>)[k] === "string");
}

/** The `source` stored in a state's inputs or outputs (as checked when it was written), if any. */
export function storedSource(props: Record<string, unknown>): PreviewSource | undefined {
  return props.source && typeof props.source === "object" ? (props.source as PreviewSource) : undefined;
}

/** True when the inputs (or stored outputs) ask for a restore. */
export function hasSource(props: { source?: unknown }): boolean {
  return sourceKeyOf(props.source) !== undefined;
}

/**
 * The `source` a program declaring this preview would have, from what CapyDB reports of its provenance
 * (for `pulumi import`): a backup by its key, a point-in-time restore by the time CapyDB used. A restore
 * point is reported as the time it stands for (CapyDB keeps no restore point id on the preview), so a
 * program naming it by `restorePointId` sees a replacement planned after the import; undefined for a clone.
 */
export function reportedSource(outputs: { sourceKind?: unknown; sourceBackupKey?: unknown; sourceRestoreTime?: unknown }): PreviewSource | undefined {
  if (outputs.sourceKind === "backup" && typeof outputs.sourceBackupKey === "string" && outputs.sourceBackupKey !== "") {
    return { backupKey: outputs.sourceBackupKey };
  }
  const time = typeof outputs.sourceRestoreTime === "string" ? normalizeRestoreTime(outputs.sourceRestoreTime) : undefined;
  if (outputs.sourceKind === "pitr" && time) return { restoreTime: time };
  return undefined;
}
