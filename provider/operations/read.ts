import { OperationContext } from "../context";
import { CapyDBError } from "../errors";
import { buildOutputs, connectionOutputs, Outputs } from "../outputs";

/** An empty id tells the engine the object is gone, so refresh drops it from state. */
const GONE: ReadResult = { id: "", props: {} };

export interface ReadResult {
  id: string;
  props: Outputs;
}

/**
 * read(id, outputs): lists the project and filters (there is no GET by id, §4.3). Not listed, or the
 * project itself gone, means expired or deleted outside Pulumi.
 */
export async function readOperation(ctx: OperationContext, id: string, props: Record<string, unknown>): Promise<ReadResult> {
  const projectId = String(props.projectId ?? "");
  const name = typeof props.name === "string" ? props.name : id;
  const label = `read ${name}`;
  try {
    const preview = await ctx.client.findPreview(projectId, id);
    if (!preview) {
      ctx.log.info(`${label}: preview ${id} is gone (expired or deleted); dropping it from the stack`);
      return GONE;
    }
    let connections: Outputs = {
      directUrl: props.directUrl ?? null,
      pooledUrl: props.pooledUrl ?? null,
      password: props.password ?? null,
    };
    if (preview.state === "ready") {
      // Credentials rotate on reset (§6): publish what the API says now, keep the old ones if it has none.
      const fresh = connectionOutputs(await ctx.client.getConnections(id));
      if (fresh.directUrl && fresh.pooledUrl) connections = fresh;
    }
    ctx.log.info(`${label}: preview ${id} is ${preview.state}, expires ${preview.ttl_expires_at}`);
    return { id, props: buildOutputs(props, preview, connections, { lastJobId: props.lastJobId ?? null }) };
  } catch (error) {
    if (error instanceof CapyDBError && error.isNotFound) {
      ctx.log.info(`${label}: ${error.serverMessage ?? "not found"}; dropping preview ${id} from the stack`);
      return GONE;
    }
    throw error;
  }
}
