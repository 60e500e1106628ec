import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { request } from "undici";
import { createProvider } from "../../provider";
import { isPendingCreateId } from "../../provider/operations/pending-create";
import { SECRET_OUTPUTS } from "../../provider/secret-outputs";
import { ControlPlane, FaultRule, startControlPlane } from "../control-plane";
import { closedPort } from "../helpers/closed-port";
import { FakeClock } from "../helpers/fake-clock";
import { createPrivateCa } from "../helpers/private-ca";
import { startTlsFront } from "../helpers/tls-front";

/*
 * The fault matrix: every way the API (or the network) can misbehave that we know of, one case per
 * line, each driven through the provider methods against the local control plane's fault injection,
 * and each ending with the same invariant check:
 *   - deadline kept: the operation ended within its timeouts (fake clock);
 *   - nothing orphaned: after the follow-ups Pulumi itself would run (the next `up` after a partial
 *     failure, a refresh, a destroy), every preview that exists is the tracked one, and destroy
 *     removes it;
 *   - no duplicate: one preview per name, one reset per reset trigger;
 *   - no secret (API keys, connection passwords, secrets planted in server answers) in any log
 *     line, error message, stack, partial-failure reason or non-secret output.
 * The README's "Failure handling" table is checked against ROWS below: a new row there needs a case
 * here, and a new case names its row.
 */

type Provider = ReturnType<typeof createProvider>;
type Props = Record<string, unknown>;
type Op = "create" | "read" | "update" | "delete";

/** The README table, row by row: [fault, what the provider does]. */
const ROWS = {
  createUnreadable: [
    "A create's 2xx answer is unreadable: not JSON, `{}`, fields missing, another preview's name",
    "Looks the name up and continues with the preview it finds; nothing is created twice",
  ],
  createLost: [
    "A create's answer is lost (5xx page, dropped connection) after CapyDB applied it",
    "Looks the name up before sending anything again, and continues with the preview",
  ],
  createRefused: ["A create fails before CapyDB applies it (503)", "Sends it again once a well-formed list shows the name is free"],
  createLate: [
    "CapyDB applies a create after the client gave up on it",
    "The resent create meets a 409 for that very preview: taken as its own (same mode, created since) and continued",
  ],
  createLostListFailing: [
    "A create's answer is lost and listing fails or is malformed for a while",
    "Keeps listing (errors tolerated until `timeouts.create`) and continues with the preview once listed",
  ],
  createUnknownAtDeadline: [
    "…and listing fails until `timeouts.create`",
    "Partial failure with the id `pending-create/<name>`: the next `up` continues with the preview (or creates it if it never arrived), `refresh` records its real id, `destroy` deletes it by name",
  ],
  createJobFails: [
    "The create job fails, with credentials in its error or stderr",
    "Deletes the failed preview; reports the job's error and stderr tail, redacted",
  ],
  createJobStalls: [
    "The create job outlives `timeouts.create`",
    "Partial failure with the preview id: the next `up` resumes the wait, `destroy` deletes it",
  ],
  pollErrors: [
    "Up to 4 failed reads in a row while waiting for a job, the list or the connection URLs (each read already retried 3 times)",
    "Tolerated; a 5th in a row ends the wait",
  ],
  listMalformed: [
    "A list answer that does not match the schema: `{}`, renamed key, entries missing fields, HTML",
    "An error (after the GET retries): refresh keeps the preview, delete does not report success",
  ],
  foreign404: [
    "A 404 that is not CapyDB's error body (a proxy's page, a wrong `apiUrl`)",
    "An error: refresh keeps the preview, delete does not take it for \"already gone\"",
  ],
  expired: [
    "The preview expired or was deleted outside Pulumi",
    "Refresh drops it (a well-formed list without it); delete succeeds (CapyDB's own 404)",
  ],
  secretsInAnswers: [
    "`last_error` or a server error message carries credentials",
    "Masked (`***`) in outputs, errors and logs",
  ],
  hugeErrorBody: [
    "An error body of megabytes",
    "At most 64 KiB is read and 2,000 characters kept, with a note that it was cut",
  ],
  resetLost: [
    "A reset's answer is lost after CapyDB applied it",
    "Finds the reset's job in the job list and waits for it: never resets twice",
  ],
  resetUnknownAtDeadline: [
    "…and the job list cannot be read until `timeouts.update`",
    "Partial failure recording the reset as pending: the next `up` checks the job list and resets only if it never arrived",
  ],
  resetStalls: [
    "A reset job outlives `timeouts.update`",
    "Partial failure recording the reset as applied: the next `up` waits for it, without resetting again",
  ],
  extendLost: ["An extend's answer is lost", "Checks the preview's new expiry; sends it again only if it did not land"],
  extendNotUsable: [
    "Extend on a preview that expired (not yet removed) or is not ready",
    "Fails at once with the way out (`pulumi up --refresh`, or replace or destroy), not after `timeouts.update`",
  ],
  busy: ["Extend or reset while another operation runs on the preview (409)", "Backs off, with jitter, until `timeouts.update`"],
  deleteLost: ["A delete's answer is lost", "Looks at the preview and waits for the delete that is running"],
  getRetries: [
    "5xx or network errors on a GET",
    "Retried after 1 s and 2 s ±25 % (never under 250 ms) within the deadline; each request's timeout is clipped to the time left (never under 1 s)",
  ],
  // --- A: transport ---
  notSent: [
    "A create that cannot leave the machine: connection refused, DNS failure, a certificate that does not verify, a key with a line break",
    "Fails within 4 s (refused and DNS: after the key check's GET retries; TLS and the key: at once), saying which and how to fix it (a private CA: `NODE_EXTRA_CA_CERTS`); records nothing, no `pending-create`",
  ],
  hostileText: [
    "Server text with terminal escape sequences, carriage returns or a forged `[capydb] …` line (an error body, `last_error`, a job's error and stderr), or a secret across the 2,000-character cut",
    "Redacted whole, then cut, then shown inert: control characters escaped (`\\x1b`, `\\r`), every line after the first indented",
  ],
  unavailable: [
    "503 with `Retry-After` (maintenance)",
    "Taken as not applied, like a 429: every request of the key pauses for the given time (at most 60 s per answer, plus jitter), then any method is sent again, until its timeout (a delete: `timeouts.delete`)",
  ],
  redirects: [
    "A redirect: 307 or 308 to the same origin; 301, 302, 303, or to another origin",
    "Same origin 307/308: followed with the method, body and key (at most 3 in a row). Any other: refused at once, naming the status and the target (origin and path only); the key never goes to another origin",
  ],
  wrongProject: [
    "A key scoped to another project, or a project that does not exist",
    "Fails before the create is sent (`GET /v1/projects/{id}` with the scope check, once per process per key and project), naming the project and the key's scope; records nothing",
  ],
  hugeSuccessBody: [
    "A 2xx answer of more than 8 MiB (a proxy or a runaway server; a list of 10,000 previews is smaller)",
    "Reading stops there and the connection is closed; a GET fails at once naming the limit, a create's is reconciled by name like any unreadable answer",
  ],
} as const satisfies Record<string, readonly [string, string]>;

interface World {
  cp: ControlPlane;
  clock: FakeClock;
  provider: Provider;
  lines: string[];
  /** The ready preview that read, update and delete cases start from. */
  given?: { id: string; outs: Props; inputs: Props };
  /** Secrets the case planted in server answers. */
  planted: string[];
  /** Every error and output text the case produced, for the secret check. */
  texts: string[];
  /** Servers a case started, closed after it. */
  cleanups: Array<() => Promise<void> | void>;
}

interface Case {
  row: readonly [string, string];
  variant: string;
  op: Op;
  /** create: extra inputs; update: the changed inputs. */
  inputs?: Props;
  inject: (w: World) => void | Promise<void>;
  expect: "ok" | "partial" | "error" | "gone";
  /** Case-specific assertions, before the common invariant. */
  check?: (w: World, outcome: Outcome) => void | Promise<void>;
}

type Outcome =
  | { kind: "ok"; id: string; outs: Props }
  | { kind: "gone" }
  | { kind: "partial"; id: string; props: Props; error: Error & { reasons?: string[] } }
  | { kind: "error"; error: Error };

const NAME = "pr-matrix";
const ALWAYS = 100_000;
/** Text that tries to take over a terminal: clear the screen, set its title, overwrite the line, forge progress lines. */
const HOSTILE = "boom\x1b[2J\x1b]0;owned\x07\rfaked\x9b31m\n[capydb] create pr-matrix: preview pvw_9 ready in 1.0s\r\n[capydb] done";

/** Planted in server answers; shaped like real credentials, registered nowhere. */
const PLANTED_PASSWORD = "planted-Pa55w0rd-9d1c";

const previewsPath = (w: World) => `/v1/projects/${w.cp.projectId}/preview-databases`;
const givenPath = (suffix = "") => (w: World) => `/v1/preview-databases/${w.given!.id}${suffix}`;
const on = (method: string, where: (w: World) => string | RegExp, rule: Partial<FaultRule>) => (w: World) =>
  w.cp.faults.inject({ method, path: where(w), ...rule });
const onCreate = (rule: Partial<FaultRule>) => on("POST", previewsPath, rule);
const onList = (rule: Partial<FaultRule>) => on("GET", previewsPath, rule);
const onJobList = (rule: Partial<FaultRule>) => on("GET", (w) => `/v1/projects/${w.cp.projectId}/jobs`, rule);
const onJobPolls = (rule: Partial<FaultRule>) => on("GET", () => /^\/v1\/jobs\//, rule);
const all = (...steps: Array<(w: World) => void | Promise<void>>) => async (w: World) => {
  for (const step of steps) await step(w);
};
const lost502 = { status: 502, body: "<html>502 Bad Gateway</html>", after: "respond" as const };
type ListBody = { preview_databases: Array<Record<string, unknown>> };
const count = (w: World, method: string, re: RegExp) => w.cp.requests().filter((r) => r.method === method && re.test(r.path) && r.fault !== "applied-late").length;

const CASES: Case[] = [
  { row: ROWS.createUnreadable, variant: "not JSON", op: "create", inject: onCreate({ rewrite: () => "<html>created</html>" }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /preview-databases$/), 1) },
  { row: ROWS.createUnreadable, variant: "{}", op: "create", inject: onCreate({ rewrite: () => ({}) }), expect: "ok" },
  { row: ROWS.createUnreadable, variant: "fields missing", op: "create", inject: onCreate({ rewrite: (b) => ({ preview: { id: (b as { preview: { id: string } }).preview.id } }) }), expect: "ok" },
  { row: ROWS.createUnreadable, variant: "another preview's name", op: "create", inject: onCreate({ rewrite: (b) => ({ ...(b as object), preview: { ...(b as { preview: object }).preview, name: "someone-else" } }) }), expect: "ok" },
  { row: ROWS.createLost, variant: "502 page", op: "create", inject: onCreate(lost502), expect: "ok", check: (w) => assert.equal(count(w, "POST", /preview-databases$/), 1) },
  { row: ROWS.createLost, variant: "dropped connection", op: "create", inject: onCreate({ drop: true, after: "respond" }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /preview-databases$/), 1) },
  { row: ROWS.createRefused, variant: "503", op: "create", inject: onCreate({ status: 503, body: { error: "try later" } }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /preview-databases$/), 2) },
  { row: ROWS.createLate, variant: "504 now, applied 0.5 s later", op: "create", inject: onCreate({ status: 504, applyAfterMs: 500 }), expect: "ok" },
  { row: ROWS.createLate, variant: "dropped, applied 0.5 s later", op: "create", inject: onCreate({ drop: true, applyAfterMs: 500 }), expect: "ok" },
  { row: ROWS.createLostListFailing, variant: "list 503 for 3 reads", op: "create", inject: all(onCreate(lost502), onList({ status: 503, times: 9 })), expect: "ok" },
  { row: ROWS.createLostListFailing, variant: "list {} for 2 reads", op: "create", inject: all(onCreate(lost502), onList({ rewrite: () => ({}), times: 6 })), expect: "ok" },
  { row: ROWS.createUnknownAtDeadline, variant: "applied", op: "create", inputs: { timeouts: { create: "30s" } }, inject: all(onCreate(lost502), onList({ status: 503, times: ALWAYS })), expect: "partial", check: (_w, o) => assert.ok(o.kind === "partial" && isPendingCreateId(o.id), "stand-in id") },
  { row: ROWS.createUnknownAtDeadline, variant: "never applied", op: "create", inputs: { timeouts: { create: "30s" } }, inject: all(onCreate({ status: 503 }), onList({ status: 503, times: ALWAYS })), expect: "partial" },
  {
    row: ROWS.createJobFails, variant: "password and key in error and stderr", op: "create",
    inject: (w) => {
      w.planted.push(PLANTED_PASSWORD);
      w.cp.jobs.failNext("create", { error: `clone failed: postgres://app:${PLANTED_PASSWORD}@10.0.0.7/src refused`, stderr: `PGPASSWORD=${PLANTED_PASSWORD} pg_restore -d src\nauth with ${w.cp.projectScopedKey} failed\nNo space left on device` });
    },
    expect: "error",
    check: (_w, o) => assert.match(o.kind === "error" ? o.error.message : "", /No space left on device[\s\S]*nothing is left behind/),
  },
  { row: ROWS.createJobStalls, variant: "stalled job", op: "create", inputs: { timeouts: { create: "10s" } }, inject: (w) => w.cp.jobs.stallNext("create"), expect: "partial", check: (_w, o) => assert.match(o.kind === "partial" ? o.id : "", /^pvw_/) },
  { row: ROWS.pollErrors, variant: "job polls", op: "create", inject: onJobPolls({ status: 503, times: 12 }), expect: "ok" },
  { row: ROWS.pollErrors, variant: "connection URLs", op: "create", inject: on("GET", () => /\/connections$/, { status: 503, times: 12 }), expect: "ok" },
  { row: ROWS.pollErrors, variant: "5 job polls", op: "create", inputs: { timeouts: { create: "5m" } }, inject: onJobPolls({ status: 503, times: 15 }), expect: "partial" },
  { row: ROWS.listMalformed, variant: "read, {}", op: "read", inject: onList({ rewrite: () => ({}), times: ALWAYS }), expect: "error" },
  { row: ROWS.listMalformed, variant: "read, renamed key", op: "read", inject: onList({ rewrite: (b) => ({ previews: (b as ListBody).preview_databases }), times: ALWAYS }), expect: "error" },
  { row: ROWS.listMalformed, variant: "read, entry missing fields", op: "read", inject: onList({ rewrite: (b) => ({ preview_databases: (b as ListBody).preview_databases.map((p) => ({ id: p.id })) }), times: ALWAYS }), expect: "error" },
  { row: ROWS.listMalformed, variant: "read, HTML", op: "read", inject: onList({ rewrite: () => "<html>maintenance</html>", times: ALWAYS }), expect: "error" },
  { row: ROWS.listMalformed, variant: "delete after a 502, list {}", op: "delete", inject: all(on("DELETE", givenPath(), { status: 502 }), onList({ rewrite: () => ({}), times: ALWAYS })), expect: "error" },
  { row: ROWS.foreign404, variant: "read", op: "read", inject: onList({ status: 404, body: "<html>Not Found</html>", times: ALWAYS }), expect: "error" },
  { row: ROWS.foreign404, variant: "delete", op: "delete", inject: on("DELETE", givenPath(), { status: 404, body: "<html>Not Found</html>" }), expect: "error" },
  { row: ROWS.expired, variant: "read", op: "read", inject: (w) => w.cp.previews.expireNow(w.given!.id), expect: "gone" },
  { row: ROWS.expired, variant: "delete", op: "delete", inject: (w) => w.cp.previews.remove(w.given!.id), expect: "ok" },
  {
    row: ROWS.secretsInAnswers, variant: "last_error", op: "read",
    inject: (w) => {
      w.planted.push(PLANTED_PASSWORD);
      onList({ rewrite: (b) => ({ preview_databases: (b as ListBody).preview_databases.map((p) => ({ ...p, last_error: `reset failed: password=${PLANTED_PASSWORD} key ${w.cp.projectScopedKey}` })) }) })(w);
    },
    expect: "ok",
    check: (_w, o) => assert.match(String(o.kind === "ok" ? o.outs.lastError : ""), /^reset failed: password=\*\*\* key capy_live_\*\*\*$/),
  },
  {
    row: ROWS.secretsInAnswers, variant: "error message", op: "read",
    inject: (w) => {
      w.planted.push(PLANTED_PASSWORD);
      onList({ status: 400, body: { error: `bad request: "password": "${PLANTED_PASSWORD}" for ${w.cp.apiKey}` } })(w);
    },
    expect: "error",
  },
  { row: ROWS.hugeErrorBody, variant: "10 KB JSON message", op: "read", inject: onList({ status: 400, body: { error: "x".repeat(10_000) } }), expect: "error", check: (_w, o) => { const m = o.kind === "error" ? o.error.message : ""; assert.ok(m.length < 3_000, `${m.length} chars`); assert.match(m, /\[cut: 8000 more characters\]/); } },
  { row: ROWS.hugeErrorBody, variant: "5 MB JSON message", op: "read", inject: onList({ status: 400, body: { error: "x".repeat(5_000_000) } }), expect: "error", check: (_w, o) => { const m = o.kind === "error" ? o.error.message : ""; assert.ok(m.length < 3_000, `${m.length} chars`); assert.match(m, /cut unread/); } },
  { row: ROWS.resetLost, variant: "502 after applying", op: "update", inputs: { resetTrigger: "1" }, inject: on("POST", givenPath("/reset"), lost502), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/reset$/), 1) },
  { row: ROWS.resetLost, variant: "503 before applying", op: "update", inputs: { resetTrigger: "1" }, inject: on("POST", givenPath("/reset"), { status: 503 }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/reset$/), 2) },
  { row: ROWS.resetUnknownAtDeadline, variant: "applied", op: "update", inputs: { resetTrigger: "1", timeouts: { update: "30s" } }, inject: all(on("POST", givenPath("/reset"), lost502), onJobList({ status: 503, skip: 1, times: ALWAYS })), expect: "partial", check: (_w, o) => assert.deepEqual(o.kind === "partial" && (o.props.pendingReset as Props).trigger, "1") },
  { row: ROWS.resetUnknownAtDeadline, variant: "never applied", op: "update", inputs: { resetTrigger: "1", timeouts: { update: "30s" } }, inject: all(on("POST", givenPath("/reset"), { status: 503, times: 3 }), onJobList({ status: 503, skip: 3, times: ALWAYS })), expect: "partial" },
  { row: ROWS.resetStalls, variant: "stalled job", op: "update", inputs: { resetTrigger: "1", timeouts: { update: "5s" } }, inject: (w) => w.cp.jobs.stallNext("reset"), expect: "partial", check: (_w, o) => assert.equal(o.kind === "partial" && o.props.resetTrigger, "1") },
  { row: ROWS.extendLost, variant: "502 after applying", op: "update", inputs: { ttlHours: 5 }, inject: on("POST", givenPath("/extend"), lost502), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/extend$/), 1) },
  { row: ROWS.extendLost, variant: "503 before applying", op: "update", inputs: { ttlHours: 5 }, inject: on("POST", givenPath("/extend"), { status: 503 }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/extend$/), 2) },
  { row: ROWS.extendNotUsable, variant: "expired", op: "update", inputs: { ttlHours: 5 }, inject: (w) => w.cp.previews.expireNow(w.given!.id), expect: "error", check: (w, o) => { assert.match(o.kind === "error" ? o.error.message : "", /pulumi up --refresh/); assert.equal(count(w, "POST", /\/extend$/), 1, "no retry"); } },
  { row: ROWS.extendNotUsable, variant: "failed state", op: "update", inputs: { ttlHours: 5 }, inject: all(on("POST", givenPath("/extend"), { status: 409, body: { error: "preview is not ready" }, times: ALWAYS }), onList({ rewrite: (b) => ({ preview_databases: (b as ListBody).preview_databases.map((p) => ({ ...p, state: "failed", last_error: "disk full" })) }), times: ALWAYS })), expect: "error", check: (w, o) => { assert.match(o.kind === "error" ? o.error.message : "", /"failed", not ready[\s\S]*disk full[\s\S]*--replace/); assert.equal(count(w, "POST", /\/extend$/), 1, "no retry"); } },
  { row: ROWS.busy, variant: "extend", op: "update", inputs: { ttlHours: 5 }, inject: on("POST", givenPath("/extend"), { status: 409, body: { error: "preview has an active operation" }, times: 2 }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/extend$/), 3) },
  { row: ROWS.deleteLost, variant: "504 after applying", op: "delete", inject: on("DELETE", givenPath(), { status: 504, after: "respond" }), expect: "ok" },
  { row: ROWS.getRetries, variant: "list 503 twice", op: "read", inject: onList({ status: 503, times: 2 }), expect: "ok" },
  // --- A: transport ---
  { row: ROWS.notSent, variant: "connection refused", op: "create", inject: reconfigure(async () => ({ "capydb:apiUrl": `http://127.0.0.1:${await closedPort()}` })), expect: "error", check: notSentCheck(/connection refused by 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/, 3_750) },
  { row: ROWS.notSent, variant: "DNS", op: "create", inject: reconfigure(async () => ({ "capydb:apiUrl": "https://capydb.invalid/api/capydb" })), expect: "error", check: notSentCheck(/capydb\.invalid could not be resolved \(DNS/, 3_750) },
  {
    row: ROWS.notSent, variant: "untrusted certificate", op: "create",
    inject: async (w) => {
      const ca = createPrivateCa(["localhost"]);
      const front = await startTlsFront({ key: ca.key, cert: ca.cert, target: { host: "127.0.0.1", port: Number(new URL(w.cp.url).port) } });
      w.cleanups.push(() => front.close(), () => ca.remove());
      await reconfigure(() => ({ "capydb:apiUrl": `https://localhost:${front.port}` }))(w);
    },
    expect: "error", check: notSentCheck(/TLS certificate of localhost:\d+ was not accepted[\s\S]*NODE_EXTRA_CA_CERTS/, 0),
  },
  { row: ROWS.notSent, variant: "key with a line break", op: "create", inject: reconfigure((w) => ({ "capydb:apiKey": `${w.cp.projectScopedKey.slice(0, 12)}\n${w.cp.projectScopedKey.slice(12)}` })), expect: "error", check: notSentCheck(/line break at character 13[\s\S]*capydb:apiKey[\s\S]*CAPYDB_API_KEY/, 0) },
  { row: ROWS.unavailable, variant: "delete, 3 × 45 s", op: "delete", inject: on("DELETE", givenPath(), { status: 503, body: { error: "maintenance" }, headers: { "retry-after": "45" }, times: 3 }), expect: "ok", check: (w) => { assert.equal(count(w, "DELETE", /preview-databases\//), 4); assert.ok(w.clock.sleeps.filter((ms) => ms >= 45_000).length >= 3, `${w.clock.sleeps}`); } },
  { row: ROWS.unavailable, variant: "create", op: "create", inject: onCreate({ status: 503, body: { error: "maintenance" }, headers: { "retry-after": "30" } }), expect: "ok", check: (w) => { assert.equal(count(w, "POST", /preview-databases$/), 2); assert.ok(!w.lines.some((l) => /outcome of the create is unknown/.test(l)), "not reconciled: it was not applied"); } },
  { row: ROWS.unavailable, variant: "delete, past `timeouts.delete`", op: "delete", inputs: {}, inject: async (w) => { w.given!.outs = { ...w.given!.outs, timeouts: { delete: "1m" } }; on("DELETE", givenPath(), { status: 503, body: { error: "maintenance" }, headers: { "retry-after": "60" }, times: 2 })(w); }, expect: "error", check: (_w, o) => assert.match(o.kind === "error" ? o.error.message : "", /HTTP 503[\s\S]*come back in 60s/) },
  { row: ROWS.redirects, variant: "create, same-origin 307", op: "create", inject: (w) => onCreate({ status: 307, headers: { location: `${w.cp.url}${previewsPath(w)}` } })(w), expect: "ok", check: (w) => assert.equal(count(w, "POST", /preview-databases$/), 2, "the redirected create, then the one that landed") },
  { row: ROWS.redirects, variant: "read, 302 to another origin", op: "read", inject: onList({ status: 302, headers: { location: "https://login.example.com/sso?next=%2Fv1" } }), expect: "error", check: (_w, o) => assert.match(o.kind === "error" ? o.error.message : "", /HTTP 302 to https:\/\/login\.example\.com\/sso: only 307 and 308/) },
  { row: ROWS.wrongProject, variant: "403, key scoped to another project", op: "create", inputs: { projectId: "prj_other" }, inject: () => undefined, expect: "error", check: notSentCheck(/may not use project "prj_other" \(GET \/v1\/projects\/prj_other: HTTP 403[\s\S]*scoped to another project/, 0) },
  { row: ROWS.wrongProject, variant: "404, no such project", op: "create", inputs: { projectId: "prj_nowhere" }, inject: reconfigure((w) => ({ "capydb:apiKey": w.cp.apiKey })), expect: "error", check: notSentCheck(/project "prj_nowhere" does not exist/, 0) },
  { row: ROWS.hugeSuccessBody, variant: "read, 12 MB list", op: "read", inject: onList({ rewrite: () => `{"preview_databases":[],"pad":"${"p".repeat(12 * 1024 * 1024)}"}`, times: ALWAYS }), expect: "error", check: (w, o) => { assert.match(o.kind === "error" ? o.error.message : "", /over 8 MiB/); assert.equal(count(w, "GET", /preview-databases$/), 2, "the read, and no retry after the given preview's create"); } },
  { row: ROWS.hugeSuccessBody, variant: "create, 12 MB answer", op: "create", inject: onCreate({ rewrite: () => `{"pad":"${"p".repeat(12 * 1024 * 1024)}"}` }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /preview-databases$/), 1) },
  { row: ROWS.hostileText, variant: "error body", op: "read", inject: onList({ status: 400, body: { error: HOSTILE }, times: ALWAYS }), expect: "error", check: inertCheck },
  { row: ROWS.hostileText, variant: "last_error", op: "read", inject: onList({ rewrite: (b) => ({ preview_databases: (b as ListBody).preview_databases.map((p) => ({ ...p, last_error: HOSTILE })) }) }), expect: "ok", check: inertCheck },
  {
    row: ROWS.hostileText, variant: "job error and stderr, a password across the cut", op: "create",
    inject: (w) => {
      w.planted.push(PLANTED_PASSWORD);
      w.cp.jobs.failNext("create", { error: `${"e".repeat(1_975)}postgres://app:${PLANTED_PASSWORD}@10.0.0.7/src refused`, stderr: `${"s".repeat(3_000)}\n${HOSTILE}` });
    },
    expect: "error",
    check: (w, o) => {
      inertCheck(w, o);
      // The cut falls 10 characters into the password: cut first, the URL pattern no longer matches and they leak.
      const produced = [...texts(o), ...w.lines].join("\n");
      assert.ok(!produced.includes(PLANTED_PASSWORD.slice(0, 10)), "a fragment of the password leaked");
    },
  },
];

/** The provider configured anew, with `over` replacing the control plane's URL or key. */
function reconfigure(over: (w: World) => Record<string, string> | Promise<Record<string, string>>) {
  return async (w: World) => {
    const values: Record<string, string> = { "capydb:apiKey": w.cp.projectScopedKey, "capydb:apiUrl": w.cp.url, ...(await over(w)) };
    await w.provider.configure({ config: { get: (k: string) => values[k] } });
  };
}

/** No raw control character, and no line but the first of a text starts with `[capydb]`, in anything the case produced. */
function inertCheck(w: World, o: Outcome) {
  const produced = [...texts(o), ...w.lines];
  assert.ok(produced.join("").includes("boom"), "the server's text was shown");
  for (const text of produced) {
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(text), `raw control characters in ${JSON.stringify(text.slice(0, 300))}`);
    for (const line of text.split("\n").slice(1)) assert.ok(!line.startsWith("[capydb]"), `a forged progress line: ${JSON.stringify(line)}`);
  }
}

/** Failed with `message`, within `withinMs` on the fake clock, and nothing reached CapyDB: no create, no stand-in. */
function notSentCheck(message: RegExp, withinMs: number) {
  return (w: World, o: Outcome) => {
    assert.match(o.kind === "error" ? o.error.message : "", message);
    assert.ok(!(o.kind === "error" && o.error.message.includes("pending-create")), "no stand-in");
    assert.equal(count(w, "POST", /preview-databases$/), 0, "no create reached CapyDB");
    assert.ok(w.clock.sleeps.reduce((a, b) => a + b, 0) <= withinMs, `waited ${w.clock.sleeps} ms`);
  };
}

/** Timeouts an operation may use in all (create cleans a failed preview up within its delete timeout). */
function budgetMs(op: Op, inputs: Props): number {
  const t = (inputs.timeouts ?? {}) as Record<string, string>;
  const ms = (v: string | undefined) => (v ? Number(v.replace(/(\d+)(s|m)$/, (_x, n, u) => String(Number(n) * (u === "s" ? 1_000 : 60_000)))) : 20 * 60_000);
  if (op === "create") return ms(t.create) + ms(t.delete);
  if (op === "update") return ms(t.create) + ms(t.update);
  if (op === "delete") return ms(t.delete);
  return 5 * 60_000;
}

async function settle(op: Promise<unknown>, read = false): Promise<Outcome> {
  try {
    const r = (await op) as { id?: string; outs?: Props; props?: Props } | undefined;
    if (read && r?.id === "") return { kind: "gone" };
    return { kind: "ok", id: r?.id ?? "", outs: (r?.outs ?? r?.props ?? {}) as Props };
  } catch (error) {
    const e = error as Error & { id?: string; properties?: Props };
    return e.id ? { kind: "partial", id: e.id, props: e.properties ?? {}, error: e } : { kind: "error", error: e };
  }
}

function texts(outcome: Outcome): string[] {
  const nonSecret = (p: Props) => JSON.stringify(Object.fromEntries(Object.entries(p).filter(([k]) => !(SECRET_OUTPUTS as readonly string[]).includes(k))));
  switch (outcome.kind) {
    case "ok":
      return [nonSecret(outcome.outs)];
    case "gone":
      return [];
    case "partial":
      return [outcome.error.message, String(outcome.error.stack), ...(outcome.error.reasons ?? []), nonSecret(outcome.props)];
    case "error":
      return [outcome.error.message, String(outcome.error.stack)];
  }
}

/** Connection passwords of the live previews, read the way a stranger would (never through the provider's client). */
async function livePasswords(cp: ControlPlane): Promise<string[]> {
  const out: string[] = [];
  for (const p of cp.previews.live()) {
    const res = await request(`${cp.url}/v1/preview-databases/${p.id}/connections`, { headers: { authorization: `Bearer ${cp.apiKey}` } });
    const body = (await res.body.json().catch(() => undefined)) as { connections?: { direct_url?: string } } | undefined;
    const url = body?.connections?.direct_url;
    if (url) out.push(decodeURIComponent(new URL(url).password));
  }
  return out;
}

describe("fault matrix: nothing orphaned, nothing leaked, deadlines kept", function () {
  this.timeout(60_000);
  let w: World;

  const checked = async (news: Props, olds: Props = {}) => {
    const result = await w.provider.check(olds, { __provider: "shim", projectId: w.cp.projectId, name: NAME, ...news });
    assert.equal(result.failures, undefined, JSON.stringify(result.failures));
    return result.inputs;
  };

  beforeEach(async () => {
    const clock = new FakeClock();
    const cp = await startControlPlane({ now: () => clock.now() });
    const lines: string[] = [];
    const provider = createProvider({ clock, sink: (l) => lines.push(l) });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    w = { cp, clock, provider, lines, planted: [], texts: [], cleanups: [] };
  });
  afterEach(async () => {
    for (const cleanup of w.cleanups) await cleanup();
    await w.cp.close();
  });

  for (const c of CASES) {
    it(`${c.row[0]} [${c.variant}]: ${c.row[1]}`, async () => {
      if (c.op !== "create") {
        const inputs = await checked({});
        const { id, outs } = await w.provider.create(inputs);
        w.given = { id, outs, inputs };
      }
      await c.inject(w);
      const inputs = c.op === "create" ? await checked(c.inputs ?? {}) : c.op === "update" ? await checked({ ...w.given!.inputs, ...c.inputs }, w.given!.inputs) : w.given!.inputs;

      const started = w.clock.now();
      const outcome = await settle(
        c.op === "create" ? w.provider.create(inputs)
          : c.op === "read" ? w.provider.read(w.given!.id, w.given!.outs)
          : c.op === "update" ? w.provider.update(w.given!.id, w.given!.outs, inputs)
          : w.provider.delete(w.given!.id, w.given!.outs),
        c.op === "read",
      );
      const elapsed = w.clock.now() - started;
      w.texts.push(...texts(outcome));
      assert.equal(outcome.kind, c.expect, `expected ${c.expect}, got ${outcome.kind}: ${"error" in outcome ? outcome.error.message : ""}\n${w.lines.join("\n")}`);
      await c.check?.(w, outcome);

      // ---- the invariant, the same for every case ----
      assert.ok(elapsed <= budgetMs(c.op, inputs), `deadline kept: ${elapsed} ms > ${budgetMs(c.op, inputs)} ms`);

      // What Pulumi now tracks (an update keeps its id; a failed read/update/delete keeps the old state).
      let tracked: { id: string; outs: Props } | undefined =
        outcome.kind === "ok" ? (c.op === "delete" ? undefined : { id: c.op === "update" ? w.given!.id : outcome.id, outs: outcome.outs })
          : outcome.kind === "partial" ? { id: c.op === "update" ? w.given!.id : outcome.id, outs: outcome.props }
          : outcome.kind === "gone" ? undefined
          : c.op === "create" ? undefined : { id: w.given!.id, outs: w.given!.outs };

      // Whatever the server still holds lands now; the faults stop; stalled jobs finish.
      await w.cp.faults.applyDeferred();
      w.cp.faults.clear();
      w.cp.jobs.releaseStalled();

      // The next `up` after a partial failure: the engine runs update.
      if (outcome.kind === "partial" && tracked) {
        const next = await settle(w.provider.update(tracked.id, tracked.outs, inputs));
        w.texts.push(...texts(next));
        assert.equal(next.kind, "ok", `the next up completes: ${"error" in next ? next.error.message : ""}`);
        if (next.kind === "ok") tracked = { id: tracked.id, outs: next.outs };
      }
      // Refresh: records the real id of a stand-in, drops what is proven gone.
      if (tracked) {
        const refreshed = await settle(w.provider.read(tracked.id, tracked.outs), true);
        w.texts.push(...texts(refreshed));
        assert.ok(refreshed.kind === "ok" || refreshed.kind === "gone", `refresh works: ${"error" in refreshed ? refreshed.error.message : ""}`);
        tracked = refreshed.kind === "ok" ? { id: refreshed.id, outs: refreshed.outs } : undefined;
      }
      const secrets = [w.cp.apiKey, w.cp.projectScopedKey, ...w.planted, ...(await livePasswords(w.cp))];
      for (const out of [tracked?.outs, w.given?.outs]) if (typeof out?.password === "string") secrets.push(out.password);

      // Nothing orphaned: every live preview is the tracked one, and destroy removes it.
      const live = w.cp.previews.live();
      assert.ok(live.length <= 1, `one preview at most: ${live.map((p) => p.id)}`);
      if (live.length === 1) assert.equal(tracked?.id, live[0].id, "the live preview is tracked by the stack");
      if (tracked) {
        const destroyed = await settle(w.provider.delete(tracked.id, tracked.outs));
        w.texts.push(...texts(destroyed));
        assert.equal(destroyed.kind, "ok", `destroy works: ${"error" in destroyed ? destroyed.error.message : ""}`);
      }
      assert.deepEqual(w.cp.previews.live(), [], "nothing is left behind");

      // No duplicate: one preview ever created per name, one reset per trigger.
      assert.ok(w.cp.previews.list().filter((p) => p.name === NAME).length <= 1, "created once");
      assert.ok(w.cp.jobs.list().filter((j) => j.kind === "reset").length <= 1, "reset once");

      // No secret anywhere.
      const haystack = [...w.lines, ...w.texts].join("\n");
      for (const secret of secrets) assert.ok(!haystack.includes(secret), `secret leaked (${secret.slice(0, 12)}…):\n${haystack}`);
    });
  }

  it("the README's Failure handling table is this matrix's rows", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "..", "..", "README.md"), "utf8");
    const section = readme.split(/^## Failure handling$/m)[1]?.split(/^## /m)[0] ?? "";
    const rows = section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| fault ") && !l.startsWith("|---"));
    const expected = [...new Set(CASES.map((c) => c.row))].map(([fault, does]) => `| ${fault} | ${does} |`);
    assert.deepEqual(rows, expected, `README "## Failure handling" should contain exactly:\n| fault | what the provider does |\n|---|---|\n${expected.join("\n")}\n`);
    assert.deepEqual(new Set(CASES.map((c) => c.row)), new Set(Object.values(ROWS)), "every row has at least one case");
  });
});
