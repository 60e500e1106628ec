import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { buildOutputs, connectionOutputs, Outputs } from "../outputs";
import type { PreviewDatabase } from "../api-types";
import { factOutputs, projectFacts } from "../project-facts";
import { known } from "../known";
import { carriedRestoreOutputs } from "../restore-outputs";
import { LOGIN_PENDING } from "./logins";
import { isPendingCreateId, resolvePendingNow } from "./pending-create";

/**
 * How old a list of the project may be and still answer a refresh's read of a preview it shows
 * (recent-lists.ts): the engine sends reads in waves a round trip or a rate-limit slot apart, so a
 * few seconds let one list serve a whole refresh; a read answered from it reports what a read sent
 * up to this much earlier would have.
 */
export const RECENT_LIST_MAX_AGE_MS = 5_000;
/** A refresh has no timeouts of its own: the project read gets as long as one request may take. */
const FACTS_BUDGET_MS = 60_000;

/** An empty id tells the engine the object is gone, so refresh drops it from state. */
const GONE: ReadResult = { id: "", props: {} };

export interface ReadResult {
  id: string;
  props: Outputs;
}

/**
 * read(id, outputs): lists the project and filters (there is no GET by id, §4.3). Gone only on
 * proof: a well-formed list without the preview, or CapyDB's own 404 for the project. A list that
 * cannot be read is an error, so refresh keeps the preview rather than forget a live database.
 * A pending-create stand-in is looked up by name, and the real id is returned for the engine to record.
 */
export async function readOperation(ctx: OperationContext, id: string, props: Record<string, unknown>): Promise<ReadResult> {
  const projectId = String(props.projectId ?? "");
  const name = typeof props.name === "string" ? props.name : id;
  const label = `read ${name}`;
  try {
    let preview: PreviewDatabase | undefined;
    if (isPendingCreateId(id)) {
      const pending = await resolvePendingNow(ctx, id, props);
      if (pending === "running") {
        ctx.log.info(`${label}: the restore recorded as pending (job ${String(props.lastJobId)}) is still running; keeping the record`);
        return { id, props };
      }
      preview = pending;
      if (!preview) {
        ctx.log.info(`${label}: no preview is named "${name}": the create recorded as pending never reached CapyDB; dropping it from the stack`);
        return GONE;
      }
      ctx.log.info(`${label}: the create recorded as pending is preview ${preview.id}; recording its id`);
    } else {
      // The project's facts are asked for beside the list, not after it: the first read of a process
      // would otherwise wait two round trips in a row (issue 16: `up --refresh` runs two passes, each
      // in a new plugin process). Shareable, so that under a limit the list goes first. Never fails.
      if (projectId !== "") void projectFacts(ctx, projectId, ctx.clock.now() + FACTS_BUDGET_MS, label, "shareable");
      // A refresh is a snapshot: a list of the project sent a moment ago, or already on its way, answers
      // every read that asks meanwhile. Only a list sent after this read was asked for proves it gone.
      preview = ctx.client.recentlyListed(projectId, id, RECENT_LIST_MAX_AGE_MS)
        ?? (await ctx.client.findPreview(projectId, id, { shareInFlight: true }));
      if (!preview) {
        ctx.log.info(`${label}: preview ${id} is gone (expired or deleted); dropping it from the stack`);
        return GONE;
      }
    }
    let connections: Outputs = {
      directUrl: props.directUrl ?? null,
      pooledUrl: props.pooledUrl ?? null,
      password: props.password ?? null,
    };
    // The preview's updated_at when the URLs in state were read, kept while they are.
    let connectionsAsOf = typeof props.connectionsAsOf === "string" ? props.connectionsAsOf : null;
    if (preview.state === "ready" && !urlsStillCurrent(id, props, preview)) {
      // Credentials rotate on reset (§6): publish what the API says now, keep the old ones if it has none.
      // The list was answered before this call is sent, so its updated_at is at most as new as these URLs.
      const fresh = connectionOutputs(await ctx.client.getConnections(preview.id));
      if (fresh.directUrl && fresh.pooledUrl) {
        connections = fresh;
        connectionsAsOf = preview.updated_at || null;
      }
    }
    ctx.log.info(`${label}: preview ${preview.id} is ${preview.state}, expires ${preview.ttl_expires_at}`);
    // A reset whose outcome an earlier update could not learn stays recorded until an update settles it.
    // The restore's clamp and time come from its answer only (the list has no `pitr`): kept as recorded.
    const extra: Outputs = { lastJobId: props.lastJobId ?? null, connectionsAsOf, ...carriedRestoreOutputs(props, known(preview.source_restore_time)), ...factOutputs(await projectFacts(ctx, preview.project_id || projectId, ctx.clock.now() + FACTS_BUDGET_MS, label)) };
    if (props.pendingReset !== undefined) extra.pendingReset = props.pendingReset;
    if (props[LOGIN_PENDING] === true) extra[LOGIN_PENDING] = true;
    return { id: preview.id, props: buildOutputs(props, preview, connections, extra) };
  } catch (error) {
    if (error instanceof CapyDBError && error.provesAbsence) {
      ctx.log.info(`${label}: ${error.serverMessage ?? "not found"}; dropping preview ${id} from the stack`);
      return GONE;
    }
    throw error;
  }
}

/**
 * The URLs in state are still the preview's when the list shows it as the state last saw it: ready then
 * and now, the same updated_at as when the URLs were read (only a reset changes credentials, and a
 * reset moves updated_at), and no reset of unknown outcome recorded. Without a recorded updated_at
 * (a state written by an older version, or by an operation that did not read the URLs after a list),
 * the URLs are read again.
 */
export function urlsStillCurrent(id: string, props: Record<string, unknown>, preview: PreviewDatabase): boolean {
  const asOf = props.connectionsAsOf;
  return (
    preview.id === id &&
    props.state === "ready" &&
    preview.state === "ready" &&
    typeof asOf === "string" &&
    asOf !== "" &&
    preview.updated_at === asOf &&
    (props.pendingReset === undefined || props.pendingReset === null) &&
    typeof props.directUrl === "string" &&
    props.directUrl !== "" &&
    typeof props.pooledUrl === "string" &&
    props.pooledUrl !== ""
  );
}
