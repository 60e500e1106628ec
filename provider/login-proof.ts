import type { OperationContext } from "./context";
import type { LoginProbe, Readiness } from "./login-types";
import { registerSecret } from "./redact";
import { serverText } from "./server-text";

export type { LoginProbe, Readiness } from "./login-types";

/**
 * Proven logins (issue 17.3): a job that says "completed" is not proof that the new role can log in
 * (password propagation, a pooler that has not reloaded). Before create and reset return, each URL
 * logs in and runs `SELECT 1`, retried within the operation's deadline.
 */

export const READINESS_VALUES = ["login", "job"] as const;
export const DEFAULT_READINESS: Readiness = "login";


/** A login attempt waits at most this long for the server; more only adds to one slow attempt. */
export const MAX_CONNECT_TIMEOUT_MS = 10_000;
const MIN_CONNECT_TIMEOUT_MS = 1_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** The default probe: the `pg` client, loaded only when a login is due, so loading the provider stays cheap. */
export const pgLoginProbe: LoginProbe = async (url, connectTimeoutMs) => {
  const { Client } = await import("pg");
  const client = new Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: connectTimeoutMs });
  // A server that goes away mid-attempt must end this attempt, not the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** A URL as it may be shown: host, port, database and user, never the password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, "")) || "(default database)";
    return `${u.hostname}:${u.port || "5432"}/${db} as ${decodeURIComponent(u.username) || "(no user)"}`;
  } catch {
    return "(an unreadable URL)";
  }
}

/** The wait before attempt `attempt + 1`: doubling from 250 ms to 5 s, jittered down to half. */
export function loginRetryDelayMs(attempt: number, random: () => number): number {
  const full = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
  return Math.round(full * (0.5 + random() / 2));
}

/** The connect timeout of one attempt: bounded, and never past the deadline. */
export function connectTimeoutMs(now: number, deadline: number): number {
  return Math.max(MIN_CONNECT_TIMEOUT_MS, Math.min(MAX_CONNECT_TIMEOUT_MS, deadline - now));
}

export class LoginNotProvenError extends Error {
  constructor(
    readonly which: "direct" | "pooled",
    readonly where: string,
    readonly attempts: number,
    readonly answer: string,
  ) {
    super(
      `the ${which} URL (${where}) did not accept a login before the deadline (${attempts} ${attempts === 1 ? "attempt" : "attempts"}); ` +
        `the last answer was: ${answer}. If this runner cannot reach the database, set \`readiness: "job"\` to wait for CapyDB's job only.`,
    );
    this.name = "LoginNotProvenError";
  }
}

/** Logs in through the direct, then the pooled URL; throws LoginNotProvenError naming the one that never did. */
export async function proveLogins(
  ctx: OperationContext,
  urls: { directUrl?: unknown; pooledUrl?: unknown; password?: unknown },
  deadline: number,
  label: string,
): Promise<void> {
  if (typeof urls.password === "string") registerSecret(urls.password);
  for (const which of ["direct", "pooled"] as const) {
    const url = which === "direct" ? urls.directUrl : urls.pooledUrl;
    if (typeof url !== "string" || url === "") continue;
    await proveLogin(ctx, which, url, deadline, label);
  }
}

async function proveLogin(ctx: OperationContext, which: "direct" | "pooled", url: string, deadline: number, label: string): Promise<void> {
  const where = describeUrl(url);
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.login(url, connectTimeoutMs(ctx.clock.now(), deadline));
      if (attempt > 1) ctx.log.info(`${label}: the ${which} URL (${where}) accepts logins after ${attempt} attempts`);
      return;
    } catch (error) {
      // The database server's words are server text like CapyDB's: the URL shown as `where`, then redacted,
      // cut and made inert (server-text.ts), so a forged line or an escape sequence cannot reach the terminal.
      const answer = serverText((error instanceof Error ? error.message : String(error)).split(url).join(where));
      const delay = loginRetryDelayMs(attempt, ctx.random);
      if (ctx.clock.now() + delay >= deadline) throw new LoginNotProvenError(which, where, attempt, answer);
      if (attempt === 1) ctx.log.info(`${label}: the ${which} URL (${where}) does not accept a login yet (${answer}); retrying until it does`);
      await ctx.clock.sleep(delay);
    }
  }
}

/**
 * `readiness` for resources that do not set it: CAPYDB_READINESS in the plugin's environment (a runner
 * that can reach no preview sets it once), else "login". Any other value is an error naming the variable.
 */
export function readinessFromEnv(env: NodeJS.ProcessEnv): Readiness {
  const value = env.CAPYDB_READINESS;
  if (value === undefined || value === "") return DEFAULT_READINESS;
  if ((READINESS_VALUES as readonly string[]).includes(value)) return value as Readiness;
  throw new Error(`CAPYDB_READINESS must be "login" or "job", got ${JSON.stringify(value.slice(0, 20))}. Unset it to prove logins (the default).`);
}

/** The readiness an operation uses: the input, else the environment's default. */
export function readinessOf(ctx: OperationContext, inputs: { readiness?: unknown }): Readiness {
  return inputs.readiness === "job" || inputs.readiness === "login" ? inputs.readiness : ctx.defaultReadiness;
}
