/** Absent, null, "" and 0 all mean "unknown" for optional fields (§3.1). Here, not in schemas.ts: outputs need it without zod. */
export function known<T>(value: T | null | undefined): T | null {
  if (value === undefined || value === null || (value as unknown) === "" || (value as unknown) === 0) return null;
  return value;
}
