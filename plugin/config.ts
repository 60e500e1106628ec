/**
 * The provider configuration the plugin reads: THE list of `capydb:` config keys. Configure reads
 * exactly these, and the schema publishes exactly these (with these descriptions).
 */
import { DEFAULT_API_URL } from "../provider/client";
import { INSECURE_HTTP_SOURCES } from "../provider/credentials";

export const CONFIG_KEYS = {
  apiKey: {
    type: "string",
    secret: true,
    description:
      "CapyDB API key (scopes projects:read, projects:write, jobs:read). Set it with `pulumi config set --secret capydb:apiKey …`; " +
      "without it the plugin reads CAPYDB_API_KEY from its environment. Never stored in outputs.",
  },
  apiUrl: {
    type: "string",
    secret: false,
    description: `Base URL of the CapyDB API, default ${DEFAULT_API_URL}; without it the plugin reads CAPYDB_API_URL from its environment.`,
  },
  allowInsecureHttp: {
    type: "boolean",
    secret: false,
    description:
      "Allow a plain http:// apiUrl to a host that is not this machine (only for a trusted proxy that adds TLS). " +
      `Default false; set with ${INSECURE_HTTP_SOURCES}.`,
  },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export const CONFIG_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

/**
 * The config from a ConfigureRequest as `capydb:<key>` strings: `args` (property names, secrets
 * unwrapped by the caller) first, then the deprecated `variables` map (`capydb:config:<key>`).
 * Values other than strings (YAML config typed as a boolean) are passed on as their text.
 */
export function configFromRequest(args: Record<string, unknown>, variables: ReadonlyMap<string, string>): Map<string, string> {
  const config = new Map<string, string>();
  for (const key of CONFIG_NAMES) {
    const fromArgs = args[key];
    const value =
      fromArgs !== undefined && fromArgs !== null && fromArgs !== ""
        ? typeof fromArgs === "string" ? fromArgs : JSON.stringify(fromArgs)
        : variables.get(`capydb:config:${key}`) ?? variables.get(`capydb:${key}`);
    if (value !== undefined) config.set(`capydb:${key}`, value);
  }
  return config;
}
