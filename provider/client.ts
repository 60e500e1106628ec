import { Dispatcher, request } from "undici";
import { z } from "zod";
import { Clock, systemClock } from "./clock";
import { CapyDBError, describeCause, hintFor, missingApiKeyError } from "./errors";
import { passwordOf } from "./outputs";
import { registerSecret } from "./redact";
import { failureRetryDelayMs, parseRetryAfter, rateLimitDelayMs, shouldRetryFailure } from "./retry";
import {
  ConnectionInfo,
  ConnectionsResponse,
  ErrorBodySchema,
  Job,
  JobResponse,
  ListPreviewsResponse,
  PreviewAndJobResponse,
  PreviewDatabase,
  PreviewResponse,
} from "./schemas";
import { USER_AGENT } from "./version";

export const DEFAULT_API_URL = "https://capydb.dev/api/capydb";
/** What the official clients use per request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** With no operation deadline, how long 429 backoff may keep a single call waiting. */
const DEFAULT_RATE_LIMIT_BUDGET_MS = 5 * 60_000;

export interface ClientOptions {
  apiUrl?: string;
  apiKey?: string;
  clock?: Clock;
  requestTimeoutMs?: number;
  dispatcher?: Dispatcher;
  random?: () => number;
}

export interface CallOptions {
  /** Epoch ms after which no more retries or backoff waits start. */
  deadline?: number;
}

export interface CreatePreviewBody {
  name: string;
  mode: string;
  ttl_hours: number;
}

/** Encodes every path segment (ids are opaque and must never be trusted to be URL-safe). */
export function apiPath(strings: TemplateStringsArray, ...segments: string[]): string {
  return strings.reduce((out, s, i) => out + s + (i < segments.length ? encodeURIComponent(segments[i]) : ""), "");
}

/** The typed CapyDB API client: one method per endpoint the provider uses (capydb-api.md §2). */
export class CapyDBClient {
  readonly apiUrl: string;
  private readonly apiKey?: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly dispatcher?: Dispatcher;
  private readonly random: () => number;

  constructor(options: ClientOptions) {
    this.apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    registerSecret(options.apiKey);
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.dispatcher = options.dispatcher;
    this.random = options.random ?? Math.random;
  }

  async listPreviews(projectId: string, opts?: CallOptions): Promise<PreviewDatabase[]> {
    const path = apiPath`/v1/projects/${projectId}/preview-databases`;
    return (await this.call("GET", path, ListPreviewsResponse, undefined, opts)).preview_databases;
  }

  /** There is no GET by id (§4.3): list the project and filter. undefined = not listed = gone. */
  async findPreview(projectId: string, previewId: string, opts?: CallOptions): Promise<PreviewDatabase | undefined> {
    return (await this.listPreviews(projectId, opts)).find((p) => p.id === previewId);
  }

  async createPreview(projectId: string, body: CreatePreviewBody, opts?: CallOptions) {
    const path = apiPath`/v1/projects/${projectId}/preview-databases`;
    return this.call("POST", path, PreviewAndJobResponse, body, opts);
  }

  async extendPreview(previewId: string, ttlHours: number, opts?: CallOptions): Promise<PreviewDatabase> {
    const path = apiPath`/v1/preview-databases/${previewId}/extend`;
    return (await this.call("POST", path, PreviewResponse, { ttl_hours: ttlHours }, opts)).preview;
  }

  async resetPreview(previewId: string, opts?: CallOptions): Promise<Job> {
    return (await this.call("POST", apiPath`/v1/preview-databases/${previewId}/reset`, JobResponse, undefined, opts)).job;
  }

  /** The job may be absent: an empty 2xx body is a success (§1.1). */
  async deletePreview(previewId: string, opts?: CallOptions): Promise<Job | undefined> {
    const path = apiPath`/v1/preview-databases/${previewId}`;
    return (await this.call("DELETE", path, JobResponse.partial(), undefined, opts)).job;
  }

  async getConnections(previewId: string, opts?: CallOptions): Promise<ConnectionInfo> {
    const path = apiPath`/v1/preview-databases/${previewId}/connections`;
    const info = (await this.call("GET", path, ConnectionsResponse, undefined, opts)).connections;
    // Whole URLs and bare passwords: either could be echoed back in a later error message.
    for (const url of [info.direct_url, info.pooled_url]) {
      registerSecret(url);
      registerSecret(passwordOf(url));
    }
    return info;
  }

  async getJob(jobId: string, opts?: CallOptions): Promise<Job> {
    return (await this.call("GET", apiPath`/v1/jobs/${jobId}`, JobResponse, undefined, opts)).job;
  }

  /**
   * One logical call: sends, applies the retry rules of retry.ts, parses the answer with `schema`.
   * Every failure becomes a CapyDBError.
   */
  async call<S extends z.ZodTypeAny>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<z.infer<S>> {
    if (!this.apiKey) throw missingApiKeyError(method, path);
    const deadline = opts.deadline ?? this.clock.now() + DEFAULT_RATE_LIMIT_BUDGET_MS;
    let attempt = 0;
    let rateLimited = 0;
    for (;;) {
      attempt++;
      let response: { status: number; headers: Record<string, string | string[] | undefined>; text: string };
      try {
        response = await this.send(method, path, body);
      } catch (cause) {
        if (shouldRetryFailure(method, undefined, attempt) && (await this.pause(failureRetryDelayMs(attempt), deadline))) {
          continue;
        }
        throw new CapyDBError({
          kind: "network",
          method,
          path,
          serverMessage: describeCause(cause),
          hint: `check that ${this.apiUrl} is reachable (capydb:apiUrl / CAPYDB_API_URL).`,
          cause,
        });
      }
      const { status } = response;
      if (status >= 200 && status < 300) return this.parse(method, path, schema, response.text);
      if (status === 429) {
        // A 429 means the request was not applied, so any method may be sent again (§1.5).
        rateLimited++;
        const wait =
          parseRetryAfter(response.headers["retry-after"], this.clock.now()) ?? rateLimitDelayMs(rateLimited, this.random);
        if (await this.pause(wait, deadline)) continue;
      } else if (shouldRetryFailure(method, status, attempt) && (await this.pause(failureRetryDelayMs(attempt), deadline))) {
        continue;
      }
      throw new CapyDBError({
        kind: "http",
        method,
        path,
        status,
        serverMessage: serverMessage(response.text, status),
        hint: hintFor(method, path, status),
      });
    }
  }

  /** Sleeps unless that would cross the deadline; false means "give up now". */
  private async pause(ms: number, deadline: number): Promise<boolean> {
    if (this.clock.now() + ms > deadline) return false;
    await this.clock.sleep(ms);
    return true;
  }

  private async send(method: string, path: string, body: unknown) {
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: `Bearer ${this.apiKey}`,
      "user-agent": USER_AGENT,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await request(this.apiUrl + path, {
      method: method as Dispatcher.HttpMethod,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  private parse<S extends z.ZodTypeAny>(method: string, path: string, schema: S, text: string): z.infer<S> {
    let json: unknown = {};
    if (text.trim() !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw new CapyDBError({ kind: "schema", method, path, serverMessage: "the body is not JSON" });
      }
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
      throw new CapyDBError({
        kind: "schema",
        method,
        path,
        serverMessage: issues,
        hint: "the CapyDB API may have changed; upgrade pulumi-capydb or report this.",
      });
    }
    return parsed.data;
  }
}

/** The server's own words when the body is `{"error": ...}`; proxies send HTML, so fall back to the status. */
function serverMessage(text: string, status: number): string {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.error;
  } catch {
    // Not JSON: an HTML page from a proxy, say.
  }
  return STATUS_TEXT[status] ?? `status ${status}`;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
