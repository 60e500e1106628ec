import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { PreviewDatabaseInputs, resolveTimeoutMs } from "../inputs";
import { renewalDue } from "../keep-alive";
import { formatElapsed } from "../log";
import { factOutputs, projectFacts } from "../project-facts";
import { buildOutputs, connectionOutputs, echoInputs, Outputs } from "../outputs";
import type { Job, PreviewDatabase } from "../api-types";
import { PreviewStateError, waitForJob, WaitTimeoutError, WorkFailedError } from "../wait";
import { PreviewNotUsableError } from "./conflict";
import { awaitCreated, createOperation, finishReady, PreviewGoneError } from "./create";
import { extendReconciled } from "./extend";
import { LOGIN_PENDING, requireLogins } from "./logins";
import { partialFailure } from "./partial-failure";
import { isPendingCreateId, resolvePending } from "./pending-create";
import { renewTtl } from "./renew";
import { carriedRestoreOutputs } from "../restore-outputs";
import { hasSource } from "../source";
import { findJobSince, isPendingReset, newestJobOf, PendingReset, resetReconciled, ResetOutcomeUnknownError, ResetUnreconcilableError } from "./reset";

function goneError(name: string, id: string): Error {
  return new Error(
    `Preview "${name}" (${id}) no longer exists: it expired or was deleted outside Pulumi. ` +
      "Run `pulumi refresh` (or `pulumi up --refresh`) so Pulumi forgets it, then `pulumi up` creates a new one.",
  );
}

function notUsableError(name: string, error: PreviewNotUsableError): Error {
  if (error.reason === "not-ready") {
    return new Error(
      `Preview "${name}" cannot be changed in place: ${error.message}. Waiting would not help. ` +
        "Replace it (`pulumi up --replace <its URN>`) or delete it with `pulumi destroy`, then run `pulumi up`.",
    );
  }
  return new Error(
    `Preview "${name}" cannot be changed in place: ${error.message}. ` +
      "Run `pulumi up --refresh`: the refresh drops it from the stack and the up creates a new one.",
  );
}

/** A reset job that failed: which preview, what CapyDB said, and what to do next. */
function resetFailedError(name: string, id: string, jobId: string, error: WorkFailedError): Error {
  return new Error(
    `Resetting preview "${name}" (${id}) failed: the reset (job ${jobId}) did not complete: ${error.message}\n` +
      "Its data may be partly reset. Run `pulumi up` again to send the reset again; if CapyDB then says the preview " +
      "is not ready, replace it (`pulumi up --replace <its URN>`) or delete it with `pulumi destroy`.",
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
  if (!isPendingCreateId(id)) return updatePreview(ctx, id, olds, news);
  // An earlier create's answer was lost: find the preview by name, or send the create now.
  const projectId = String(olds.projectId ?? news.projectId);
  const deadline = ctx.clock.now() + resolveTimeoutMs(news.timeouts, "create");
  const preview = await resolvePending(ctx, id, { ...olds, projectId }, deadline, `update ${news.name}`);
  if (!preview) {
    ctx.log.info(`update ${news.name}: the create recorded as pending never reached CapyDB; creating the preview now`);
    return { outs: (await createOperation(ctx, news)).outs };
  }
  ctx.log.info(`update ${news.name}: the create recorded as pending is preview ${preview.id} (${preview.state}); continuing with it`);
  // Pulumi keeps the stand-in id until the next refresh records the real one; read and delete resolve it meanwhile.
  return updatePreview(ctx, preview.id, { ...olds, state: preview.state, lastJobId: null }, news);
}

async function updatePreview(
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
  let state = olds.state as string | null | undefined;
  // The trigger whose reset has been applied: only a different one resets (never the same one twice).
  let appliedTrigger = olds.resetTrigger;

  /**
   * Outputs for a partial failure: the old outputs still describe the preview; the echoed inputs
   * move on, except ttlHours and resetTrigger, which keep what was applied so the next up does the rest.
   */
  const unfinished = (extra: Outputs): Outputs => {
    const outs: Outputs = { ...olds, ...echoInputs(news), ttlHours: olds.ttlHours, resetTrigger: appliedTrigger, lastJobId, state, ...extra };
    if (!("pendingReset" in extra)) delete outs.pendingReset;
    // Outputs must be plain JSON: an undefined value breaks the gRPC Struct encoding.
    for (const key of Object.keys(outs)) if (outs[key] === undefined) delete outs[key];
    return outs;
  };

  try {
    // 1. A reset an earlier update sent without learning its fate: did it land?
    if (isPendingReset(olds.pendingReset)) {
      const pending: PendingReset = olds.pendingReset;
      let job: Job | undefined;
      try {
        job = await findJobSince(ctx, projectId, id, pending.afterJobId, deadline);
      } catch (error) {
        // Never proof that the preview is gone: only the job list failed.
        throw new Error(
          `Preview "${name}" (${id}): a reset sent by an earlier update is recorded as pending, and CapyDB's job list, ` +
            `which tells whether it landed, cannot be read: ${error instanceof Error ? error.message : String(error)}\n` +
            "Run `pulumi up` again once the job list can be read; nothing was reset twice.",
        );
      }
      if (job) {
        ctx.log.info(`${label}: the reset sent for resetTrigger ${JSON.stringify(pending.trigger)} did land (job ${job.id}); not resetting again`);
        appliedTrigger = pending.trigger;
        lastJobId = job.id;
        state = job.state === "completed" ? (state ?? "ready") : "resetting";
      } else {
        ctx.log.info(`${label}: the reset sent for resetTrigger ${JSON.stringify(pending.trigger)} never landed`);
      }
    }

    // 2. Not ready: an unfinished create or reset. Wait for it first.
    if (state !== "ready") {
      const resumeDeadline = started + resolveTimeoutMs(news.timeouts, "create");
      try {
        ctx.log.info(`${label}: preview ${id} was ${state ?? "not ready"}; waiting for it to become ready`);
        const jobId = state === "provisioning" || state === "resetting" || state === "restoring" ? lastJobId ?? undefined : undefined;
        await awaitCreated(ctx, projectId, id, jobId, resumeDeadline, label);
      } catch (error) {
        if (error instanceof WaitTimeoutError) {
          throw partialFailure(
            `Preview "${name}" (${id}) is still not ready: ${error.message}\nRun \`pulumi up\` again to keep waiting, or \`pulumi destroy\` to delete it.`,
            id,
            unfinished({}),
            news,
          );
        }
        if (error instanceof WorkFailedError) {
          throw new Error(
            `Preview "${name}" (${id}) failed to become ready: ${error.message}\n` +
              "Delete it with `pulumi destroy` (or recreate it with `pulumi up --replace <urn>`) and try again.",
          );
        }
        throw error;
      }
      state = "ready";
    }

    // 3. Reset, at most once per trigger value. A restored preview is never reset in place: CapyDB's
    // reset re-clones the project's current data and would lose the restored moment; diff replaces it
    // instead (a new restore from the same source). Only a caller that skipped diff gets here.
    if (news.resetTrigger !== undefined && news.resetTrigger !== appliedTrigger && hasSource(news)) {
      throw new Error(
        `Preview "${name}" (${id}) has a \`source\`: changing \`resetTrigger\` replaces it with a new restore from that source ` +
          "(an in-place reset would re-clone the project's current data). Run `pulumi up` so that diff plans the replacement.",
      );
    }
    if (news.resetTrigger !== undefined && news.resetTrigger !== appliedTrigger) {
      ctx.log.info(`${label}: resetTrigger changed; resetting preview ${id} (${news.mode === "empty" ? "wipe" : "re-clone"})`);
      // Noted before sending: what tells a lost answer's reset from no reset at all (reset.ts).
      const anchor = await newestJobOf(ctx, projectId, id, deadline, label);
      let job: Job;
      try {
        job = await resetReconciled(ctx, projectId, id, anchor, deadline, label);
      } catch (error) {
        if (error instanceof ResetOutcomeUnknownError) {
          throw partialFailure(
            `Preview "${name}" (${id}): the reset was sent but whether it was applied could not be learned: ${error.message}\n` +
              "Run `pulumi up` again: it checks CapyDB's job list and resets only if this reset never arrived.",
            id,
            unfinished({ pendingReset: { trigger: String(news.resetTrigger), afterJobId: error.anchor } }),
            news,
          );
        }
        if (error instanceof ResetUnreconcilableError) {
          throw new Error(
            `Preview "${name}" (${id}): whether the reset was applied is unknown: ${error.message}.\n` +
              "Run `pulumi up` again to send it again (if this one did land, the data is reset a second time).",
          );
        }
        throw error;
      }
      appliedTrigger = news.resetTrigger;
      lastJobId = job.id;
      try {
        await waitForJob(ctx, job.id, deadline, label, { projectId, previewId: id, goal: "ready" });
      } catch (error) {
        if (error instanceof WorkFailedError) throw resetFailedError(name, id, job.id, error);
        // Applied and still running (or unobservable): the next up waits for this job, never resets again.
        throw partialFailure(
          `Preview "${name}" (${id}): the reset (job ${job.id}) was applied but has not finished: ${(error as Error).message}\n` +
            "Run `pulumi up` again to keep waiting (it will not reset a second time), or raise `timeouts.update`.",
          id,
          unfinished({ state: "resetting" }),
          news,
        );
      }
    }

    // 4. Extend. Its answer is the freshest view of the preview; without one, finishReady lists it.
    let extended: PreviewDatabase | undefined;
    if (news.ttlHours !== olds.ttlHours) {
      // Extend is absolute (expiry = now + ttl_hours) and may shorten: send the target, never a difference.
      ctx.log.info(`${label}: extending preview ${id} to ${news.ttlHours}h from now`);
      extended = await extendReconciled(ctx, projectId, id, news.ttlHours, deadline, label);
    } else {
      // TTL keep-alive: the same rule diff applied, in CapyDB's time (the offset diff used, until an answer measures it).
      const renewal = renewalDue(olds, news, ctx.serverNow());
      if (renewal.due) {
        extended = await renewTtl(ctx, { projectId, previewId: id, ttlHours: news.ttlHours, deadline, label, reason: renewal.reason! });
      }
    }
    // Extend changes the expiry, never the credentials (only a reset rotates them, §6): after an update
    // that only extended a preview that was ready, the URLs in state stay and are not asked for again.
    const kept = connectionOutputs({ direct_url: olds.directUrl as string | undefined, pooled_url: olds.pooledUrl as string | undefined });
    const extendOnly = olds.state === "ready" && appliedTrigger === olds.resetTrigger && !isPendingReset(olds.pendingReset);
    let outs =
      extended && extendOnly && kept.directUrl && kept.pooledUrl
        ? buildOutputs(news, extended, kept, { lastJobId, ...factOutputs(await projectFacts(ctx, projectId, deadline, label)) })
        : await finishReady(ctx, news, projectId, id, deadline, label, lastJobId, extended);
    // The restore's clamp and time are known from the create's answer only: kept as recorded.
    outs = { ...outs, ...carriedRestoreOutputs({ ...olds, source: news.source }, outs.sourceRestoreTime) };
    // New credentials (a reset), a preview that only now became ready, or logins an earlier up could not
    // prove: with readiness "login", the update ends once both URLs log in.
    if (appliedTrigger !== olds.resetTrigger || olds.state !== "ready" || olds[LOGIN_PENDING] === true) {
      outs = await requireLogins(ctx, news, id, outs, deadline, label);
    }
    ctx.log.info(`${label}: done in ${formatElapsed(ctx.clock.now() - started)}`);
    return { outs };
  } catch (error) {
    if (error instanceof CapyDBError && error.provesAbsence) throw goneError(name, id);
    if (error instanceof PreviewGoneError) throw goneError(name, id);
    if (error instanceof PreviewNotUsableError) {
      throw error.reason === "gone" ? goneError(name, id) : notUsableError(name, error);
    }
    if (error instanceof PreviewStateError) {
      throw new Error(
        `Preview "${name}" (${id}) cannot be used: ${error.message}. Waiting would not help. ` +
          "Replace it (`pulumi up --replace <its URN>`) or delete it with `pulumi destroy`, then run `pulumi up`.",
      );
    }
    throw error;
  }
}
