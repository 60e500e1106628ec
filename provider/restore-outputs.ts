import type { PitrInfo, PreviewDatabase } from "./api-types";
import { known } from "./known";
import type { Outputs } from "./outputs";
import { serverText } from "./server-text";
import { normalizeRestoreTime, PreviewSource, storedSource } from "./source";

/**
 * What the restore's answer (E11 `pitr`) said about the time CapyDB restored to. Only the create's
 * answer carries it: the list does not, so read and update keep what the create recorded.
 */
export const RESTORE_OUTPUT_NAMES = ["restoreTimeClamped", "effectiveRestoreTime"] as const;

export type RestoreOutputs = { restoreTimeClamped: boolean | null; effectiveRestoreTime: string | null };

export const NO_RESTORE_OUTPUTS: RestoreOutputs = { restoreTimeClamped: null, effectiveRestoreTime: null };

/**
 * From the restore's `pitr` and the preview as listed: the time CapyDB used (`pitr.restore_time`, else
 * the preview's `source_restore_time`), and, for a `restoreTime` source only, whether CapyDB moved the
 * requested time (`pitr.restore_time_clamped`; without it, whether the time used differs from the one
 * asked for; null when neither says).
 */
export function restoreOutputs(source: PreviewSource | undefined, pitr: PitrInfo | null | undefined, preview: Pick<PreviewDatabase, "source_restore_time"> | undefined): RestoreOutputs {
  const effective = known(pitr?.restore_time) ?? known(preview?.source_restore_time) ?? null;
  if (!source?.restoreTime) return { restoreTimeClamped: null, effectiveRestoreTime: effective };
  let clamped: boolean | null = typeof pitr?.restore_time_clamped === "boolean" ? pitr.restore_time_clamped : null;
  if (clamped === null && effective !== null) {
    const used = normalizeRestoreTime(effective);
    // To the second: a server that keeps whole seconds has not clamped a time it merely rounded.
    if (used !== undefined) clamped = Math.floor(Date.parse(used) / 1000) !== Math.floor(Date.parse(source.restoreTime) / 1000);
  }
  return { restoreTimeClamped: clamped, effectiveRestoreTime: effective };
}

/**
 * The restore outputs an earlier operation stored. Where it stored none (state from before 0.2.0, a
 * restore whose answer was lost), what the preview as now listed says (`sourceRestoreTime`) fills them,
 * judged against the stored `source`.
 */
export function carriedRestoreOutputs(props: Record<string, unknown>, listedRestoreTime?: unknown): RestoreOutputs {
  const stored: RestoreOutputs = {
    restoreTimeClamped: typeof props.restoreTimeClamped === "boolean" ? props.restoreTimeClamped : null,
    effectiveRestoreTime: typeof props.effectiveRestoreTime === "string" ? props.effectiveRestoreTime : null,
  };
  const source = storedSource(props);
  if (stored.effectiveRestoreTime !== null || !source) return stored;
  return restoreOutputs(source, undefined, { source_restore_time: typeof listedRestoreTime === "string" ? listedRestoreTime : null });
}

/**
 * The one line that says CapyDB restored to another time than the one asked for; undefined when it did
 * not (or nothing says). Server text is made inert: it goes to the terminal.
 */
export function clampLine(label: string, source: PreviewSource | undefined, outs: RestoreOutputs, pitr: PitrInfo | null | undefined): string | undefined {
  if (!source?.restoreTime || outs.restoreTimeClamped !== true) return undefined;
  const requested = serverText(known(pitr?.requested_restore_time) ?? source.restoreTime, { max: 100 });
  const used = outs.effectiveRestoreTime === null ? "an earlier time" : serverText(outs.effectiveRestoreTime, { max: 100 });
  return `${label}: restore time ${requested} was clamped by CapyDB (later than the latest restorable point): the preview holds the data as of ${used} (restoreTimeClamped: true)`;
}

export function asOutputs(r: RestoreOutputs): Outputs {
  return { ...r };
}
