import { CapyDBClient } from "./client";
import { Clock } from "./clock";
import { Logger, createLogger, LogSink } from "./log";

/** Everything an operation needs from outside: the API, time, and where progress lines go. */
export interface OperationContext {
  client: CapyDBClient;
  clock: Clock;
  log: Logger;
}

export function operationContext(ctx: { client: CapyDBClient; clock: Clock; sink?: LogSink }): OperationContext {
  return { client: ctx.client, clock: ctx.clock, log: createLogger(ctx.sink) };
}
