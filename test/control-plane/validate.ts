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
