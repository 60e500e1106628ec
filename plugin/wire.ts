/**
 * Property values between the engine's gRPC Structs and the plain objects the core takes. The engine
 * marks a secret as an object with the signature key below (the plugin says acceptSecrets); the core
 * knows nothing of that, so secrets are unwrapped on the way in and the secret outputs wrapped on the
 * way out. Unknowns arrive as the same sentinel string the core already understands (UNKNOWN).
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export type Props = Record<string, unknown>;

function isSecretValue(value: unknown): value is { value: unknown } {
  return value !== null && typeof value === "object" && (value as Props)[SIG_KEY] === SECRET_SIG;
}

/** The plain value, with every secret wrapper (at any depth) replaced by what it holds. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    const out: Props = {};
    for (const [k, v] of Object.entries(value)) out[k] = unwrapSecrets(v);
    return out;
  }
  return value;
}

export function secret(value: unknown): Props {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** The properties with each of `keys` that holds a value marked secret (null stays null: nothing to hide). */
export function wrapSecrets(props: Props, keys: readonly string[]): Props {
  const out: Props = { ...props };
  for (const key of keys) {
    if (out[key] !== undefined && out[key] !== null && !isSecretValue(out[key])) out[key] = secret(out[key]);
  }
  return out;
}

export function fromStruct(struct: Struct | undefined): Props {
  return (unwrapSecrets(struct?.toJavaScript() ?? {}) as Props) ?? {};
}

/** A Struct of plain JSON: undefined values are dropped, since the Struct encoding cannot carry them. */
export function toStruct(props: Props): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)) as never);
}
