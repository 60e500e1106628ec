import { DEFAULT_API_URL } from "./client";
import { CapyDBError } from "./errors";
import { registerSecret } from "./redact";

export interface CredentialSource {
  apiKey?: string;
  apiUrl?: string;
}

/**
 * Stack config (`capydb:apiKey` secret, `capydb:apiUrl`) wins over the environment
 * (CAPYDB_API_KEY, CAPYDB_API_URL). A missing key is reported by the first API call, naming both.
 */
export function resolveCredentials(config: CredentialSource, env: NodeJS.ProcessEnv): { apiKey?: string; apiUrl: string } {
  const apiKey = nonEmpty(config.apiKey) ?? nonEmpty(env.CAPYDB_API_KEY);
  registerSecret(apiKey);
  const apiUrl = nonEmpty(config.apiUrl) ?? nonEmpty(env.CAPYDB_API_URL) ?? DEFAULT_API_URL;
  let parsed: URL | undefined;
  try {
    parsed = new URL(apiUrl);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:") || parsed.username || parsed.password) {
    throw new CapyDBError({
      kind: "config",
      method: "-",
      path: "-",
      serverMessage: `the API URL "${parsed ? parsed.origin : "(not a URL)"}" is not an http(s) URL without credentials`,
      hint: "set `capydb:apiUrl` (or CAPYDB_API_URL) to e.g. https://capydb.dev/api/capydb, or unset it for the default.",
    });
  }
  return { apiKey, apiUrl };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
