/**
 * The package's one slug logic. Preview names (the provider's auto-name, the SDK's branch and stack
 * helpers), stack names and the local control plane's project slugs all come from here, so they
 * can never disagree about what a name becomes.
 *
 * State compatibility: a name that changes replaces a database. Every function here returns, for
 * ASCII input, exactly what 0.1.0 returned (test/unit/slug.test.ts replays 0.1.0's code); only
 * non-ASCII input changes, from "dropped" to "transliterated" (café → cafe).
 */
import { createHash } from "crypto";

export const MAX_PREVIEW_NAME_LENGTH = 63;
/** Pulumi stack names: letters, digits, '-', '_', '.'; at most 100 characters. */
export const MAX_STACK_NAME_LENGTH = 100;

/** Letters that Unicode decomposition leaves non-ASCII, written the way a reader would spell them. */
const SPELLED: Record<string, string> = {
  ß: "ss", ẞ: "SS", æ: "ae", Æ: "AE", œ: "oe", Œ: "OE", ø: "o", Ø: "O", đ: "d", Đ: "D", ð: "d", Ð: "D",
  þ: "th", Þ: "TH", ł: "l", Ł: "L", ı: "i", ħ: "h", Ħ: "H", ŋ: "ng", Ŋ: "NG", ĸ: "k", ŧ: "t", Ŧ: "T",
};

/**
 * ASCII spelling of Latin text: accents removed (é → e), ligatures and special letters spelled out
 * (ß → ss, æ → ae). Characters with no ASCII spelling (日本) are left for the slug rule to drop.
 * ASCII input is returned unchanged.
 */
export function transliterate(text: string): string {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[^\x00-\x7f]/g, (c) => SPELLED[c] ?? c);
}

/** Six hex digits of the text's SHA-256: keeps two inputs apart once their slugs meet. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 6);
}

/** Lowercase `[a-z0-9-]`, no leading or trailing '-': the charset CapyDB preview names use. */
export function previewSlug(text: string): string {
  return transliterate(text)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** `[A-Za-z0-9_.-]`, no leading or trailing '-': what Pulumi accepts as a stack name. */
export function stackSlug(text: string): string {
  return transliterate(text)
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** `<slug cut to fit>-<hash of original>`, or `<fallback>-<hash>` when nothing of the slug is left. */
function withHash(slug: string, original: string, max: number, fallback: string): string {
  const hash = shortHash(original);
  const head = slug.slice(0, max - hash.length - 1).replace(/-+$/g, "");
  return `${head || fallback}-${hash}`;
}

/**
 * A valid preview name for any text (a branch, a stack name): the text itself when it already is
 * one, else its slug plus a hash of the text, so "feat/a" and "feat-a" never share a preview.
 */
export function previewNameFor(text: string): string {
  const slug = previewSlug(text);
  if (slug && slug === text && slug.length <= MAX_PREVIEW_NAME_LENGTH) return slug;
  return withHash(slug, text, MAX_PREVIEW_NAME_LENGTH, "preview");
}

/** Always slug plus hash: the provider's auto-name from its seed (`<stack>-<resource name>`). */
export function hashedPreviewName(seed: string): string {
  return withHash(previewSlug(seed), seed, MAX_PREVIEW_NAME_LENGTH, "preview");
}

/** A valid Pulumi stack name for any text: the text itself when valid, else its slug plus a hash. */
export function stackNameFor(text: string): string {
  const slug = stackSlug(text);
  if (slug && slug === text && slug.length <= MAX_STACK_NAME_LENGTH) return slug;
  return withHash(slug, text, MAX_STACK_NAME_LENGTH, "branch");
}
