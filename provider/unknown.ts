/**
 * During `pulumi preview` the engine sends inputs it cannot know yet as this sentinel string, at any
 * depth and in fields of any type (pulumi.runtime.unknownValue). check and diff must not validate it.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** True when the value is, or holds anywhere inside it, the unknown sentinel. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}
