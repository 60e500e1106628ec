import { CapyDBError } from "./errors";
import { registerSecret } from "./redact";

/** Defined here, not in client.ts: resolving credentials must not load the HTTP client (issue 16). */
export const DEFAULT_API_URL = "https://capydb.dev/api/capydb";

export interface CredentialSource {
  apiKey?: string;
  apiUrl?: string;
  /** `capydb:allowInsecureHttp`: "true" lets a plain http:// API URL reach a non-loopback host. */
  allowInsecureHttp?: string;
}

export const API_URL_SOURCES = "`capydb:apiUrl` (or CAPYDB_API_URL)";
export const INSECURE_HTTP_SOURCES = "`pulumi config set capydb:allowInsecureHttp true` (or CAPYDB_ALLOW_INSECURE_HTTP=true)";

/**
 * Stack config (`capydb:apiKey` secret, `capydb:apiUrl`, `capydb:allowInsecureHttp`) wins over the
 * environment (CAPYDB_API_KEY, CAPYDB_API_URL, CAPYDB_ALLOW_INSECURE_HTTP). A missing key is reported
 * by the first API call, naming both; a URL the key must not be sent to is refused here, before any
 * request.
 */
export function resolveCredentials(config: CredentialSource, env: NodeJS.ProcessEnv): { apiKey?: string; apiUrl: string } {
  const apiKey = nonEmpty(config.apiKey) ?? nonEmpty(env.CAPYDB_API_KEY);
  registerSecret(apiKey);
  const apiUrl = nonEmpty(config.apiUrl) ?? nonEmpty(env.CAPYDB_API_URL) ?? DEFAULT_API_URL;
  const allowInsecure = parseFlag(nonEmpty(config.allowInsecureHttp) ?? nonEmpty(env.CAPYDB_ALLOW_INSECURE_HTTP));
  checkApiUrl(apiUrl, allowInsecure);
  return { apiKey, apiUrl };
}

/**
 * The API key travels in every request's Authorization header, so the URL must be https, except to
 * this machine (127.0.0.0/8, ::1, localhost: the local control plane, or a TLS-terminating sidecar)
 * or with the explicit opt-out for a local proxy on another address. A query or a fragment would be
 * glued to every request path, so they are refused rather than guessed at.
 */
export function checkApiUrl(apiUrl: string, allowInsecureHttp: boolean): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(apiUrl);
  } catch {
    parsed = undefined;
  }
  const shown = parsed ? shownUrl(parsed) : "(not a URL)";
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:") || parsed.username || parsed.password) {
    throw urlError(
      `the API URL "${shown}" is not an http(s) URL without credentials`,
      `set ${API_URL_SOURCES} to e.g. https://capydb.dev/api/capydb, or unset it for the default.`,
    );
  }
  if (apiUrl.includes("?") || apiUrl.includes("#")) {
    throw urlError(
      `the API URL "${shown}" has a ${parsed.href.includes("?") ? "query" : "fragment"}, which would end up in every request path`,
      `remove everything from '?' or '#' on in ${API_URL_SOURCES}.`,
    );
  }
  if (parsed.protocol === "http:" && !isLoopbackHost(parsed.hostname) && !allowInsecureHttp) {
    throw urlError(
      `the API URL "${shown}" is plain http to a host that is not this machine, so the API key would cross the network unencrypted`,
      `use https:// in ${API_URL_SOURCES}; only if it points at a proxy you trust that adds TLS itself, allow it with ${INSECURE_HTTP_SOURCES}.`,
    );
  }
}

/** Query parameters whose values are credentials: masked when a URL is shown. */
const CREDENTIAL_PARAM = /key|token|secret|pass|auth|sig|credential|session/i;

/**
 * The URL as the user wrote it, so that an error shows what is wrong with it (a query, a fragment,
 * the scheme), with only the credentials in it masked: the userinfo and the values of parameters
 * named like credentials. Registered secrets are masked later, as in every error (redact.ts).
 */
export function shownUrl(parsed: URL): string {
  const userinfo = parsed.username || parsed.password ? "***@" : "";
  const query = parsed.search
    .slice(1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep it as written
      }
      return CREDENTIAL_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair;
    })
    .join("&");
  const search = parsed.search === "" && !parsed.href.includes("?") ? "" : `?${query}`;
  const hash = parsed.hash === "" && !parsed.href.includes("#") ? "" : parsed.hash || "#";
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${search}${hash}`;
}

/** 127.0.0.0/8, ::1 and localhost: a request to them never leaves this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost" || host === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function parseFlag(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  throw urlError(
    `capydb:allowInsecureHttp (or CAPYDB_ALLOW_INSECURE_HTTP) must be true or false, got ${JSON.stringify(value.slice(0, 20))}`,
    "set it to true only for a trusted local proxy, otherwise unset it.",
  );
}

function urlError(message: string, hint: string): CapyDBError {
  return new CapyDBError({ kind: "config", method: "-", path: "-", serverMessage: message, hint });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
