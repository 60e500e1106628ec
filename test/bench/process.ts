import { Clock } from "../../provider/clock";
import { createKeepAliveDispatcher } from "../../provider/dispatcher";
import { createProvider } from "../../provider";
import { PollSchedule } from "../../provider/poll-schedule";
import { RequestPolicy } from "../../provider/request-budget";
import type { ControlPlane } from "../control-plane";
import { FastForwardClock } from "./clock";
import { CountingProxy, startCountingProxy } from "./counting-proxy";
import { LimitStrategy, OURS_LIMIT } from "./strategies";

export type Provider = ReturnType<typeof createProvider>;

/**
 * One dynamic-provider process, simulated in the benchmark's process: its own request budget (or the
 * request policy under comparison), its own keep-alive agent (behind its own counting proxy) and its
 * own learned job durations, exactly what a separate `pulumi up` would start with. The provider code
 * is the real one.
 */
export interface BenchProcess {
  provider: Provider;
  /** Present when asked for: TCP connections are only counted where they are reported. */
  proxy?: CountingProxy;
  budget: RequestPolicy;
  close(): Promise<void>;
}

/** `limits`: how requests are let through and what a 429 does (default: this version's shared budget). */
export async function startProcess(opts: {
  cp: ControlPlane;
  clock: FastForwardClock;
  schedule: PollSchedule;
  limits?: LimitStrategy;
  countConnections?: boolean;
}): Promise<BenchProcess> {
  const proxy = opts.countConnections ? await startCountingProxy(opts.cp.url) : undefined;
  const dispatcher = opts.clock.track(createKeepAliveDispatcher());
  const budget = (opts.limits ?? OURS_LIMIT).policy(opts.clock);
  const provider = createProvider({
    clock: opts.clock,
    sink: () => undefined,
    // The memory control plane has no database to log in to.
    env: { CAPYDB_READINESS: "job" },
    schedule: opts.schedule,
    clientOptions: { budget, dispatcher },
  });
  const config: Record<string, string> = { "capydb:apiKey": opts.cp.apiKey, "capydb:apiUrl": proxy?.url ?? opts.cp.url };
  await provider.configure({ config: { get: (key: string) => config[key] } });
  return {
    provider,
    proxy,
    budget,
    close: async () => {
      await dispatcher.close();
      await proxy?.close();
    },
  };
}

export interface Timed<T> {
  value: T;
  /** On the benchmark's clock (virtual when time is scaled). */
  ms: number;
  /** Real wall clock at both ends, to split the control plane's request log (its `wallAt`). */
  fromWall: number;
  toWall: number;
}

export async function timed<T>(clock: Clock, work: () => Promise<T>): Promise<Timed<T>> {
  const fromWall = Date.now();
  const startedAt = clock.now();
  const value = await work();
  return { value, ms: clock.now() - startedAt, fromWall, toWall: Date.now() };
}

/** check (local, no API call) then create, as the engine does; only the create is timed. */
export async function createPreview(p: BenchProcess, clock: Clock, projectId: string, name: string) {
  const { inputs } = await p.provider.check({}, { projectId, name, __provider: "bench" });
  return timed(clock, () => p.provider.create(inputs as never));
}
