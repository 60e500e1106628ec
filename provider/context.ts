import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { Logger, createLogger, LogSink } from "./log";

/** Everything an operation needs from outside: the API, time, and where progress lines go. */
export interface OperationContext {
  client: CapyDBClient;
  clock: Clock;
  log: Logger;
  /** Previews a create may take over once (CAPYDB_ADOPT), read from the plugin's environment. */
  adoptIds: ReadonlySet<string>;
}

export function operationContext(ctx: {
  client: CapyDBClient;
  clock: Clock;
  sink?: LogSink;
  adoptIds?: ReadonlySet<string>;
}): OperationContext {
  return { client: ctx.client, clock: ctx.clock, log: createLogger(ctx.sink), adoptIds: ctx.adoptIds ?? new Set() };
}
