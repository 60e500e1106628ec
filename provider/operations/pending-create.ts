import { OperationContext } from "../context";
import { PreviewDatabaseInputs } from "../inputs";
import { factOutputs } from "../project-facts";
import { buildOutputs, connectionOutputs, PREVIEW_OUTPUT_FIELDS } from "../outputs";
import type { Job, PreviewDatabase } from "../api-types";
import { CapyDBError } from "../errors";
import { JOB_WORKING_STATES, JobFailedError, waitForJob } from "../wait";
import { NO_RESTORE_OUTPUTS } from "../restore-outputs";
import { storedSource } from "../source";
import { classifyNamesake, namesakeIn } from "./names";
import { partialFailure, PartialFailure } from "./partial-failure";

/**
 * A create whose outcome is still unknown at its deadline has no preview id to give Pulumi, but it
 * must end tracked (Pulumi only records a failed create that carries an id). It carries this
 * stand-in instead: "pending-create/<name>". read, update and delete recognise it and look the
 * preview up by name (unique per project): refresh then records the real id (Read may return a new
 * id), update continues or sends the create, delete removes the preview if it exists.
 * No real id contains "/" (and check refuses it in ids users type), so the stand-in cannot be
 * mistaken for a preview id.
 */
const PREFIX = "pending-create/";

export function pendingCreateId(name: string): string {
  return PREFIX + name;
}

export function isPendingCreateId(id: string): boolean {
  return id.startsWith(PREFIX);
}

/** The name the stand-in stands for. */
export function pendingCreateName(id: string, props: Record<string, unknown>): string {
  return typeof props.name === "string" && props.name !== "" ? props.name : id.slice(PREFIX.length);
}

export function pendingCreateFailure(
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  reason: string,
  /** A restore CapyDB accepted whose preview is not listed yet: its job, which the next `up` waits for first. */
  restoreJob?: { id: string },
): PartialFailure {
  const restoreJobId = restoreJob?.id;
  const id = pendingCreateId(inputs.name);
  const unknownFields: Record<string, null> = {};
  for (const [output] of PREVIEW_OUTPUT_FIELDS) unknownFields[output] = null;
  // The echoed inputs first, so projectId, name and mode survive; state null: nothing is known yet.
  const properties = {
    ...unknownFields,
    ...buildOutputs(inputs, undefined, connectionOutputs(undefined), { lastJobId: restoreJobId ?? null, connectionsAsOf: null, ...factOutputs(undefined), ...NO_RESTORE_OUTPUTS }),
    state: null,
  };
  if (restoreJobId !== undefined) {
    return partialFailure(
      `Preview "${inputs.name}" in project ${inputs.projectId}: CapyDB accepted the restore (job ${restoreJobId}), but ${reason}, ` +
        "and no preview of that name is listed yet.\n" +
        `Pulumi keeps it recorded as ${id}: the next \`pulumi up\` waits for job ${restoreJobId} and continues with the preview ` +
        "(it restores again only if that job ended without one), `pulumi refresh` records its id once it is listed, " +
        "`pulumi destroy` deletes it by name.",
      id,
      properties,
      inputs,
    );
  }
  return partialFailure(
    `Preview "${inputs.name}" in project ${inputs.projectId}: the create was sent but CapyDB's answer was lost, and ` +
      `until the deadline it could not be confirmed whether the preview exists (${reason}).\n` +
      `Pulumi keeps it recorded as ${id}: the next \`pulumi up\`, \`pulumi refresh\` or \`pulumi destroy\` looks the ` +
      "name up and continues with that preview (or creates it, if it never arrived); nothing is created twice.",
    id,
    properties,
    inputs,
  );
}

/**
 * The preview a pending-create record stands for, or undefined when a well-formed list proves there
 * is none (the create never arrived). List errors propagate: absence is never assumed.
 */
export async function resolvePendingCreate(
  ctx: OperationContext,
  id: string,
  props: Record<string, unknown>,
  deadline: number | undefined,
): Promise<PreviewDatabase | undefined> {
  const projectId = String(props.projectId ?? "");
  const name = pendingCreateName(id, props);
  const namesake = namesakeIn(await ctx.client.listPreviews(projectId, { deadline }), name);
  if (!namesake) return undefined;
  const mode = typeof props.mode === "string" ? (props.mode as PreviewDatabaseInputs["mode"]) : namesake.mode as PreviewDatabaseInputs["mode"];
  if (classifyNamesake(namesake, { mode, adopt: props.adopt === true, source: storedSource(props) }, { pendingRecord: true }) === "foreign") {
    throw new Error(
      `The stack records a pending create of "${name}" in project ${projectId}, but the preview of that name ` +
        `(${namesake.id}) does not match it (mode ${namesake.mode}). Delete that preview, or set \`adopt: true\`, and run the command again.`,
    );
  }
  return namesake;
}

/**
 * A pending record of a restore CapyDB accepted (its job kept as lastJobId): the preview may be listed
 * only once that job has made it, so "not listed" proves nothing while the job runs. Update and delete
 * wait for the job until their deadline; undefined only once the job has ended (or is unknown to
 * CapyDB) and no preview is listed.
 */
export async function resolvePending(
  ctx: OperationContext,
  id: string,
  props: Record<string, unknown>,
  deadline: number,
  label: string,
): Promise<PreviewDatabase | undefined> {
  return (await resolvePendingRecord(ctx, id, props, deadline, label)) as PreviewDatabase | undefined;
}

/** As resolvePending, for read, which must neither wait nor forget the record: "running" while the job runs. */
export function resolvePendingNow(ctx: OperationContext, id: string, props: Record<string, unknown>): Promise<PreviewDatabase | undefined | "running"> {
  return resolvePendingRecord(ctx, id, props, undefined, undefined);
}

/** With a deadline, waits for a running job (the label names the wait); without one, answers "running". */
async function resolvePendingRecord(
  ctx: OperationContext,
  id: string,
  props: Record<string, unknown>,
  deadline: number | undefined,
  label: string | undefined,
): Promise<PreviewDatabase | undefined | "running"> {
  const found = await resolvePendingCreate(ctx, id, props, deadline);
  if (found) return found;
  const jobId = typeof props.lastJobId === "string" && props.lastJobId !== "" ? props.lastJobId : undefined;
  if (!jobId) return undefined;
  let job: Job | undefined;
  try {
    job = await ctx.client.getJob(jobId, { deadline });
    if (JOB_WORKING_STATES.has(job.state) && !job.completed_at) {
      if (deadline === undefined || label === undefined) return "running";
      ctx.log.info(`${label}: the restore recorded as pending (job ${jobId}) is still running; waiting for it`);
      job = await waitForJob(ctx, job, deadline, label);
    }
  } catch (error) {
    if (error instanceof JobFailedError) job = error.job;
    else if (!(error instanceof CapyDBError && error.provesAbsence)) throw error;
  }
  const projectId = String(props.projectId ?? "");
  if (job?.preview_database_id) {
    const named = await ctx.client.findPreview(projectId, job.preview_database_id, { deadline });
    if (named) return named;
  }
  return resolvePendingCreate(ctx, id, props, deadline);
}
