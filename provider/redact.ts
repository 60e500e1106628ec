/**
 * Last line of defence for logs and error messages: credentials must never leave the provider in
 * text. Callers register every secret they hold (the API key, connection passwords), and URLs with
 * embedded credentials are masked whatever their origin.
 */
const known = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  // Very short values would mask ordinary words; real keys and generated passwords are long.
  if (value && value.length >= 6) known.add(value);
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]+):([^\s@/]*)@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

export function redact(text: string): string {
  let out = text.replace(URL_CREDENTIALS, "$1$2:***@").replace(BEARER, "$1***");
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join("***");
  }
  return out;
}
