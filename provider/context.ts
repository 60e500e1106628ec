import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { Logger, createLogger, LogSink } from "./log";
import { LoginProbe, pgLoginProbe, Readiness } from "./login-proof";
import { PollSchedule } from "./poll-schedule";

/** Everything an operation needs from outside: the API, time, where progress lines go, when to poll. */
export interface OperationContext {
  client: CapyDBClient;
  clock: Clock;
  log: Logger;
  /** Previews a create may take over once (CAPYDB_ADOPT), read from the plugin's environment. */
  adoptIds: ReadonlySet<string>;
  schedule?: PollSchedule;
  /**
   * The source of every jitter an operation adds to its own waits (resends, reconciling lists, busy
   * back-off): the client's, so one injected source makes a whole operation's waits reproducible.
   */
  random: () => number;
  /**
   * CapyDB's clock minus ours (server-clock.ts): measured by this process's answers so far, else the
   * offset the resource's state recorded, else 0. Compare CapyDB's timestamps with `serverNow()` only.
   */
  serverSkewMs(): number;
  serverNow(): number;
  /** One login attempt with a preview's URL (login-proof.ts); the `pg` client unless a test injects one. */
  login: LoginProbe;
  /** `readiness` when the input does not set it: CAPYDB_READINESS in the plugin's environment, else "login". */
  defaultReadiness: Readiness;
}

export function operationContext(ctx: {
  client: CapyDBClient;
  clock: Clock;
  sink?: LogSink;
  adoptIds?: ReadonlySet<string>;
  schedule?: PollSchedule;
  random?: () => number;
  /** The offset recorded in the resource's state (storedSkewMs), for before the first answer. */
  storedSkewMs?: number;
  login?: LoginProbe;
  defaultReadiness?: Readiness;
}): OperationContext {
  const serverSkewMs = () => ctx.client.serverClock.skewMs() ?? ctx.storedSkewMs ?? 0;
  return {
    client: ctx.client,
    clock: ctx.clock,
    log: createLogger(ctx.sink),
    adoptIds: ctx.adoptIds ?? new Set(),
    schedule: ctx.schedule,
    random: ctx.random ?? Math.random,
    serverSkewMs,
    serverNow: () => ctx.clock.now() + serverSkewMs(),
    login: ctx.login ?? pgLoginProbe,
    defaultReadiness: ctx.defaultReadiness ?? "login",
  };
}
