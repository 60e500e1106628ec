/**
 * Named mutations of the compiled provider (dist/provider/**.js): each is a bug the suite must catch.
 * A mutation is one exact text replacement in one file. The search text must occur exactly once, or the
 * runner fails loudly: a mutation whose code moved cannot pass silently as "killed" or "survived".
 * `search` may list more than one form (say, before and after a refactoring another change brings);
 * exactly one of them must be found.
 *
 * `tests` are the tests expected to catch the mutation: a compiled test file relative to dist/test, whole
 * ("unit/client.test.js") or only the tests whose full title matches a regular expression
 * ("unit/fault-matrix.test.js#timeouts\.update", mocha's --grep). The runner runs only those (one mocha
 * per entry), so keep each list to what exercises the mutated code: the whole run stays within minutes.
 */
export interface Mutation {
  name: string;
  /** What the mutation breaks, in the README's or the issue's words. */
  breaks: string;
  /** Relative to dist/. */
  file: string;
  search: string | string[];
  replace: string;
  tests: string[];
  /**
   * The change this mutation is written against when that is not on every branch yet (the search text is
   * then missing, and the runner says so): re-point the search text when that change lands in another form.
   */
  writtenFor?: string;
}

const UNIT = (...names: string[]) => names.map((n) => `unit/${n}.test.js`);
/** Cases of the fault matrix whose titles match. */
const MATRIX = (grep: string) => `unit/fault-matrix.test.js#${grep}`;

export const MUTATIONS: Mutation[] = [
  {
    name: "ownership-ignores-created-at",
    breaks: "a namesake is the create's own only when it was created since the first send (issue 18.2)",
    file: "provider/operations/names.js",
    search: "namesake.mode === inputs.mode && !createdBefore(namesake, evidence.unknownCreateSentAt)",
    replace: "namesake.mode === inputs.mode",
    tests: [MATRIX("CapyDB applies a create after the client gave up|A create's answer is lost"), ...UNIT("provider")],
  },
  {
    name: "ownership-ignores-mode",
    breaks: "a namesake is the create's own only when it has the same mode (issue 18.2)",
    file: "provider/operations/names.js",
    search: "namesake.mode === inputs.mode && !createdBefore(namesake, evidence.unknownCreateSentAt)",
    replace: "!createdBefore(namesake, evidence.unknownCreateSentAt)",
    tests: [MATRIX("CapyDB applies a create after the client gave up|A create's answer is lost"), ...UNIT("provider")],
  },
  {
    name: "reset-without-busy-retry",
    breaks: "a reset that meets 409 (another operation on the preview) backs off until timeouts.update (issue 18.3)",
    file: "provider/operations/reset.js",
    search: "return await (0, conflict_1.retryWhileBusy)(ctx, deadline, label, () => ctx.client.resetPreview(previewId, { deadline }), { projectId, previewId });",
    replace: "return await ctx.client.resetPreview(previewId, { deadline });",
    tests: [MATRIX("reset"), ...UNIT("provider")],
    writtenFor: "today's reset.ts; helper B's send-reconcile helper (18.11) may move this call",
  },
  {
    name: "update-uses-create-timeout",
    breaks: "an update ends within timeouts.update (issue 18.4)",
    file: "provider/operations/update.js",
    search: 'const deadline = started + (0, inputs_1.resolveTimeoutMs)(news.timeouts, "update");',
    replace: 'const deadline = started + (0, inputs_1.resolveTimeoutMs)(news.timeouts, "create");',
    tests: [MATRIX("timeouts\\.update")],
  },
  {
    name: "cut-before-redact",
    breaks: "server text is redacted whole, then cut: a secret straddling the cut leaks no fragment (issue 18.1)",
    file: "provider/errors.js",
    search: "(0, bounded_text_1.cutText)((0, redact_1.redact)(init.serverMessage))",
    replace: "(0, redact_1.redact)((0, bounded_text_1.cutText)(init.serverMessage))",
    tests: [MATRIX("carries credentials|megabytes|credentials in its error"), ...UNIT("client", "redact", "provider", "wait")],
    writtenFor: "helper A's fix (18.1): CapyDBError redacts, then cuts",
  },
  {
    name: "request-timeout-not-clipped",
    breaks: "each request's timeout is clipped to the time left before the deadline (never under 1 s): an operation overruns by 1 s at most",
    file: "provider/client.js",
    search: "const timeoutMs = Math.min(this.timeoutMs, Math.max(exports.MIN_REQUEST_TIMEOUT_MS, shared.deadline - this.clock.now()));",
    replace: "const timeoutMs = this.timeoutMs;",
    tests: [MATRIX("never answers"), ...UNIT("client")],
  },
  {
    name: "last-error-not-redacted",
    breaks: "`last_error` carrying credentials is masked in the non-secret lastError output",
    file: "provider/outputs.js",
    search: [
      "out.lastError = (0, redact_1.redact)((0, bounded_text_1.cutText)(out.lastError));",
      "out.lastError = (0, bounded_text_1.cutText)((0, redact_1.redact)(out.lastError));",
    ],
    replace: "out.lastError = (0, bounded_text_1.cutText)(out.lastError);",
    tests: [MATRIX("carries credentials"), ...UNIT("provider")],
  },
  {
    name: "keep-alive-threshold-off-by-one",
    breaks: "renew when less than keepAlive hours are left (exactly that many left: not yet)",
    file: "provider/keep-alive.js",
    search: "if (leftMs >= below * HOUR_MS)",
    replace: "if (leftMs > below * HOUR_MS)",
    tests: UNIT("keep-alive", "provider"),
  },
  {
    name: "foreign-404-taken-as-gone",
    breaks: "a 404 that is not CapyDB's error body (a proxy's page, a wrong apiUrl) is an error, never \"gone\"",
    file: "provider/errors.js",
    search: "return this.isNotFound && this.wellFormedBody;",
    replace: "return this.isNotFound;",
    tests: [MATRIX("not CapyDB's error body|expired or was deleted"), ...UNIT("client", "wait")],
  },
];
