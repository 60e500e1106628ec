/**
 * Last line of defence for logs, error messages and free-text outputs: credentials must never leave
 * the provider in text. Callers register every secret they hold (the API key, connection passwords);
 * secrets nobody registered (a password in a failed job's stderr, another key pasted into a server
 * message) are caught by their shape: URLs with credentials, bearer tokens, CapyDB keys, and
 * `password=…`-style assignments as libpq, shells and JSON write them.
 */
const known = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  // Very short values would mask ordinary words; real keys and generated passwords are long.
  if (value && value.length >= 6) known.add(value);
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]+):([^\s@/]*)@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
const CAPYDB_KEY = /\bcapy_(live|test)_[A-Za-z0-9_-]+/g;
// key=value, key: value, "key": "value", PGPASSWORD=… ; the value ends at whitespace, a quote or a separator.
const ASSIGNMENT =
  /\b(password|passwd|pwd|pgpassword|secret|token|api[_-]?key|access[_-]?key)(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}\]]+)/gi;

export function redact(text: string): string {
  let out = text
    .replace(URL_CREDENTIALS, "$1$2:***@")
    .replace(BEARER, "$1***")
    .replace(CAPYDB_KEY, "capy_$1_***")
    .replace(ASSIGNMENT, "$1$2***");
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join("***");
  }
  return out;
}
