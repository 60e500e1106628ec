import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { conflictDelayMs } from "../retry";

/**
 * Runs a mutating call on a preview, backing off while the preview has another operation running
 * (409, §6: one mutating call per preview at a time) until the deadline.
 */
export async function retryWhileBusy<T>(ctx: OperationContext, deadline: number, label: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof CapyDBError) || !error.isConflict) throw error;
      const delay = conflictDelayMs(attempt);
      if (ctx.clock.now() + delay > deadline) throw error;
      ctx.log.info(`${label}: the preview is busy (${error.serverMessage ?? error.status}); retrying in ${Math.round(delay / 1000)}s`);
      await ctx.clock.sleep(delay);
    }
  }
}
