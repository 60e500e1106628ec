import { OperationContext } from "../context";
import { PreviewDatabaseInputs } from "../inputs";
import { factOutputs } from "../project-facts";
import { buildOutputs, connectionOutputs, PREVIEW_OUTPUT_FIELDS } from "../outputs";
import type { PreviewDatabase } from "../api-types";
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
): PartialFailure {
  const id = pendingCreateId(inputs.name);
  const unknownFields: Record<string, null> = {};
  for (const [output] of PREVIEW_OUTPUT_FIELDS) unknownFields[output] = null;
  // The echoed inputs first, so projectId, name and mode survive; state null: nothing is known yet.
  const properties = { ...unknownFields, ...buildOutputs(inputs, undefined, connectionOutputs(undefined), { lastJobId: null, connectionsAsOf: null, ...factOutputs(undefined) }), state: null };
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
  const namesake = namesakeIn(await ctx.client.listPreviews(projectId, deadline === undefined ? {} : { deadline }), name);
  if (!namesake) return undefined;
  const mode = typeof props.mode === "string" ? (props.mode as PreviewDatabaseInputs["mode"]) : namesake.mode as PreviewDatabaseInputs["mode"];
  if (classifyNamesake(namesake, { mode, adopt: props.adopt === true }, { pendingRecord: true }) === "foreign") {
    throw new Error(
      `The stack records a pending create of "${name}" in project ${projectId}, but the preview of that name ` +
        `(${namesake.id}) does not match it (mode ${namesake.mode}). Delete that preview, or set \`adopt: true\`, and run the command again.`,
    );
  }
  return namesake;
}
