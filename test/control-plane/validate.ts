import { HttpError } from "./http-error";
import type { PreviewMode } from "./types";

export const MAX_TTL_HOURS = 168;
export const DEFAULT_TTL_HOURS = 24;
const NAME_PATTERN = /^[a-z0-9-]{1,63}$/;

export interface CreatePreviewInput {
  name?: string;
  mode: PreviewMode;
  ttlHours: number;
}

/** An empty body counts as `{}` (the documented create example); anything else must be a JSON object. */
export function parseJsonObject(body: string): Record<string, unknown> {
  if (body.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

const present = (value: unknown): boolean => value !== undefined && value !== null;

// Unknown fields are ignored on purpose: the real API tolerates them and clients may send more.
export function parseCreatePreview(body: Record<string, unknown>): CreatePreviewInput {
  const { name, mode, ttl_hours: ttl } = body;
  if (present(name) && (typeof name !== "string" || !NAME_PATTERN.test(name))) {
    throw new HttpError(400, "name must be 1-63 characters of lowercase letters, digits and hyphens");
  }
  if (present(mode) && mode !== "clone" && mode !== "empty") {
    throw new HttpError(400, 'mode must be "clone" or "empty"');
  }
  if (present(ttl) && !(Number.isInteger(ttl) && (ttl as number) >= 0 && (ttl as number) <= MAX_TTL_HOURS)) {
    throw new HttpError(400, `ttl_hours must be an integer between 1 and ${MAX_TTL_HOURS}`);
  }
  return {
    name: present(name) ? (name as string) : undefined,
    mode: present(mode) ? (mode as PreviewMode) : "clone",
    ttlHours: present(ttl) && ttl !== 0 ? (ttl as number) : DEFAULT_TTL_HOURS,
  };
}

export function parseExtend(body: Record<string, unknown>): number {
  const ttl = body.ttl_hours;
  if (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > MAX_TTL_HOURS) {
    throw new HttpError(400, `ttl_hours must be an integer between 1 and ${MAX_TTL_HOURS}`);
  }
  return ttl as number;
}

export function parseJobsLimit(raw: string | null): number {
  if (raw === null || raw === "") return 25;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, "limit must be a positive integer");
  return Math.min(limit, 100);
}

export type RestoreSourceInput = { backupKey: string } | { restorePointId: string } | { restoreTime: number };

export interface RestoreInput {
  previewName?: string;
  ttlHours: number;
  source: RestoreSourceInput;
}

const TARGET_KINDS = ["new_preview", "preview", "project"];
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const SOURCE_FIELDS = ["backup_key", "restore_point_id", "restore_time"] as const;

/** E11 body. Only `target_kind: "new_preview"` is emulated; the others need state this emulator lacks. */
export function parseRestore(body: Record<string, unknown>): RestoreInput {
  const { target_kind: targetKind, preview_name: name, ttl_hours: ttl } = body;
  if (!present(targetKind)) throw new HttpError(400, 'target_kind is required: send "new_preview"');
  if (typeof targetKind !== "string" || !TARGET_KINDS.includes(targetKind)) {
    throw new HttpError(400, `target_kind must be one of ${TARGET_KINDS.join(", ")}`);
  }
  if (targetKind !== "new_preview") {
    throw new HttpError(400, `target_kind "${targetKind}" is not supported by the local control plane: only "new_preview"`);
  }
  const given = SOURCE_FIELDS.filter((field) => present(body[field]));
  if (given.length !== 1) {
    throw new HttpError(400, `exactly one of backup_key, restore_point_id, restore_time is required (got ${given.length === 0 ? "none" : given.join(", ")})`);
  }
  const field = given[0];
  const value = body[field];
  if (typeof value !== "string" || value.trim() === "") throw new HttpError(400, `${field} must be a non-empty string`);
  let source: RestoreSourceInput;
  if (field === "restore_time") {
    const at = Date.parse(value);
    if (!RFC3339.test(value) || Number.isNaN(at)) {
      throw new HttpError(400, "restore_time must be an RFC 3339 time, e.g. 2026-01-01T09:00:00Z");
    }
    source = { restoreTime: at };
  } else {
    source = field === "backup_key" ? { backupKey: value } : { restorePointId: value };
  }
  if (present(name) && (typeof name !== "string" || !NAME_PATTERN.test(name))) {
    throw new HttpError(400, "preview_name must be 1-63 characters of lowercase letters, digits and hyphens");
  }
  if (present(ttl) && !(Number.isInteger(ttl) && (ttl as number) >= 1 && (ttl as number) <= MAX_TTL_HOURS)) {
    throw new HttpError(400, `ttl_hours must be an integer between 1 and ${MAX_TTL_HOURS}`);
  }
  for (const flag of ["allow_unverified_backup", "recreate"]) {
    if (present(body[flag]) && typeof body[flag] !== "boolean") throw new HttpError(400, `${flag} must be a boolean`);
  }
  return {
    previewName: present(name) ? (name as string) : undefined,
    ttlHours: present(ttl) ? (ttl as number) : DEFAULT_TTL_HOURS,
    source,
  };
}
