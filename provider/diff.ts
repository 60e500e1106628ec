import { DEFAULT_MODE, DEFAULT_TTL_HOURS } from "./inputs";
import { DEFAULT_KEEP_ALIVE, renewalDue } from "./keep-alive";
import { DEFAULT_READINESS } from "./login-proof";
import { hasSource } from "./source";
import { containsUnknown } from "./unknown";

export interface DiffResult {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** A different project, name, mode or source is a different database: the API can change none in place. */
export const REPLACE_KEYS = ["projectId", "name", "mode", "source"] as const;
/** ttlHours → extend; resetTrigger → reset; timeouts, adopt, keepAlive and readiness only change how we work. */
export const UPDATE_KEYS = ["ttlHours", "resetTrigger", "timeouts", "adopt", "keepAlive", "readiness"] as const;

// Absent means the default: state from 0.1.0 has no keepAlive and must not show a change for it.
const DEFAULTS: Record<string, unknown> = { mode: DEFAULT_MODE, ttlHours: DEFAULT_TTL_HOURS, keepAlive: DEFAULT_KEEP_ALIVE, readiness: DEFAULT_READINESS };

export interface DiffPlan {
  result: DiffResult;
  /** Why the update is planned when no input changed (a TTL renewal), for the progress line. */
  renewal?: string;
}

/**
 * diff(olds = previous outputs, news = checked inputs, now). Offline and deterministic for a given
 * clock reading. Adds the TTL keep-alive: an in-place update when a renewal is due (keep-alive.ts).
 * The dynamic-provider server sends no detailed diff, so the reason travels as a progress line.
 */
export function planDiff(olds: Record<string, unknown>, news: Record<string, unknown>, now: number): DiffPlan {
  const result = diffPreview(olds, news);
  if (result.replaces.length > 0) return { result };
  // An explicit ttlHours change extends anyway; the renewal only matters when nothing else would.
  const renewal = renewalDue(olds, news, now);
  if (!renewal.due || containsUnknown(news.ttlHours) || !sameValue(olds.ttlHours ?? DEFAULT_TTL_HOURS, news.ttlHours ?? DEFAULT_TTL_HOURS)) {
    return { result };
  }
  return { result: { ...result, changes: true }, renewal: renewal.reason };
}

/**
 * The input comparison: an unknown value counts as a change, and as a replacement for a replace
 * key, so that preview shows the worst case.
 */
export function diffPreview(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
  const changed = (key: string) => {
    if (containsUnknown(news[key])) return true;
    return !sameValue(olds[key] ?? DEFAULTS[key], news[key] ?? DEFAULTS[key]);
  };
  const replaces: string[] = REPLACE_KEYS.filter(changed);
  let updates: string[] = UPDATE_KEYS.filter(changed);
  // A restored preview is reset by restoring it again: CapyDB's reset re-clones the project's current
  // data, which would lose the restored moment. A new or changed trigger (not a removed one) replaces.
  if (updates.includes("resetTrigger") && news.resetTrigger !== undefined && news.resetTrigger !== null && restores(news)) {
    replaces.push("resetTrigger");
    updates = updates.filter((k) => k !== "resetTrigger");
  }
  return {
    changes: replaces.length > 0 || updates.length > 0,
    replaces,
    // Always delete first. Names are unique per project, so with the name kept the create would meet a
    // 409 for its own predecessor; and with a new name, two previews at once need two slots of the
    // plan's preview limit (1 on the smallest plan), so create-first would fail exactly there.
    deleteBeforeReplace: replaces.length > 0,
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The new inputs restore from a source (or may: a source not known yet during preview counts). */
function restores(news: Record<string, unknown>): boolean {
  return hasSource(news) || (news.source !== undefined && news.source !== null && containsUnknown(news.source));
}
