import { AUTO_NAME_SEED } from "./auto-name-seed";
import { parseDuration } from "./duration";
import { unsafePathSegmentReason } from "./path-segment";
import { hashedPreviewName, MAX_PREVIEW_NAME_LENGTH } from "./slug";
import { checkSource, hasSource, PreviewSource } from "./source";
import { containsUnknown, isUnknown } from "./unknown";
import { describeValue } from "./describe-value";

/** Resolved inputs as the provider methods receive them (camelCase; snake_case only on the wire). */
export interface Timeouts {
  create?: string;
  update?: string;
  delete?: string;
}

export interface PreviewDatabaseInputs {
  projectId: string;
  name: string;
  mode: "clone" | "empty";
  ttlHours: number;
  timeouts?: Timeouts;
  /** Changing this value resets the preview (re-clone or wipe) in place. */
  resetTrigger?: string;
  /** Take over a live preview of the same name instead of failing with "already exists". */
  adopt?: boolean;
  /**
   * TTL keep-alive on `pulumi up`: true (default) renews when less than half of ttlHours is left, a
   * number renews when fewer than that many hours are left, false never renews (see keep-alive.ts).
   */
  keepAlive?: boolean | number;
  /** Set by the SDK (0.1.0's SDK: `autoNameSeed`): "<stack>-<resource name>", the seed of the stable auto-name. */
  __autoNameSeed?: string;
  /** "login" (default): create and reset return once both URLs log in; "job": once CapyDB's job completes. */
  readiness?: "login" | "job";
  /** Restore the new preview from a backup, a restore point or a point in time (source.ts); absent: a clone. */
  source?: PreviewSource;
  autoNameSeed?: string;
}

/**
 * THE list of input names a PreviewDatabase accepts: check rejects any other property (a typo such as
 * `ttlHour` must not silently do nothing), and these are the inputs echoed into the outputs. A new
 * input is added here, and nowhere else.
 */
export const INPUT_NAMES = ["projectId", "name", "mode", "ttlHours", "timeouts", "resetTrigger", "adopt", "keepAlive", "readiness", "source"] as const;
/**
 * Not user inputs, but always present: the serialized provider, and the SDK's auto-name seed (named
 * `autoNameSeed` by 0.1.0, whose stacks still hold it).
 */
export const ALWAYS_ALLOWED_PROPERTIES = ["__provider", AUTO_NAME_SEED, "autoNameSeed"] as const;

/** The auto-name seed the SDK sent, under this version's key or 0.1.0's. */
export function autoNameSeedOf(inputs: object): unknown {
  const props = inputs as Record<string, unknown>;
  return props[AUTO_NAME_SEED] ?? props.autoNameSeed;
}

export const MODES = ["clone", "empty"] as const;
export const DEFAULT_MODE = "clone";
export const DEFAULT_TTL_HOURS = 24;
export const MIN_TTL_HOURS = 1;
export const MAX_TTL_HOURS = 168;
export const DEFAULT_TIMEOUT = "20m";
export const MAX_NAME_LENGTH = MAX_PREVIEW_NAME_LENGTH;
const NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** Keep waits within what a CI job can hold: 24 h. */
const MAX_TIMEOUT_MS = 24 * 3_600_000;
const TIMEOUT_KEYS = ["create", "update", "delete"] as const;

/**
 * One predicate per input; check runs each only on known values and words the failure itself. Plain
 * functions, not zod: check runs in every plugin launch, and loading zod there cost ~0.1 s (issue 16).
 */
const isString = (v: unknown): v is string => typeof v === "string";
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const InputSchemas = {
  projectId: (v: unknown) => isString(v) && v.length >= 1,
  name: (v: unknown) => isString(v) && v.length <= MAX_NAME_LENGTH && NAME.test(v),
  mode: (v: unknown) => (MODES as readonly unknown[]).includes(v),
  ttlHours: (v: unknown) => isFiniteNumber(v) && Number.isInteger(v) && v >= MIN_TTL_HOURS && v <= MAX_TTL_HOURS,
  timeouts: (v: unknown) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
  },
  timeout: (v: unknown) => {
    if (!isString(v)) return false;
    const ms = parseDuration(v);
    return ms !== undefined && ms >= 1_000 && ms <= MAX_TIMEOUT_MS;
  },
  resetTrigger: (v: unknown) => isString(v) || isFiniteNumber(v),
  adopt: (v: unknown) => typeof v === "boolean",
  keepAlive: (v: unknown) => typeof v === "boolean" || (isFiniteNumber(v) && v > 0 && v <= MAX_TTL_HOURS),
  readiness: (v: unknown) => v === "login" || v === "job",
};
const valid = (check: (value: unknown) => boolean, value: unknown) => check(value);

export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * A stable, valid preview name from the SDK's seed: readable slug plus a short hash so that two seeds
 * never meet after truncation or character folding (e.g. "feat/a" and "feat-a").
 */
export function autoName(seed: string): string {
  return hashedPreviewName(seed);
}

export function resolveTimeoutMs(timeouts: Timeouts | undefined, op: keyof Timeouts): number {
  const text = timeouts?.[op] ?? DEFAULT_TIMEOUT;
  return parseDuration(text) ?? parseDuration(DEFAULT_TIMEOUT)!;
}

/**
 * check: validates every known input, names the field and the fix, fills defaults for absent keys
 * and the stable name. Unknown values (preview) are passed through untouched. Never calls the API.
 */
export function checkInputs(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const inputs: Record<string, unknown> = { ...news };
  const fail = (property: string, reason: string) => failures.push({ property, reason });

  for (const key of Object.keys(news)) {
    if (!isAllowedProperty(key)) fail(key, unknownPropertyReason(key));
  }

  const projectId = news.projectId;
  if (!isUnknown(projectId)) {
    if (projectId === undefined || projectId === null || projectId === "") {
      fail("projectId", "projectId is required: the id of the CapyDB project to branch from (e.g. \"prj_123\").");
    } else if (!valid(InputSchemas.projectId, projectId)) {
      fail("projectId", `projectId must be a string such as "prj_123", got ${describeValue(projectId)}.`);
    } else {
      // It becomes a path segment of every API call: "..", "." or a "/" would send the call elsewhere.
      const unsafe = unsafePathSegmentReason(projectId as string);
      if (unsafe) fail("projectId", `projectId must be a CapyDB project id such as "prj_123", got ${describeValue(projectId)}: ${unsafe}.`);
    }
  }

  if (news.name === undefined || news.name === null) {
    delete inputs.name;
    // Omitting the name keeps the current one, so that removing an explicit name never replaces.
    const seed = autoNameSeedOf(news);
    if (typeof olds.name === "string" && olds.name !== "") inputs.name = olds.name;
    else if (isUnknown(seed)) inputs.name = seed;
    else if (typeof seed === "string" && seed !== "") inputs.name = autoName(seed);
    else fail("name", "name is required when the resource is not created through the pulumi-capydb SDK.");
  } else if (!isUnknown(news.name)) {
    const name = news.name;
    if (!valid(InputSchemas.name, name)) {
      fail(
        "name",
        `name must be 1-${MAX_NAME_LENGTH} lowercase letters, digits or '-', starting and ending with a letter or digit ` +
          `(e.g. "pr-42"), got ${describeValue(name)}. Omit it to get a stable name from the stack and resource names.`,
      );
    }
  }

  if (news.mode === undefined || news.mode === null) {
    inputs.mode = DEFAULT_MODE;
  } else if (!isUnknown(news.mode) && !valid(InputSchemas.mode, news.mode)) {
    fail("mode", `mode must be "clone" (copy of the project's data) or "empty" (blank database), got ${describeValue(news.mode)}.`);
  }

  if (news.ttlHours === undefined || news.ttlHours === null) {
    inputs.ttlHours = DEFAULT_TTL_HOURS;
  } else if (!isUnknown(news.ttlHours)) {
    const ttl = news.ttlHours;
    if (!valid(InputSchemas.ttlHours, ttl)) {
      fail("ttlHours", `ttlHours must be a whole number of hours from ${MIN_TTL_HOURS} to ${MAX_TTL_HOURS} (7 days), got ${describeValue(ttl)}.`);
    }
  }

  if (news.timeouts === undefined || news.timeouts === null) {
    delete inputs.timeouts;
  } else if (!isUnknown(news.timeouts)) {
    const timeouts = news.timeouts;
    if (!valid(InputSchemas.timeouts, timeouts)) {
      fail("timeouts", `timeouts must be an object such as { create: "30m", delete: "10m" }, got ${describeValue(timeouts)}.`);
    } else {
      for (const [key, value] of Object.entries(timeouts as Record<string, unknown>)) {
        if (!TIMEOUT_KEYS.includes(key as never)) {
          fail(`timeouts.${key}`, `timeouts.${key} is not a timeout; use create, update or delete.`);
        } else if (value !== undefined && value !== null && !isUnknown(value)) {
          if (!valid(InputSchemas.timeout, value)) {
            fail(`timeouts.${key}`, `timeouts.${key} must be a duration from 1s to 24h such as "20m", "90s" or "1h30m", got ${describeValue(value)}.`);
          }
        }
      }
    }
  }

  if (news.resetTrigger === undefined || news.resetTrigger === null) {
    delete inputs.resetTrigger;
  } else if (!containsUnknown(news.resetTrigger)) {
    if (typeof news.resetTrigger === "number") inputs.resetTrigger = String(news.resetTrigger);
    else if (!valid(InputSchemas.resetTrigger, news.resetTrigger)) {
      fail("resetTrigger", `resetTrigger must be a string or number (change it to reset the preview), got ${describeValue(news.resetTrigger)}.`);
    }
  }

  if (news.adopt === undefined || news.adopt === null) delete inputs.adopt;
  else if (!isUnknown(news.adopt) && !valid(InputSchemas.adopt, news.adopt)) {
    fail("adopt", `adopt must be true or false, got ${describeValue(news.adopt)}.`);
  }

  if (news.keepAlive === undefined || news.keepAlive === null) delete inputs.keepAlive;
  else if (!isUnknown(news.keepAlive)) {
    const keepAlive = news.keepAlive;
    const ttl = inputs.ttlHours;
    const fix =
      "use true (default: renew on `pulumi up` when less than half of ttlHours is left), false (never renew), " +
      "or a number of hours up to ttlHours (renew when fewer hours are left; ttlHours itself renews on every up)";
    if (!valid(InputSchemas.keepAlive, keepAlive)) {
      fail("keepAlive", `keepAlive must be true, false or a number of hours greater than 0: ${fix}; got ${describeValue(keepAlive)}.`);
    } else if (typeof keepAlive === "number" && typeof ttl === "number" && keepAlive > ttl) {
      fail("keepAlive", `keepAlive (${keepAlive} hours) must be at most ttlHours (${ttl}): ${fix}.`);
    }
  }

  if (news.readiness === undefined || news.readiness === null) delete inputs.readiness;
  else if (!isUnknown(news.readiness) && !valid(InputSchemas.readiness, news.readiness)) {
    fail(
      "readiness",
      `readiness must be "login" (create and reset wait until both URLs accept a login) or "job" (wait for CapyDB's job only, ` +
        `for runners that cannot reach the database), got ${describeValue(news.readiness)}.`,
    );
  }

  if (news.source === undefined || news.source === null) delete inputs.source;
  else {
    const checked = checkSource(news.source);
    failures.push(...checked.failures);
    if (checked.failures.length === 0) inputs.source = checked.source;
    // A restore brings the data of its source: a blank database of it is a contradiction, not a choice.
    if (news.mode === "empty" && hasSource(inputs)) {
      fail("mode", 'mode "empty" cannot be combined with `source`: a restored preview holds the data of its source. Remove `mode` (or set "clone"), or remove `source` for an empty database.');
    }
  }

  return { inputs, failures };
}

export function isAllowedProperty(key: string): boolean {
  return (INPUT_NAMES as readonly string[]).includes(key) || (ALWAYS_ALLOWED_PROPERTIES as readonly string[]).includes(key);
}

function unknownPropertyReason(key: string): string {
  const guess = closestInputName(key);
  return (
    `${JSON.stringify(key)} is not an input of PreviewDatabase${guess ? `; did you mean ${JSON.stringify(guess)}?` : "."} ` +
    `Valid inputs: ${INPUT_NAMES.join(", ")}.`
  );
}

/** The valid name a typo most likely meant: same letters up to case, or at most 2 edits away. */
function closestInputName(key: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of INPUT_NAMES) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(name.toLowerCase(), key.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
