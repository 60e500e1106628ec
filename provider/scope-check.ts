import { CapyDBClient } from "./client";
import { OperationContext } from "./context";
import { CapyDBError } from "./errors";

/** What a preview's whole life needs (capydb-api.md §1.2): list, create/extend/reset/delete, URLs, job polls. */
export const REQUIRED_SCOPES = ["projects:read", "projects:write", "credentials:read", "jobs:read"] as const;

export class MissingScopesError extends Error {
  constructor(readonly missing: string[], readonly granted: string[], name: string) {
    super(
      `The CapyDB API key lacks the ${plural(missing.length, "scope")} ${missing.map((s) => `\`${s}\``).join(", ")} ` +
        `that preview "${name}" needs (GET /v1/me lists: ${granted.slice(0, 20).join(", ")}). Nothing was created. ` +
        `Use a key with ${REQUIRED_SCOPES.join(", ")}: create a project-scoped API key for this project in CapyDB ` +
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
export function missingScopes(granted: readonly string[] | null | undefined): string[] {
  if (!granted || granted.length === 0 || granted.includes("*")) return [];
  return REQUIRED_SCOPES.filter((s) => !granted.includes(s));
}

// Once per process per key: the provider keeps one client per key, so the client is the cache key.
const checked = new WeakMap<CapyDBClient, Promise<void>>();

/**
 * Before the first write: GET /v1/me and fail, naming the missing scope, if the key could create a
 * preview but not see it through (a key without jobs:read would otherwise leave one behind).
 * A rejected key (401/403) fails here too; any other trouble with /v1/me is reported and the create
 * goes on, since the create's own calls will say what is wrong.
 */
export function ensureScopes(ctx: OperationContext, name: string, deadline: number): Promise<void> {
  let pending = checked.get(ctx.client);
  if (!pending) {
    const client = ctx.client;
    // Only a definite answer is remembered: after trouble with /v1/me the next create asks again.
    pending = checkScopes(ctx, name, deadline).then(
      (definite) => {
        if (!definite) checked.delete(client);
      },
      (error) => {
        if (!(error instanceof MissingScopesError) && !(error instanceof CapyDBError && error.isAuth)) checked.delete(client);
        throw error;
      },
    );
    checked.set(client, pending);
  }
  return pending;
}

/** true when the key's scopes were seen (and suffice); false when /v1/me could not tell. */
async function checkScopes(ctx: OperationContext, name: string, deadline: number): Promise<boolean> {
  let granted: string[] | null | undefined;
  try {
    // Loaded here, not at the top: zod's schemas are only needed once an API call is made (issue 16).
    const { MeResponse } = await import("./schemas");
    const me = await ctx.client.call("GET", "/v1/me", MeResponse, undefined, { deadline });
    granted = me.principal?.scopes;
  } catch (error) {
    if (error instanceof CapyDBError && error.isAuth) throw error;
    ctx.log.info(`create ${name}: could not check the API key's scopes (${error instanceof Error ? error.message : String(error)}); going on`);
    return false;
  }
  const missing = missingScopes(granted);
  if (missing.length > 0) throw new MissingScopesError(missing, granted ?? [], name);
  return true;
}
