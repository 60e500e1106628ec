import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { PreviewDatabaseInputs, resolveTimeoutMs } from "../inputs";
import { formatElapsed } from "../log";
import { buildOutputs, connectionOutputs, Outputs } from "../outputs";
import { conflictDelayMs, failureRetryDelayMs } from "../retry";
import { Job, PreviewDatabase } from "../schemas";
import { JobFailedError, waitForConnections, waitForJob, waitForPreview, WaitTimeoutError } from "../wait";
import { deletePreviewAndWait } from "./delete";
import { partialFailure } from "./partial-failure";

/** The preview vanished from its project's list while we were working on it. */
export class PreviewGoneError extends Error {
  constructor(readonly previewId: string, readonly projectId: string) {
    super(`preview ${previewId} is no longer listed in project ${projectId}: it was deleted or expired.`);
    this.name = "PreviewGoneError";
  }
}

/** Creates sent again after an answer was lost and the name was not found listed (§4.9). */
const MAX_CREATE_SUBMITS = 3;

/** Names are matched case-insensitively, as the CLI does. */
export async function findByName(ctx: OperationContext, projectId: string, name: string, deadline: number) {
  const previews = await ctx.client.listPreviews(projectId, { deadline });
  return previews.find((p) => p.name.toLowerCase() === name.toLowerCase() && p.state !== "deleting");
}

/**
 * POST create, reconciling instead of resending blindly: after a lost answer the preview may exist,
 * so the list is consulted first; a 409 names the preview that holds the name.
 */
async function submitCreate(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs,
  deadline: number,
  label: string,
): Promise<{ preview: PreviewDatabase; job?: Job; adopted: boolean }> {
  const { projectId, name } = inputs;
  let conflicts = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const { preview, job } = await ctx.client.createPreview(
        projectId,
        { name, mode: inputs.mode, ttl_hours: inputs.ttlHours },
        { deadline },
      );
      return { preview, job, adopted: false };
    } catch (error) {
      if (!(error instanceof CapyDBError)) throw error;
      if (error.isConflict) {
        const existing = await findByName(ctx, projectId, name, deadline);
        if (existing && inputs.adopt) return { preview: existing, adopted: true };
        if (existing) {
          throw new Error(
            `A preview named "${name}" already exists in project ${projectId} (id ${existing.id}, state ${existing.state}). ` +
              "Choose another `name`, delete that preview, or set `adopt: true` to manage it with this resource.",
          );
        }
        // No live holder of the name: a namesake still being deleted, or the project is busy. Both pass.
        const delay = conflictDelayMs(++conflicts);
        if (ctx.clock.now() + delay > deadline) throw error;
        ctx.log.info(`${label}: ${error.serverMessage ?? "conflict"}; retrying in ${Math.round(delay / 1000)}s`);
        await ctx.clock.sleep(delay);
        attempt--;
        continue;
      }
      if (!error.maybeApplied) throw error;
      const existing = await findByName(ctx, projectId, name, deadline);
      if (existing) {
        ctx.log.info(`${label}: the create answer was lost, but preview ${existing.id} is listed; continuing with it`);
        return { preview: existing, adopted: false };
      }
      if (attempt >= MAX_CREATE_SUBMITS || ctx.clock.now() + failureRetryDelayMs(attempt) > deadline) throw error;
      ctx.log.info(`${label}: create failed before the preview was listed (${error.message}); sending it again`);
      await ctx.clock.sleep(failureRetryDelayMs(attempt));
    }
  }
}

/** After the job (or, without a job id, the list) says the preview is usable: fresh fields and URLs. */
export async function finishReady(
  ctx: OperationContext,
  inputs: Record<string, unknown>,
  projectId: string,
  previewId: string,
  deadline: number,
  label: string,
  lastJobId: string | null,
  current?: PreviewDatabase,
): Promise<Outputs> {
  const preview = current ?? (await ctx.client.findPreview(projectId, previewId, { deadline }));
  if (!preview) throw new PreviewGoneError(previewId, projectId);
  const connections = await waitForConnections(ctx, previewId, deadline, label);
  return buildOutputs(inputs, preview, connectionOutputs(connections), { lastJobId });
}

/** Waits for the create job, or for the list to show the preview settled when no job id is known. */
export async function awaitCreated(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  jobId: string | undefined,
  deadline: number,
  label: string,
): Promise<void> {
  if (jobId) {
    await waitForJob(ctx, jobId, deadline, label);
    return;
  }
  const preview = await waitForPreview(ctx, projectId, previewId, deadline, label, (p) => !p || p.state === "ready" || p.state === "failed");
  if (preview?.state === "failed") {
    throw new JobFailedError({ id: "(unknown)", type: "branch.create", state: "failed", error: preview.last_error ?? undefined });
  }
}

export async function createOperation(ctx: OperationContext, inputs: PreviewDatabaseInputs & Record<string, unknown>) {
  const started = ctx.clock.now();
  const deadline = started + resolveTimeoutMs(inputs.timeouts, "create");
  const label = `create ${inputs.name}`;

  let submitted: { preview: PreviewDatabase; job?: Job; adopted: boolean };
  if (inputs.adopt) {
    const existing = await findByName(ctx, inputs.projectId, inputs.name, deadline);
    submitted = existing ? { preview: existing, adopted: true } : await submitCreate(ctx, inputs, deadline, label);
  } else {
    submitted = await submitCreate(ctx, inputs, deadline, label);
  }
  const { preview } = submitted;
  const jobId = submitted.job?.id;
  ctx.log.info(
    submitted.adopted
      ? `${label}: adopting existing preview ${preview.id} (state ${preview.state})`
      : `${label}: preview ${preview.id} requested${jobId ? `, job ${jobId}` : ""}`,
  );

  // From here on the preview exists: every failure either removes it or hands its id to Pulumi.
  try {
    await awaitCreated(ctx, inputs.projectId, preview.id, jobId, deadline, label);
    const outs = await finishReady(ctx, inputs, inputs.projectId, preview.id, deadline, label, jobId ?? null);
    ctx.log.info(`${label}: preview ${preview.id} ready in ${formatElapsed(ctx.clock.now() - started)}`);
    return { id: preview.id, outs };
  } catch (error) {
    const tracked = buildOutputs(inputs, preview, connectionOutputs(undefined), { lastJobId: jobId ?? null });
    if (error instanceof JobFailedError && !submitted.adopted) {
      throw await cleanUpFailedCreate(ctx, inputs, preview.id, error, tracked, label);
    }
    const reason = error instanceof Error ? error.message : String(error);
    const next =
      error instanceof WaitTimeoutError
        ? "run `pulumi up` again to resume waiting (raise `timeouts.create` if creates take longer), or `pulumi destroy` to delete it."
        : "run `pulumi up` again to resume, or `pulumi destroy` to delete it.";
    throw partialFailure(
      `Preview "${inputs.name}" (${preview.id}) was created but is not ready yet: ${reason}\nPulumi keeps tracking it: ${next}`,
      preview.id,
      { ...tracked, state: tracked.state ?? "provisioning" },
      inputs,
    );
  }
}

/**
 * A failed create job leaves a failed preview listed (§6): delete it, so nothing is orphaned, and
 * report the job's error. If even that fails, keep the id in state for destroy to finish.
 */
async function cleanUpFailedCreate(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  previewId: string,
  failure: JobFailedError,
  tracked: Outputs,
  label: string,
): Promise<Error> {
  const cleanupDeadline = ctx.clock.now() + resolveTimeoutMs(inputs.timeouts, "delete");
  try {
    // deletePreviewAndWait already waits out a busy preview (409) until its deadline.
    await deletePreviewAndWait(ctx, inputs.projectId, previewId, cleanupDeadline, `${label} (cleanup)`);
    return new Error(
      `Creating preview "${inputs.name}" failed: ${failure.message}\n` +
        `The failed preview ${previewId} was deleted, so nothing is left behind. Fix the cause and run \`pulumi up\` again.`,
    );
  } catch (cleanupError) {
    const why = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
    return partialFailure(
      `Creating preview "${inputs.name}" failed: ${failure.message}\n` +
        `Deleting the failed preview ${previewId} also failed (${why}). Pulumi keeps tracking it: run \`pulumi destroy\` to remove it.`,
      previewId,
      { ...tracked, state: "failed" },
      inputs,
    );
  }
}
