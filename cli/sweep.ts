/**
 * `pulumi-capydb sweep`: deletes pull-request previews that every other safeguard missed (a close
 * event lost, a stack removed with --force). The TTL would get them eventually; this gets them now.
 *
 * It only ever considers names of the branch pattern, `pr-<number>` optionally followed by
 * `-<more>` (what `previewNameForStack("pr-42")` and the auto-name of a resource in stack pr-42
 * give). Every other name, branch-push stacks included, is left alone: nothing distinguishes them
 * from a project's other previews. Dry run unless `--delete` is given.
 */
import { CapyDBClient } from "../provider/client";
import { Clock } from "../provider/clock";
import { operationContext } from "../provider/context";
import { parseDuration } from "../provider/duration";
import { formatHours } from "../provider/keep-alive";
import { formatElapsed, LogSink } from "../provider/log";
import { deletePreviewAndWait } from "../provider/operations/delete";
import { redact } from "../provider/redact";
import { PreviewDatabase } from "../provider/schemas";

/** `pr-<number>`, then optionally `-<suffix>`: the names the sweeper may touch. */
export const BRANCH_PREVIEW_PATTERN = /^pr-([1-9][0-9]*)(?:-[a-z0-9]+)*$/;
export const BRANCH_PATTERN_TEXT = "pr-<number>[-…]";
/** How long one delete may take before the sweeper reports it and moves on. */
const DELETE_TIMEOUT_MS = 20 * 60_000;

export class UsageError extends Error {
  override name = "UsageError";
}

export interface SweepOptions {
  projectId: string;
  /** Stacks (`pr-41`) or preview names to keep. */
  keep: string[];
  olderThanMs?: number;
  dryRun: boolean;
}

export const SWEEP_USAGE = `Usage: pulumi-capydb sweep --project <prj_…> --keep <pr-41,pr-42,…> [--older-than <24h>] [--dry-run | --delete]

Lists (dry run, the default) or deletes (--delete) the project's previews whose names match the
branch pattern ${BRANCH_PATTERN_TEXT} and whose stack is not kept. Names outside the pattern are never touched.

  --project      CapyDB project id (default: $CAPYDB_PROJECT_ID)
  --keep         stacks (pr-<number>) or preview names to keep, comma-separated or repeated;
                 required: pass --keep "" to keep none
  --older-than   only previews created longer ago than this ("24h", "90m", "7d")
  --dry-run      only say what would be deleted (the default)
  --delete       delete them

Credentials: CAPYDB_API_KEY (required), CAPYDB_API_URL (default https://capydb.dev/api/capydb).`;

/** The stack a pattern name belongs to (`pr-42-db-1a2b3c` → `pr-42`), or undefined outside the pattern. */
export function branchStackOf(name: string): string | undefined {
  const match = BRANCH_PREVIEW_PATTERN.exec(name);
  return match ? `pr-${match[1]}` : undefined;
}

function parseAge(text: string): number | undefined {
  const days = /^(\d+)d$/.exec(text.trim());
  if (days) return Number(days[1]) * 24 * 3_600_000;
  return parseDuration(text);
}

export function parseSweepArgs(args: string[], env: NodeJS.ProcessEnv): SweepOptions {
  let projectId: string | undefined;
  let keep: string[] | undefined;
  let olderThanMs: number | undefined;
  let dryRun: boolean | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= args.length) throw new UsageError(`${flag} needs a value.`);
      return args[++i];
    };
    switch (flag) {
      case "--project":
        projectId = value().trim();
        break;
      case "--keep":
        keep = [...(keep ?? []), ...value().split(",").map((s) => s.trim()).filter(Boolean)];
        break;
      case "--older-than": {
        const text = value();
        olderThanMs = parseAge(text);
        if (olderThanMs === undefined) throw new UsageError(`--older-than must be a duration such as "24h", "90m" or "7d", got ${JSON.stringify(text)}.`);
        break;
      }
      case "--dry-run":
      case "--delete": {
        const wantsDryRun = flag === "--dry-run";
        if (dryRun !== undefined && dryRun !== wantsDryRun) throw new UsageError("Give either --dry-run or --delete, not both.");
        dryRun = wantsDryRun;
        break;
      }
      default:
        throw new UsageError(`Unknown argument ${JSON.stringify(arg)}.`);
    }
  }
  projectId = projectId || env.CAPYDB_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("--project is required (or set CAPYDB_PROJECT_ID): the CapyDB project to sweep, e.g. prj_123.");
  if (keep === undefined) {
    throw new UsageError('--keep is required: the stacks still alive, e.g. --keep pr-41,pr-42 (open pull requests); --keep "" keeps none.');
  }
  const stray = keep.filter((k) => branchStackOf(k) === undefined);
  if (stray.length > 0) {
    throw new UsageError(
      `--keep takes stacks or preview names of the pattern ${BRANCH_PATTERN_TEXT} (e.g. pr-41), got ${stray.map((s) => JSON.stringify(s)).join(", ")}.`,
    );
  }
  return { projectId, keep, olderThanMs, dryRun: dryRun ?? true };
}

export type SweepAction = "delete" | "keep" | "ignore";

export interface SweepDecision {
  preview: PreviewDatabase;
  action: SweepAction;
  reason: string;
}

/** Pure: what to do with each listed preview. */
export function planSweep(previews: PreviewDatabase[], opts: SweepOptions, now: number): SweepDecision[] {
  const keep = new Set(opts.keep);
  return previews.map((preview) => {
    const stack = branchStackOf(preview.name);
    if (!stack) return { preview, action: "ignore", reason: `outside the branch pattern ${BRANCH_PATTERN_TEXT}` };
    if (preview.state === "deleting") return { preview, action: "ignore", reason: "already being deleted" };
    if (keep.has(stack) || keep.has(preview.name)) return { preview, action: "keep", reason: `stack ${stack} is in --keep` };
    const created = preview.created_at ? Date.parse(preview.created_at) : NaN;
    const age = Number.isNaN(created) ? undefined : now - created;
    if (opts.olderThanMs !== undefined) {
      if (age === undefined) return { preview, action: "keep", reason: "creation time unknown, so not provably older than --older-than" };
      if (age < opts.olderThanMs) {
        return { preview, action: "keep", reason: `created ${formatHours(age)} ago, not older than ${formatHours(opts.olderThanMs)}` };
      }
    }
    const ageText = age === undefined ? "" : `created ${formatHours(age)} ago, `;
    return { preview, action: "delete", reason: `${ageText}stack ${stack} is not in --keep` };
  });
}

export interface SweepDeps {
  client: CapyDBClient;
  clock: Clock;
  /** One progress line per preview, then a summary. */
  out: (line: string) => void;
  /** The delete waiter's own progress lines (job states). */
  sink: LogSink;
}

export interface SweepSummary {
  deleted: number;
  wouldDelete: number;
  kept: number;
  ignored: number;
  failed: number;
}

export async function runSweep(opts: SweepOptions, deps: SweepDeps): Promise<SweepSummary> {
  const { client, clock, out } = deps;
  const ctx = operationContext({ client, clock, sink: deps.sink });
  const previews = await client.listPreviews(opts.projectId);
  const decisions = planSweep(previews, opts, clock.now());
  out(
    `sweep ${opts.projectId}: ${previews.length} preview${previews.length === 1 ? "" : "s"} listed; ` +
      `keeping ${opts.keep.length ? opts.keep.join(", ") : "no stack"}` +
      `${opts.olderThanMs !== undefined ? `, only older than ${formatHours(opts.olderThanMs)}` : ""}; ` +
      (opts.dryRun ? "dry run (pass --delete to delete)" : "deleting"),
  );
  const summary: SweepSummary = { deleted: 0, wouldDelete: 0, kept: 0, ignored: 0, failed: 0 };
  for (const { preview, action, reason } of decisions) {
    const who = `${preview.name} (${preview.id})`;
    if (action === "ignore") {
      summary.ignored++;
      out(`ignore ${who}: ${reason}`);
    } else if (action === "keep") {
      summary.kept++;
      out(`keep ${who}: ${reason}`);
    } else if (opts.dryRun) {
      summary.wouldDelete++;
      out(`would delete ${who}: ${reason}`);
    } else {
      const started = clock.now();
      try {
        await deletePreviewAndWait(ctx, opts.projectId, preview.id, started + DELETE_TIMEOUT_MS, `sweep ${preview.name}`);
        summary.deleted++;
        out(`deleted ${who} in ${formatElapsed(clock.now() - started)}: ${reason}`);
      } catch (error) {
        summary.failed++;
        out(redact(`FAILED to delete ${who}: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
  }
  const acted = opts.dryRun ? `${summary.wouldDelete} would be deleted` : `${summary.deleted} deleted, ${summary.failed} failed`;
  out(`sweep done: ${acted}, ${summary.kept} kept, ${summary.ignored} ignored`);
  return summary;
}
