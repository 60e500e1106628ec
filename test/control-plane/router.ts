import type { IncomingHttpHeaders } from "node:http";
import { HttpError } from "./http-error";

export interface ApiRequest {
  method: string;
  /** Raw (still percent-encoded) path, without the query. */
  path: string;
  /** Decoded path segments. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  /** Serialized as JSON unless `raw` is set. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export type Params = Record<string, string>;
type Handler = (req: ApiRequest, params: Params) => Promise<Reply> | Reply;

interface Route {
  method: string;
  pattern: string[];
  handler: Handler;
}

/** Patterns like "/v1/jobs/:jobId"; ":name" captures one decoded segment. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, pattern: pattern.split("/").filter(Boolean), handler });
    return this;
  }

  async dispatch(req: ApiRequest): Promise<Reply> {
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route.pattern, req.segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method === req.method) return route.handler(req, params);
    }
    if (pathMatched) throw new HttpError(405, "method not allowed");
    throw new HttpError(404, "not found");
  }
}

function match(pattern: string[], segments: string[]): Params | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(":")) params[pattern[i].slice(1)] = segments[i];
    else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}

export function json(status: number, body: unknown): Reply {
  return { status, body };
}
