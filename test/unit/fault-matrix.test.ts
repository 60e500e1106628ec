import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { request } from "undici";
import { createProvider } from "../../provider";
import { isPendingCreateId } from "../../provider/operations/pending-create";
import { SECRET_OUTPUTS } from "../../provider/secret-outputs";
import { ControlPlane, FaultRule, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

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
  // --- B: job and preview states, conflicts, lost answers ---
  jobEndsUnknown: [
    "A job ends in a state the provider does not know (`cancelled`, `error`, `succeeded`…, with `completed_at`)",
    "Decided at the first poll that shows it: `succeeded` with the preview `ready` is success (logged); any other state fails, naming it and CapyDB's reason, and a create deletes its preview",
  ],
  previewFinal: [
    "A job `completed` on a preview left `failed`; an `up` resuming a preview that is `suspended`, `expired`, `error`…",
    "Fails at once naming the state and `last_error`, without waiting for connection URLs; a create deletes the preview; every later `up` says the same at once",
  ],
  jobListUnreadable: [
    "The project's job list answers 404 (an API that does not list preview jobs there)",
    "Never taken for the preview being gone: a reset still runs (one log line says a lost answer could not be reconciled); a 409 is explained from the preview: expired or not ready fails at once, ready is waited out",
  ],
  // --- end B ---
  // --- I: proven logins ---
  loginLate: [
    "A preview's role cannot log in for a while after its create job completed (`readiness: \"login\"`)",
    "Tries the direct, then the pooled URL again, with backoff, within `timeouts.create`; returns once both log in",
  ],
  loginNever: [
    "…and no login works until `timeouts.create`",
    "Partial failure with the preview id, its URLs and `loginPending`: the error names the URL (no password), the server's answer and `readiness: \"job\"`; the next `up` tries the logins again",
  ],
  // --- end I ---
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
  /** The provider's login attempts (URLs), refused until `refuseUntil` on the fake clock. */
  logins: { refuseUntil: number; attempts: string[] };
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
  // --- B: job and preview states, conflicts, lost answers ---
  {
    row: ROWS.jobEndsUnknown, variant: "create job cancelled", op: "create",
    inject: (w) => w.cp.jobs.endNext("create", { state: "cancelled", error: "cancelled: host drained" }),
    expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /ended in state "cancelled" \(not "completed"\).*cancelled: host drained[\s\S]*nothing is left behind/);
      assert.ok(w.cp.jobs.list().find((j) => j.kind === "create")!.polls <= 2, "decided at the first poll that shows it");
    },
  },
  { row: ROWS.jobEndsUnknown, variant: "create job succeeded, preview ready", op: "create", inject: (w) => w.cp.jobs.endNext("create", { state: "succeeded", previewState: "ready" }), expect: "ok" },
  {
    row: ROWS.jobEndsUnknown, variant: "reset job error, preview failed", op: "update", inputs: { resetTrigger: "1" },
    inject: (w) => w.cp.jobs.endNext("reset", { state: "error", previewState: "failed", lastError: "pg_restore: out of disk" }),
    expect: "error",
    check: (w, o) => assert.match(o.kind === "error" ? o.error.message : "", new RegExp(`Resetting preview "${NAME}" \\(${w.given!.id}\\) failed.*ended in state "error".*out of disk[\\s\\S]*Run \`pulumi up\` again`)),
  },
  {
    row: ROWS.jobEndsUnknown, variant: "delete job canceled", op: "delete",
    inject: (w) => w.cp.jobs.endNext("delete", { state: "canceled", previewState: "ready", error: "operator cancelled the delete" }),
    expect: "error",
    check: (w, o) => assert.match(o.kind === "error" ? o.error.message : "", new RegExp(`Deleting preview "${NAME}" \\(${w.given!.id}\\) did not finish: .*"canceled".*operator cancelled the delete`)),
  },
  {
    row: ROWS.previewFinal, variant: "create job completed, preview failed", op: "create",
    inject: (w) => w.cp.jobs.endNext("create", { state: "completed", previewState: "failed", lastError: "pg_restore: out of disk" }),
    expect: "error",
    check: (_w, o) => assert.match(o.kind === "error" ? o.error.message : "", /is "failed", a state it will not leave by waiting: pg_restore: out of disk[\s\S]*nothing is left behind/),
  },
  {
    row: ROWS.previewFinal, variant: "resumed up, preview suspended", op: "update",
    inject: (w) => {
      // State from an up that stopped before the preview was ready; the preview is now suspended.
      w.given!.outs = { ...w.given!.outs, state: "provisioning", lastJobId: null };
      w.cp.previews.setState(w.given!.id, "suspended", "billing inactive");
    },
    expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /is "suspended", a state it will not leave by waiting: billing inactive/);
      assert.equal(count(w, "GET", /preview-databases$/), 2, "one look after the create's own");
    },
  },
  {
    row: ROWS.jobListUnreadable, variant: "reset", op: "update", inputs: { resetTrigger: "1" },
    inject: onJobList({ status: 404, body: { error: "not found" }, times: ALWAYS }),
    expect: "ok",
    check: (w) => {
      assert.equal(count(w, "POST", /\/reset$/), 1);
      assert.equal(w.lines.filter((l) => l.includes("job list cannot be read")).length, 1);
    },
  },
  {
    row: ROWS.jobListUnreadable, variant: "extend refused, preview listed expired", op: "update", inputs: { ttlHours: 5 },
    inject: all(onJobList({ status: 404, body: { error: "not found" }, times: ALWAYS }), on("POST", givenPath("/extend"), { status: 409, body: { error: "preview is not ready" }, times: ALWAYS }), (w) => w.cp.previews.setState(w.given!.id, "expired")),
    expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /"expired", not ready, and will not become ready by waiting/);
      assert.equal(count(w, "POST", /\/extend$/), 1, "no retry");
    },
  },
  {
    row: ROWS.jobListUnreadable, variant: "reset refused while busy", op: "update", inputs: { resetTrigger: "1" },
    inject: all(onJobList({ status: 404, body: { error: "not found" }, times: ALWAYS }), on("POST", givenPath("/reset"), { status: 409, body: { error: "preview has an active operation" }, times: 2 })),
    expect: "ok",
    check: (w) => assert.equal(count(w, "POST", /\/reset$/), 3),
  },
  { row: ROWS.busy, variant: "reset", op: "update", inputs: { resetTrigger: "1" }, inject: on("POST", givenPath("/reset"), { status: 409, body: { error: "preview has an active operation" }, times: 2 }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/reset$/), 3) },
  // --- end B ---
  // --- I: proven logins ---
  {
    row: ROWS.loginLate, variant: "create", op: "create", inputs: { readiness: "login" },
    inject: (w) => refuseLoginsFor(w, 40_000),
    expect: "ok",
    check: (w, o) => {
      const urls = o.kind === "ok" ? [o.outs.directUrl, o.outs.pooledUrl] : [];
      assert.ok(w.logins.attempts.filter((u) => u === urls[0]).length > 3, "the direct URL was tried again");
      assert.equal(w.logins.attempts[w.logins.attempts.length - 1], urls[1], "then the pooled URL");
    },
  },
  {
    row: ROWS.loginNever, variant: "create", op: "create", inputs: { readiness: "login" },
    inject: (w) => refuseLoginsFor(w, 25 * 60_000),
    expect: "partial",
    check: (_w, o) => {
      const message = o.kind === "partial" ? o.error.message : "";
      assert.match(message, /the direct URL \(\S+:5432\/\S+ as \S+\) did not accept a login before the deadline/);
      assert.match(message, /password authentication failed/);
      assert.match(message, /readiness: "job"/);
      assert.equal(o.kind === "partial" && o.props.loginPending, true);
    },
  },
  // --- end I ---
];

/** Logins with the preview's URLs fail (the server's answer repeats the URL) until `ms` from now on the fake clock. */
function refuseLoginsFor(w: World, ms: number): void {
  w.logins.refuseUntil = w.clock.now() + ms;
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
    // The memory backend has no database: readiness "job" by default, and cases that ask for logins get these.
    const logins = { refuseUntil: 0, attempts: [] as string[] };
    const loginProbe = async (url: string) => {
      logins.attempts.push(url);
      if (clock.now() < logins.refuseUntil) throw new Error(`password authentication failed for user "pv" (connecting to ${url})`);
    };
    const provider = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" }, loginProbe });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    w = { cp, clock, provider, lines, planted: [], texts: [], logins };
  });
  afterEach(async () => {
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
