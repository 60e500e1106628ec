// Values as the engine holds them: plain JSON where secrets are the SDK's wire wrapper and unknowns are the
// sentinel string. Keeping the SDK's encoding (rather than a private one) means inputs captured under mocks replay
// unchanged, and state snapshots can be compared with what `pulumi stack export` shows after decryption.

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type PropertyMap = Record<string, Json>;

export interface SecretWrapper {
  [SIG_KEY]: typeof SECRET_SIG;
  value: Json;
}

export function secret(value: Json): Json {
  if (isSecret(value)) return value;
  return { [SIG_KEY]: SECRET_SIG, value } as unknown as Json;
}

export function isSecret(v: unknown): v is SecretWrapper {
  return isPlainObject(v) && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

export function isPlainObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// A property object in the Go engine's sense: secrets (and any other sig-tagged value) are not objects.
function isPropertyObject(v: unknown): v is Record<string, Json> {
  return isPlainObject(v) && !(SIG_KEY in v);
}

/** Removes every secret wrapper, at any depth: what `MarshalProperties` does when `KeepSecrets` is false. */
export function reveal<T = Json>(v: unknown): T {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map((e) => reveal(e)) as unknown as T;
  if (isPlainObject(v)) {
    const out: Record<string, Json> = {};
    for (const [k, e] of Object.entries(v)) out[k] = reveal(e);
    return out as unknown as T;
  }
  return v as T;
}

export function containsSecrets(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecrets);
  if (isPlainObject(v)) return Object.values(v).some(containsSecrets);
  return false;
}

export function containsUnknowns(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknowns);
  if (isPlainObject(v)) return Object.values(v).some(containsUnknowns);
  return false;
}

/** Paths (dotted, `[i]` for arrays) of every unknown inside `v`. */
export function unknownPaths(v: unknown, prefix = ""): string[] {
  if (v === UNKNOWN) return [prefix || "<root>"];
  if (isSecret(v)) return unknownPaths(v.value, prefix);
  if (Array.isArray(v)) return v.flatMap((e, i) => unknownPaths(e, `${prefix}[${i}]`));
  if (isPlainObject(v)) {
    return Object.entries(v).flatMap(([k, e]) => unknownPaths(e, prefix ? `${prefix}.${k}` : k));
  }
  return [];
}

/**
 * The engine's `annotateSecrets` (sdk/go/common/resource/plugin/provider_plugin.go): for each key present in both,
 * recurse when both are objects, else mark the output secret if the input contains a secret anywhere. Mutates `outs`.
 */
export function annotateSecrets(outs: PropertyMap | undefined, ins: PropertyMap | undefined): void {
  if (!outs || !ins) return;
  for (const [key, inValue] of Object.entries(ins)) {
    if (!Object.prototype.hasOwnProperty.call(outs, key)) continue;
    const outValue = outs[key];
    if (isPropertyObject(outValue) && isPropertyObject(inValue)) {
      annotateSecrets(outValue, inValue);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      outs[key] = secret(outValue);
    }
  }
}

/** The step executor's `additionalSecretOutputs` pass: top-level keys only, and never `id`. */
export function applyAdditionalSecretOutputs(outs: PropertyMap, keys: readonly string[] | undefined): void {
  for (const k of keys ?? []) {
    if (k === "id") continue;
    if (Object.prototype.hasOwnProperty.call(outs, k) && !isSecret(outs[k])) outs[k] = secret(outs[k]);
  }
}

/** Structural equality with secretness significant, like `PropertyMap.DeepEquals`. Key order is irrelevant. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((e, i) => deepEqual(e, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Rejects what protobuf Struct cannot carry faithfully, so a harness bug never looks like a provider bug. */
export function assertJson(v: unknown, path = "<root>"): asserts v is Json {
  if (v === null || typeof v === "string" || typeof v === "boolean") return;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError(`${path}: non-finite number ${v}`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((e, i) => assertJson(e, `${path}[${i}]`));
    return;
  }
  if (isPlainObject(v) && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, e] of Object.entries(v)) assertJson(e, `${path}.${k}`);
    return;
  }
  throw new TypeError(`${path}: not JSON (${typeof v === "object" ? Object.prototype.toString.call(v) : typeof v})`);
}
