import type { Dispatcher } from "undici";
import { registerSecret } from "./redact";

/**
 * Job polls can be many seconds apart, longer than undici's default 4 s idle keep-alive, so every poll
 * would open a new TCP (and TLS) connection. Keep idle connections for a minute, the idle timeout of
 * common load balancers, unless the server announces a shorter one (undici honours its
 * `Keep-Alive: timeout=` hint, less a 2 s safety margin, and caps what it announces at ten minutes).
 */
export const KEEP_ALIVE_IDLE_MS = 60_000;
export const KEEP_ALIVE_MAX_MS = 10 * 60_000;

/**
 * This machine is never reached through a proxy, as in Go's HTTP client (the CapyDB CLI's): the local
 * control plane or a sidecar on loopback keeps working in a shell that sets HTTPS_PROXY for everything.
 */
export const ALWAYS_DIRECT = ["localhost", "127.0.0.1", "[::1]"];

/** NO_PROXY (or no_proxy) plus this machine; `*` (no proxy for anything) stays as it is. */
export function noProxyList(env: NodeJS.ProcessEnv): string {
  const given = (env.no_proxy ?? env.NO_PROXY ?? "").trim();
  if (given === "*") return given;
  return [given, ...ALWAYS_DIRECT].filter((entry) => entry !== "").join(",");
}

/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case, lowercase first, as curl reads them) as every other
 * tool on the machine honours them: https targets go through an HTTPS_PROXY in a CONNECT tunnel, so the
 * proxy sees the target's host and port but the requests (and the API key) only encrypted; NO_PROXY
 * entries (host names, domain suffixes, `host:port`, `*`) go direct. Without the variables this is a
 * plain keep-alive agent. The provider uses it only when a proxy variable is set (transport.ts); tests
 * and the benchmark build their own.
 */
export function createKeepAliveDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  // "" rather than undefined: undici would fall back to reading process.env itself.
  const httpProxy = env.http_proxy ?? env.HTTP_PROXY ?? "";
  const httpsProxy = env.https_proxy ?? env.HTTPS_PROXY ?? "";
  // A proxy's own password (http://user:pass@proxy:3128) is a credential like the API key.
  for (const proxy of [httpProxy, httpsProxy]) registerSecret(proxyPassword(proxy));
  // Loaded here only: without a proxy variable the provider never loads undici (transport.ts).
  const { EnvHttpProxyAgent } = require("undici") as typeof import("undici");
  return new EnvHttpProxyAgent({
    keepAliveTimeout: KEEP_ALIVE_IDLE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MAX_MS,
    httpProxy,
    httpsProxy,
    noProxy: noProxyList(env),
  });
}

function proxyPassword(proxy: string): string | undefined {
  try {
    return decodeURIComponent(new URL(proxy).password) || undefined;
  } catch {
    return undefined;
  }
}
