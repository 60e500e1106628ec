import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { PreviewDatabaseInputs, resolveTimeoutMs } from "../inputs";
import { formatElapsed } from "../log";
import { echoInputs } from "../outputs";
import { PreviewDatabase } from "../schemas";
import { JobFailedError, waitForJob, WaitTimeoutError } from "../wait";
import { retryWhileBusy } from "./conflict";
import { awaitCreated, finishReady, PreviewGoneError } from "./create";
import { partialFailure } from "./partial-failure";

function goneError(name: string, id: string): Error {
  return new Error(
    `Preview "${name}" (${id}) no longer exists: it expired or was deleted outside Pulumi. ` +
      "Run `pulumi refresh` (or `pulumi up --refresh`) so Pulumi forgets it, then `pulumi up` creates a new one.",
  );
}

/**
 * update(id, old outputs, new inputs). Also the place where an unfinished create resumes: after a
 * partial failure the engine calls update on the next `up` even when diff finds no change.
 */
export async function updateOperation(
  ctx: OperationContext,
  id: string,
  olds: Record<string, unknown>,
  news: PreviewDatabaseInputs & Record<string, unknown>,
) {
  const started = ctx.clock.now();
  const deadline = started + resolveTimeoutMs(news.timeouts, "update");
  const projectId = String(olds.projectId ?? news.projectId);
  const name = news.name;
  const label = `update ${name}`;
  let lastJobId = (olds.lastJobId as string | null | undefined) ?? null;

  if (olds.state !== "ready") {
    const resumeDeadline = started + resolveTimeoutMs(news.timeouts, "create");
    try {
      ctx.log.info(`${label}: preview ${id} was ${olds.state ?? "not ready"}; waiting for it to become ready`);
      await awaitCreated(ctx, projectId, id, olds.state === "provisioning" ? lastJobId ?? undefined : undefined, resumeDeadline, label);
    } catch (error) {
      if (error instanceof WaitTimeoutError) {
        throw partialFailure(
          `Preview "${name}" (${id}) is still not ready: ${error.message}\nRun \`pulumi up\` again to keep waiting, or \`pulumi destroy\` to delete it.`,
          id,
          // The old outputs still describe the preview; only the echoed inputs move on.
          { ...olds, ...echoInputs(news), lastJobId },
          news,
        );
      }
      if (error instanceof JobFailedError) {
        throw new Error(
          `Preview "${name}" (${id}) failed to become ready: ${error.message}\n` +
            "Delete it with `pulumi destroy` (or recreate it with `pulumi up --replace <urn>`) and try again.",
        );
      }
      throw error;
    }
  }

  const busy = <T>(call: () => Promise<T>) => retryWhileBusy(ctx, deadline, label, call);
  try {
    if (news.resetTrigger !== undefined && news.resetTrigger !== olds.resetTrigger) {
      ctx.log.info(`${label}: resetTrigger changed; resetting preview ${id} (${news.mode === "empty" ? "wipe" : "re-clone"})`);
      const job = await busy(() => ctx.client.resetPreview(id, { deadline }));
      lastJobId = job.id;
      await waitForJob(ctx, job.id, deadline, label);
    }
    // The extend answer is the freshest view of the preview; without one, finishReady lists it.
    let extended: PreviewDatabase | undefined;
    if (news.ttlHours !== olds.ttlHours) {
      // Extend is absolute (expiry = now + ttl_hours) and may shorten: send the target, never a difference.
      ctx.log.info(`${label}: extending preview ${id} to ${news.ttlHours}h from now`);
      extended = await busy(() => ctx.client.extendPreview(id, news.ttlHours, { deadline }));
    }
    const outs = await finishReady(ctx, news, projectId, id, deadline, label, lastJobId, extended);
    ctx.log.info(`${label}: done in ${formatElapsed(ctx.clock.now() - started)}`);
    return { outs };
  } catch (error) {
    if (error instanceof CapyDBError && error.isNotFound) throw goneError(name, id);
    if (error instanceof PreviewGoneError) throw goneError(name, id);
    throw error;
  }
}
