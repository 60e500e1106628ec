import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { Logger, createLogger, LogSink } from "./log";
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
}

export function operationContext(ctx: {
  client: CapyDBClient;
  clock: Clock;
  sink?: LogSink;
  adoptIds?: ReadonlySet<string>;
  schedule?: PollSchedule;
  random?: () => number;
}): OperationContext {
  return {
    client: ctx.client,
    clock: ctx.clock,
    log: createLogger(ctx.sink),
    adoptIds: ctx.adoptIds ?? new Set(),
    schedule: ctx.schedule,
    random: ctx.random ?? Math.random,
  };
}
