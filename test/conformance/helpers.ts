import { Client } from "pg";
import { request } from "undici";
import type { ControlPlane } from "../control-plane";

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  key?: string;
  via?: "bearer" | "x-api-key";
  /** Sent as JSON. */
  json?: unknown;
  /** Sent verbatim, for malformed-body tests. */
  raw?: string;
}

/** A plain undici call, as a client of the real API would make it. */
export async function call(baseUrl: string, method: "GET" | "POST" | "DELETE", path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.key !== undefined) {
    if (opts.via === "x-api-key") headers["x-api-key"] = opts.key;
    else headers.authorization = `Bearer ${opts.key}`;
  }
  let body: string | undefined;
  if (opts.json !== undefined || opts.raw !== undefined) {
    headers["content-type"] = "application/json";
    body = opts.raw ?? JSON.stringify(opts.json);
  }
  const res = await request(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, body: parsed };
}

/** Shorthand bound to one control plane and key. */
export function apiClient(cp: ControlPlane, key = cp.apiKey) {
  return {
    get: (path: string, opts: CallOptions = {}) => call(cp.url, "GET", path, { key, ...opts }),
    post: (path: string, json?: unknown, opts: CallOptions = {}) => call(cp.url, "POST", path, { key, json, ...opts }),
    del: (path: string, opts: CallOptions = {}) => call(cp.url, "DELETE", path, { key, ...opts }),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Creates a preview and polls its job to a terminal state; returns the preview id and final job. */
export async function createReady(api: ApiClient, projectId: string, body: Record<string, unknown> = {}) {
  const created = await api.post(`/v1/projects/${projectId}/preview-databases`, { mode: "clone", ...body });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const job = await pollJob(api, created.body.job.id);
  return { id: created.body.preview.id as string, preview: created.body.preview, job };
}

export async function pollJob(api: ApiClient, jobId: string, maxPolls = 20) {
  for (let i = 0; i < maxPolls; i++) {
    const res = await api.get(`/v1/jobs/${jobId}`);
    if (res.status !== 200) throw new Error(`job poll failed: ${res.status} ${res.text}`);
    if (res.body.job.state === "completed" || res.body.job.state === "failed") return res.body.job;
  }
  throw new Error(`job ${jobId} still not terminal after ${maxPolls} polls`);
}

export async function listPreviews(api: ApiClient, projectId: string) {
  const res = await api.get(`/v1/projects/${projectId}/preview-databases`);
  if (res.status !== 200) throw new Error(`list failed: ${res.status} ${res.text}`);
  return (res.body.preview_databases ?? []) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export class ManualClock {
  constructor(public time = Date.UTC(2026, 0, 1)) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Runs one statement through a real Postgres connection URL (as a user of the preview would) and returns its rows. */
export async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}
