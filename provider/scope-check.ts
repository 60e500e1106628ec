import type { CapyDBClient } from "./client";
import { OperationContext } from "./context";
import { CapyDBError } from "./errors";
import { seedProjectFacts } from "./project-facts";

/** What a preview's whole life needs (capydb-api.md §1.2): list, create/extend/reset/delete, URLs, job polls. */
export const REQUIRED_SCOPES = ["projects:read", "projects:write", "credentials:read", "jobs:read"] as const;
/** A preview with `source` is created through the restore endpoint (E11), which needs this one too. */
export const RESTORE_SCOPE = "backups:write";

/** The scopes a preview needs: a restore (`source`) adds backups:write, and only then is it asked for. */
export function requiredScopes(restore: boolean): string[] {
  return restore ? [...REQUIRED_SCOPES, RESTORE_SCOPE] : [...REQUIRED_SCOPES];
}

export class MissingScopesError extends Error {
  constructor(readonly missing: string[], readonly granted: string[], name: string, restore = false) {
    super(
      `The CapyDB API key lacks the ${plural(missing.length, "scope")} ${missing.map((s) => `\`${s}\``).join(", ")} ` +
        `that preview "${name}" needs (GET /v1/me lists: ${granted.slice(0, 20).join(", ")}). Nothing was created. ` +
        (missing.includes(RESTORE_SCOPE) ? `\`${RESTORE_SCOPE}\` is needed because the preview has a \`source\` (a restore). ` : "") +
        `Use a key with ${requiredScopes(restore).join(", ")}: create a project-scoped API key for this project in CapyDB ` +
        "with those scopes, then set it with `pulumi config set --secret capydb:apiKey <key>` or CAPYDB_API_KEY.",
    );
    this.name = "MissingScopesError";
  }
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/**
 * The scopes a key lacks, from its granted list. `*` grants everything. An empty or absent list is
 * not proof of anything (CapyDB's own test doubles answer `[]`), so it lacks nothing.
 */
export function missingScopes(granted: readonly string[] | null | undefined, restore = false): string[] {
  if (!granted || granted.length === 0 || granted.includes("*")) return [];
  return requiredScopes(restore).filter((s) => !granted.includes(s));
}

// Once per process per key: the provider keeps one client per key, so the client is the cache key.
// The answer is kept, not the verdict: a create with `source` asks more of the same key.
const checked = new WeakMap<CapyDBClient, Promise<Granted>>();
/** The key's scopes as GET /v1/me listed them; "unknown" when it could not be asked. */
type Granted = string[] | null | undefined | "unknown";
/** What GET /v1/me said about the key, for the project check's message. */
const principals = new WeakMap<CapyDBClient, { scopes?: string[] | null; projectId?: string | null }>();
/** Once per process per key and project. */
const projectsChecked = new WeakMap<CapyDBClient, Map<string, Promise<void>>>();

/** The key cannot use the project the preview is declared in (403), or the project does not exist (404). */
export class ProjectAccessError extends Error {
  constructor(readonly projectId: string, status: number, serverMessage: string | undefined, keyScope: string, name: string) {
    super(
      (status === 404
        ? `CapyDB project "${projectId}" does not exist or this API key cannot see it`
        : `The CapyDB API key may not use project "${projectId}"`) +
        ` (GET /v1/projects/${projectId}: HTTP ${status}${serverMessage ? `, ${serverMessage}` : ""}); ${keyScope}. ` +
        `Nothing was created for preview "${name}". Check \`projectId\`, or use a key scoped to project ${projectId} ` +
        "(`pulumi config set --secret capydb:apiKey <key>` or CAPYDB_API_KEY).",
    );
    this.name = "ProjectAccessError";
  }
}

/**
 * Before the first write: GET /v1/me and fail, naming the missing scope, if the key could create a
 * preview but not see it through (a key without jobs:read would otherwise leave one behind).
 * A rejected key (401/403) fails here too; any other trouble with /v1/me is reported and the create
 * goes on, since the create's own calls will say what is wrong. With `projectId` (a restore), the
 * project is checked before the write as well; a plain create leaves that to explainRefusal.
 */
export async function ensureScopes(ctx: OperationContext, name: string, deadline: number, projectId?: string, restore = false): Promise<void> {
  await ensureKeyScopes(ctx, name, deadline, restore);
  if (projectId !== undefined) await ensureProject(ctx, projectId, name, deadline);
}

async function ensureKeyScopes(ctx: OperationContext, name: string, deadline: number, restore: boolean): Promise<void> {
  let pending = checked.get(ctx.client);
  if (!pending) {
    const client = ctx.client;
    // Only a definite answer is remembered: after trouble with /v1/me the next create asks again.
    pending = readScopes(ctx, name, deadline).then(
      (granted) => {
        if (granted === "unknown") checked.delete(client);
        return granted;
      },
      (error) => {
        if (!(error instanceof CapyDBError && error.isAuth)) checked.delete(client);
        throw error;
      },
    );
    checked.set(client, pending);
  }
  const granted = await pending;
  if (granted === "unknown") return;
  const missing = missingScopes(granted, restore);
  if (missing.length > 0) throw new MissingScopesError(missing, granted ?? [], name, restore);
}

/** The key's scopes as GET /v1/me lists them; "unknown" when /v1/me could not tell. */
async function readScopes(ctx: OperationContext, name: string, deadline: number): Promise<Granted> {
  let granted: string[] | null | undefined;
  try {
    // Loaded here, not at the top: zod's schemas are only needed once an API call is made (issue 16).
    const { MeResponse } = await import("./schemas");
    const me = await ctx.client.call("GET", "/v1/me", MeResponse, undefined, { deadline });
    granted = me.principal?.scopes;
    principals.set(ctx.client, { scopes: granted, projectId: me.principal?.project_id });
  } catch (error) {
    // A rejected key, or a request that could not even leave this machine (refused, DNS, TLS): the
    // create would meet the same, so it ends here.
    if (error instanceof CapyDBError && (error.isAuth || error.notSent)) throw error;
    ctx.log.info(`create ${name}: could not check the API key's scopes (${error instanceof Error ? error.message : String(error)}); going on`);
    return "unknown";
  }
  return granted;
}

/**
 * A create refused with 403 or 404 created nothing; whether the project is the reason (a key scoped to
 * another project, a project that does not exist) is asked of GET /v1/projects/{id}, and then the error
 * names the project and the key's scope. Anything else (a plan limit answered 403, say) is returned as
 * the create's own error. Only a refusal pays for the check: a create that goes through needs none.
 */
export async function explainRefusal(ctx: OperationContext, projectId: string, name: string, deadline: number, error: unknown): Promise<unknown> {
  if (!(error instanceof CapyDBError) || error.kind !== "http" || (error.status !== 403 && error.status !== 404)) return error;
  try {
    await ensureProject(ctx, projectId, name, deadline);
  } catch (refused) {
    if (refused instanceof ProjectAccessError) return refused;
  }
  return error;
}

/**
 * GET /v1/projects/{id}: a key scoped to another project (403) or a project that does not exist (404)
 * fails naming the project and the key's scope. Like the scope check, only a definite answer is
 * remembered, and other trouble is logged and left to the operation's own calls.
 */
function ensureProject(ctx: OperationContext, projectId: string, name: string, deadline: number): Promise<void> {
  const client = ctx.client;
  let byProject = projectsChecked.get(client);
  if (!byProject) projectsChecked.set(client, (byProject = new Map()));
  let pending = byProject.get(projectId);
  if (!pending) {
    pending = checkProject(ctx, projectId, name, deadline).then((definite) => {
      if (!definite) byProject!.delete(projectId);
    }, (error) => {
      if (!(error instanceof ProjectAccessError) && !(error instanceof CapyDBError && error.isAuth && error.status === 401)) byProject!.delete(projectId);
      throw error;
    });
    byProject.set(projectId, pending);
  }
  return pending;
}

async function checkProject(ctx: OperationContext, projectId: string, name: string, deadline: number): Promise<boolean> {
  try {
    // Loaded here, not at the top, like MeResponse: only needed once an API call is made.
    const [{ apiPath }, { ProjectResponse }] = await Promise.all([import("./client"), import("./schemas")]);
    const answer = await ctx.client.call("GET", apiPath`/v1/projects/${projectId}`, ProjectResponse, undefined, { deadline });
    // The same answer gives the preview's postgresVersion and region: no second read of the project.
    await seedProjectFacts(ctx.client, projectId, answer);
    return true;
  } catch (error) {
    if (error instanceof CapyDBError && error.kind === "http" && (error.status === 403 || error.status === 404)) {
      throw new ProjectAccessError(projectId, error.status, error.serverMessage, keyScope(principals.get(ctx.client), projectId), name);
    }
    if (error instanceof CapyDBError && (error.isAuth || error.notSent)) throw error;
    ctx.log.info(`create ${name}: could not check project ${projectId} (${error instanceof Error ? error.message : String(error)}); going on`);
    return false;
  }
}

function keyScope(principal: { scopes?: string[] | null; projectId?: string | null } | undefined, projectId: string): string {
  if (!principal) return "GET /v1/me did not say what the key may use";
  const project = !principal.projectId
    ? "the key is not scoped to one project"
    : principal.projectId === projectId
      ? `the key is scoped to project ${principal.projectId}`
      : `the key is scoped to another project, ${principal.projectId}`;
  const scopes = principal.scopes && principal.scopes.length > 0 ? `, with ${principal.scopes.slice(0, 20).join(", ")}` : "";
  return `${project}${scopes} (GET /v1/me)`;
}
