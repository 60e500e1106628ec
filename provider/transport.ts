import type { IncomingHttpHeaders } from "http";
import type { Dispatcher } from "undici";
import { createKeepAliveDispatcher, KEEP_ALIVE_IDLE_MS } from "./dispatcher";

/**
 * How one HTTP exchange leaves the process. With no proxy variable set (the usual case), Node's own
 * http/https modules with keep-alive agents: their parser is built into Node, where undici compiles a
 * WebAssembly parser in every plugin process, which took the plugin's peak memory ~35 MB over what it
 * needs (BENCHMARKS.md, "What every plugin launch costs"), and undici is not even loaded. With
 * HTTPS_PROXY / HTTP_PROXY set, undici's EnvHttpProxyAgent (dispatcher.ts), which knows proxies and
 * NO_PROXY as the rest of the machine does. A dispatcher handed in (tests, the benchmark) is used as is.
 */
export interface Exchange {
  statusCode: number;
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  /** Read to its end, or destroyed: either releases the connection. */
  body: AsyncIterable<Uint8Array | string> & { destroy(): void };
}

export interface ExchangeOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** For the answer's headers and its whole body: past it, the exchange fails. */
  timeoutMs: number;
}

export interface Transport {
  send(url: string, options: ExchangeOptions): Promise<Exchange>;
}

/** The exchange went over its time: no answer (or not all of it) within `timeoutMs`. */
export class ExchangeTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(timeoutMs: number) {
    super(`no complete answer within ${Math.round(timeoutMs / 100) / 10}s`);
    this.name = "ExchangeTimeoutError";
  }
}

export function undiciTransport(dispatcher: Dispatcher): Transport {
  // Loaded only on this path: undici is large, and its parser is compiled at the first request.
  const { request } = require("undici") as typeof import("undici");
  return {
    async send(url, o) {
      const res = await request(url, {
        method: o.method as Dispatcher.HttpMethod,
        headers: o.headers,
        body: o.body,
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
        signal: AbortSignal.timeout(o.timeoutMs),
        dispatcher,
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
  };
}

/**
 * Node's http/https with one keep-alive agent per scheme. Idle connections are kept for a minute (the
 * idle timeout of common load balancers), or less when the server announces a shorter `Keep-Alive:
 * timeout=` (Node closes them a second before it). The timeout covers the headers and the whole body.
 */
export function nodeTransport(): Transport {
  const http = require("http") as typeof import("http");
  const https = require("https") as typeof import("https");
  const agents = {
    "http:": new http.Agent({ keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS }),
    "https:": new https.Agent({ keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS }),
  };
  return {
    send(url, o) {
      return new Promise<Exchange>((resolve, reject) => {
        const target = new URL(url);
        const secure = target.protocol === "https:";
        const headers: Record<string, string | number> = { ...o.headers };
        if (o.body !== undefined) headers["content-length"] = Buffer.byteLength(o.body);
        let req: import("http").ClientRequest;
        try {
          req = (secure ? https : http).request(target, { method: o.method, headers, agent: secure ? agents["https:"] : agents["http:"] });
        } catch (error) {
          // A header Node refuses to send (a control character): nothing left this machine.
          reject(error);
          return;
        }
        let answer: import("http").IncomingMessage | undefined;
        // Past the time, whatever is under way fails with it: the wait for the headers, or the body's reading.
        const timer = setTimeout(() => (answer ?? req).destroy(new ExchangeTimeoutError(o.timeoutMs)), o.timeoutMs);
        req.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        req.once("response", (res) => {
          answer = res;
          res.once("close", () => clearTimeout(timer));
          resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
        });
        req.end(o.body);
      });
    },
  };
}

/** Does the environment ask for a proxy (either case, as curl reads them)? */
export function proxyConfigured(env: NodeJS.ProcessEnv): boolean {
  return [env.http_proxy, env.HTTP_PROXY, env.https_proxy, env.HTTPS_PROXY].some((v) => (v ?? "").trim() !== "");
}

let shared: Transport | undefined;

/** One transport per process, chosen at first use from the environment, shared by every client. */
export function sharedTransport(env: NodeJS.ProcessEnv = process.env): Transport {
  return (shared ??= proxyConfigured(env) ? undiciTransport(createKeepAliveDispatcher(env)) : nodeTransport());
}
