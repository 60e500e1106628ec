import http from "node:http";
import type { AddressInfo } from "node:net";
import { ADMIN_PREFIX } from "./admin-routes";
import { presentedKey } from "./auth";
import type { ActiveFault, DeferredRequests, FaultRegistry, RateLimiter } from "./faults";
import { HttpError } from "./http-error";
import { hashKey } from "./ids";
import type { RequestLog } from "./request-log";
import type { ApiRequest, Reply } from "./router";
import type { RequestLogEntry } from "./types";

const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpServerDeps {
  port: number;
  api: (req: ApiRequest) => Promise<Reply>;
  admin: (req: ApiRequest) => Promise<Reply>;
  faults: FaultRegistry;
  /** Requests held by applyAfterMs faults; those due are applied before each API request. */
  deferred: DeferredRequests<ApiRequest>;
  rateLimiter: RateLimiter;
  log: RequestLog;
  now: () => number;
  /** The clock the Date header reads (ControlPlaneOptions.dateHeader). */
  dateNow?: () => number;
  keepAliveTimeoutMs?: number;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

type Outcome = Reply | "drop";

/**
 * The HTTP shell: for /v1 requests it applies injected faults and rate limits around the API
 * handler and logs what the client saw; the control surface bypasses all of that.
 */
export async function startHttpServer(deps: HttpServerDeps): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      process.stderr.write(`[capydb-local] request handling crashed: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (!res.headersSent) send(res, errorReply(500, "internal error"));
    });
  });
  if (deps.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = deps.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(deps: HttpServerDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  // A real server's Date header comes from its own clock: the same clock as its timestamps (the `now` option).
  res.setHeader("Date", new Date((deps.dateNow ?? deps.now)()).toUTCString());
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = (req.method ?? "GET").toUpperCase();
  const body = await readBody(req);
  if (body === undefined) return send(res, errorReply(413, "request body too large"));

  const segments = decodeSegments(url.pathname);
  if (!segments) return send(res, errorReply(400, "malformed path"));
  const apiReq: ApiRequest = { method, path: url.pathname, segments, query: url.searchParams, headers: req.headers, body };

  if (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`)) {
    if (!isLoopback(req.socket.remoteAddress)) return send(res, errorReply(403, "control surface is loopback only"));
    return send(res, await settle(() => deps.admin(apiReq)));
  }

  // A late create lands before whatever the client sends next, as it would on a slow server.
  await deps.deferred.applyDue();

  const presented = presentedKey(req.headers);
  const entry: Omit<RequestLogEntry, "status"> = {
    method,
    path: url.pathname,
    ...(url.search ? { query: url.search.slice(1) } : {}),
    at: deps.now(),
    wallAt: Date.now(),
    auth: presented.via,
  };
  const fault = deps.faults.take(method, url.pathname);

  let outcome: Outcome | undefined;
  if (fault && !fault.afterRespond) {
    await sleep(fault.delayMs);
    if (fault.replaces) outcome = faultOutcome(fault);
    if (fault.applyAfterMs !== undefined) deps.deferred.hold(apiReq, fault.applyAfterMs);
  }
  if (outcome === undefined) {
    const decision = deps.rateLimiter.check(presented.key ? hashKey(presented.key) : "anonymous");
    if (decision.limited) {
      entry.fault = "rate-limit";
      outcome = errorReply(429, "rate limit exceeded");
      if (decision.retryAfterSeconds !== null) outcome.headers = { "Retry-After": String(decision.retryAfterSeconds) };
    } else {
      outcome = await settle(() => deps.api(apiReq));
      if (fault?.afterRespond) {
        await sleep(fault.delayMs);
        if (fault.replaces) outcome = faultOutcome(fault);
        else if (fault.rewrite) outcome = rewritten(outcome, fault.rewrite);
      }
    }
  }
  if (fault?.replaces || fault?.rewrite) entry.fault = "injected";
  else if (fault && outcome !== "drop") outcome.headers = { ...outcome.headers, ...fault.headers };

  if (outcome === "drop") {
    req.socket.destroy();
    deps.log.record({ ...entry, status: 0 });
    return;
  }
  deps.log.record({ ...entry, status: outcome.status });
  send(res, outcome);
}

function faultOutcome(fault: ActiveFault): Outcome {
  if (fault.drop) return "drop";
  if (typeof fault.body === "string") return { status: fault.status, raw: fault.body, headers: fault.headers };
  return { status: fault.status, body: fault.body ?? { error: "injected fault" }, headers: fault.headers };
}

/** The real answer's status, with its body replaced by what `rewrite` makes of it. */
function rewritten(reply: Reply, rewrite: (body: unknown, status: number) => unknown): Reply {
  let body = reply.body;
  if (body === undefined && reply.raw !== undefined) {
    try {
      body = JSON.parse(reply.raw);
    } catch {
      body = reply.raw;
    }
  }
  const next = rewrite(body, reply.status);
  const headers = { ...(reply.headers ?? {}) };
  if (typeof next === "string") return { status: reply.status, raw: next, headers };
  return { status: reply.status, body: next, headers };
}

function errorReply(status: number, message: string): Reply {
  return { status, body: { error: message } };
}

async function settle(handler: () => Promise<Reply>): Promise<Reply> {
  try {
    return await handler();
  } catch (err) {
    if (err instanceof HttpError) return errorReply(err.status, err.message);
    process.stderr.write(`[capydb-local] handler failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    return errorReply(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function send(res: http.ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = {};
  const hasHeader = (name: string) => Object.keys(reply.headers ?? {}).some((h) => h.toLowerCase() === name);
  let payload = "";
  if (reply.raw !== undefined) {
    payload = reply.raw;
    if (!hasHeader("content-type")) headers["Content-Type"] = "text/plain; charset=utf-8";
  } else if (reply.body !== undefined && reply.status !== 204) {
    payload = JSON.stringify(reply.body);
    if (!hasHeader("content-type")) headers["Content-Type"] = "application/json; charset=utf-8";
  }
  headers["Content-Length"] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, { ...headers, ...reply.headers });
  res.end(payload);
}

async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
