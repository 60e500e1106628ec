import { redact } from "./redact";
import { inert } from "./server-text";

/**
 * Progress lines for the user. The dynamic-provider plugin has no channel to the engine, and its
 * stderr reaches the CLI output (CLI >= 3.146), so short prefixed stderr lines are the only log we have.
 */
export type LogSink = (line: string) => void;

let watchingStderr = false;

/**
 * The plugin's stderr is a pipe to the CLI. EPIPE means the CLI is gone (killed): no result can reach
 * anyone any more, and each later write would become an uncaught error that the plugin server logs to
 * that same stderr, a loop that spins the CPU and grows without end. So the orphaned plugin exits.
 */
function exitWhenTheCliIsGone(): void {
  if (watchingStderr) return;
  watchingStderr = true;
  process.stderr.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(1);
  });
}

export const stderrSink: LogSink = (line) => {
  exitWhenTheCliIsGone();
  process.stderr.write(line + "\n");
};

export interface Logger {
  info(message: string): void;
}

/**
 * Each message names its operation and preview itself ("create pr-42: job … running after 3.2s"). One
 * message is one line: whatever it quotes (server text included) cannot start a line of its own.
 */
export function createLogger(sink: LogSink = stderrSink): Logger {
  return { info: (message) => sink(inert(redact(`[capydb] ${message}`))) };
}

export function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
}
