import { Agent, Dispatcher } from "undici";

/**
 * Job polls can be many seconds apart, longer than undici's default 4 s idle keep-alive, so every poll
 * would open a new TCP (and TLS) connection. Keep idle connections for a minute, the idle timeout of
 * common load balancers, unless the server announces a shorter one (undici honours its
 * `Keep-Alive: timeout=` hint, less a 2 s safety margin, and caps what it announces at ten minutes).
 */
export const KEEP_ALIVE_IDLE_MS = 60_000;
export const KEEP_ALIVE_MAX_MS = 10 * 60_000;

export function createKeepAliveDispatcher(): Dispatcher {
  return new Agent({ keepAliveTimeout: KEEP_ALIVE_IDLE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MAX_MS });
}

let shared: Dispatcher | undefined;

/** One agent per process, created on first use, shared by every client (connections are per origin). */
export function sharedDispatcher(): Dispatcher {
  return (shared ??= createKeepAliveDispatcher());
}
