/**
 * The plugin's progress lines, to the user. The engine shows a resource plugin's stderr only at debug
 * verbosity (`-v`): the dynamic-provider plugin's lines reach the CLI output, a native plugin's do not.
 * So each line also goes through the engine's Log RPC (the engine's address is the plugin's first
 * argument), attached to the resource the RPC is about, and an RPC answers only once its lines were
 * delivered, so that they are shown with the step that wrote them.
 */
import { AsyncLocalStorage } from "async_hooks";
import * as grpc from "@grpc/grpc-js";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";
import type { LogSink } from "../provider/log";

/** A line the engine does not take within this is dropped (it is on stderr as well). */
const LOG_DEADLINE_MS = 5_000;

interface CallScope {
  urn: string;
  pending: Promise<void>[];
}

export class EngineLog {
  private readonly scope = new AsyncLocalStorage<CallScope>();
  private readonly client?: EngineClient;

  /** `engineAddress` undefined: no engine to tell (tests), lines go to `fallback` only. */
  constructor(engineAddress: string | undefined, private readonly fallback: LogSink) {
    if (engineAddress) this.client = new EngineClient(engineAddress, grpc.credentials.createInsecure());
  }

  /** Runs one RPC's work with the URN its lines belong to; settles after those lines were delivered. */
  async within<T>(urn: string, run: () => Promise<T>): Promise<T> {
    const scope: CallScope = { urn, pending: [] };
    try {
      return await this.scope.run(scope, run);
    } finally {
      await Promise.all(scope.pending);
    }
  }

  /** The sink the provider core writes to: stderr (kept for `-v` and plugin logs) and the engine. */
  readonly sink: LogSink = (line) => {
    this.fallback(line);
    const client = this.client;
    if (!client) return;
    const scope = this.scope.getStore();
    const request = new LogRequest().setSeverity(LogSeverity.INFO).setMessage(line).setUrn(scope?.urn ?? "");
    // A failed delivery fails nothing: the line is on stderr too.
    const sent = new Promise<void>((resolve) => client.log(request, new grpc.Metadata(), { deadline: Date.now() + LOG_DEADLINE_MS }, () => resolve()));
    scope?.pending.push(sent);
  };

  close(): void {
    this.client?.close();
  }
}
