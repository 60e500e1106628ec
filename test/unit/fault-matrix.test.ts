import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { request } from "undici";
import { createProvider } from "../../provider";
import { DEFAULT_REQUEST_TIMEOUT_MS, MIN_REQUEST_TIMEOUT_MS } from "../../provider/client";
import { CLOCK_SKEW_ALLOWANCE_MS } from "../../provider/operations/names";
import { isPendingCreateId } from "../../provider/operations/pending-create";
import { SECRET_OUTPUTS } from "../../provider/secret-outputs";
import { ControlPlane, FaultRule, startControlPlane } from "../control-plane";
import { captureRegistrations, DeploymentError, isSecret, secret, Stack, startPlugin, type CapturedResource, type Plugin, type PropertyMap, type ResourceState } from "../engine/harness";
import { closedPort } from "../helpers/closed-port";
import { FakeClock } from "../helpers/fake-clock";
import { createPrivateCa } from "../helpers/private-ca";
import { startTlsFront } from "../helpers/tls-front";
import { ForwardingProxy, startForwardingProxy } from "../helpers/forwarding-proxy";
import { VirtualLatencyDispatcher } from "../helpers/virtual-latency";

/*
 * The fault matrix: every way the API (or the network) can misbehave that we know of, one case per
 * line, each driven through the provider methods against the local control plane's fault injection,
 * and each ending with the same invariant check:
 *   - deadline kept: the operation ended within its own timeout (an update within `timeouts.update`, …;
 *     each operation's timeout differs from the others), overrunning it by at most one request's
 *     minimum timeout, on a fake clock that every request moves forward (VirtualLatencyDispatcher);
 *   - nothing orphaned: after the follow-ups Pulumi itself would run (the next `up` after a partial
 *     failure, a refresh, a destroy), every preview that exists is the tracked one, and destroy
 *     removes it. The follow-ups run through the real dynamic-provider plugin, driven over gRPC as the
 *     engine drives it (test/engine), from the state the engine would hold after the faulty operation;
 *     one plugin serves the whole file, through a proxy that sends its requests to each case's
 *     control plane;
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
    "The create is refused (403 or 404) and nothing is created; `GET /v1/projects/{id}` (once per process per key and project) then explains the refusal, naming the project and the key's scope; records nothing. A restore checks the project before it is sent",
  ],
  hugeSuccessBody: [
    "A 2xx answer of more than 8 MiB (a proxy or a runaway server; a list of 10,000 previews is smaller)",
    "Reading stops there and the connection is closed; a GET fails at once naming the limit, a create's is reconciled by name like any unreadable answer",
  ],
  // --- C: clocks and keys ---
  serverClockOff: [
    "CapyDB's clock is hours off from the runner's (its `Date` header and timestamps)",
    "Measured from each answer's `Date` header and kept in the state (`__serverClockSkewMs`): keep-alive and a lost create's ownership test reason in CapyDB's time",
  ],
  keyRejected: [
    "The API key is refused (401), e.g. in `refresh` or `destroy` after a rotation",
    "Fails at once (no retry), saying that refresh and destroy use the `capydb:apiKey` recorded by the last `up`, and that one `pulumi up` records the new one",
  ],
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
  // --- H2: restores ---
  restoreLost: [
    "A restore's answer is lost (a preview with `source`; 502 page, dropped connection) after CapyDB applied it",
    "Looks the name up before sending anything again, and continues with the restored preview; nothing is restored twice",
  ],
  restoreJobFails: [
    "A restore job fails, with credentials in its error or stderr",
    "Deletes the preview it made; reports CapyDB's reason and stderr tail, redacted",
  ],
  restoreStalls: [
    "A restore job outlives `timeouts.create`",
    "Partial failure with the preview id (found by name when the job does not name it): the next `up` resumes the wait, `destroy` deletes it",
  ],
  restoreNameTaken: [
    "A restore meets a 409: another preview holds its name",
    "Fails with \"already exists\", naming that preview and the ways out; nothing is restored",
  ],
  restoreScope: [
    "A preview with `source` and a key without `backups:write`",
    "Fails before the restore is sent, naming `backups:write`; records nothing; a preview without `source` never asks for it",
  ],
  restoreRefused: [
    "A restore whose source CapyDB refuses (400): an unknown backup key, a time before the restorable window",
    "Fails at once naming the `source` field and the fix; nothing is created",
  ],
  // --- end H2 ---
} as const satisfies Record<string, readonly [string, string]>;

/**
 * Each README row, clause by clause: [clause, ...where it is checked]. A clause is an exact piece of the
 * row's text; together the clauses of a row cover its "what the provider does" cell whole (only
 * punctuation, "and" and "or" are left over), and the kinds of fault its first cell lists are clauses too.
 * Where a clause is checked: "[variant]" (a case of this row), "rowKey [variant]" (a case of another
 * row), or "test/…/x.test.ts: title" (a test elsewhere, found by its exact title).
 */
const CLAUSES: Record<string, Array<[string, ...string[]]>> = {
  // --- I: proven logins ---
  loginLate: [
    ["Tries the direct, then the pooled URL again", "[create]"],
    ["with backoff, within `timeouts.create`", "[create]", "test/unit/login-proof.test.ts: doubles from 250 ms to 5 s, jittered down to half", "test/unit/login-proof.test.ts: bounds each connect attempt and clips it to the deadline"],
    ["returns once both log in", "[create]"],
  ],
  loginNever: [
    ["Partial failure with the preview id, its URLs and `loginPending`", "[create]"],
    ["the error names the URL (no password), the server's answer and `readiness: \"job\"`", "[create]"],
    ["the next `up` tries the logins again", "test/unit/login-proof.test.ts: a login that never works ends at the deadline as a partial failure, and the next up proves it again"],
  ],
  // --- C: clocks and keys ---
  serverClockOff: [
    ["Measured from each answer's `Date` header", "[3 h ahead]", "[3 h behind, the create's answer lost]", "test/unit/server-clock.test.ts: the client measures it from every answer's Date header"],
    ["kept in the state (`__serverClockSkewMs`)", "[3 h ahead]", "[3 h behind, the create's answer lost]", "test/unit/server-clock.test.ts: the offset a read measures is kept; state without one diffs as 0.1.0 did"],
    ["keep-alive", "test/unit/server-clock.test.ts: CapyDB 3 h behind: a fresh TTL is not renewed, on this up or the next", "test/unit/server-clock.test.ts: CapyDB 3 h ahead: the renewal happens once less than half is left by CapyDB's clock"],
    ["a lost create's ownership test reason in CapyDB's time", "[3 h behind, the create's answer lost]", "test/unit/server-clock.test.ts: CapyDB 3 h behind and the create's answer lost: the create still recognises its own preview"],
  ],
  keyRejected: [
    ["Fails at once (no retry)", "[revoked key, read]"],
    ["saying that refresh and destroy use the `capydb:apiKey` recorded by the last `up`", "[revoked key, read]"],
    ["that one `pulumi up` records the new one", "[revoked key, read]"],
  ],
  createUnreadable: [
    ["not JSON", "[not JSON]"], ["`{}`", "[{}]"], ["fields missing", "[fields missing]"], ["another preview's name", "[another preview's name]"],
    ["Looks the name up and continues with the preview it finds", "[not JSON]", "[{}]", "[fields missing]", "[another preview's name]"],
    ["nothing is created twice", "[not JSON]", "[{}]", "[fields missing]", "[another preview's name]"],
  ],
  createLost: [
    ["5xx page", "[502 page]"], ["dropped connection", "[dropped connection]"],
    ["Looks the name up before sending anything again", "[502 page]", "[dropped connection]"],
    ["continues with the preview", "[502 page]", "[dropped connection]"],
  ],
  createRefused: [["Sends it again once a well-formed list shows the name is free", "[503]"]],
  createLate: [
    ["The resent create meets a 409 for that very preview", "[504 now, applied 0.5 s later]", "[dropped, applied 0.5 s later]"],
    ["taken as its own", "[504 now, applied 0.5 s later]", "[dropped, applied 0.5 s later]"],
    ["same mode", "[a namesake of the other mode is not its own]"],
    ["created since", "[a namesake created before the first send is not its own]"],
    ["continued", "[504 now, applied 0.5 s later]", "[dropped, applied 0.5 s later]"],
  ],
  createLostListFailing: [
    ["listing fails", "[list 503 for 3 reads]"], ["malformed", "[list {} for 2 reads]"],
    ["Keeps listing", "[list 503 for 3 reads]", "[list {} for 2 reads]"],
    ["errors tolerated until `timeouts.create`", "createUnknownAtDeadline [applied]", "createUnknownAtDeadline [listing never answers]"],
    ["continues with the preview once listed", "[list 503 for 3 reads]", "[list {} for 2 reads]"],
  ],
  createUnknownAtDeadline: [
    ["Partial failure with the id `pending-create/<name>`", "[applied]"],
    ["the next `up` continues with the preview", "[applied]", "[listing never answers]"],
    ["or creates it if it never arrived", "[never applied]"],
    ["`refresh` records its real id", "[applied]", "[never applied]", "[listing never answers]"],
    ["`destroy` deletes it by name", "test/engine/failure-handling.test.ts: a destroy right after that partial failure deletes the preview by name"],
  ],
  createJobFails: [
    ["Deletes the failed preview", "[password and key in error and stderr]"],
    ["reports the job's error and stderr tail", "[password and key in error and stderr]", "test/unit/wait.test.ts: throws JobFailedError with the job's error and stderr tail"],
    ["redacted", "[password and key in error and stderr]"],
  ],
  createJobStalls: [
    ["Partial failure with the preview id", "[stalled job]"],
    ["the next `up` resumes the wait", "[stalled job]"],
    ["`destroy` deletes it", "[stalled job]"],
  ],
  pollErrors: [
    ["a job", "[job polls]"], ["the list", "test/unit/wait.test.ts: list and connection-URL waits share the job wait's tolerance: 4 failed polls pass, a 5th ends the wait"],
    ["the connection URLs", "[connection URLs]"],
    ["each read already retried 3 times", "test/unit/retry.test.ts: retries GET on network errors, 408 and 5xx, three attempts in all"],
    ["Tolerated", "[job polls]", "[connection URLs]"],
    ["a 5th in a row ends the wait", "[5 job polls]", "test/unit/wait.test.ts: gives up after five poll errors in a row, but not after fewer"],
  ],
  listMalformed: [
    ["`{}`", "[read, {}]", "[delete after a 502, list {}]"], ["renamed key", "[read, renamed key]"], ["entries missing fields", "[read, entry missing fields]"], ["HTML", "[read, HTML]"],
    ["An error", "[read, {}]", "[read, renamed key]", "[read, entry missing fields]", "[read, HTML]", "[delete after a 502, list {}]"],
    ["after the GET retries", "test/unit/client.test.ts: reads a 2xx GET answer it cannot understand again, on the 5xx schedule, then reports it"],
    ["refresh keeps the preview", "[read, {}]", "[read, renamed key]", "[read, entry missing fields]", "[read, HTML]"],
    ["delete does not report success", "[delete after a 502, list {}]"],
  ],
  foreign404: [
    ["An error", "[read]", "[delete]"],
    ["refresh keeps the preview", "[read]"],
    ["delete does not take it for \"already gone\"", "[delete]", "test/unit/client.test.ts: a 404 proves absence only with CapyDB's own error body"],
  ],
  expired: [
    ["Refresh drops it", "[read]"],
    ["a well-formed list without it", "[read]"],
    ["delete succeeds", "[delete]"],
    ["CapyDB's own 404", "[delete]", "test/unit/client.test.ts: a 404 proves absence only with CapyDB's own error body"],
  ],
  secretsInAnswers: [
    ["`last_error`", "[last_error]"], ["a server error message", "[error message]"],
    ["Masked (`***`) in outputs", "[last_error]"],
    ["errors", "[error message]"],
    ["logs", "[last_error]", "[error message]"],
  ],
  hugeErrorBody: [
    ["At most 64 KiB is read", "[5 MB JSON message]"],
    ["2,000 characters kept", "[10 KB JSON message]", "[5 MB JSON message]", "test/unit/client.test.ts: keeps 2,000 characters of a long error message and says how much was cut"],
    ["with a note that it was cut", "[10 KB JSON message]", "[5 MB JSON message]"],
  ],
  resetLost: [
    ["Finds the reset's job in the job list and waits for it", "[502 after applying]"],
    ["never resets twice", "[502 after applying]", "[503 before applying]"],
  ],
  resetUnknownAtDeadline: [
    ["Partial failure recording the reset as pending", "[applied]"],
    ["the next `up` checks the job list", "[applied]", "[never applied]", "[job list never answers]"],
    ["resets only if it never arrived", "[applied]", "[never applied]"],
  ],
  resetStalls: [
    ["Partial failure recording the reset as applied", "[stalled job]"],
    ["the next `up` waits for it", "[stalled job]"],
    ["without resetting again", "[stalled job]"],
  ],
  extendLost: [
    ["Checks the preview's new expiry", "[502 after applying]"],
    ["sends it again only if it did not land", "[502 after applying]", "[503 before applying]"],
  ],
  extendNotUsable: [
    ["expired (not yet removed)", "[expired]"], ["not ready", "[failed state]"],
    ["Fails at once", "[expired]", "[failed state]"],
    ["with the way out (`pulumi up --refresh`, or replace or destroy)", "[expired]", "[failed state]"],
    ["not after `timeouts.update`", "[expired]", "[failed state]"],
  ],
  busy: [
    ["Extend", "[extend]", "[extend, busy until the deadline]"], ["reset", "[reset]"],
    ["Backs off", "[extend]", "[reset]"],
    ["with jitter", "test/unit/retry.test.ts: backs off exponentially with jitter, capped at 30 s"],
    ["until `timeouts.update`", "[extend, busy until the deadline]"],
  ],
  deleteLost: [["Looks at the preview and waits for the delete that is running", "[504 after applying]"]],
  getRetries: [
    ["Retried after 1 s and 2 s ±25 %", "[list 503 twice]", "test/unit/client.test.ts: retries GET on 5xx at +1 s and +3 s, then fails with the server's message", "test/unit/client.test.ts: jitters GET retry waits (±25 %, never under 250 ms)"],
    ["never under 250 ms", "test/unit/client.test.ts: jitters GET retry waits (±25 %, never under 250 ms)"],
    ["within the deadline", "[list 503 twice]", "test/unit/client.test.ts: sends nothing once the deadline has passed, and says so"],
    ["each request's timeout is clipped to the time left", "createUnknownAtDeadline [listing never answers]", "resetUnknownAtDeadline [job list never answers]", "test/unit/client.test.ts: clips each request's timeout to the time left before the deadline (never under 1 s)"],
    ["never under 1 s", "test/unit/client.test.ts: clips each request's timeout to the time left before the deadline (never under 1 s)"],
  ],  // --- clauses of helper A's and B's rows, written against wt/A 8b10b34 and wt/B 2b3538e (unused until merged) ---
  notSent: [
    ["connection refused", "[connection refused]"], ["DNS failure", "[DNS]"], ["a certificate that does not verify", "[untrusted certificate]"], ["a key with a line break", "[key with a line break]"],
    ["Fails within 4 s", "[connection refused]", "[DNS]", "[untrusted certificate]", "[key with a line break]"],
    ["refused and DNS: after the key check's GET retries", "[connection refused]", "[DNS]", "test/unit/transport-failure.test.ts: connection refused on a GET: retried on the GET schedule, then reported as refused"],
    ["TLS and the key: at once", "[untrusted certificate]", "[key with a line break]"],
    ["saying which and how to fix it", "[connection refused]", "[DNS]", "[untrusted certificate]", "[key with a line break]"],
    ["a private CA: `NODE_EXTRA_CA_CERTS`", "[untrusted certificate]"],
    ["records nothing", "[connection refused]", "[DNS]", "[untrusted certificate]", "[key with a line break]"],
    ["no `pending-create`", "[connection refused]", "[DNS]", "[untrusted certificate]", "[key with a line break]"],
  ],
  hostileText: [
    ["an error body", "[error body]"], ["`last_error`", "[last_error]"], ["a job's error and stderr", "[job error and stderr, a password across the cut]"],
    ["a secret across the 2,000-character cut", "[job error and stderr, a password across the cut]", "test/unit/server-text.test.ts: a registered password across the 2,000-character cut of an error body leaks no fragment"],
    ["Redacted whole, then cut", "[job error and stderr, a password across the cut]", "test/unit/server-text.test.ts: an unregistered URL password across the cut leaks no fragment"],
    ["then shown inert", "[error body]", "[last_error]", "[job error and stderr, a password across the cut]"],
    ["control characters escaped (`\\x1b`, `\\r`)", "[error body]", "[last_error]", "[job error and stderr, a password across the cut]", "test/unit/server-text.test.ts: escape sequences, carriage returns and forged progress lines in an error body are shown inert"],
    ["every line after the first indented", "[error body]", "[last_error]", "[job error and stderr, a password across the cut]"],
  ],
  unavailable: [
    ["Taken as not applied", "[create]"],
    ["like a 429: every request of the key pauses for the given time", "[delete, 3 × 45 s]", "test/unit/unavailable.test.ts: every request of the key pauses during the window, not only the one that was answered 503"],
    ["at most 60 s per answer", "test/unit/retry.test.ts: parses Retry-After as seconds or HTTP-date, capped at a minute"],
    ["plus jitter", "test/unit/request-budget.test.ts: adds jitter to server-given waits, never waiting less than asked"],
    ["then any method is sent again", "[create]", "[delete, 3 × 45 s]"],
    ["until its timeout", "[delete, past `timeouts.delete`]"],
    ["a delete: `timeouts.delete`", "[delete, past `timeouts.delete`]", "test/unit/unavailable.test.ts: a DELETE waits out Retry-After and is sent again within its deadline, instead of giving up"],
  ],
  redirects: [
    ["Same origin 307/308: followed with the method, body and key", "[create, same-origin 307]", "test/unit/redirects.test.ts: a same-origin 307 is followed with the method, the body and the key"],
    ["at most 3 in a row", "test/unit/redirects.test.ts: a redirect loop ends after ${MAX_REDIRECTS} hops"],
    ["Any other: refused at once", "[read, 302 to another origin]"],
    ["naming the status and the target", "[read, 302 to another origin]"],
    ["origin and path only", "[read, 302 to another origin]"],
    ["the key never goes to another origin", "test/unit/redirects.test.ts: a 307 to another origin is refused, naming the status and the target without its query; the key is not sent there"],
  ],
  wrongProject: [
    ["A key scoped to another project", "[403, key scoped to another project]"], ["a project that does not exist", "[404, no such project]"],
    ["The create is refused (403 or 404) and nothing is created", "[403, key scoped to another project]", "[404, no such project]"],
    ["`GET /v1/projects/{id}`", "[403, key scoped to another project]"],
    ["once per process per key and project", "test/unit/scope-check.test.ts: the project is checked once per process per key and project"],
    ["then explains the refusal", "[403, key scoped to another project]", "test/unit/scope-check.test.ts: a create refused 403 in a project the key may use keeps the create's own error (a plan limit, say)"],
    ["naming the project and the key's scope", "[403, key scoped to another project]"],
    ["records nothing", "[403, key scoped to another project]", "[404, no such project]"],
    ["A restore checks the project before it is sent", "test/unit/scope-check.test.ts: a restore checks the project before it is sent: its endpoint answers 404 for an unknown backup too"],
  ],
  hugeSuccessBody: [
    ["Reading stops there", "[read, 12 MB list]", "test/unit/bounded-bodies.test.ts: a 200 MB 2xx answer: reading stops after 8 MiB, the connection is closed, no retry even for a GET"],
    ["the connection is closed", "test/unit/bounded-bodies.test.ts: a 200 MB 2xx answer: reading stops after 8 MiB, the connection is closed, no retry even for a GET"],
    ["a GET fails at once naming the limit", "[read, 12 MB list]"],
    ["a create's is reconciled by name like any unreadable answer", "[create, 12 MB answer]"],
  ],
  jobEndsUnknown: [
    ["`cancelled`", "[create job cancelled]"], ["`error`", "[reset job error, preview failed]"], ["`succeeded`", "[create job succeeded, preview ready]"],
    ["Decided at the first poll that shows it", "[create job cancelled]"],
    ["`succeeded` with the preview `ready` is success", "[create job succeeded, preview ready]"],
    ["logged", "test/unit/operation-decisions.test.ts: a create whose job ends succeeded with the preview ready is taken as success, and logged"],
    ["any other state fails", "[create job cancelled]", "[reset job error, preview failed]", "[delete job canceled]"],
    ["naming it and CapyDB's reason", "[create job cancelled]", "[reset job error, preview failed]", "[delete job canceled]"],
    ["a create deletes its preview", "[create job cancelled]"],
  ],
  previewFinal: [
    ["A job `completed` on a preview left `failed`", "[create job completed, preview failed]"], ["`suspended`", "[resumed up, preview suspended]"],
    ["Fails at once naming the state and `last_error`", "[create job completed, preview failed]", "[resumed up, preview suspended]"],
    ["without waiting for connection URLs", "test/unit/operation-decisions.test.ts: a create job completed on a preview left failed fails at once with the state and last_error, without waiting for URLs"],
    ["a create deletes the preview", "[create job completed, preview failed]"],
    ["every later `up` says the same at once", "test/unit/operation-decisions.test.ts: an up that resumes an unfinished preview found suspended fails at once naming the state, and so does every later up"],
  ],
  jobListUnreadable: [
    ["Never taken for the preview being gone", "[reset]"],
    ["a reset still runs", "[reset]"],
    ["one log line says a lost answer could not be reconciled", "[reset]"],
    ["a 409 is explained from the preview", "[extend refused, preview listed expired]", "[reset refused while busy]"],
    ["expired or not ready fails at once", "[extend refused, preview listed expired]", "test/unit/operation-decisions.test.ts: extend refused (409) on a preview listed as expired fails at once, even with the job list unreadable"],
    ["ready is waited out", "[reset refused while busy]"],
  ],
  // --- end of A's and B's clauses ---
  // --- H2: restores ---
  restoreLost: [
    ["502 page", "[502 page]"], ["dropped connection", "[dropped connection]"],
    ["Looks the name up before sending anything again", "[502 page]", "[dropped connection]"],
    ["continues with the restored preview", "[502 page]", "[dropped connection]", "test/unit/restore.test.ts: the restore's answer lost after CapyDB applied it: the name is looked up, no second restore, the preview continued"],
    ["nothing is restored twice", "[502 page]", "[dropped connection]"],
  ],
  restoreJobFails: [
    ["Deletes the preview it made", "[password and key in error and stderr]", "test/unit/restore.test.ts: a failed restore job: its preview is deleted, CapyDB's reason reported, redacted"],
    ["reports CapyDB's reason and stderr tail", "[password and key in error and stderr]"],
    ["redacted", "[password and key in error and stderr]"],
  ],
  restoreStalls: [
    ["Partial failure with the preview id", "[stalled job]"],
    ["found by name when the job does not name it", "[stalled job]", "test/unit/restore.test.ts: from a restore point, whose job withholds preview_database_id: the new preview is found by name"],
    ["the next `up` resumes the wait", "[stalled job]", "test/unit/restore.test.ts: a restore job that outlives timeouts.create: partial failure with the preview id; the next up resumes the wait"],
    ["`destroy` deletes it", "[stalled job]"],
  ],
  restoreNameTaken: [
    ["Fails with \"already exists\"", "[another stack's preview]"],
    ["naming that preview and the ways out", "[another stack's preview]"],
    ["nothing is restored", "[another stack's preview]"],
  ],
  restoreScope: [
    ["Fails before the restore is sent", "[project-scoped key without it]"],
    ["naming `backups:write`", "[project-scoped key without it]"],
    ["records nothing", "[project-scoped key without it]"],
    ["a preview without `source` never asks for it", "test/unit/restore.test.ts: a key without backups:write: fails before the restore is sent, naming the scope; a create without source does not ask for it"],
  ],
  restoreRefused: [
    ["an unknown backup key", "[unknown backup key]"], ["a time before the restorable window", "[time before the window]"],
    ["Fails at once naming the `source` field and the fix", "[unknown backup key]", "[time before the window]"],
    ["nothing is created", "[unknown backup key]", "[time before the window]"],
  ],
  // --- end H2 ---
};

interface World {
  cp: ControlPlane;
  clock: FakeClock;
  /** The provider's transport: each request takes virtual time on `clock`; a case may make some hang. */
  transport: VirtualLatencyDispatcher;
  provider: Provider;
  lines: string[];
  /** The ready preview that read, update and delete cases start from. */
  given?: { id: string; outs: Props; inputs: Props };
  /** Secrets the case planted in server answers. */
  planted: string[];
  /** Previews of someone else (another stack) the case made: never taken over, never deleted. */
  foreign: string[];
  /** Every error and output text the case produced, for the secret check. */
  texts: string[];
  /** Servers a case started, closed after it. */
  cleanups: Array<() => Promise<void> | void>;
  /** The provider's login attempts (URLs), refused until `refuseUntil` on the fake clock. */
  logins: { refuseUntil: number; attempts: string[] };
  /** Where the real plugin of the follow-ups is sent (this case's control plane and key). */
  retarget: (url: string, apiKey: string) => void;
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
  /** What the user changes for the next `up` after a partial failure: the way out its message names. */
  nextUpInputs?: Props;
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
// --- H2: restores ---
/** A restore time CapyDB clamps to its latest restorable point (now): valid whenever the case runs. */
const FAR_FUTURE = "2999-01-01T00:00:00Z";
const onRestore = (rule: Partial<FaultRule>) => on("POST", (w) => `/v1/projects/${w.cp.projectId}/restores`, rule);
// --- end H2 ---
const all = (...steps: Array<(w: World) => void | Promise<void>>) => async (w: World) => {
  for (const step of steps) await step(w);
};
const lost502 = { status: 502, body: "<html>502 Bad Gateway</html>", after: "respond" as const };
type ListBody = { preview_databases: Array<Record<string, unknown>> };
/** Another stack's preview under the case's name, created through the API with the org key now. */
const foreignNamesake = (mode: "clone" | "empty") => async (w: World) => {
  const res = await request(`${w.cp.url}${previewsPath(w)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${w.cp.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: NAME, mode, ttl_hours: 24 }),
  });
  const body = (await res.body.json()) as { preview: { id: string } };
  assert.equal(res.statusCode, 201, JSON.stringify(body));
  w.foreign.push(body.preview.id);
};
/** From now on, requests that match never answer: each takes the whole timeout the client gave it. */
const hang = (match: (r: { method: string; path: string }) => boolean) => (w: World) => {
  w.transport.latencyFor = (r) => (match(r) ? Infinity : REQUEST_LATENCY_MS);
};
/** As `hang`, after letting `skip` matching requests through. */
const hangAfter = (skip: number, match: (r: { method: string; path: string }) => boolean) => (w: World) => {
  let seen = 0;
  w.transport.latencyFor = (r) => (match(r) && seen++ >= skip ? Infinity : REQUEST_LATENCY_MS);
};
/** The request that timed out last was given less than the client's full request timeout: it was clipped. */
const clippedNearDeadline = (w: World) => {
  const timedOut = w.transport.exchanges.filter((e) => e.timedOut);
  return timedOut.length > 0 && timedOut[timedOut.length - 1].timeoutMs < DEFAULT_REQUEST_TIMEOUT_MS;
};
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
      assert.equal(count(w, "GET", /preview-databases$/), 1, "one look (the given preview's create lists nothing: its answer describes it)");
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
  // --- end B ---
  // --- G: requests that take (virtual) time: the deadline holds, overrun by one clipped request at most ---
  {
    row: ROWS.createUnknownAtDeadline, variant: "listing never answers", op: "create", inputs: { timeouts: { create: "30s" } },
    inject: all(onCreate(lost502), hang((r) => r.method === "GET" && /preview-databases$/.test(r.path))), expect: "partial",
    check: (w) => assert.ok(clippedNearDeadline(w), `the last requests got the time left, not the full timeout: ${JSON.stringify(w.transport.exchanges.slice(-3))}`),
  },
  {
    row: ROWS.resetUnknownAtDeadline, variant: "job list never answers", op: "update", inputs: { resetTrigger: "1", timeouts: { update: "20s" } },
    inject: all(on("POST", givenPath("/reset"), lost502), hangAfter(1, (r) => r.method === "GET" && /\/jobs$/.test(r.path))), expect: "partial",
    check: (w) => assert.ok(clippedNearDeadline(w), `the last requests got the time left, not the full timeout: ${JSON.stringify(w.transport.exchanges.slice(-3))}`),
  },
  {
    row: ROWS.createLate, variant: "a namesake of the other mode is not its own", op: "create", inputs: { mode: "clone" },
    inject: all(foreignNamesake("empty"), onCreate({ status: 504 })), expect: "error",
    check: (_w, o) => assert.match(o.kind === "error" ? o.error.message : "", /pr-matrix/),
  },
  {
    row: ROWS.createLate, variant: "a namesake created before the first send is not its own", op: "create", inputs: { mode: "clone" },
    inject: all(foreignNamesake("clone"), (w) => w.clock.advance(CLOCK_SKEW_ALLOWANCE_MS + 60_000), onCreate({ status: 504 })), expect: "error",
    check: (_w, o) => assert.match(o.kind === "error" ? o.error.message : "", /pr-matrix/),
  },
  {
    row: ROWS.busy, variant: "extend, busy until the deadline", op: "update", inputs: { ttlHours: 5, timeouts: { update: "30s" } },
    inject: on("POST", givenPath("/extend"), { status: 409, body: { error: "preview has an active operation" }, times: ALWAYS }), expect: "error",
    check: (w, o) => { assert.match(o.kind === "error" ? o.error.message : "", /409/); assert.ok(count(w, "POST", /\/extend$/) >= 3, "backed off and tried again"); },
  },
  { row: ROWS.busy, variant: "reset", op: "update", inputs: { resetTrigger: "1" }, inject: on("POST", givenPath("/reset"), { status: 409, body: { error: "preview has an active operation" }, times: 2 }), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/reset$/), 3) },
  // --- end G ---
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
  { row: ROWS.wrongProject, variant: "403, key scoped to another project", op: "create", inputs: { projectId: "prj_other" }, inject: () => undefined, expect: "error", check: refusedCheck(/may not use project "prj_other" \(GET \/v1\/projects\/prj_other: HTTP 403[\s\S]*scoped to another project/) },
  { row: ROWS.wrongProject, variant: "404, no such project", op: "create", inputs: { projectId: "prj_nowhere" }, inject: reconfigure((w) => ({ "capydb:apiKey": w.cp.apiKey })), expect: "error", check: refusedCheck(/project "prj_nowhere" does not exist/) },
  { row: ROWS.hugeSuccessBody, variant: "read, 12 MB list", op: "read", inject: onList({ rewrite: () => `{"preview_databases":[],"pad":"${"p".repeat(12 * 1024 * 1024)}"}`, times: ALWAYS }), expect: "error", check: (w, o) => { assert.match(o.kind === "error" ? o.error.message : "", /over 8 MiB/); assert.equal(count(w, "GET", /preview-databases$/), 1, "the read, and no retry (the given preview's create lists nothing)"); } },
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
  // --- end A ---
  // --- C: clocks and keys ---
  { row: ROWS.serverClockOff, variant: "3 h behind, the create's answer lost", op: "create", inject: all(skewedServer(-3 * 3_600_000), onCreate({ drop: true, after: "respond" })), expect: "ok", check: (w, o) => { assert.equal(o.kind === "ok" && o.outs.__serverClockSkewMs, -3 * 3_600_000); assert.equal(count(w, "POST", /preview-databases$/), 1); } },
  { row: ROWS.serverClockOff, variant: "3 h ahead", op: "create", inject: skewedServer(3 * 3_600_000), expect: "ok", check: (_w, o) => assert.equal(o.kind === "ok" && o.outs.__serverClockSkewMs, 3 * 3_600_000) },
  { row: ROWS.keyRejected, variant: "revoked key, read", op: "read", inject: (w) => w.cp.revokeApiKey(w.cp.projectScopedKey), expect: "error", check: async (w, o) => { assert.match(o.kind === "error" ? o.error.message : "", /HTTP 401[\s\S]*recorded in the state by the last `pulumi up`[\s\S]*run `pulumi up` \(without --refresh\) once/); assert.equal(w.cp.requests().filter((r) => r.status === 401).length, 1, "no retry"); await rotatedKey(w); } },
  // --- end C ---
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
    // The follow-ups run in the real plugin, which cannot log in to the memory control plane: the way out the message names.
    nextUpInputs: { readiness: "job" },
    check: (_w, o) => {
      const message = o.kind === "partial" ? o.error.message : "";
      assert.match(message, /the direct URL \(\S+:5432\/\S+ as \S+\) did not accept a login before the deadline/);
      assert.match(message, /password authentication failed/);
      assert.match(message, /readiness: "job"/);
      assert.equal(o.kind === "partial" && o.props.loginPending, true);
    },
  },
  // --- end I ---
  // --- H2: restores ---
  { row: ROWS.restoreLost, variant: "502 page", op: "create", inputs: { source: { restoreTime: FAR_FUTURE } }, inject: all(withRestoreKey, onRestore(lost502)), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/restores$/), 1) },
  { row: ROWS.restoreLost, variant: "dropped connection", op: "create", inputs: { source: { restoreTime: FAR_FUTURE } }, inject: all(withRestoreKey, onRestore({ drop: true, after: "respond" })), expect: "ok", check: (w) => assert.equal(count(w, "POST", /\/restores$/), 1) },
  {
    row: ROWS.restoreJobFails, variant: "password and key in error and stderr", op: "create", inputs: { source: { restoreTime: FAR_FUTURE } },
    inject: all(withRestoreKey, (w) => {
      w.planted.push(PLANTED_PASSWORD);
      w.cp.jobs.failNext("restore", { error: `restore failed: postgres://app:${PLANTED_PASSWORD}@10.0.0.7/src refused`, stderr: `PGPASSWORD=${PLANTED_PASSWORD} pg_restore\nauth with ${w.cp.projectScopedKey} failed\nbackup archive is corrupt` });
    }),
    expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /Restoring preview "pr-matrix" failed: project\.restore job[\s\S]*backup archive is corrupt[\s\S]*nothing is left behind/);
      assert.ok(w.cp.requests().some((r) => r.method === "DELETE"), "the preview it made was deleted");
    },
  },
  {
    row: ROWS.restoreStalls, variant: "stalled job", op: "create", inputs: { timeouts: { create: "10s" }, source: { restoreTime: FAR_FUTURE } },
    inject: all(withRestoreKey, (w) => w.cp.jobs.stallNext("restore")), expect: "partial",
    check: (_w, o) => { assert.match(o.kind === "partial" ? o.id : "", /^pvw_/); assert.match(o.kind === "partial" ? o.error.message : "", /being restored but is not ready yet/); },
  },
  {
    row: ROWS.restoreNameTaken, variant: "another stack's preview", op: "create", inputs: { source: { restoreTime: FAR_FUTURE } },
    inject: all(withRestoreKey, foreignNamesake("clone")), expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", new RegExp(`A preview named "pr-matrix" already exists in project ${w.cp.projectId} \\(id ${w.foreign[0]}[\\s\\S]*adopt: true`));
      assert.equal(w.cp.jobs.list().filter((j) => j.kind === "restore").length, 0);
    },
  },
  {
    row: ROWS.restoreScope, variant: "project-scoped key without it", op: "create", inputs: { source: { restoreTime: FAR_FUTURE } },
    inject: () => undefined, expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /lacks the scope `backups:write`[\s\S]*Nothing was created/);
      assert.equal(count(w, "POST", /\/restores$/), 0);
    },
  },
  {
    row: ROWS.restoreRefused, variant: "unknown backup key", op: "create", inputs: { source: { backupKey: "bkp_nope" } },
    inject: withRestoreKey, expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /from source\.backupKey "bkp_nope" was refused: .*HTTP 400[\s\S]*Check `source\.backupKey`[\s\S]*Nothing was created/);
      assert.equal(count(w, "POST", /\/restores$/), 1);
    },
  },
  {
    row: ROWS.restoreRefused, variant: "time before the window", op: "create", inputs: { source: { restoreTime: "2001-01-01T00:00:00Z" } },
    inject: withRestoreKey, expect: "error",
    check: (w, o) => {
      assert.match(o.kind === "error" ? o.error.message : "", /from source\.restoreTime "2001-01-01T00:00:00Z" was refused: .*before the earliest restorable point[\s\S]*Check `source\.restoreTime`/);
      assert.equal(count(w, "POST", /\/restores$/), 1);
    },
  },
  // --- end H2 ---
];
/** H2: restores need `backups:write`, which the seeded key lacks: the provider and the follow-ups use a key with it. */
async function withRestoreKey(w: World): Promise<void> {
  const key = w.cp.createApiKey({ scopes: ["projects:read", "projects:write", "credentials:read", "jobs:read", "backups:write"], projectId: w.cp.projectId });
  w.planted.push(key);
  await reconfigure(() => ({ "capydb:apiKey": key }))(w);
  w.retarget(w.cp.url, key);
}

/** Logins with the preview's URLs fail (the server's answer repeats the URL) until `ms` from now on the fake clock. */
function refuseLoginsFor(w: World, ms: number): void {
  w.logins.refuseUntil = w.clock.now() + ms;
}

/** C: the case runs against a control plane whose clock (timestamps and Date header) is `offsetMs` off. */
function skewedServer(offsetMs: number) {
  return async (w: World) => {
    const old = w.cp;
    w.cp = await startControlPlane({ now: () => w.clock.now() + offsetMs });
    await old.close();
    await w.provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": w.cp.projectScopedKey, "capydb:apiUrl": w.cp.url })[k] } });
    w.retarget(w.cp.url, w.cp.projectScopedKey);
  };
}

/** C: the follow-ups (refresh, destroy) run with a new key, as after the `pulumi up` the hint gives. */
async function rotatedKey(w: World) {
  const fresh = w.cp.createApiKey({ scopes: ["projects:read", "projects:write", "credentials:read", "jobs:read"], projectId: w.cp.projectId });
  await w.provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": fresh, "capydb:apiUrl": w.cp.url })[k] } });
  w.retarget(w.cp.url, fresh);
}

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
/** A create the server refused: the message, one refused POST, nothing listed, no stand-in, no wait. */
function refusedCheck(message: RegExp) {
  return (w: World, o: Outcome) => {
    assert.match(o.kind === "error" ? o.error.message : "", message);
    assert.ok(!(o.kind === "error" && o.error.message.includes("pending-create")), "no stand-in");
    const posts = w.cp.requests().filter((r) => r.method === "POST" && /preview-databases$/.test(r.path));
    assert.deepEqual(posts.map((r) => r.status).filter((s) => s < 400), [], "no create was applied");
    assert.equal(posts.length, 1, "sent once, not again after the refusal");
    assert.deepEqual(w.cp.previews.list(), [], "nothing created");
    assert.equal(w.clock.sleeps.reduce((a, b) => a + b, 0), 0, `waited ${w.clock.sleeps} ms`);
  };
}

function notSentCheck(message: RegExp, withinMs: number) {
  return (w: World, o: Outcome) => {
    assert.match(o.kind === "error" ? o.error.message : "", message);
    assert.ok(!(o.kind === "error" && o.error.message.includes("pending-create")), "no stand-in");
    assert.equal(count(w, "POST", /preview-databases$/), 0, "no create reached CapyDB");
    assert.ok(w.clock.sleeps.reduce((a, b) => a + b, 0) <= withinMs, `waited ${w.clock.sleeps} ms`);
  };
}


/**
 * Every case runs with these timeouts unless it sets its own, each a different length, so that an
 * operation that used another operation's timeout cannot stay within its own by chance.
 */
const CASE_TIMEOUTS = { create: "17m", update: "13m", delete: "7m" } as const;
/** Virtual time each request takes unless a case says otherwise. */
const REQUEST_LATENCY_MS = 100;

/**
 * The timeout of the operation that ran: create's (plus delete's when it cleaned a failed preview up,
 * which it does within its delete timeout), update's (create's when it resumed an unfinished create,
 * whose wait keeps create's timeout), delete's; read has none (5 minutes of 429 backoff).
 */
function budgetMs(op: Op, inputs: Props, cleanedUp: boolean, resumedCreate = false): number {
  const t = { ...CASE_TIMEOUTS, ...((inputs.timeouts ?? {}) as Record<string, string>) };
  const ms = (v: string) => Number(v.replace(/^(\d+)(s|m)$/, (_x, n, u) => String(Number(n) * (u === "s" ? 1_000 : 60_000))));
  if (op === "create") return ms(t.create) + (cleanedUp ? ms(t.delete) : 0);
  if (op === "update") return resumedCreate ? Math.max(ms(t.update), ms(t.create)) : ms(t.update);
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

const REPO = path.join(__dirname, "..", "..", "..");
const PROJECT = "capydb-fault-matrix";
const STACK = "matrix";
/** The key the plugin is configured with; the proxy swaps in each case's real key. Shaped like a real one. */
const PLUGIN_KEY = "capy_test_fault-matrix-plugin-key-5e1f";

/** The state the engine holds for the tracked preview after the faulty operation (test/engine/README.md). */
function engineState(registration: CapturedResource, stack: Stack, tracked: { id: string; outs: Props; inputs: Props }, initErrors?: string[]): { resources: ResourceState[] } {
  // The dynamic-provider plugin keeps the serialized provider in the outputs too, and reads it from there.
  const outputs: PropertyMap = { __provider: registration.inputs.__provider };
  for (const [k, v] of Object.entries(tracked.outs)) {
    if (v === undefined || k === "__provider") continue;
    outputs[k] = (SECRET_OUTPUTS as readonly string[]).includes(k) && v !== null ? secret(v as never) : (v as never);
  }
  return {
    resources: [{
      urn: stack.urn(registration.type, registration.name),
      type: registration.type,
      name: registration.name,
      id: tracked.id,
      inputs: programInputs(registration, tracked.inputs),
      outputs,
      initErrors,
      additionalSecretOutputs: registration.additionalSecretOutputs,
    }],
  };
}

/** Checked inputs as the program sends them: with the real serialized provider instead of the test's stand-in. */
function programInputs(registration: CapturedResource, inputs: Props): PropertyMap {
  return { ...(inputs as PropertyMap), __provider: registration.inputs.__provider };
}

describe("fault matrix: nothing orphaned, nothing leaked, deadlines kept", function () {
  this.timeout(60_000);
  let w: World;
  let plugin: Plugin;
  let proxy: ForwardingProxy;
  let registration: CapturedResource;

  before(async function () {
    this.timeout(120_000);
    proxy = await startForwardingProxy(PLUGIN_KEY);
    let captured: CapturedResource[];
    [plugin, captured] = await Promise.all([
      startPlugin({ programDir: REPO, project: PROJECT, stack: STACK }),
      captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT, stack: STACK, resources: [
        { name: "db", exportName: "PreviewDatabase", args: { projectId: "prj_capture", name: NAME } },
      ] }),
    ]);
    registration = captured[0];
  });
  after(async () => {
    await plugin?.close();
    await proxy?.close();
  });

  const checked = async (news: Props, olds: Props = {}) => {
    const timeouts = { ...CASE_TIMEOUTS, ...((news.timeouts ?? {}) as Props) };
    const result = await w.provider.check(olds, { __provider: "shim", projectId: w.cp.projectId, name: NAME, ...news, timeouts });
    assert.equal(result.failures, undefined, JSON.stringify(result.failures));
    return result.inputs;
  };

  beforeEach(async () => {
    // Starts at the real time: the plugin's follow-ups read expiries on the real clock.
    const clock = new FakeClock(Date.now());
    const cp = await startControlPlane({ now: () => clock.now() });
    proxy.target = { url: cp.url, apiKey: cp.projectScopedKey };
    const lines: string[] = [];
    const transport = new VirtualLatencyDispatcher(clock, () => REQUEST_LATENCY_MS);
    // The memory backend has no database: readiness "job" by default, and cases that ask for logins get these.
    const logins = { refuseUntil: 0, attempts: [] as string[] };
    const loginProbe = async (url: string) => {
      logins.attempts.push(url);
      if (clock.now() < logins.refuseUntil) throw new Error(`password authentication failed for user "pv" (connecting to ${url})`);
    };
    const provider = createProvider({ clock, sink: (l) => lines.push(l), clientOptions: { dispatcher: transport }, env: { CAPYDB_READINESS: "job" }, loginProbe });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    w = { cp, clock, transport, provider, lines, planted: [], foreign: [], texts: [], cleanups: [], logins, retarget: (url, apiKey) => (proxy.target = { url, apiKey }) };
  });
  afterEach(async () => {
    proxy.target = undefined;
    await w.transport.close();
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
      const requestsBefore = w.cp.requests().length;
      const outcome = await settle(
        c.op === "create" ? w.provider.create(inputs)
          : c.op === "read" ? w.provider.read(w.given!.id, w.given!.outs)
          : c.op === "update" ? w.provider.update(w.given!.id, w.given!.outs, inputs)
          : w.provider.delete(w.given!.id, w.given!.outs),
        c.op === "read",
      );
      const elapsed = w.clock.now() - started;
      const cleanedUp = w.cp.requests().slice(requestsBefore).some((r) => r.method === "DELETE");
      w.texts.push(...texts(outcome));
      assert.equal(outcome.kind, c.expect, `expected ${c.expect}, got ${outcome.kind}: ${"error" in outcome ? outcome.error.message : ""}\n${w.lines.join("\n")}`);
      await c.check?.(w, outcome);

      // ---- the invariant, the same for every case ----
      // A request sent just before the deadline still gets MIN_REQUEST_TIMEOUT_MS: the one overrun allowed.
      const resumedCreate = c.op === "update" && (w.given!.outs.state !== "ready" || isPendingCreateId(w.given!.id));
      const budget = budgetMs(c.op, inputs, cleanedUp, resumedCreate) + MIN_REQUEST_TIMEOUT_MS;
      assert.ok(elapsed <= budget, `deadline kept: ${c.op} took ${elapsed} ms of virtual time, its timeout allows ${budget} ms`);

      // What Pulumi now tracks (an update keeps its id; a failed read/update/delete keeps the old state).
      const tracked: { id: string; outs: Props; inputs: Props } | undefined =
        outcome.kind === "ok" ? (c.op === "delete" ? undefined : { id: c.op === "update" ? w.given!.id : outcome.id, outs: outcome.outs, inputs: c.op === "read" ? w.given!.inputs : inputs })
          : outcome.kind === "partial" ? { id: c.op === "update" ? w.given!.id : outcome.id, outs: outcome.props, inputs }
          : outcome.kind === "gone" ? undefined
          : c.op === "create" ? undefined : { id: w.given!.id, outs: w.given!.outs, inputs: w.given!.inputs };

      // Whatever the server still holds lands now; the faults stop; stalled jobs finish.
      await w.cp.faults.applyDeferred();
      w.cp.faults.clear();
      w.transport.latencyFor = () => REQUEST_LATENCY_MS;
      w.cp.jobs.releaseStalled();

      // The follow-ups, through the real plugin as the engine runs them, from the state it would hold.
      const stack = new Stack({ plugin, project: PROJECT, stack: STACK, config: { "capydb:apiKey": PLUGIN_KEY, "capydb:apiUrl": proxy.url }, secretKeys: ["capydb:apiKey"] });
      if (tracked) stack.importState(engineState(registration, stack, tracked, outcome.kind === "partial" ? (outcome.error.reasons ?? [outcome.error.message]) : undefined));
      const stderrFrom = plugin.stderr.length;
      const command = async (what: string, run: () => Promise<unknown>) => {
        try {
          await run();
        } catch (error) {
          const e = error as DeploymentError;
          w.texts.push(String(e.message), String(e.stack), String(e.stepError?.message));
          assert.fail(`${what}: ${e.message}\n${e.stepError?.message ?? ""}\n${plugin.stderr.slice(stderrFrom)}`);
        }
      };
      const db = () => stack.resource(registration.name);
      // The next `up` after a partial failure: the engine runs update (init errors recorded).
      if (outcome.kind === "partial") {
        await command("the next up completes", () => stack.up([{ ...registration, inputs: programInputs(registration, { ...inputs, ...c.nextUpInputs }) }]));
        assert.equal(db()?.id, tracked!.id, "update keeps the id");
      }
      // Refresh: records the real id of a stand-in, drops what is proven gone.
      if (tracked) await command("refresh works", () => stack.refresh());
      const outsNow = (db()?.outputs ?? {}) as Props;
      const secrets = [w.cp.apiKey, w.cp.projectScopedKey, PLUGIN_KEY, ...w.planted, ...(await livePasswords(w.cp))];
      for (const out of [tracked?.outs, w.given?.outs]) if (typeof out?.password === "string") secrets.push(out.password);
      w.texts.push(JSON.stringify(Object.fromEntries(Object.entries(outsNow).filter(([k, v]) => !(SECRET_OUTPUTS as readonly string[]).includes(k) && !isSecret(v)))));

      // Nothing orphaned: every live preview is the tracked one, and destroy removes it.
      const live = w.cp.previews.live().filter((p) => !w.foreign.includes(p.id));
      assert.ok(live.length <= 1, `one preview at most: ${live.map((p) => p.id)}`);
      if (live.length === 1) assert.equal(db()?.id, live[0].id, "the live preview is tracked by the stack");
      if (db()) await command("destroy works", () => stack.destroy());
      assert.equal(stack.resources.length, 0, "destroy empties the stack");
      assert.deepEqual(w.cp.previews.live().map((p) => p.id), w.foreign, "nothing is left behind, and another stack's preview is untouched");
      w.texts.push(plugin.stderr.slice(stderrFrom));

      // No duplicate: one preview ever created per name, one reset per trigger.
      assert.ok(w.cp.previews.list().filter((p) => p.name === NAME && !w.foreign.includes(p.id)).length <= 1, "created once");
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

  it("each clause of each README row names the cases or tests that check it (CLAUSES)", () => {
    const keyOf = new Map<readonly [string, string], string>(Object.entries(ROWS).map(([k, r]) => [r, k]));
    const caseIds = new Set(CASES.map((c) => `${keyOf.get(c.row)} [${c.variant}]`));
    const problems: string[] = [];
    const titles = new Map<string, string>();
    const hasTitle = (file: string, title: string) => {
      if (!titles.has(file)) titles.set(file, fs.existsSync(path.join(REPO, file)) ? fs.readFileSync(path.join(REPO, file), "utf8") : "");
      return ["\"", "'", "`"].some((q) => titles.get(file)!.includes(`it(${q}${title}${q}`));
    };
    for (const [key, [fault, does]] of Object.entries(ROWS)) {
      const clauses = CLAUSES[key];
      if (!clauses) {
        problems.push(`${key}: no clauses`);
        continue;
      }
      // Longest first, so that a short clause ("`succeeded`") does not eat into a longer one that contains it.
      let rest: string = does;
      for (const [clause] of [...clauses].sort((a, b) => b[0].length - a[0].length)) rest = rest.replace(clause, "");
      for (const [clause, ...refs] of clauses) {
        if (!does.includes(clause) && !fault.includes(clause)) problems.push(`${key}: "${clause}" is not in the row's text`);
        if (refs.length === 0) problems.push(`${key}: "${clause}" is checked nowhere`);
        for (const ref of refs) {
          const other = /^(\w+) (\[.*\])$/.exec(ref);
          const file = /^(test\/\S+\.test\.ts): (.+)$/.exec(ref);
          const ok = ref.startsWith("[") ? caseIds.has(`${key} ${ref}`) : other ? caseIds.has(ref) : file ? hasTitle(file[1], file[2]) : false;
          if (!ok) problems.push(`${key}: "${clause}" names ${ref}, which does not exist`);
        }
      }
      if (!/^[\s,;:.()…]*(?:(?:and|or)\b[\s,;:.()…]*)*$/.test(rest)) problems.push(`${key}: no clause covers ${JSON.stringify(rest)}`);
    }
    assert.deepEqual(problems, []);
  });
});
