import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { PreviewDatabaseInputs, resolveTimeoutMs } from "../inputs";
import { formatElapsed } from "../log";
import { buildOutputs, connectionOutputs, Outputs } from "../outputs";
import { conflictDelayMs } from "../retry";
import type { ConnectionInfo, Job, PreviewDatabase } from "../api-types";
import { factOutputs, projectFacts } from "../project-facts";
import { ensureScopes, explainRefusal } from "../scope-check";
import { hasSource } from "../source";
import { NO_RESTORE_OUTPUTS } from "../restore-outputs";
import { PREVIEW_WORKING_STATES, PreviewStateError, waitForConnections, waitForJob, waitForPreviewReady, WaitTimeoutError, WorkFailedError } from "../wait";
import { deletePreviewAndWait } from "./delete";
import { nameTakenError, takeoverReason } from "./adoption";
import { classifyNamesake, CreateOutcomeUnknownError, NameEvidence, namesakeIn, reconcileByName } from "./names";
import { requireLogins } from "./logins";
import { partialFailure } from "./partial-failure";
import { pendingCreateFailure } from "./pending-create";
import { SendHistory, sendReconciled } from "./send-reconciled";

/** The preview vanished from its project's list while we were working on it. */
export class PreviewGoneError extends Error {
  constructor(readonly previewId: string, readonly projectId: string) {
    super(`preview ${previewId} is no longer listed in project ${projectId}: it was deleted or expired.`);
    this.name = "PreviewGoneError";
  }
}

/** Names are matched case-insensitively, as the CLI does. */
export async function findByName(ctx: OperationContext, projectId: string, name: string, deadline: number) {
  return namesakeIn(await ctx.client.listPreviews(projectId, { deadline }), name);
}

/** What the create led to: a new preview and its job, or a live one taken over (and why). */
type Submitted = { preview: PreviewDatabase; job?: Job; adopted: boolean; reason?: string };
/** A listed namesake the create continues with: its own (its answer was lost) or one it may take over. */
export type Settled = { preview: PreviewDatabase; job?: undefined; adopted: boolean; reason?: string };

/**
 * POST create, reconciling instead of resending blindly (sendReconciled). Once a create's outcome is
 * unknown (lost answer, timeout, unreadable 2xx), the preview may exist: the name is looked up before
 * anything is sent again, a 409 that follows is most likely that very create having landed, and the
 * operation can only end with the preview or with CreateOutcomeUnknownError (a pending record), never
 * with a plain error that would leave a preview nobody tracks.
 */
async function submitCreate(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs,
  deadline: number,
  label: string,
): Promise<Submitted> {
  const { projectId, name } = inputs;
  return sendNamed<Submitted>(ctx, inputs, deadline, label, "create", async () => {
    const { preview, job } = await ctx.client.createPreview(projectId, { name, mode: inputs.mode, ttl_hours: inputs.ttlHours }, { deadline });
    if (preview.name.toLowerCase() !== name.toLowerCase()) {
      // Applied, but the answer describes something else: as good as unreadable.
      throw new CapyDBError({
        kind: "schema",
        method: "POST",
        path: `/v1/projects/${projectId}/preview-databases`,
        serverMessage: `the answer names preview "${preview.name}", not "${name}"`,
      });
    }
    return { preview, job, adopted: false };
  });
}

/**
 * Sends a request that makes a preview of `inputs.name` (a create, or a restore into a new preview),
 * with create's name reconciliation: `post` sends it once; a 409 is explained by the name's holder or
 * waited out while no live preview holds it; a lost answer is reconciled by the name before anything
 * is sent again. Ends with what `post` answered, or a listed namesake (Settled), or
 * CreateOutcomeUnknownError while whether it landed stays unknown.
 */
export async function sendNamed<T>(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs,
  deadline: number,
  label: string,
  what: string,
  post: () => Promise<T>,
): Promise<T | Settled> {
  const { projectId, name } = inputs;
  // A namesake found listed: ours (continue), adoptable, or someone else's.
  const settle = (existing: PreviewDatabase, firstLostAt: number | undefined): Settled => {
    const evidence: NameEvidence = { unknownCreateSentAt: firstLostAt };
    const verdict = classifyNamesake(existing, inputs, evidence, ctx.serverSkewMs());
    if (verdict === "ours") {
      ctx.log.info(`${label}: the ${what} answer was lost, but preview ${existing.id} is listed under its name; continuing with it`);
      return { preview: existing, adopted: false };
    }
    if (verdict === "adopt") return { preview: existing, adopted: true, reason: "`adopt` is true" };
    const reason = takeoverReason(inputs, existing, ctx.adoptIds);
    if (reason) return { preview: existing, adopted: true, reason };
    throw nameTakenError(inputs, existing);
  };

  /** One send; a 409 is explained by the name's holder, or waited out while no live preview holds it. */
  const send = async ({ firstLostAt }: SendHistory): Promise<T | Settled> => {
    for (let conflicts = 1; ; conflicts++) {
      try {
        return await post();
      } catch (error) {
        if (!(error instanceof CapyDBError) || !error.isConflict) throw error;
        const existing = firstLostAt === undefined
          ? await findByName(ctx, projectId, name, deadline)
          : await reconcileByName(ctx, projectId, name, deadline, label);
        if (existing) return settle(existing, firstLostAt);
        // No live holder of the name: a namesake still being deleted, or the project is busy. Both pass.
        const delay = conflictDelayMs(conflicts, ctx.random);
        if (ctx.clock.now() + delay > deadline) {
          if (firstLostAt !== undefined) throw new CreateOutcomeUnknownError(error.message);
          throw error;
        }
        ctx.log.info(`${label}: ${error.serverMessage ?? "conflict"}; retrying in ${Math.round(delay / 1000)}s`);
        await ctx.clock.sleep(delay);
      }
    }
  };

  return sendReconciled<T | Settled>(ctx, {
    what,
    label,
    deadline,
    send,
    reconcile: async (failure, { firstLostAt }) => {
      ctx.log.info(`${label}: the outcome of the ${what} is unknown (${failure.message}); looking the name up`);
      const existing = await reconcileByName(ctx, projectId, name, deadline, label);
      return existing ? settle(existing, firstLostAt) : undefined;
    },
    // Not listed now, but a request of ours may still land (a server that applies it late).
    unknown: (failure) => new CreateOutcomeUnknownError(`the preview is not listed yet; last error: ${failure.message}`),
  });
}

/**
 * The preview this create continues with: an adoptable namesake (`adopt: true`), or the result of
 * submitCreate. The one entry point of create's name reconciliation.
 */
export async function obtainPreview(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs,
  deadline: number,
  label: string,
): Promise<Submitted> {
  if (inputs.adopt) {
    const existing = await findByName(ctx, inputs.projectId, inputs.name, deadline);
    if (existing) return { preview: existing, adopted: true, reason: "`adopt` is true" };
  }
  return submitCreate(ctx, inputs, deadline, label);
}

/**
 * After the job (or, without a job id, the list) says the preview is usable: fresh fields and URLs.
 * A preview in a final state other than ready (a job "completed" on a preview that is "failed") fails
 * at once with that state and its last_error, rather than waiting minutes for URLs that will not come.
 */
export async function finishReady(
  ctx: OperationContext,
  inputs: Record<string, unknown>,
  projectId: string,
  previewId: string,
  deadline: number,
  label: string,
  lastJobId: string | null,
  current?: PreviewDatabase,
  /** `current` is only what the create answer said (readyFromCreateAnswer), not what a list showed. */
  assumed = false,
): Promise<Outputs> {
  // Read once per process per project (project-facts.ts); never fails the operation.
  const facts = projectFacts(ctx, projectId, deadline, label);
  if (current && assumed) {
    // The common case costs one call: the URLs are there, and the create answer describes the rest.
    let first: ConnectionInfo | undefined;
    try {
      first = await ctx.client.getConnections(previewId, { deadline });
    } catch (error) {
      // The wait below reads them again, with its tolerance for failed reads; a rejected key fails there too.
      if (!(error instanceof CapyDBError) || error.isAuth) throw error;
    }
    if (first?.direct_url && first.pooled_url) {
      return buildOutputs(inputs, current, connectionOutputs(first), { lastJobId, connectionsAsOf: current.updated_at || null, ...factOutputs(await facts), ...NO_RESTORE_OUTPUTS });
    }
    // URLs missing: the preview may have ended "failed" although its job completed. Look at it before waiting.
    const listed = await ctx.client.findPreview(projectId, previewId, { deadline, priority: "shareable" });
    if (!listed) throw new PreviewGoneError(previewId, projectId);
    if (listed.state !== "ready" && !PREVIEW_WORKING_STATES.has(listed.state)) throw new PreviewStateError(listed);
    current = listed;
  }
  // Both at once (one round trip less). The list is shareable: when many creates finish together, one
  // list serves all that ask before it is sent. A gone preview is reported as such, whatever the URLs did.
  // The URL wait runs in the background: it stops as soon as this operation ends, however it ends.
  const stop = new AbortController();
  const urls = waitForConnections(ctx, previewId, deadline, label, stop.signal);
  urls.catch(() => undefined);
  try {
    const preview = current ?? (await ctx.client.findPreview(projectId, previewId, { deadline, priority: "shareable" }));
    if (!preview) throw new PreviewGoneError(previewId, projectId);
    if (preview.state !== "ready" && !PREVIEW_WORKING_STATES.has(preview.state)) throw new PreviewStateError(preview);
    const connections = await urls;
    // `current` was seen before the URLs were asked for, so a refresh that finds its updated_at unchanged
    // may keep these URLs (read.ts); a list read alongside them proves nothing of the kind.
    const connectionsAsOf = current?.updated_at || null;
    return buildOutputs(inputs, preview, connectionOutputs(connections), { lastJobId, connectionsAsOf, ...factOutputs(await facts), ...NO_RESTORE_OUTPUTS });
  } finally {
    stop.abort();
  }
}

/**
 * What a create already knows once its job completed: the preview as the create answer described it,
 * now ready. It answers for a list only when that answer named everything the outputs show
 * (otherwise the project is listed, as for a job whose answer was lost). Its updated_at is the job's
 * completed_at: if CapyDB stamps the preview with it, a refresh finds them equal until the next change;
 * if not, they never match and a refresh reads the URLs again. A later reset cannot carry that stamp.
 */
export function readyFromCreateAnswer(created: PreviewDatabase, job: Job): PreviewDatabase | undefined {
  const complete = [created.public_host, created.direct_port, created.pooled_port, created.role_name, created.database_name, created.ssl_mode, created.ttl_expires_at]
    .every((v) => v !== undefined && v !== null && v !== "" && v !== 0);
  return complete ? { ...created, state: "ready", last_error: null, updated_at: job.completed_at || null } : undefined;
}

/**
 * Waits for the create job, or for the list to show the preview ready when no job id is known. Ends
 * with WorkFailedError when the job or the preview reach a final state that is not success.
 * Says what it saw: the completed job, or the preview as the list showed it ready.
 */
export async function awaitCreated(
  ctx: OperationContext,
  projectId: string,
  previewId: string,
  job: Job | string | undefined,
  deadline: number,
  label: string,
): Promise<{ job?: Job; listed?: PreviewDatabase }> {
  if (job) return { job: await waitForJob(ctx, job, deadline, label, { projectId, previewId, goal: "ready" }) };
  return { listed: await waitForPreviewReady(ctx, projectId, previewId, deadline, label) };
}

export async function createOperation(ctx: OperationContext, inputs: PreviewDatabaseInputs & Record<string, unknown>) {
  const started = ctx.clock.now();
  const deadline = started + resolveTimeoutMs(inputs.timeouts, "create");
  const label = `create ${inputs.name}`;
  const restore = hasSource(inputs);
  // A restore checks its project before it is sent: its endpoint also answers 404 for an unknown backup,
  // so a refusal alone could not say which was missing. A create's refusal can only mean the project.
  await ensureScopes(ctx, inputs.name, deadline, restore ? inputs.projectId : undefined, restore);
  // Loaded only for a restore: an ordinary create never needs it.
  if (restore) return (await import("./restore")).restoreOperation(ctx, inputs, started, deadline, label);

  let submitted: Submitted;
  try {
    submitted = await obtainPreview(ctx, inputs, deadline, label);
  } catch (error) {
    // The preview may exist but its id is unknown: Pulumi records a stand-in that finds it by name.
    if (error instanceof CreateOutcomeUnknownError) throw pendingCreateFailure(inputs, error.reason);
    // Refused (403, 404): nothing was created; the project check says whether the project is the reason.
    throw await explainRefusal(ctx, inputs.projectId, inputs.name, deadline, error);
  }
  // The project's postgresVersion and region are read while the job runs, not before the create: off the
  // critical path, one request of the create's five. Where many CI runners share one key's rate limit, a
  // read before the POST holds every runner's job back; during the job it fills the time spent waiting
  // (issue 16: on the model in test/bench/shared-key-model.ts, even a client told its exact share of
  // the key needs 1.5 × the floor for the creates with it before the POST, and 1.3 × with it here).
  // Shareable: it goes before this process's polls of a job that is unlikely to have ended.
  void projectFacts(ctx, inputs.projectId, deadline, label, "shareable");
  const { preview } = submitted;
  const jobId = submitted.job?.id;
  ctx.log.info(
    submitted.adopted
      ? `${label}: taking over preview ${preview.id} (state ${preview.state}): ${submitted.reason}`
      : `${label}: preview ${preview.id} requested${jobId ? `, job ${jobId}` : ""}`,
  );

  // From here on the preview exists: every failure either removes it or hands its id to Pulumi.
  let outs: Outputs;
  try {
    const settled = await awaitCreated(ctx, inputs.projectId, preview.id, submitted.job, deadline, label);
    // A new preview whose job completed needs no list to describe it, nor one a list just showed ready.
    const assumed = settled.listed?.state !== "ready" && settled.job && !submitted.adopted ? readyFromCreateAnswer(preview, settled.job) : undefined;
    const known = settled.listed?.state === "ready" ? settled.listed : assumed;
    outs = await finishReady(ctx, inputs, inputs.projectId, preview.id, deadline, label, jobId ?? null, known, known === assumed && assumed !== undefined);
  } catch (error) {
    const tracked = buildOutputs(inputs, preview, connectionOutputs(undefined), { lastJobId: jobId ?? null, ...factOutputs(undefined), ...NO_RESTORE_OUTPUTS });
    // A job that failed or ended otherwise, or a preview left in a final state: nothing may stay behind.
    if (error instanceof WorkFailedError && !submitted.adopted) {
      throw await cleanUpFailedCreate(ctx, inputs, preview.id, error, tracked, label);
    }
    throw notReadyFailure(inputs, preview.id, tracked, error, { happened: "was created", operations: "creates", state: "provisioning" });
  }
  // A job that completed is not yet a role that logs in (readiness "login", the default).
  outs = await requireLogins(ctx, inputs, preview.id, outs, deadline, label);
  ctx.log.info(`${label}: preview ${preview.id} ready in ${formatElapsed(ctx.clock.now() - started)}`);
  return { id: preview.id, outs };
}

/**
 * The preview exists but was not ready when the operation stopped waiting (a create, a restore): Pulumi
 * keeps its id and the outputs known so far, and the next `up` resumes the wait.
 */
export function notReadyFailure(
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  previewId: string,
  tracked: Outputs,
  error: unknown,
  how: { happened: string; operations: string; state: string },
): Error {
  const reason = error instanceof Error ? error.message : String(error);
  const next =
    error instanceof WaitTimeoutError
      ? `run \`pulumi up\` again to resume waiting (raise \`timeouts.create\` if ${how.operations} take longer), or \`pulumi destroy\` to delete it.`
      : "run `pulumi up` again to resume, or `pulumi destroy` to delete it.";
  return partialFailure(
    `Preview "${inputs.name}" (${previewId}) ${how.happened} but is not ready yet: ${reason}\nPulumi keeps tracking it: ${next}`,
    previewId,
    { ...tracked, state: tracked.state ?? how.state },
    inputs,
  );
}

/**
 * A failed create job leaves a failed preview listed (§6): delete it, so nothing is orphaned, and
 * report the job's error. If even that fails, keep the id in state for destroy to finish.
 */
export async function cleanUpFailedCreate(
  ctx: OperationContext,
  inputs: PreviewDatabaseInputs & Record<string, unknown>,
  previewId: string,
  failure: WorkFailedError,
  tracked: Outputs,
  label: string,
  what = "Creating",
): Promise<Error> {
  const cleanupDeadline = ctx.clock.now() + resolveTimeoutMs(inputs.timeouts, "delete");
  try {
    // deletePreviewAndWait already waits out a busy preview (409) until its deadline.
    await deletePreviewAndWait(ctx, inputs.projectId, previewId, cleanupDeadline, `${label} (cleanup)`);
    return new Error(
      `${what} preview "${inputs.name}" failed: ${failure.message}\n` +
        `The failed preview ${previewId} was deleted, so nothing is left behind. Fix the cause and run \`pulumi up\` again.`,
    );
  } catch (cleanupError) {
    const why = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
    return partialFailure(
      `${what} preview "${inputs.name}" failed: ${failure.message}\n` +
        `Deleting the failed preview ${previewId} also failed (${why}). Pulumi keeps tracking it: run \`pulumi destroy\` to remove it.`,
      previewId,
      { ...tracked, state: "failed" },
      inputs,
    );
  }
}
