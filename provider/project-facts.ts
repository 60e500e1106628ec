import type { CapyDBClient } from "./client";
import { OperationContext } from "./context";
import type { Outputs } from "./outputs";
import type { RequestPriority } from "./request-budget";

/**
 * Project facts every preview of a project shares (E2 `GET /v1/projects/{id}`): the Postgres major it
 * runs and the project's region. Outputs, not inputs: they describe the database, they ask nothing.
 */
export const PROJECT_OUTPUT_FIELDS = [
  ["postgresVersion", "postgres_version"],
  ["region", "region"],
] as const;

export type ProjectFacts = { postgresVersion: string | null; region: string | null };

/** The two fields read of E2's project (schemas.ts ProjectFactsResponse); the rest is ignored. */
type ProjectFactsAnswer = { postgres_version?: string | number | null; region?: string | null };

const NO_FACTS: ProjectFacts = { postgresVersion: null, region: null };

// Once per process per key and project: the provider keeps one client per key, so the client is the cache key.
const cache = new WeakMap<CapyDBClient, Map<string, Promise<ProjectFacts>>>();

/**
 * The project's facts, read once per process per project. Never fails the operation that asks: a
 * project the key cannot read would fail that operation's own calls, and facts are worth no failure.
 * Trouble is logged and answered with nulls, and only a complete answer is remembered (a project still
 * provisioning has no `postgres_version` yet), so the next operation asks again.
 */
export function projectFacts(
  ctx: OperationContext,
  projectId: string,
  deadline: number,
  label: string,
  /** Of the request, if one is sent (request-budget.ts): a create asks early, at "shareable", and waits later. */
  priority: RequestPriority = "progress",
): Promise<ProjectFacts> {
  const client = ctx.client;
  let byProject = cache.get(client);
  if (!byProject) cache.set(client, (byProject = new Map()));
  let pending = byProject.get(projectId);
  if (!pending) {
    const forget = () => byProject!.get(projectId) === pending && byProject!.delete(projectId);
    pending = readFacts(ctx, projectId, deadline, priority).then(
      (facts) => {
        if (facts.postgresVersion === null || facts.region === null) forget();
        return facts;
      },
      (error) => {
        forget();
        ctx.log.info(`${label}: could not read project ${projectId} for postgresVersion and region (${error instanceof Error ? error.message : String(error)}); leaving them null`);
        return NO_FACTS;
      },
    );
    byProject.set(projectId, pending);
  }
  return pending;
}

/**
 * Another reader of `GET /v1/projects/{id}` in this process (the project check before a write) hands
 * its answer over, so the facts need no second request. Only a complete answer is kept.
 */
export async function seedProjectFacts(client: CapyDBClient, projectId: string, answer: unknown): Promise<void> {
  // Loaded here, not at the top: zod is only needed once an API call is made (issue 16).
  const { ProjectFactsResponse } = await import("./schemas");
  const parsed = ProjectFactsResponse.safeParse(answer);
  if (!parsed.success) return;
  const facts = factsOf(parsed.data.project);
  if (facts.postgresVersion === null || facts.region === null) return;
  let byProject = cache.get(client);
  if (!byProject) cache.set(client, (byProject = new Map()));
  byProject.set(projectId, Promise.resolve(facts));
}

async function readFacts(ctx: OperationContext, projectId: string, deadline: number, priority: RequestPriority): Promise<ProjectFacts> {
  const [{ apiPath }, { ProjectFactsResponse }] = await Promise.all([import("./client"), import("./schemas")]);
  const { project } = await ctx.client.call("GET", apiPath`/v1/projects/${projectId}`, ProjectFactsResponse, undefined, { deadline, priority });
  return factsOf(project);
}

function factsOf(project: ProjectFactsAnswer): ProjectFacts {
  const version = project.postgres_version;
  return {
    postgresVersion: version === undefined || version === null || version === "" ? null : String(version),
    region: project.region ? project.region : null,
  };
}

/** The facts as outputs; state written before they existed reads them as null. */
export function factOutputs(facts: ProjectFacts | undefined): Outputs {
  return { postgresVersion: facts?.postgresVersion ?? null, region: facts?.region ?? null };
}
