import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { PreviewDatabaseInputs } from "../inputs";
import { jittered } from "../retry";
import type { PreviewDatabase } from "../api-types";
import { hasSource, PreviewSource } from "../source";

/**
 * Create's name reconciliation, in one place. CapyDB has no idempotency token: the preview's name
 * (unique per project, §4.4) is the only handle on a create whose answer never arrived. Everything
 * that decides "is this listed preview the one this resource asked for?" lives here.
 */

/** What this resource knows that makes a namesake its own. */
export interface NameEvidence {
  /** Clock time of the first create sent by this operation whose outcome is unknown (lost answer, timeout, unreadable 2xx). */
  unknownCreateSentAt?: number;
  /** The stack holds a pending-create record for this name (an earlier run lost the answer). */
  pendingRecord?: boolean;
}

export type NamesakeVerdict = "ours" | "adopt" | "foreign";

/**
 * The send time is moved to CapyDB's clock by the measured offset (server-clock.ts); this margin covers
 * what the measurement cannot see (offsets under a minute count as 0) and a server that stamps late:
 * a preview created up to this long before our first send still counts as possibly ours.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 10 * 60_000;

/** Names are matched case-insensitively, as the CLI does; a namesake being deleted holds no name. */
export function namesakeIn(previews: PreviewDatabase[], name: string): PreviewDatabase | undefined {
  return previews.find((p) => p.name.toLowerCase() === name.toLowerCase() && p.state !== "deleting");
}

/**
 * Is the listed namesake the preview this resource created ("ours": continue with it), one it may
 * take over ("adopt": the user set `adopt: true`), or someone else's ("foreign": "already exists")?
 * Ours needs evidence that a create of ours may have landed, and a preview that looks like its
 * result: the mode we asked for, created no earlier than that create (within the clock allowance).
 */
export function classifyNamesake(
  namesake: PreviewDatabase,
  inputs: Pick<PreviewDatabaseInputs, "mode" | "adopt"> & { source?: PreviewSource },
  evidence: NameEvidence,
  /** CapyDB's clock minus ours (server-clock.ts): created_at is CapyDB's time, the send time ours. */
  serverSkewMs = 0,
): NamesakeVerdict {
  const mayBeOurs = evidence.unknownCreateSentAt !== undefined || evidence.pendingRecord === true;
  // A create's result has the mode asked for; a restore's is judged by its provenance (restoreLooksLikeResult).
  const looksLikeResult = hasSource(inputs) ? restoreLooksLikeResult(namesake, inputs.source!) : namesake.mode === inputs.mode;
  if (mayBeOurs && looksLikeResult && !createdBefore(namesake, evidence.unknownCreateSentAt, serverSkewMs)) return "ours";
  if (inputs.adopt) return "adopt";
  return "foreign";
}

/**
 * A restore's mode is CapyDB's to choose (the data is the source's), so its result is judged by its
 * provenance: a preview that names another backup key is not the restore's result. Provenance CapyDB
 * leaves out proves nothing either way, and a restore time is not compared (CapyDB may have clamped it).
 */
function restoreLooksLikeResult(namesake: PreviewDatabase, source: PreviewSource): boolean {
  if (source.backupKey && namesake.source_backup_key) return namesake.source_backup_key === source.backupKey;
  return true;
}

function createdBefore(preview: PreviewDatabase, sentAt: number | undefined, serverSkewMs: number): boolean {
  if (sentAt === undefined || !preview.created_at) return false;
  const created = Date.parse(preview.created_at);
  return !Number.isNaN(created) && created < sentAt + serverSkewMs - CLOCK_SKEW_ALLOWANCE_MS;
}

/** The create's outcome could not be learned before the deadline. */
export class CreateOutcomeUnknownError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "CreateOutcomeUnknownError";
  }
}

/** Waits between list attempts while reconciling: the failure schedule, then 10 s at most. */
const RECONCILE_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 10_000];

/**
 * Lists the project until it answers well-formed, and returns the namesake (or undefined: proven
 * absent at that moment). List failures are not reported while time is left: reporting would leave a
 * preview that may exist untracked. At the deadline, or when the key is refused, the outcome stays
 * unknown: CreateOutcomeUnknownError, which create turns into a pending partial failure.
 */
export async function reconcileByName(
  ctx: OperationContext,
  projectId: string,
  name: string,
  deadline: number,
  label: string,
): Promise<PreviewDatabase | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return namesakeIn(await ctx.client.listPreviews(projectId, { deadline }), name);
    } catch (error) {
      if (!(error instanceof CapyDBError)) throw error;
      const delay = jittered(RECONCILE_DELAYS_MS[Math.min(attempt, RECONCILE_DELAYS_MS.length) - 1], ctx.random);
      if (error.isAuth || error.kind === "deadline" || ctx.clock.now() + delay > deadline) {
        throw new CreateOutcomeUnknownError(`listing project ${projectId} to find "${name}" failed: ${error.message}`);
      }
      ctx.log.info(`${label}: could not list the project to find "${name}" (${error.message}); trying again in ${Math.round(delay / 1000)}s`);
      await ctx.clock.sleep(delay);
    }
  }
}
