import { autoName, autoNameSeedOf, PreviewDatabaseInputs } from "../inputs";
import type { PreviewDatabase } from "../api-types";

/** The environment variable that names previews (ids, comma-separated) a create may take over once. */
export const ADOPT_ENV = "CAPYDB_ADOPT";

export function adoptIdsFrom(env: NodeJS.ProcessEnv): ReadonlySet<string> {
  return new Set((env[ADOPT_ENV] ?? "").split(/[\s,]+/).filter(Boolean));
}

/**
 * Why a create may take over a live preview that holds its name although nothing shows that this very
 * operation created it (names.ts decides that, and `adopt: true`); undefined when it may not.
 *
 * A CLI or CI job killed during a create leaves the preview untracked: the engine keeps only a pending
 * operation without an id, and the next run's create meets the preview under the same name. When that
 * name is the resource's own stable auto-name (stack + resource name, hashed), nothing but an earlier
 * run of this very resource can have created it, so taking it over is safe. An explicit name may belong
 * to anyone (another stack, the CapyDB GitHub Action): that needs `adopt: true` or the id in CAPYDB_ADOPT.
 */
export function takeoverReason(
  inputs: PreviewDatabaseInputs,
  existing: PreviewDatabase,
  adoptIds: ReadonlySet<string>,
): string | undefined {
  if (adoptIds.has(existing.id)) return `${ADOPT_ENV} names it`;
  const seed = autoNameSeedOf(inputs);
  if (inputs.adopt !== false && typeof seed === "string" && seed !== "" && inputs.name === autoName(seed)) {
    return "it holds this resource's own stable auto-name, so an earlier run of this stack created it and was interrupted";
  }
  return undefined;
}

/** The name is held by a preview this resource may not take over: say whose, and the exact ways out. */
export function nameTakenError(inputs: PreviewDatabaseInputs, existing: PreviewDatabase): Error {
  const created = existing.created_at ? `, created ${existing.created_at}` : "";
  return new Error(
    `A preview named "${inputs.name}" already exists in project ${inputs.projectId} (id ${existing.id}, state ${existing.state}${created}).\n` +
      "If this stack created it in a run that was interrupted (a killed CLI or CI job), take it over once with:\n" +
      `  ${ADOPT_ENV}=${existing.id} pulumi up --refresh --yes\n` +
      "then drop the interrupted create that Pulumi still records with:\n" +
      "  pulumi refresh --clear-pending-creates --yes\n" +
      "Otherwise choose another `name`, delete that preview, or set `adopt: true` to manage it with this resource.",
  );
}
