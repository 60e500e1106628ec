import { createHash, randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Lowercase so the token is also valid inside Postgres identifiers and DNS labels. */
export function randomToken(length: number): string {
  let out = "";
  for (const byte of randomBytes(length)) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

export function newId(prefix: "org" | "prj" | "pvw" | "job"): string {
  return `${prefix}_${randomToken(20)}`;
}

export function newPassword(): string {
  return randomToken(32);
}

export function newApiKey(): string {
  return `capy_live_${randomToken(40)}`;
}

/** Keys are kept only as hashes, as the real service does, so no key value sits in memory dumps or logs. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
