import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { buildOutputs, connectionOutputs, Outputs } from "../outputs";
import type { PreviewDatabase } from "../api-types";
import { factOutputs, projectFacts } from "../project-facts";
import { LOGIN_PENDING } from "./logins";
import { isPendingCreateId, resolvePendingCreate } from "./pending-create";

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
      preview = await resolvePendingCreate(ctx, id, props, undefined);
      if (!preview) {
        ctx.log.info(`${label}: no preview is named "${name}": the create recorded as pending never reached CapyDB; dropping it from the stack`);
        return GONE;
      }
      ctx.log.info(`${label}: the create recorded as pending is preview ${preview.id}; recording its id`);
    } else {
      // A refresh is a snapshot: a list of the project already on its way answers every read that asks meanwhile.
      preview = await ctx.client.findPreview(projectId, id, { shareInFlight: true });
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
    if (preview.state === "ready") {
      // Credentials rotate on reset (§6): publish what the API says now, keep the old ones if it has none.
      const fresh = connectionOutputs(await ctx.client.getConnections(preview.id));
      if (fresh.directUrl && fresh.pooledUrl) connections = fresh;
    }
    ctx.log.info(`${label}: preview ${preview.id} is ${preview.state}, expires ${preview.ttl_expires_at}`);
    // A reset whose outcome an earlier update could not learn stays recorded until an update settles it.
    const extra: Outputs = { lastJobId: props.lastJobId ?? null, ...factOutputs(await projectFacts(ctx, preview.project_id || projectId, ctx.clock.now() + FACTS_BUDGET_MS, label)) };
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
