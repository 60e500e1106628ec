/**
 * Lookups (issue 17.4): a live preview's outputs, read without managing it. The core of the SDK's
 * getPreviewDatabase; it runs in the user's program, not in the provider plugin, and holds no state.
 */
import { CapyDBClient } from "./client";
import { systemClock } from "./clock";
import { operationContext } from "./context";
import { CredentialSource, resolveCredentials } from "./credentials";
import { namesakeIn } from "./operations/names";
import { connectionOutputs, Outputs, previewOutputs } from "./outputs";
import { factOutputs, projectFacts } from "./project-facts";
import { registerSecret, redact } from "./redact";

/** A lookup is one list, one project read and one URL read: a minute is plenty. */
const LOOKUP_BUDGET_MS = 60_000;

export class PreviewNotFoundError extends Error {
  constructor(readonly projectId: string, readonly previewName: string, listed: number) {
    super(
      `No live preview named "${previewName}" in CapyDB project "${projectId}" (the project lists ${listed} live ` +
        `${listed === 1 ? "preview" : "previews"}). Check projectId and name; a preview that expired or was deleted cannot be read.`,
    );
    this.name = "PreviewNotFoundError";
  }
}

export { LOOKUP_OUTPUTS } from "./lookup-outputs";

export interface LookupArgs {
  projectId: string;
  name: string;
}

/**
 * The outputs of the live preview `name` in `projectId`: the same fields as a PreviewDatabase
 * resource (plus `id`), with `directUrl`, `pooledUrl` and `password` (which the caller must keep
 * secret). Credentials as for the resource: `config` (capydb:apiKey/apiUrl) first, then the environment.
 * Errors are redacted like the provider's.
 */
export async function lookupPreviewDatabase(args: LookupArgs, config: CredentialSource = {}, env: NodeJS.ProcessEnv = process.env): Promise<Outputs> {
  if (!args.projectId) throw new Error("getPreviewDatabase: projectId is required (the CapyDB project id, e.g. \"prj_123\").");
  if (!args.name) throw new Error("getPreviewDatabase: name is required (the preview's name, e.g. \"pr-42\").");
  try {
    const { apiKey, apiUrl } = resolveCredentials(config, env);
    const client = new CapyDBClient({ apiKey, apiUrl, clock: systemClock });
    const ctx = operationContext({ client, clock: systemClock, sink: () => undefined });
    const deadline = systemClock.now() + LOOKUP_BUDGET_MS;
    const label = `getPreviewDatabase ${args.name}`;
    const previews = await client.listPreviews(args.projectId, { deadline });
    const preview = namesakeIn(previews, args.name);
    if (!preview) throw new PreviewNotFoundError(args.projectId, args.name, previews.filter((p) => p.state !== "deleting").length);
    const [connections, facts] = await Promise.all([
      preview.state === "ready" ? client.getConnections(preview.id, { deadline }) : Promise.resolve(undefined),
      projectFacts(ctx, args.projectId, deadline, label),
    ]);
    const secrets = connectionOutputs(connections);
    for (const value of Object.values(secrets)) if (typeof value === "string") registerSecret(value);
    return { id: preview.id, ...previewOutputs(preview), ...factOutputs(facts), ...secrets };
  } catch (error) {
    if (error instanceof Error) error.message = redact(error.message);
    throw error;
  }
}
