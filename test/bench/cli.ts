import * as fs from "fs";
import * as path from "path";
import { startControlPlane, type ControlPlane, type RequestLogEntry } from "../control-plane";
import { CliStack } from "../cli/cli-stack";
import { locatePulumiCli } from "../pulumi/cli";
import { seeded } from "../helpers/seeded-random";

/**
 * The user's view (issue 16): the real Pulumi CLI on the real clock, one stack of N previews against
 * the local control plane with added latency, a rate limit and jittered job lengths. Phases: create,
 * no-op up, `up --refresh`, a TTL change (N extends), destroy. Side by side, with the same CLI and
 * parallelism: this version, the same program with N no-op dynamic resources (the engine's own
 * time for the same steps), and, for create and destroy (the phases with jobs to wait for), the same
 * provider code polling every 5 s (the CapyDB Terraform provider's schedule). Every command is timed
 * whole, CLI start-up included. BENCH_CLI_LOG=<file> writes every phase's request log there.
 */
const PROGRAM = path.resolve(__dirname, "..", "..", "..", "test", "bench", "cli-program");

export interface CliSettings {
  counts: number[];
  /** undefined: the CLI's default (4 × cores); otherwise `--parallel <n>`. */
  parallels: (number | undefined)[];
  jobMs: number;
  latencyMs: number;
  rate: number;
  seed: number;
  /** Also run the no-op program (the engine column); the smoke run skips it. */
  engine: boolean;
  /** Also run create and destroy polling every 5 s (the fixed-5 s column). */
  fixed5: boolean;
  /**
   * Runs of each short phase (no-op up, up --refresh, TTL change) per stack; the row gives the median
   * run. Those phases last a few seconds, mostly the engine's own time, so one run's noise decides
   * their ratio to the engine column; create and destroy run once.
   */
  shortRepeats?: number;
}

export const PHASES = ["create", "no-op up", "up --refresh", "TTL change", "destroy"] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseResult {
  ms: number;
  engineMs: number;
  /** The same phase polling every 5 s: its time and its calls (create and destroy only). */
  fixed5?: { ms: number; calls: number; limited: number };
  floorMs: number;
  calls: Record<string, number>;
  limited: number;
  ok: boolean;
  /** This version's first and last request, ms after its command started (undefined: none). */
  firstRequestMs?: number;
  lastRequestMs?: number;
}

export interface CliRow {
  count: number;
  parallel: number | undefined;
  phases: Partial<Record<Phase, PhaseResult>>;
}

/** Calls by kind, as the request log shows them. */
export function kindOf(r: Pick<RequestLogEntry, "method" | "path">): string {
  if (r.path === "/v1/me") return "me";
  if (r.method === "GET" && /\/preview-databases$/.test(r.path)) return "list";
  if (r.method === "GET" && /\/connections$/.test(r.path)) return "urls";
  if (r.method === "GET" && /^\/v1\/projects\/[^/]+$/.test(r.path)) return "project";
  if (r.method === "GET" && /^\/v1\/jobs\//.test(r.path)) return "job";
  if (r.method === "POST" && /\/preview-databases$/.test(r.path)) return "create";
  if (r.method === "POST" && /\/extend$/.test(r.path)) return "extend";
  if (r.method === "DELETE") return "delete";
  return `${r.method} other`;
}

/**
 * The floor of a phase: its API work alone, with nothing else in the way: the longest job plus the
 * round trips one operation needs, or all the calls it must make at the key's rate, whichever is longer.
 */
function floorMs(phase: Phase, n: number, jobs: number[], s: CliSettings): number {
  // One create's round trips: the key's scopes, the POST, the poll that sees its job done, the URLs.
  const perOp: Record<Phase, number> = { create: 4, "no-op up": 0, "up --refresh": 1, "TTL change": 1, destroy: 2 };
  const withJob = phase === "create" || phase === "destroy";
  // The key's scopes and the project (postgresVersion, region; read during the first job) are read once
  // per process, not per create: n creates make at least 3n + 2 calls.
  const calls = phase === "up --refresh" ? 1 : phase === "create" ? 3 * n + 2 : n * perOp[phase];
  const serial = (withJob ? Math.max(0, ...jobs) : 0) + perOp[phase] * s.latencyMs;
  return Math.max(serial, (calls * 1000) / s.rate);
}

async function timedCommand(stack: CliStack, args: string[]): Promise<{ ms: number; ok: boolean; startedAt: number }> {
  const startedAt = Date.now();
  const result = await stack.run(args);
  if (result.code !== 0) process.stderr.write(`[bench cli] pulumi ${args.join(" ")} failed:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}\n`);
  return { ms: Date.now() - startedAt, ok: result.code === 0, startedAt };
}

/** What one stack runs: this version, the no-op resources, or this version polling every 5 s (create and destroy only). */
type Variant = "capydb" | "noop" | "fixed5";
type PhaseRun = { ms: number; ok: boolean; startedAt: number; requests: RequestLogEntry[] };

/** Runs the phases on one fresh stack: all five, or create and destroy for the fixed-5 s variant. */
async function runStack(cp: ControlPlane, n: number, parallel: number | undefined, variant: Variant, repeats = 1): Promise<Partial<Record<Phase, PhaseRun>>> {
  const cli = locatePulumiCli();
  if (!cli) throw new Error("no Pulumi CLI: run `npm run pulumi:cli`");
  const stack = new CliStack(cli, PROGRAM, `bench-${variant}-${n}-${parallel ?? "default"}-${Date.now()}`, { CAPYDB_API_URL: cp.url, CAPYDB_READINESS: "job" });
  const par = parallel === undefined ? [] : ["--parallel", String(parallel)];
  const up = ["up", "--yes", "--skip-preview", "--non-interactive", ...par];
  const out: Partial<Record<Phase, PhaseRun>> = {};
  try {
    await stack.init();
    await stack.config("capydb-bench:count", String(n));
    await stack.config("capydb-bench:projectId", cp.projectId);
    await stack.config("capydb-bench:noop", String(variant === "noop"));
    if (variant === "fixed5") await stack.config("capydb-bench:strategy", "fixed5");
    await stack.config("capydb:apiKey", cp.projectScopedKey, true);
    const phase = async (name: Phase, args: string[], runs = 1, before?: (run: number) => Promise<void>) => {
      const all: PhaseRun[] = [];
      for (let run = 0; run < runs; run++) {
        await before?.(run);
        cp.clearRequests();
        const timed = await timedCommand(stack, args);
        all.push({ ...timed, requests: cp.requests() });
      }
      // The median run by time, with its own requests.
      out[name] = [...all].sort((a, b) => a.ms - b.ms)[Math.floor((all.length - 1) / 2)];
    };
    await phase("create", up);
    if (variant !== "fixed5") {
      await phase("no-op up", up, repeats);
      // As users type it: with its preview, so the refresh runs in both passes.
      await phase("up --refresh", ["up", "--refresh", "--yes", "--non-interactive", ...par], repeats);
      // Each run a new TTL (48, 72, 96 h …): every run is a change.
      await phase("TTL change", up, repeats, async (run) => {
        await stack.config("capydb-bench:ttlHours", String(48 + 24 * run));
      });
    }
    await phase("destroy", ["destroy", "--yes", "--skip-preview", "--non-interactive", ...par]);
  } finally {
    await stack.run(["stack", "rm", "--yes", "--force", stack.stack]).catch(() => undefined);
    stack.remove();
  }
  return out;
}

export async function cliRun(s: CliSettings, progress: (m: string) => void): Promise<CliRow[]> {
  const random = seeded(s.seed);
  const lengths = new Map<string, number>();
  const jobLength = (job: { kind: string; previewName: string }) => {
    const key = `${job.kind}:${job.previewName}`;
    if (!lengths.has(key)) lengths.set(key, Math.round(s.jobMs * (0.8 + 0.4 * random())));
    return lengths.get(key)!;
  };
  const rows: CliRow[] = [];
  for (const n of s.counts) {
    for (const parallel of s.parallels) {
      const cp = await startControlPlane({ jobProgression: "time", previewLimit: 100_000, jobDurationMs: jobLength });
      try {
        cp.faults.inject({ delayMs: s.latencyMs, times: 1e9 });
        cp.faults.rateLimit({ budget: s.rate, retryAfterSeconds: 1 });
        progress(`CLI: N = ${n}, parallel ${parallel ?? "default"}: this version`);
        const ours = await runStack(cp, n, parallel, "capydb", s.shortRepeats);
        if (s.engine) progress(`CLI: N = ${n}, parallel ${parallel ?? "default"}: no-op dynamic resources`);
        const engine = s.engine ? await runStack(cp, n, parallel, "noop", s.shortRepeats) : {};
        if (s.fixed5) progress(`CLI: N = ${n}, parallel ${parallel ?? "default"}: polling every 5 s (create, destroy)`);
        const fixed5 = s.fixed5 ? await runStack(cp, n, parallel, "fixed5") : {};
        if (process.env.BENCH_CLI_LOG) {
          const dump = (runs: Partial<Record<Phase, PhaseRun>>) =>
            Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, { ms: r.ms, ok: r.ok, requests: r.requests.map((q) => ({ t: q.wallAt - r.startedAt, kind: kindOf(q), status: q.status })) }]));
          fs.appendFileSync(process.env.BENCH_CLI_LOG, JSON.stringify({ n, parallel, ours: dump(ours), engine: dump(engine), fixed5: dump(fixed5) }) + "\n");
        }
        const row: CliRow = { count: n, parallel, phases: {} };
        for (const phase of PHASES) {
          const o = ours[phase];
          if (!o) continue;
          const calls: Record<string, number> = {};
          for (const r of o.requests) calls[kindOf(r)] = (calls[kindOf(r)] ?? 0) + 1;
          const kind = phase === "destroy" ? "delete" : "create";
          const jobs = phase === "create" || phase === "destroy" ? [...lengths.entries()].filter(([k]) => k.startsWith(`${kind}:`)).map(([, v]) => v) : [];
          const f = fixed5[phase];
          row.phases[phase] = {
            ms: o.ms,
            engineMs: engine[phase]?.ms ?? NaN,
            ...(f ? { fixed5: { ms: f.ms, calls: f.requests.length, limited: f.requests.filter((r) => r.status === 429).length } } : {}),
            floorMs: floorMs(phase, n, jobs, s),
            calls,
            limited: o.requests.filter((r) => r.status === 429).length,
            ok: o.ok && (engine[phase]?.ok ?? true) && (f?.ok ?? true),
            ...(o.requests.length
              ? { firstRequestMs: Math.min(...o.requests.map((r) => r.wallAt)) - o.startedAt, lastRequestMs: Math.max(...o.requests.map((r) => r.wallAt)) - o.startedAt }
              : {}),
          };
        }
        rows.push(row);
      } finally {
        await cp.close();
      }
    }
  }
  return rows;
}

const sec = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "–");

/** Every phase that ran, row by row, in the tables' order, with its calls in all. */
function phasesRun(rows: CliRow[]): { row: CliRow; phase: Phase; p: PhaseResult; total: number }[] {
  return rows.flatMap((row) =>
    PHASES.flatMap((phase) => {
      const p = row.phases[phase];
      return p ? [{ row, phase, p, total: Object.values(p.calls).reduce((a, b) => a + b, 0) }] : [];
    }),
  );
}

export function cliMarkdown(rows: CliRow[], s: CliSettings): string[] {
  const lines = [
    `Real CLI (\`.pulumi-cli/bin/pulumi\`, \`up --yes --skip-preview\` except \`up --refresh --yes\` with its preview), real clock, ` +
      `local control plane with ${s.latencyMs} ms added to every request, ${s.rate} requests/s per key (429 + Retry-After: 1), ` +
      `jobs ${s.jobMs / 1000} s ± 20 % (seeded). Each command timed whole, CLI start-up included; ` +
      `${(s.shortRepeats ?? 1) > 1 ? `no-op up, \`up --refresh\` and the TTL change: the median of ${s.shortRepeats} runs on the stack (each TTL change a new value), create and destroy: one run` : "one run per phase"}. "engine" = the same program ` +
      "with N no-op dynamic resources; floor = the API work alone (longest job + one operation's round trips, or all the calls no client " +
      "can avoid at the rate limit: 3 per create (POST, one poll, the URLs), one scopes read and one project read, 2 per delete, 1 per extend, 1 list per refresh). " +
      "\"fixed 5 s\" = the same provider code polling jobs every 5 s (the CapyDB Terraform provider's schedule), through a dynamic " +
      "provider in the program that hands that schedule to `createProvider` (test/bench/cli-program): create and destroy only, " +
      "the phases with jobs to wait for; its time, calls and 429s.",
    "",
    "| N | --parallel | phase | this version | fixed 5 s | engine | floor | ÷ (engine + floor) | calls by kind | 429s |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const { row, phase, p, total } of phasesRun(rows)) {
    const kinds = Object.entries(p.calls).sort().map(([k, v]) => `${k} ${v}`).join(", ") || "none";
    lines.push(
      `| ${row.count} | ${row.parallel ?? "default"} | ${phase} | ${sec(p.ms)}${p.ok ? "" : " (failed)"} | ` +
        `${p.fixed5 ? `${sec(p.fixed5.ms)} (${p.fixed5.calls} calls, ${p.fixed5.limited} 429s)` : "–"} | ${sec(p.engineMs)} | ${sec(p.floorMs)} | ` +
        `${Number.isFinite(p.engineMs) ? `${(p.ms / (p.engineMs + p.floorMs)).toFixed(2)} ×` : "–"} | ${total}: ${kinds} | ${p.limited} |`,
    );
  }
  const largest = rows.filter((r) => r.count === Math.max(...rows.map((x) => x.count)));
  lines.push(
    "",
    `Where this version's time goes, N = ${largest[0]?.count ?? "–"}: from the command's start to the first request (CLI, program, ` +
      "plugin start-up, and the engine's steps before it), the span of the requests (the API work, bound by the key's rate), and " +
      "after the last request (the engine finishing); the rate is the calls of the span per second.",
    "",
    "| --parallel | phase | command | to the first request | request span | after the last | calls / s in the span | 429s |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const { row, phase, p, total } of phasesRun(largest)) {
    if (p.firstRequestMs === undefined || p.lastRequestMs === undefined) continue;
    const span = p.lastRequestMs - p.firstRequestMs;
    lines.push(
      `| ${row.parallel ?? "default"} | ${phase} | ${sec(p.ms)} | ${sec(p.firstRequestMs)} | ${sec(span)} | ${sec(p.ms - p.lastRequestMs)} | ` +
        `${span > 0 ? (total / (span / 1000)).toFixed(1) : "–"} | ${p.limited} |`,
    );
  }
  return lines;
}

/** For `npm run bench:cli` alone: prints the table. */
if (require.main === module) {
  const smoke = process.argv.includes("--smoke");
  const counts = (process.env.BENCH_CLI_COUNTS ?? (smoke ? "1" : "1,10,50")).split(",").map(Number);
  const parallels = (process.env.BENCH_CLI_PARALLEL ?? (smoke ? "default" : "default,64")).split(",").map((p) => (p === "default" ? undefined : Number(p)));
  const settings: CliSettings = { counts, parallels, jobMs: smoke ? 1_000 : 5_000, latencyMs: 20, rate: 10, seed: 1, engine: !smoke && process.env.BENCH_CLI_ENGINE !== "0", fixed5: !smoke && process.env.BENCH_CLI_FIXED5 !== "0" };
  cliRun(settings, (m) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`)).then(
    (rows) => {
      const text = cliMarkdown(rows, settings).join("\n");
      console.log(text);
      if (process.env.BENCH_CLI_OUT) fs.writeFileSync(process.env.BENCH_CLI_OUT, text + "\n");
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
