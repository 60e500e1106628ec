/**
 * Named mutations of the compiled provider (dist/provider/**.js): each is a bug the suite must catch.
 * A mutation replaces one exact text in one file. It may list several forms (the code before and after a
 * change another branch brings, say): exactly one form's search text must be found, exactly once, or the
 * runner fails loudly; a mutation whose code moved can never pass silently as "killed" or "survived".
 *
 * `tests` are the tests expected to catch the mutation: a compiled test file relative to dist/test, whole
 * ("unit/client.test.js") or only the tests whose full title matches a regular expression
 * ("unit/fault-matrix.test.js#timeouts\\.update", mocha's --grep). The runner runs only those (one mocha
 * per entry), so keep each list to what exercises the mutated code: the whole run stays within minutes.
 */
export interface MutationForm {
  /** Relative to dist/. */
  file: string;
  search: string;
  replace: string;
  /** Which code this form is written against, when not this branch's. */
  of?: string;
}

export interface Mutation {
  name: string;
  /** What the mutation breaks, in the README's or the issue's words. */
  breaks: string;
  forms: MutationForm[];
  tests: string[];
}

const UNIT = (...names: string[]) => names.map((n) => `unit/${n}.test.js`);
/** Cases of the fault matrix whose titles match. */
const MATRIX = (grep: string) => `unit/fault-matrix.test.js#${grep}`;

export const MUTATIONS: Mutation[] = [
  {
    name: "ownership-ignores-created-at",
    breaks: "a namesake is the create's own only when it was created since the first send (issue 18.2)",
    forms: [{ file: "provider/operations/names.js", search: "looksLikeResult && !createdBefore(namesake, evidence.unknownCreateSentAt, serverSkewMs)", replace: "looksLikeResult" }],
    tests: [MATRIX("CapyDB applies a create after the client gave up|A create's answer is lost"), ...UNIT("provider", "operation-decisions")],
  },
  {
    name: "ownership-ignores-mode",
    breaks: "a namesake is the create's own only when it has the same mode (issue 18.2)",
    forms: [{ file: "provider/operations/names.js", search: ": namesake.mode === inputs.mode;", replace: ": true;" }],
    tests: [MATRIX("CapyDB applies a create after the client gave up|A create's answer is lost"), ...UNIT("provider", "operation-decisions")],
  },
  {
    name: "reset-without-busy-retry",
    breaks: "a reset that meets 409 (another operation on the preview) backs off until timeouts.update (issue 18.3)",
    forms: [
      { file: "provider/operations/reset.js", search: "send: () => (0, conflict_1.retryWhileBusy)(ctx, deadline, label, () => ctx.client.resetPreview(previewId, { deadline }), { projectId, previewId }),", replace: "send: () => ctx.client.resetPreview(previewId, { deadline })," },
    ],
    tests: [MATRIX("reset"), ...UNIT("provider", "operation-decisions")],
  },
  {
    name: "update-uses-create-timeout",
    breaks: "an update ends within timeouts.update (issue 18.4)",
    forms: [{ file: "provider/operations/update.js", search: 'const deadline = started + (0, inputs_1.resolveTimeoutMs)(news.timeouts, "update");', replace: 'const deadline = started + (0, inputs_1.resolveTimeoutMs)(news.timeouts, "create");' }],
    tests: [MATRIX("timeouts\\.update")],
  },
  {
    name: "cut-before-redact",
    breaks: "server text is redacted whole, then cut: a secret straddling the cut leaks no fragment (issue 18.1)",
    forms: [{
      file: "provider/server-text.js",
      search: '    const whole = (0, redact_1.redact)(text);\n    return inert(opts.keep === "end" ? (0, bounded_text_1.cutTextKeepingEnd)(whole, max) : (0, bounded_text_1.cutText)(whole, max));',
      replace: '    return inert((0, redact_1.redact)(opts.keep === "end" ? (0, bounded_text_1.cutTextKeepingEnd)(text, max) : (0, bounded_text_1.cutText)(text, max)));',
    }],
    tests: [MATRIX("carries credentials|megabytes|credentials in its error|across the 2,000-character cut"), ...UNIT("server-text", "client", "redact", "provider", "wait")],
  },
  {
    name: "request-timeout-not-clipped",
    breaks: "each request's timeout is clipped to the time left before the deadline (never under 1 s): an operation overruns by 1 s at most",
    forms: [{ file: "provider/client.js", search: "const timeoutMs = Math.min(this.timeoutMs, Math.max(exports.MIN_REQUEST_TIMEOUT_MS, shared.deadline - this.clock.now()));", replace: "const timeoutMs = this.timeoutMs;" }],
    tests: [MATRIX("never answers"), ...UNIT("client")],
  },
  {
    name: "request-timeout-without-floor",
    breaks: "a request's timeout is never under 1 s, however little time is left (a shorter window fails requests that would succeed)",
    forms: [{ file: "provider/client.js", search: "Math.min(this.timeoutMs, Math.max(exports.MIN_REQUEST_TIMEOUT_MS, shared.deadline - this.clock.now()))", replace: "Math.min(this.timeoutMs, shared.deadline - this.clock.now())" }],
    tests: UNIT("client"),
  },
  {
    name: "last-error-not-redacted",
    breaks: "`last_error` carrying credentials is masked in the non-secret lastError output",
    forms: [
      { file: "provider/outputs.js", search: "out.lastError = (0, server_text_1.serverText)(out.lastError);", replace: "out.lastError = (0, server_text_1.inert)(out.lastError);" },
    ],
    tests: [MATRIX("carries credentials"), ...UNIT("provider")],
  },
  {
    name: "keep-alive-threshold-off-by-one",
    breaks: "renew when less than keepAlive hours are left (exactly that many left: not yet)",
    forms: [{ file: "provider/keep-alive.js", search: "if (leftMs >= below * HOUR_MS)", replace: "if (leftMs > below * HOUR_MS)" }],
    tests: UNIT("keep-alive", "provider"),
  },
  {
    name: "foreign-404-taken-as-gone",
    breaks: "a 404 that is not CapyDB's error body (a proxy's page, a wrong apiUrl) is an error, never \"gone\"",
    forms: [{ file: "provider/errors.js", search: "return this.isNotFound && this.wellFormedBody;", replace: "return this.isNotFound;" }],
    tests: [MATRIX("not CapyDB's error body|expired or was deleted"), ...UNIT("client", "wait")],
  },
  {
    name: "refresh-ignores-updated-at",
    breaks: "refresh reads the connection URLs again unless the list shows the preview unchanged since they were read: same updated_at (issue 16.3)",
    forms: [{ file: "provider/operations/read.js", search: "preview.updated_at === asOf &&", replace: "true &&" }],
    tests: UNIT("fewer-calls"),
  },
  {
    name: "recent-list-kept-across-write",
    breaks: "a list is kept for refresh only when no create or delete of this process was sent since it was (issue 16.3)",
    forms: [{ file: "provider/recent-lists.js", search: "if (this.writesInFlight > 0 || sent.seq < this.lastWriteSeq)", replace: "if (false)" }],
    tests: UNIT("recent-lists"),
  },
  {
    name: "shared-read-joins-sent",
    breaks: "a caller that needs a fresh answer never joins a request already on the wire (issue 16.3)",
    forms: [{ file: "provider/shared-reads.js", search: "if (existing && (!existing.sent || joinSent)) {", replace: "if (existing) {" }],
    tests: UNIT("shared-reads"),
  },
  {
    name: "retry-after-seconds-as-ms",
    breaks: "Retry-After in seconds is honoured: a 429 pauses the key for the server's wait (issue 16.2)",
    forms: [{ file: "provider/retry.js", search: "ms = Number(trimmed) * 1000;", replace: "ms = Number(trimmed);" }],
    tests: UNIT("retry", "request-budget"),
  },
  {
    name: "unavailable-503-not-paused",
    breaks: "a 503 with Retry-After (maintenance) pauses every request of the key for the server's wait",
    forms: [{ file: "provider/request-budget.js", search: "this.onUnavailable(retryAfter);", replace: "this.onAnswered(waiter);" }],
    tests: UNIT("unavailable"),
  },
  {
    name: "redirect-cross-origin",
    breaks: "a redirect is followed only to the request's own origin: the API key is never sent elsewhere",
    forms: [{ file: "provider/redirects.js", search: "if (target.origin !== new URL(from).origin) {", replace: "if (false) {" }],
    tests: UNIT("redirects"),
  },
  {
    name: "skew-sign-flipped",
    breaks: "the server clock's offset (server minus local, from the Date header) corrects createdAt and TTL checks",
    forms: [{ file: "provider/server-clock.js", search: "const skewMs = date + 500 - (sentAt + receivedAt) / 2;", replace: "const skewMs = (sentAt + receivedAt) / 2 - date - 500;" }],
    tests: UNIT("server-clock"),
  },
  {
    name: "alias-success-without-preview",
    breaks: "a job ending in a success alias (\"succeeded\", \"done\"…) counts as success only when its preview agrees",
    forms: [{ file: "provider/wait.js", search: "exports.JOB_SUCCESS_ALIASES.has(job.state) && agrees", replace: "exports.JOB_SUCCESS_ALIASES.has(job.state)" }],
    tests: UNIT("wait"),
  },
  {
    name: "completed-at-ignored",
    breaks: "a job in a state the provider does not know has ended once it carries completed_at",
    forms: [{ file: "provider/wait.js", search: "const ended = Boolean(job.completed_at) ||", replace: "const ended =" }],
    tests: UNIT("unknown", "wait"),
  },
  {
    name: "read-facts-after-list",
    breaks: "a refresh's first read asks for the project's facts beside the list, not a round trip later (issue 16)",
    forms: [{ file: "provider/operations/read.js", search: 'if (projectId !== "")', replace: "if (false)" }],
    tests: [UNIT("fewer-calls")[0] + "#beside the list"],
  },
];
