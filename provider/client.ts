import type { Dispatcher } from "undici";
import { z } from "zod";
import { Clock, systemClock } from "./clock";
import { DEFAULT_API_URL } from "./credentials";
import { apiKeyFormatProblem, CapyDBError, hintFor, invalidApiKeyError, missingApiKeyError } from "./errors";
import { passwordOf } from "./outputs";
import { pathChangingReason } from "./path-segment";
import { registerSecret } from "./redact";
import { budgetFor, RequestPolicy, RequestPriority, RequestTicket } from "./request-budget";
import { decideRedirect, isRedirect } from "./redirects";
import { parseRetryAfter, shouldRetryFailure } from "./retry";
import {
  ConnectionInfo,
  ConnectionsResponse,
  ErrorBodySchema,
  Job,
  JobResponse,
  RestoreResponse,
  ListJobsResponse,
  ListPreviewsResponse,
  PreviewAndJobResponse,
  PreviewDatabase,
  PreviewResponse,
} from "./schemas";
import { RecentLists, SendStamp } from "./recent-lists";
import { ServerClock } from "./server-clock";
import { SharedReads } from "./shared-reads";
import { describeTransportFailure } from "./transport-failure";
import { Exchange, sharedTransport, Transport, undiciTransport } from "./transport";
import { USER_AGENT } from "./version";

export { DEFAULT_API_URL };
const API_URL_SOURCE = "`capydb:apiUrl` (or CAPYDB_API_URL)";
/** What the official clients use per request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** With no operation deadline, how long 429 backoff may keep a single call waiting. */
const DEFAULT_RATE_LIMIT_BUDGET_MS = 5 * 60_000;
/**
 * Each request gets at most the time left before the operation's deadline, but never less than this:
 * a shorter window fails requests that would have succeeded. An operation overruns its deadline by
 * at most this much, where an unclipped request could overrun it by the full 30 s.
 */
export const MIN_REQUEST_TIMEOUT_MS = 1_000;
/**
 * How much of an error body is read. Error bodies are one short message (§1.3); anything longer is a
 * proxy page or a runaway server, and only its beginning can end up in a message anyway.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/**
 * How much of a success body is read. The largest legitimate answer is a project's preview list: about
 * 800 bytes per preview, so 8 MiB holds some 10,000 previews, far beyond any plan's limit (Business
 * plans have none, hence the headroom). Beyond that the answer is not CapyDB's (a proxy, a runaway
 * server) and reading on would only grow the plugin's memory.
 */
export const MAX_SUCCESS_BODY_BYTES = 8 * 1024 * 1024;

export interface ClientOptions {
  apiUrl?: string;
  apiKey?: string;
  clock?: Clock;
  requestTimeoutMs?: number;
  /** Default: the process's transport (transport.ts): Node's http/https, or undici when a proxy is set. */
  dispatcher?: Dispatcher;
  random?: () => number;
  /**
   * Default: the process's shared budget for this key and URL (request-budget.ts). The benchmark hands
   * in other clients' policies (test/bench/unshared-requests.ts) to compare them through this same client.
   */
  budget?: RequestPolicy;
}

export interface CallOptions {
  /** Epoch ms after which no more retries or backoff waits start. */
  deadline?: number;
  /** Default "progress"; job polls that probably find nothing new say "speculative" and yield. */
  priority?: RequestPriority;
  /** When the work this call serves began: among calls of one priority, older work goes first. */
  since?: number;
  /** For calls whose urgency changes while they wait for a slot (request-budget.ts). */
  priorityNow?: () => RequestPriority;
  /** A GET that may take the answer of an identical one already on the wire (shared-reads.ts). */
  shareInFlight?: boolean;
}

export interface CreatePreviewBody {
  name: string;
  mode: string;
  ttl_hours: number;
}

/** E11 with `target_kind: "new_preview"`: exactly one of the three source fields is set. */
export interface RestoreBody {
  target_kind: "new_preview";
  preview_name: string;
  ttl_hours: number;
  backup_key?: string;
  restore_point_id?: string;
  restore_time?: string;
}

/**
 * Encodes every path segment (ids are opaque and must never be trusted to be URL-safe), and refuses a
 * segment that encoding cannot keep in place ("", ".", ".."): check refuses such inputs, and this
 * catches ids that come from state or from the API itself.
 */
export function apiPath(strings: TemplateStringsArray, ...segments: string[]): string {
  for (const segment of segments) {
    const reason = pathChangingReason(segment);
    if (reason) throw new UnsafePathSegmentError(segment, reason);
  }
  return strings.reduce((out, s, i) => out + s + (i < segments.length ? encodeURIComponent(segments[i]) : ""), "");
}

export class UnsafePathSegmentError extends CapyDBError {
  constructor(segment: string, reason: string) {
    super({
      kind: "config",
      method: "-",
      path: "-",
      serverMessage: `${JSON.stringify(segment.slice(0, 100))} cannot be used as an id in a request path: ${reason}`,
      hint: "check `projectId` and the preview id in the stack's state.",
    });
  }
}

/** The typed CapyDB API client: one method per endpoint the provider uses (capydb-api.md §2). */
export class CapyDBClient {
  readonly apiUrl: string;
  private readonly apiKey?: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly transport: Transport;
  private readonly random: () => number;
  readonly budget: RequestPolicy;
  private readonly sharedReads = new SharedReads();
  /** CapyDB's clock, measured from the Date header of every answer (server-clock.ts). */
  readonly serverClock = new ServerClock();
  private readonly recentLists: RecentLists<PreviewDatabase[]>;

  constructor(options: ClientOptions) {
    this.apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    registerSecret(options.apiKey);
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.transport = options.dispatcher ? undiciTransport(options.dispatcher) : sharedTransport();
    this.random = options.random ?? Math.random;
    this.recentLists = new RecentLists(this.clock);
    this.budget = options.budget ?? budgetFor(this.clock, this.apiUrl, options.apiKey, { random: this.random, parseRetryAfter });
  }

  async listPreviews(projectId: string, opts?: CallOptions): Promise<PreviewDatabase[]> {
    const path = apiPath`/v1/projects/${projectId}/preview-databases`;
    const { value, sent } = await this.callTimed("GET", path, ListPreviewsResponse, undefined, opts);
    this.recentLists.remember(path, value.preview_databases, sent);
    return value.preview_databases;
  }

  /**
   * The preview as a list of its project sent at most `maxAgeMs` ago showed it, with no write of this
   * client sent since that list was; undefined when no such list shows it. Proof of presence only:
   * not being in a recent list proves nothing (the preview may be newer than the list).
   */
  recentlyListed(projectId: string, previewId: string, maxAgeMs: number): PreviewDatabase | undefined {
    const path = apiPath`/v1/projects/${projectId}/preview-databases`;
    return this.recentLists.find(path, this.clock.now() - maxAgeMs)?.find((p) => p.id === previewId);
  }

  /** There is no GET by id (§4.3): list the project and filter. undefined = not listed = gone. */
  async findPreview(projectId: string, previewId: string, opts?: CallOptions): Promise<PreviewDatabase | undefined> {
    return (await this.listPreviews(projectId, opts)).find((p) => p.id === previewId);
  }

  async createPreview(projectId: string, body: CreatePreviewBody, opts?: CallOptions) {
    const path = apiPath`/v1/projects/${projectId}/preview-databases`;
    return this.call("POST", path, PreviewAndJobResponse, body, opts);
  }

  /** E11: restore into a new preview. The preview's id comes with the job (preview_database_id) or from the list. */
  async restorePreview(projectId: string, body: RestoreBody, opts?: CallOptions) {
    const path = apiPath`/v1/projects/${projectId}/restores`;
    return this.call("POST", path, RestoreResponse, body, opts);
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

  /** E10: the project's jobs, newest first. How an update learns whether a reset it lost the answer to was applied. */
  async listJobs(projectId: string, limit: number, opts?: CallOptions): Promise<Job[]> {
    const path = `${apiPath`/v1/projects/${projectId}/jobs`}?limit=${limit}`;
    return (await this.call("GET", path, ListJobsResponse, undefined, opts)).jobs;
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
    return (await this.callTimed(method, path, schema, body, opts)).value;
  }

  /** `call`, also saying when the answer's request was sent (for lists kept as recent, recent-lists.ts). */
  private async callTimed<S extends z.ZodTypeAny>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<{ value: z.infer<S>; sent: SendStamp }> {
    if (!this.apiKey) throw missingApiKeyError(method, path);
    const keyProblem = apiKeyFormatProblem(this.apiKey);
    if (keyProblem) throw invalidApiKeyError(method, path, keyProblem);
    const deadline = opts.deadline ?? this.clock.now() + DEFAULT_RATE_LIMIT_BUDGET_MS;
    const ticket: RequestTicket = { priority: opts.priority ?? "progress", deadline, since: opts.since, priorityNow: opts.priorityNow };
    let attempt = 0;
    let limited: Answer | undefined;
    let limitedCount = 0;
    for (;;) {
      attempt++;
      const timeLeft = deadline - this.clock.now();
      if (opts.deadline !== undefined && timeLeft <= 0) {
        throw new CapyDBError({
          kind: "deadline",
          method,
          path,
          serverMessage: "the operation's deadline has passed",
          hint: "raise the resource's `timeouts` if CapyDB needs longer.",
        });
      }
      const timeoutMs = Math.min(this.timeoutMs, Math.max(MIN_REQUEST_TIMEOUT_MS, timeLeft));
      let response: Answer;
      try {
        response = await this.exchange(method, path, body, ticket, opts.shareInFlight === true);
      } catch (cause) {
        if (cause instanceof NoSlotBeforeDeadline) throw limited ? httpError(method, path, limited, this.clock.now()) : noSlotError(method, path);
        if (cause instanceof CapyDBError) throw cause;
        const failure = describeTransportFailure(cause, new URL(this.apiUrl).host, API_URL_SOURCE);
        // A GET may meet a refused connection or a DNS failure that a moment fixes; a certificate that
        // does not verify or a header that cannot be sent will not change by waiting.
        if (
          failure.retryable &&
          shouldRetryFailure(method, undefined, attempt) &&
          (await this.pause(this.budget.failureRetryDelayMs(attempt, this.random), deadline))
        ) {
          continue;
        }
        throw new CapyDBError({
          kind: "network",
          method,
          path,
          serverMessage: failure.message,
          hint: failure.notSent
            ? failure.hint
            : `${failure.hint} Each request waits at most ${Math.round(timeoutMs / 1000)}s (less near the operation's deadline).`,
          notSent: failure.notSent,
          cause,
        });
      }
      const { status } = response;
      if (status >= 200 && status < 300) {
        // Reading the same runaway answer again would end the same way: no retry, even for a GET. A POST or
        // DELETE was applied, and is reconciled by the caller like any unreadable answer ("schema").
        if (response.cut) throw tooLargeError(method, path);
        try {
          return { value: this.parse(method, path, schema, response.text), sent: response.sent };
        } catch (error) {
          // An unreadable answer to a GET (a cache or proxy glitch) is worth reading again, on the
          // schedule of a 5xx; a POST or DELETE was applied, and is reconciled by the caller instead.
          if (shouldRetryFailure(method, undefined, attempt) && (await this.pause(this.budget.failureRetryDelayMs(attempt, this.random), deadline))) {
            continue;
          }
          throw error;
        }
      }
      // A 503 with Retry-After is treated as a 429: see isUnavailableFor.
      if (status === 429 || isUnavailableFor(response, this.clock.now())) {
        // A 429 means the request was not applied, so any method may be sent again (§1.5). The shared budget
        // has paused every caller of this key; the retry waits for its next slot, unless that is too late.
        // Other policies may make this call wait on its own first, or not retry at all (test/bench/unshared-requests.ts).
        limited = response;
        const ownWaitMs = this.budget.afterLimited(++limitedCount, response.headers["retry-after"]);
        if (ownWaitMs !== "final" && this.budget.resumesAt <= deadline && (ownWaitMs === 0 || (await this.pause(ownWaitMs, deadline)))) {
          continue;
        }
      } else if (shouldRetryFailure(method, status, attempt) && (await this.pause(this.budget.failureRetryDelayMs(attempt, this.random), deadline))) {
        continue;
      }
      throw httpError(method, path, response, this.clock.now());
    }
  }

  /** Sleeps unless that would cross the deadline; false means "give up now". */
  private async pause(ms: number, deadline: number): Promise<boolean> {
    if (this.clock.now() + ms > deadline) return false;
    await this.clock.sleep(ms);
    return true;
  }

  /**
   * One HTTP exchange under the request budget. Identical GETs asked for at the same time share one
   * exchange (shared-reads.ts), so the budget hears about each answer once. The request's timeout is
   * clipped to the deadline when its slot comes, since waiting for the slot used some of the time.
   */
  private exchange(method: string, path: string, body: unknown, ticket: RequestTicket, joinSent: boolean): Promise<Answer> {
    const send = async (shared: RequestTicket, markSent: () => void): Promise<Answer> => {
      const slot = await this.budget.acquire(shared);
      if (!slot) throw new NoSlotBeforeDeadline();
      markSent();
      const timeoutMs = Math.min(this.timeoutMs, Math.max(MIN_REQUEST_TIMEOUT_MS, shared.deadline - this.clock.now()));
      const answer = await this.sendFollowingRedirects(method, path, body, timeoutMs, this.recentLists.stamp());
      slot.answered(answer.status, answer.headers["retry-after"]);
      return answer;
    };
    if (method !== "GET") return this.recentLists.duringWrite(() => send(ticket, () => undefined));
    return this.sharedReads.run(path, ticket, joinSent, send);
  }

  /** Follows same-origin 307/308 (redirects.ts); any other redirect comes back as the answer, marked refused. */
  private async sendFollowingRedirects(method: string, path: string, body: unknown, timeoutMs: number, sent: SendStamp): Promise<Answer> {
    let url = this.apiUrl + path;
    for (let hops = 0; ; hops++) {
      const answer = await this.send(method, url, body, timeoutMs, sent);
      if (!isRedirect(answer.status)) return answer;
      const decision = decideRedirect(answer.status, answer.headers.location, url, hops);
      if ("refuse" in decision) return { ...answer, refusedRedirect: decision.refuse };
      url = decision.follow;
    }
  }

  private async send(method: string, url: string, body: unknown, timeoutMs: number, sent: SendStamp): Promise<Answer> {
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: `Bearer ${this.apiKey}`,
      "user-agent": USER_AGENT,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    const sentAt = this.clock.now();
    const res = await this.transport.send(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs });
    this.serverClock.observe(res.headers.date, sentAt, this.clock.now());
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const { text, cut } = await readAtMost(res.body, ok ? MAX_SUCCESS_BODY_BYTES : MAX_ERROR_BODY_BYTES);
    return { status: res.statusCode, headers: res.headers, text, cut, sent };
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

type Answer = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  cut: boolean;
  /** When the request was sent, in the order of this client's writes (recent-lists.ts). */
  sent: SendStamp;
  /** A redirect the client does not follow, and why (redirects.ts). */
  refusedRedirect?: string;
};

/** The budget could not give this request a slot before its deadline: it was never sent. */
class NoSlotBeforeDeadline extends Error {}

function tooLargeError(method: string, path: string): CapyDBError {
  return new CapyDBError({
    kind: "schema",
    method,
    path,
    serverMessage: `the answer is over ${MAX_SUCCESS_BODY_BYTES / 1024 / 1024} MiB and was not read further (CapyDB's answers are far smaller)`,
    hint: "check that capydb:apiUrl (or CAPYDB_API_URL) points at CapyDB and not at another server or a proxy's page.",
  });
}

/**
 * A 503 with a Retry-After CapyDB can read: the service says it cannot handle requests for a known time
 * (maintenance, RFC 9110 §15.6.4). A server that applied a request does not answer it with a time to
 * come back, and gateways that lose an applied request's answer say 502 or 504; so, like a 429, it
 * means "not applied, ask again then": any method may be resent, and every caller of the key pauses.
 * A 503 without Retry-After stays a 5xx whose request may have been applied (§1.4).
 */
function isUnavailableFor(answer: Answer, nowMs: number): boolean {
  return answer.status === 503 && retryAfterOf(answer, nowMs) !== undefined;
}

function retryAfterOf(answer: Answer, nowMs: number): number | undefined {
  return parseRetryAfter(answer.headers["retry-after"], nowMs);
}

function httpError(method: string, path: string, answer: Answer, nowMs: number): CapyDBError {
  if (answer.refusedRedirect) {
    return new CapyDBError({
      kind: "http",
      method,
      path,
      status: answer.status,
      serverMessage: `redirected: ${answer.refusedRedirect}`,
      hint: "the request was not applied; if CapyDB moved, set capydb:apiUrl (or CAPYDB_API_URL) to its new address.",
    });
  }
  const message = serverMessage(answer.text, answer.status, answer.cut);
  const retryAfterMs = answer.status === 503 ? retryAfterOf(answer, nowMs) : undefined;
  return new CapyDBError({
    kind: "http",
    method,
    path,
    status: answer.status,
    serverMessage: message.text,
    wellFormedBody: message.wellFormed,
    retryAfterMs,
    hint:
      retryAfterMs === undefined
        ? hintFor(method, path, answer.status)
        : `CapyDB is unavailable (maintenance?) and asked to come back in ${Math.ceil(retryAfterMs / 1000)}s, after this operation's deadline; the request was not applied. Run the command again later, or raise the resource's \`timeouts\`.`,
  });
}

function noSlotError(method: string, path: string): CapyDBError {
  return new CapyDBError({
    kind: "http",
    method,
    path,
    status: 429,
    serverMessage: "rate limited: no request slot before the deadline",
    hint: hintFor(method, path, 429),
  });
}

/**
 * The server's own words when the body is `{"error": ...}`; proxies send HTML, so fall back to the
 * status. `wellFormed` says the body was CapyDB's error shape (what proves a 404 means "not found").
 */
function serverMessage(text: string, status: number, cut: boolean): { text: string; wellFormed: boolean } {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) return { text: parsed.data.error, wellFormed: true };
  } catch {
    // Not JSON (an HTML page from a proxy, say), or cut short by readAtMost.
  }
  const statusText = STATUS_TEXT[status] ?? `status ${status}`;
  return { text: cut ? `${statusText} (the error body was over ${MAX_ERROR_BODY_BYTES / 1024} KiB and was cut unread)` : statusText, wellFormed: false };
}

/**
 * Reads a body up to `limit` bytes; beyond that the connection is destroyed, so memory stays bounded
 * whatever the server sends.
 */
async function readAtMost(body: Exchange["body"], limit: number): Promise<{ text: string; cut: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buffer.subarray(0, Math.max(0, limit - size)));
    size += buffer.length;
    if (size > limit) {
      body.destroy();
      return { text: Buffer.concat(chunks).toString("utf8"), cut: true };
    }
  }
  return { text: Buffer.concat(chunks).toString("utf8"), cut: false };
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
