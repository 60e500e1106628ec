/**
 * The provider implementation, loaded by the SDK's thin shim as `pulumi-capydb/provider` inside every
 * provider call. This subpath must never move: stacks store a shim that requires it by name.
 *
 * Only types may come from @pulumi/pulumi here; this module runs inside the dynamic-provider plugin.
 */
import type { Dispatcher } from "undici";
import type { CapyDBClient } from "./client";
import { Clock, systemClock } from "./clock";
import { resolveCredentials, CredentialSource } from "./credentials";
import { operationContext } from "./context";
import { DiffResult, planDiff } from "./diff";
import { CheckFailure, checkInputs, PreviewDatabaseInputs } from "./inputs";
import { createLogger, LogSink, stderrSink } from "./log";
import { adoptIdsFrom } from "./operations/adoption";
import { readinessFromEnv } from "./login-proof";
import type { LoginProbe } from "./login-types";
import { PollSchedule } from "./poll-schedule";
import type { RequestPolicy } from "./request-budget";
import { createOperation } from "./operations/create";
import { deleteOperation } from "./operations/delete";
import { readOperation } from "./operations/read";
import { updateOperation } from "./operations/update";
import { SECRET_OUTPUTS } from "./outputs";
import { redact, registerSecret } from "./redact";
import { SKEW_OUTPUT, storedSkewMs } from "./server-clock";
import { containsUnknown } from "./unknown";

export { CapyDBError } from "./errors";
export { containsUnknown, UNKNOWN } from "./unknown";
export { SECRET_OUTPUTS, PREVIEW_OUTPUT_FIELDS } from "./outputs";

/** What `configure` receives from the dynamic-provider server: decrypted stack config, strings only. */
export interface ConfigureRequest {
  config: { get(key: string): string | undefined };
}

export interface ProviderDeps {
  clock?: Clock;
  sink?: LogSink;
  env?: NodeJS.ProcessEnv;
  /**
   * Extra client options for tests (e.g. request timeout) and benchmarks (one budget and agent per
   * simulated process, or another client's request policy in its place: test/bench/unshared-requests.ts).
   */
  clientOptions?: { requestTimeoutMs?: number; random?: () => number; budget?: RequestPolicy; dispatcher?: Dispatcher };
  /** When to poll jobs; default the learning schedule (poll-schedule.ts). Benchmarks swap in other strategies. */
  schedule?: PollSchedule;
  /** One login attempt (login-proof.ts); default the `pg` client. Tests without a real database inject one. */
  loginProbe?: LoginProbe;
}

type Props = Record<string, unknown>;

/**
 * The seven methods the SDK's shim calls, with plain types only: the declarations of this subpath
 * must type-check in a program with `pulumi new typescript`'s tsconfig, so no zod type appears here.
 */
export interface CapyDBProvider {
  configure(req: ConfigureRequest): Promise<void>;
  check(olds: Props, news: Props): Promise<{ inputs: Props; failures?: CheckFailure[] }>;
  diff(id: string, olds: Props, news: Props): Promise<DiffResult>;
  create(inputs: Props): Promise<{ id: string; outs: Props }>;
  read(id: string, props: Props): Promise<{ id: string; props: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(id: string, props: Props): Promise<void>;
}

/**
 * Builds the seven provider methods over injected time, logging and environment. The exported
 * instance below uses the real ones; tests build their own.
 */
export function createProvider(deps: ProviderDeps = {}): CapyDBProvider {
  const clock = deps.clock ?? systemClock;
  const sink = deps.sink ?? stderrSink;
  let config: CredentialSource = {};
  let cached: { key: string; client: CapyDBClient } | undefined;

  // Credentials are read at call time (config first, then env), never captured anywhere else.
  function client(): CapyDBClient {
    const { apiKey, apiUrl } = resolveCredentials(config, deps.env ?? process.env);
    const key = `${apiUrl}\u0000${apiKey ?? ""}`;
    if (!cached || cached.key !== key) {
      // Loaded on first use: the client brings zod and Node's http/https (undici too, only when a proxy
      // variable is set: transport.ts), which configure, check and diff, the whole of a `pulumi preview`,
      // never need.
      const { CapyDBClient: Client } = require("./client") as typeof import("./client");
      cached = { key, client: new Client({ apiKey, apiUrl, clock, ...deps.clientOptions }) };
    }
    return cached.client;
  }
  const ctx = (stored?: Props) => {
    const env = deps.env ?? process.env;
    return operationContext({
      client: client(),
      clock,
      sink,
      adoptIds: adoptIdsFrom(env),
      schedule: deps.schedule,
      random: deps.clientOptions?.random,
      storedSkewMs: storedSkewMs(stored),
      login: deps.loginProbe,
      defaultReadiness: readinessFromEnv(env),
    });
  };
  /**
   * Records CapyDB's clock offset in the outputs (and in a partial failure's), so that the next diff,
   * which runs offline, reasons in CapyDB's time too (server-clock.ts).
   */
  async function recordingSkew<T>(stored: Props | undefined, run: (c: ReturnType<typeof ctx>) => Promise<T>, outsOf: (r: T) => Props | undefined): Promise<T> {
    const c = ctx(stored);
    try {
      const result = await run(c);
      const outs = outsOf(result);
      if (outs) outs[SKEW_OUTPUT] = c.serverSkewMs();
      return result;
    } catch (error) {
      const properties = (error as { properties?: unknown }).properties;
      if (properties && typeof properties === "object") (properties as Props)[SKEW_OUTPUT] = c.serverSkewMs();
      throw error;
    }
  }

  return {
    async configure(req: ConfigureRequest): Promise<void> {
      // Missing credentials are not an error here: configure also runs before offline check/diff.
      config = {
        apiKey: req.config.get("capydb:apiKey"),
        apiUrl: req.config.get("capydb:apiUrl"),
        allowInsecureHttp: req.config.get("capydb:allowInsecureHttp"),
      };
    },
    async check(olds: Props, news: Props) {
      return redactingErrors(async () => {
        // The API URL is judged here as well, with no request: `pulumi preview` already refuses a URL the key
        // must not be sent to (plain http to another host, a query), instead of only the `up` that sends it.
        resolveCredentials(config, deps.env ?? process.env);
        const { inputs, failures } = checkInputs(olds ?? {}, news ?? {});
        return failures.length ? { inputs, failures } : { inputs };
      }, `check ${String(news?.name ?? "")}`.trim());
    },
    async diff(_id: string, olds: Props, news: Props) {
      return redactingErrors(async () => {
        // Offline: CapyDB's time is our clock plus the offset measured at the last create, read or update.
        const { result, renewal } = planDiff(olds ?? {}, news ?? {}, clock.now() + storedSkewMs(olds));
        // The plugin's stderr is the only channel to the CLI (no detailed diff): say why an update is planned.
        if (renewal) createLogger(sink).info(`diff ${String(olds?.name ?? news?.name)}: ${renewal}`);
        return result;
      }, `diff ${String(olds?.name ?? news?.name)}`);
    },
    async create(inputs: Props) {
      assertKnown(inputs, "create");
      const typed = inputs as PreviewDatabaseInputs & Props;
      return redactingErrors(() => recordingSkew(undefined, (c) => createOperation(c, typed), (r) => r.outs), `create ${String(typed.name)}`);
    },
    async read(id: string, props: Props) {
      registerStoredSecrets(props);
      // An empty id means gone: its props stay empty.
      return redactingErrors(() => recordingSkew(props, (c) => readOperation(c, id, props ?? {}), (r) => (r.id ? r.props : undefined)), `read ${String(props?.name ?? id)}`);
    },
    async update(id: string, olds: Props, news: Props) {
      assertKnown(news, "update");
      registerStoredSecrets(olds);
      return redactingErrors(
        () => recordingSkew(olds, (c) => updateOperation(c, id, olds ?? {}, news as PreviewDatabaseInputs & Props), (r) => r.outs),
        `update ${String(news?.name ?? id)}`,
      );
    },
    async delete(id: string, props: Props): Promise<void> {
      registerStoredSecrets(props);
      await redactingErrors(() => deleteOperation(ctx(props), id, props ?? {}), `delete ${String(props?.name ?? id)}`);
    },
  };
}

/**
 * Credentials from state reach read/update/delete before any API call has shown them to this process:
 * register them so that redact() masks them even as bare strings in a server's error message.
 */
function registerStoredSecrets(props: Props | undefined): void {
  for (const key of SECRET_OUTPUTS) {
    const value = props?.[key];
    if (typeof value === "string") registerSecret(value);
  }
}

/**
 * Everything an operation throws reaches the CLI (message, partial-failure reasons) and the plugin's
 * stderr (stack): the last pass of redaction, whatever text the error picked up on its way. `what`
 * names the call for the one line the plugin host prints of it (quietErrors).
 */
async function redactingErrors<T>(run: () => Promise<T>, what?: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error) {
      error.message = redact(error.message);
      if (error.stack) error.stack = redact(error.stack);
      const withReasons = error as Error & { reasons?: unknown };
      if (Array.isArray(withReasons.reasons)) {
        withReasons.reasons = withReasons.reasons.map((r: unknown) => (typeof r === "string" ? redact(r) : r));
      }
      if (what) quietErrors(error, what);
    }
    throw error;
  }
}

/** Errors that mean a bug in this code or the runtime: their stack is what a bug report needs. */
const BUG_ERRORS = [TypeError, ReferenceError, RangeError, SyntaxError];

/**
 * For check, diff, read and delete, the dynamic-provider host prints `${error}: ${error.stack}` to the
 * plugin's stderr before it returns the message to the engine, so the CLI showed our message twice
 * more, with JavaScript frames, on the stack's diagnostics. The message is for the resource's error,
 * once: the printed line only says where to look. Bugs keep their stack.
 */
export function quietErrors(error: Error, what: string): void {
  if (BUG_ERRORS.some((kind) => error instanceof kind)) return;
  const pointer = `[capydb] ${what} failed`;
  Object.defineProperty(error, "toString", { value: () => pointer, enumerable: false, configurable: true });
  error.stack = "see the error reported for the resource";
}

/** The engine never sends unknowns outside preview; if one slips through, fail before any API call. */
function assertKnown(inputs: Props, op: string): void {
  if (containsUnknown(inputs)) {
    throw new Error(`${op} received inputs that are not known yet; this is a bug in the caller (only preview may send unknowns).`);
  }
}

const provider = createProvider();

export const configure = provider.configure;
export const check = provider.check;
export const diff = provider.diff;
export const create = provider.create;
export const read = provider.read;
export const update = provider.update;
const deleteMethod = provider.delete;
export { deleteMethod as delete };
