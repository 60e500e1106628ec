import { redact } from "./redact";
import { serverText } from "./server-text";

/** What went wrong, so callers can decide without parsing messages (the API has no error codes). */
export type CapyDBErrorKind =
  | "http" // the server answered with a non-2xx status
  | "network" // no answer: connection refused/reset, DNS, TLS, request timeout
  | "schema" // a 2xx answer we could not understand
  | "config" // credentials or URL missing/invalid: no request was sent
  | "deadline"; // the operation's deadline had passed: the request was not sent

export interface CapyDBErrorInit {
  kind: CapyDBErrorKind;
  method: string;
  path: string;
  status?: number;
  serverMessage?: string;
  hint?: string;
  cause?: unknown;
  /** The server answered with its documented error body `{"error": "..."}` (not a proxy's page). */
  wellFormedBody?: boolean;
  /**
   * Nothing of the request left this machine (connection refused, DNS, TLS verification, a header
   * that cannot be sent): it was certainly not applied.
   */
  notSent?: boolean;
  /** A 503's Retry-After, when it had one: the service was unavailable, the request was not applied. */
  retryAfterMs?: number;
}

/**
 * The one error type of the API client. Its message names the call, the status, the server's own
 * words and a hint for the fix, and is redacted: it may end up in CLI output and plugin logs.
 */
export class CapyDBError extends Error {
  readonly kind: CapyDBErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly serverMessage?: string;
  readonly hint?: string;
  readonly wellFormedBody: boolean;
  readonly notSent: boolean;
  readonly retryAfterMs?: number;

  constructor(init: CapyDBErrorInit) {
    // Server text is redacted, cut and made inert before it is formatted (server-text.ts).
    const serverMessage = init.serverMessage === undefined ? undefined : serverText(init.serverMessage);
    super(redact(formatMessage({ ...init, serverMessage })));
    this.name = "CapyDBError";
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.serverMessage = serverMessage;
    this.hint = init.hint;
    this.wellFormedBody = init.wellFormedBody ?? false;
    this.notSent = init.notSent ?? false;
    this.retryAfterMs = init.retryAfterMs;
  }

  /**
   * A POST or DELETE whose fate is unknown: the request may have been applied even though no usable
   * answer came back (§1.4: 408/504, 5xx, network errors; or a 2xx we could not read). Such calls are
   * reconciled, never resent blindly.
   */
  get maybeApplied(): boolean {
    // Refused, unresolvable, untrusted or unsendable: the request never reached CapyDB.
    if (this.notSent) return false;
    // A 503 with Retry-After: "unavailable, come back then" (client.ts, isUnavailableFor).
    if (this.status === 503 && this.retryAfterMs !== undefined) return false;
    // A 2xx whose body could not be read was applied; what it created or started is unknown.
    if (this.kind === "network" || this.kind === "schema") return true;
    return this.kind === "http" && this.status !== undefined && (this.status === 408 || this.status >= 500);
  }

  get isNotFound(): boolean {
    return this.kind === "http" && (this.status === 404 || this.status === 410);
  }

  /**
   * A 404/410 that proves the object is gone: CapyDB's own error body, not a proxy's or another
   * server's page (a wrong capydb:apiUrl answers 404 to everything, and must not make refresh drop
   * every preview or destroy forget them).
   */
  get provesAbsence(): boolean {
    return this.isNotFound && this.wellFormedBody;
  }

  get isConflict(): boolean {
    return this.kind === "http" && (this.status === 409 || this.status === 412 || this.status === 428);
  }

  /** 401/403: retrying or waiting cannot help, so job waits abort at once. */
  get isAuth(): boolean {
    return this.kind === "config" || (this.kind === "http" && (this.status === 401 || this.status === 403));
  }
}

function formatMessage(init: CapyDBErrorInit): string {
  // Configuration problems are found before any request: there is no call to name.
  const call = init.method === "-" ? "CapyDB provider configuration" : `CapyDB API ${init.method} ${init.path}`;
  let what: string;
  switch (init.kind) {
    case "http":
      what = `failed with HTTP ${init.status}${init.serverMessage ? `: ${init.serverMessage}` : ""}`;
      break;
    case "network":
      // Not sent: nothing reached CapyDB, and the message must not suggest an answer was lost.
      what = `${init.notSent ? "was not sent" : "got no answer"}${init.serverMessage ? `: ${init.serverMessage}` : ""}`;
      break;
    case "schema":
      what = `returned a response that could not be understood${init.serverMessage ? `: ${init.serverMessage}` : ""}`;
      break;
    case "config":
      what = init.method === "-" ? `is invalid: ${init.serverMessage}` : `was not sent${init.serverMessage ? `: ${init.serverMessage}` : ""}`;
      break;
    case "deadline":
      what = `was not sent${init.serverMessage ? `: ${init.serverMessage}` : ""}`;
      break;
  }
  return `${call} ${what}.${init.hint ? ` Hint: ${init.hint}` : ""}`;
}

const CREDENTIAL_SOURCES =
  "set it with `pulumi config set --secret capydb:apiKey <key>` or the CAPYDB_API_KEY environment variable";

/** The scope each endpoint needs (capydb-api.md §1.2), for 403 hints. */
export function scopeFor(method: string, path: string): string {
  if (path === "/v1/me") return "(any valid key)";
  if (path.startsWith("/v1/jobs/") || /\/jobs(\?|$)/.test(path)) return "jobs:read";
  if (path.endsWith("/connections")) return "credentials:read";
  if (path.includes("/restores")) return "backups:write";
  return method === "GET" ? "projects:read" : "projects:write";
}

/** A hint per status: what the user can change to make the call succeed. */
export function hintFor(method: string, path: string, status: number): string | undefined {
  if (status === 401) {
    return (
      `the API key was rejected (missing, invalid, expired or revoked); ${CREDENTIAL_SOURCES}. ` +
      "`pulumi refresh` and `pulumi destroy` use the `capydb:apiKey` recorded in the state by the last `pulumi up`, " +
      "even after the config changed: run `pulumi up` (without --refresh) once to record the new key, then retry. " +
      "CAPYDB_API_KEY is never recorded (the way to go for CI), but a recorded `capydb:apiKey` wins over it until that `up`."
    );
  }
  if (status === 403) {
    return (
      `the API key lacks the \`${scopeFor(method, path)}\` scope or is scoped to another project ` +
      "(use a project-scoped key with projects:read, projects:write, credentials:read and jobs:read" +
      (path.includes("/restores") ? ", and backups:write for a preview with `source`), " : "), ") +
      "or CapyDB refused the action itself, for example at the plan's preview limit (see its message)."
    );
  }
  if (status === 404 && path.startsWith("/v1/projects/")) {
    return "check `projectId`: the project does not exist or this key cannot see it.";
  }
  if (status === 429) return "CapyDB is rate limiting this caller; wait and run the command again.";
  if (status === 400) return "the request was rejected as invalid; check the resource inputs (and the organization's billing status).";
  if (status >= 500 || status === 408) return "CapyDB had a server-side problem; run the command again in a moment.";
  return undefined;
}

export function missingApiKeyError(method: string, path: string): CapyDBError {
  return new CapyDBError({
    kind: "config",
    method,
    path,
    serverMessage: "no CapyDB API key is configured",
    hint: `${CREDENTIAL_SOURCES}.`,
  });
}

/**
 * Whitespace or a control character inside the key (a line break pasted with it, say) cannot travel in
 * an HTTP header: undici refuses it, and no real key has one. Says where, never what the key is.
 */
export function apiKeyFormatProblem(apiKey: string): string | undefined {
  const at = apiKey.search(/[\s\x00-\x1f\x7f]/);
  if (at < 0) return undefined;
  const ch = apiKey[at];
  const what = ch === "\n" || ch === "\r" ? "a line break" : /\s/.test(ch) ? "whitespace" : "a control character";
  return `the API key has ${what} at character ${at + 1} of ${apiKey.length}, so it cannot be sent in a header`;
}

export function invalidApiKeyError(method: string, path: string, problem: string): CapyDBError {
  return new CapyDBError({
    kind: "config",
    method,
    path,
    serverMessage: problem,
    hint: `set the key again without it: ${CREDENTIAL_SOURCES}.`,
  });
}
