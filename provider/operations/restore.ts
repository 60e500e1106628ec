import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { PreviewDatabaseInputs } from "../inputs";
import { formatElapsed } from "../log";
import { buildOutputs, connectionOutputs, Outputs } from "../outputs";
import type { Job, PitrInfo, PreviewDatabase } from "../api-types";
import type { RestoreBody } from "../client";
import { factOutputs } from "../project-facts";
import { asOutputs, clampLine, NO_RESTORE_OUTPUTS, restoreOutputs } from "../restore-outputs";
import { PreviewSource, SOURCE_WIRE_FIELDS, sourceKeyOf } from "../source";
import { waitForJob, WorkFailedError } from "../wait";
import { awaitCreated, cleanUpFailedCreate, findByName, finishReady, notReadyFailure, sendNamed, Settled } from "./create";
import { requireLogins } from "./logins";
import { CreateOutcomeUnknownError, namesakeIn } from "./names";
import { pendingCreateFailure } from "./pending-create";

/**
 * Create with `source`: a restore into a new preview (E11, `target_kind: "new_preview"`), then the
 * same wait, URLs, logins and outputs as a create. The restore's answer has a job but no preview: the
 * preview is the job's `preview_database_id`, else the one listed under the name. Assumed, as for a
 * create (§4.4): CapyDB lists the new preview under its name once it accepted the restore, so a lost
 * answer is reconciled by the name before anything is sent again; a restore CapyDB accepted whose
 * preview is not listed yet ends tracked by name, with its job (pending-create.ts).
 */

/** What the restore POST led to: its job (and `pitr`), or a listed namesake. */
type Accepted = { job: Job; pitr?: PitrInfo | null };

export function restoreBody(inputs: PreviewDatabaseInputs): RestoreBody {
  const source = inputs.source as PreviewSource;
  const key = sourceKeyOf(source)!;
  return { target_kind: "new_preview", preview_name: inputs.name, ttl_hours: inputs.ttlHours, [SOURCE_WIRE_FIELDS[key]]: source[key] };
}

/** A restore CapyDB refused (4xx other than 409/429): the source it was asked for, and how to fix it. */
export class RestoreRefusedError extends Error {
  constructor(inputs: PreviewDatabaseInputs, cause: CapyDBError) {
    const source = inputs.source as PreviewSource;
    const key = sourceKeyOf(source)!;
    const fix =
      cause.status === 403
        ? "CapyDB refused the restore itself: the key may lack `backups:write` (or be scoped to another project), or the plan's preview limit is reached (see its message)."
        : key === "backupKey"
          ? "Check `source.backupKey`: it must name a backup of this project (CapyDB lists them with their keys)."
          : key === "restorePointId"
            ? "Check `source.restorePointId`: it must name a restore point of this project."
            : "Check `source.restoreTime`: it must lie within the project's point-in-time restore window.";
    super(
      `Restoring preview "${inputs.name}" from source.${key} ${JSON.stringify(source[key])} was refused: ${cause.message}\n` +
        `${fix} Nothing was created.`,
    );
    this.name = "RestoreRefusedError";
  }
}

export async function restoreOperation(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  started: number,
  deadline: number,
  label: string,
): Promise<{ id: string; outs: Outputs }> {
  const source = inputs.source as PreviewSource;
  let sent: Accepted | Settled;
  try {
    if (inputs.adopt) {
      const existing = await findByName(ctx, inputs.projectId, inputs.name, deadline);
      if (existing) return await continueWith(ctx, inputs, { preview: existing, adopted: true, reason: "`adopt` is true" }, started, deadline, label);
    }
    sent = await sendNamed<Accepted>(ctx, inputs, deadline, label, "restore", () => ctx.client.restorePreview(inputs.projectId, restoreBody(inputs), { deadline }));
  } catch (error) {
    if (error instanceof CreateOutcomeUnknownError) throw pendingCreateFailure(inputs, error.reason);
    if (error instanceof CapyDBError && error.kind === "http" && error.status !== undefined && error.status >= 400 && error.status < 500 && !error.isConflict && error.status !== 429 && error.status !== 401) {
      throw new RestoreRefusedError(inputs, error);
    }
    throw error;
  }
  if ("preview" in sent && sent.preview) return continueWith(ctx, inputs, sent, started, deadline, label);

  const { job, pitr } = sent as Accepted;
  // Said at once when the answer says it; else once the preview's own restore time can tell (finalRestore).
  const clamp = clampLine(label, source, restoreOutputs(source, pitr, undefined), pitr);
  if (clamp) ctx.log.info(clamp);
  ctx.log.info(`${label}: restore from source.${sourceKeyOf(source)} requested, job ${job.id}`);

  // The preview, once known; every failure from here either removes it or hands it to Pulumi.
  let previewId = job.preview_database_id || undefined;
  let finished: Job;
  try {
    finished = await waitForJob(ctx, job, deadline, label, previewId ? { projectId: inputs.projectId, previewId, goal: "ready" } : undefined);
    previewId = finished.preview_database_id || previewId;
    if (!previewId) {
      const listed = await findByName(ctx, inputs.projectId, inputs.name, deadline);
      if (!listed) {
        throw new WorkFailedError(`the restore job ${job.id} completed, but no preview named "${inputs.name}" is listed in project ${inputs.projectId}`);
      }
      previewId = listed.id;
    }
  } catch (error) {
    throw await restoreUnfinished(ctx, inputs, job, previewId, error, label);
  }
  let outs: Outputs;
  try {
    outs = await finishReady(ctx, inputs, inputs.projectId, previewId, deadline, label, job.id);
  } catch (error) {
    throw await restoreUnfinished(ctx, inputs, job, previewId, error, label);
  }
  outs = { ...outs, ...finalRestore(ctx, label, source, pitr, outs, clamp !== undefined) };
  outs = await requireLogins(ctx, inputs, previewId, outs, deadline, label);
  ctx.log.info(`${label}: preview ${previewId} restored and ready in ${formatElapsed(ctx.clock.now() - started)}`);
  return { id: previewId, outs };
}

/**
 * A listed namesake: the restore's own preview (its answer was lost) or one taken over. No job id is
 * known, so the list is waited on, as for a create whose answer was lost. The clamp is not known
 * either: the list's `source_restore_time` is all there is.
 */
async function continueWith(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  found: Settled,
  started: number,
  deadline: number,
  label: string,
): Promise<{ id: string; outs: Outputs }> {
  const { preview } = found;
  ctx.log.info(
    found.adopted
      ? `${label}: taking over preview ${preview.id} (state ${preview.state}): ${found.reason}`
      : `${label}: continuing with preview ${preview.id} (state ${preview.state})`,
  );
  let outs: Outputs;
  try {
    const settled = await awaitCreated(ctx, inputs.projectId, preview.id, undefined, deadline, label);
    outs = await finishReady(ctx, inputs, inputs.projectId, preview.id, deadline, label, null, settled.listed?.state === "ready" ? settled.listed : undefined);
  } catch (error) {
    if (error instanceof WorkFailedError && !found.adopted) throw await restoreUnfinished(ctx, inputs, undefined, preview.id, error, label);
    throw unfinishedPartial(inputs, preview.id, preview, undefined, error);
  }
  outs = { ...outs, ...finalRestore(ctx, label, inputs.source, undefined, outs, false) };
  outs = await requireLogins(ctx, inputs, preview.id, outs, deadline, label);
  ctx.log.info(`${label}: preview ${preview.id} ready in ${formatElapsed(ctx.clock.now() - started)}`);
  return { id: preview.id, outs };
}

/** The restore outputs from the answer's `pitr` and the preview as listed, and the clamp line if not said yet. */
function finalRestore(ctx: OperationContext, label: string, source: PreviewSource | undefined, pitr: PitrInfo | null | undefined, outs: Outputs, said: boolean): Outputs {
  const result = restoreOutputs(source, pitr, { source_restore_time: typeof outs.sourceRestoreTime === "string" ? outs.sourceRestoreTime : null });
  const line = said ? undefined : clampLine(label, source, result, pitr);
  if (line) ctx.log.info(line);
  return asOutputs(result);
}

/**
 * The restore job failed or ended otherwise, or the wait did not finish: find the preview (the job's,
 * else by name). A failed restore's preview is deleted and CapyDB's reason reported; an unfinished one
 * is handed to Pulumi (its id, or a pending record by name with the job when it is not listed yet).
 */
async function restoreUnfinished(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  job: Job | undefined,
  knownId: string | undefined,
  error: unknown,
  label: string,
): Promise<Error> {
  // Still running, and its preview known: Pulumi tracks that id, and the next `up` waits for it.
  if (knownId && !(error instanceof WorkFailedError)) return unfinishedPartial(inputs, knownId, undefined, job, error);
  let preview: PreviewDatabase | undefined;
  let looked = false;
  try {
    const listed = await ctx.client.listPreviews(inputs.projectId, { deadline: ctx.clock.now() + 60_000 });
    preview = knownId ? listed.find((p) => p.id === knownId) : namesakeIn(listed, inputs.name);
    looked = true;
  } catch {
    // Whether it exists stays unknown: it is tracked by name below.
  }
  if (error instanceof WorkFailedError) {
    if (preview) {
      const tracked = buildOutputs(inputs, preview, connectionOutputs(undefined), { lastJobId: job?.id ?? null, ...factOutputs(undefined), ...NO_RESTORE_OUTPUTS });
      return cleanUpFailedCreate(ctx, inputs, preview.id, error, tracked, label, "Restoring");
    }
    if (looked) {
      return new Error(
        `Restoring preview "${inputs.name}" failed: ${error.message}\nNo preview of that name is listed, so nothing is left behind. ` +
          "Fix the cause (the `source`, or CapyDB's reason above) and run `pulumi up` again.",
      );
    }
  }
  if (preview) return unfinishedPartial(inputs, preview.id, preview, job, error);
  const reason = error instanceof Error ? error.message : String(error);
  return pendingCreateFailure(inputs, reason, job);
}

function unfinishedPartial(
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  previewId: string,
  preview: PreviewDatabase | undefined,
  job: Job | undefined,
  error: unknown,
): Error {
  const tracked = buildOutputs(inputs, preview, connectionOutputs(undefined), { lastJobId: job?.id ?? null, ...factOutputs(undefined), ...NO_RESTORE_OUTPUTS });
  return notReadyFailure(inputs, previewId, tracked, error, { happened: "is being restored", operations: "restores", state: "restoring" });
}
