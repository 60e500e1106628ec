import { cliMarkdown, CliRow, cliRun, CliSettings } from "./cli";
import { FixedCost, fixedCostRun } from "./fixed-cost";
import { LatenessRow, latenessRun } from "./lateness";
import { manyRunnersRun, MIN_CALLS, PhaseFigures, RunnersSettings } from "./many-runners";
import { modelRows, ModelSummary, ORACLE_UTILISATION } from "./shared-key-model";
import { growingIntervalMs } from "../../provider/poll-schedule";
import type { Target } from "./report";
import { issue10IntervalMs } from "./strategies";

/**
 * The benchmark's section for issue 16, performance as users see it: the real CLI, many runners
 * sharing one key, and what every plugin launch costs. Its own markdown section of BENCHMARKS.md,
 * with every target of the issue marked met, not met, or not measured (and why).
 */
export interface UserViewSettings {
  cli: CliSettings;
  runners: RunnersSettings;
  /** Many-runners runs (seeds runners.seed, +1, …): each phase's figures are those of its median run by wall time. */
  runnerRuns: number;
  /** Seeds of the virtual-time model (shared-key-model.ts) run beside it: milliseconds each. */
  modelSeeds: number;
  fixedCostRuns: number;
  /** Job lengths for the real-clock lateness run: one process each, all at once, no rate limit. */
  latenessMs: number[];
}

export const USER_VIEW_FULL: UserViewSettings = {
  cli: { counts: [1, 10, 50], parallels: [undefined, 64], jobMs: 5_000, latencyMs: 20, rate: 10, seed: 1, engine: true, fixed5: true, shortRepeats: 3 },
  runners: { k: 20, rate: 10, jobMs: 5_000, latencyMs: 20, seed: 1 },
  runnerRuns: 3,
  modelSeeds: 50,
  fixedCostRuns: 5,
  // Evenly spread, with steps that are not near multiples of the schedule's gaps (0.7 s, 2.2 s): lengths
  // 15.6 s apart, 7.09 gaps of 2.2 s, all ended just after a poll and measured the worst phase, not the mean.
  latenessMs: [
    ...Array.from({ length: 12 }, (_, i) => Math.round(1_300 + i * 1_700)),
    ...Array.from({ length: 12 }, (_, i) => Math.round(30_300 + i * 7_900)),
  ],
};

export const USER_VIEW_SMOKE: UserViewSettings = {
  cli: { counts: [1], parallels: [undefined], jobMs: 1_000, latencyMs: 20, rate: 10, seed: 1, engine: false, fixed5: true },
  runners: { k: 3, rate: 10, jobMs: 1_000, latencyMs: 20, seed: 1 },
  runnerRuns: 1,
  modelSeeds: 2,
  fixedCostRuns: 1,
  latenessMs: [1_300, 2_100],
};

export interface UserView {
  cli: CliRow[];
  /** Each phase from its median run by wall time. */
  runners: { create: PhaseFigures; delete?: PhaseFigures };
  /** Every run, in seed order. */
  runnerRuns: { create: PhaseFigures; delete?: PhaseFigures }[];
  /** The model's rows: this provider, and the fair-share oracle with this and the earlier create flow. */
  model: ModelSummary[];
  fixedCost: FixedCost[];
  /** Per job length: how late its create noticed the end, and the polls it took (lateness.ts). */
  lateness: LatenessRow[];
}

export async function userViewRun(s: UserViewSettings, progress: (m: string) => void): Promise<UserView> {
  progress(`fixed cost: loading the provider and the plugin's peak RSS, ${s.fixedCostRuns} run(s)`);
  const fixedCost: FixedCost[] = [];
  for (let r = 0; r < s.fixedCostRuns; r++) fixedCost.push(await fixedCostRun({ jobMs: 300 }));
  const runnerRuns: UserView["runnerRuns"] = [];
  for (let r = 0; r < s.runnerRuns; r++) {
    progress(`many runners, run ${r + 1} of ${s.runnerRuns}: ${s.runners.k} processes, one key at ${s.runners.rate} requests/s`);
    runnerRuns.push(await manyRunnersRun({ ...s.runners, seed: s.runners.seed + r }));
  }
  const medianRun = (phase: "create" | "delete") => {
    const runs = runnerRuns.map((run) => run[phase]).filter((p): p is PhaseFigures => p !== undefined);
    return runs.length ? [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((runs.length - 1) / 2)] : undefined;
  };
  const runners = { create: medianRun("create")!, delete: medianRun("delete") };
  const model = await modelRows({ processes: s.runners.k, rate: s.runners.rate, jobMs: s.runners.jobMs, latencyMs: s.runners.latencyMs }, s.modelSeeds);
  progress(`job lateness on the real clock: ${s.latenessMs.length} creates at once, jobs of ${s.latenessMs.map((m) => (m / 1000).toFixed(1)).join(", ")} s`);
  const lateness = await latenessRun({ lengthsMs: s.latenessMs, latencyMs: s.runners.latencyMs });
  const cli = await cliRun(s.cli, progress);
  return { cli, runners, runnerRuns, model, fixedCost, lateness };
}

/**
 * One lone wait played on a timeline, as in test/unit/poll-schedule.test.ts: polls sent and how late the
 * end was noticed, for a job ending `endMs` after the wait began, each answer taking `rttMs`.
 */
function lonePlay(interval: (elapsedMs: number, polls: number) => number, endMs: number, rttMs = 20): { polls: number; lateMs: number } {
  let t = 0;
  for (let polls = 0; ; polls++) {
    t += interval(t, polls) + rttMs;
    if (t >= endMs) return { polls: polls + 1, lateMs: t - endMs };
  }
}

/** The schedule's price, computed from the two fallback intervals: polls per lone job, and mean lateness. */
function schedulePrice(): string[] {
  const lengthsS = [1, 5, 10, 13, 15, 20, 30, 60, 120, 300];
  const meanLate = (interval: typeof growingIntervalMs, fromMs: number, toMs: number, step: number) => {
    const late: number[] = [];
    for (let end = fromMs; end <= toMs; end += step) late.push(lonePlay(interval, end).lateMs);
    return late.reduce((a, b) => a + b, 0) / late.length;
  };
  const rows: [string, typeof growingIntervalMs][] = [["this version", growingIntervalMs], ["before issue 16", issue10IntervalMs]];
  return [
    "The schedule's price (provider/poll-schedule.ts), computed from the fallback interval for a job of a kind the process has not " +
      "seen complete, 20 ms per answer: polls of one lone wait by its job's length, and how late the end is noticed on average over " +
      "job lengths of 1–20 s and 30–120 s. Inside one process the extra polls are \"speculative\": they only take request slots nothing " +
      "else wants, and once a job of a kind completes the others are polled around its length (at most 9 polls in that window; the " +
      "N = 50 rows above make about one job poll per preview). Under one key's 10 requests/s, one such wait asks for 1.4 requests/s " +
      "(0.7 before), so seven waits of unseen kinds in separate processes fill the key; only 429s coordinate separate processes " +
      "(the many-runners section).",
    "",
    "| fallback | " + lengthsS.map((s) => `${s} s`).join(" | ") + " | mean late, 1–20 s | mean late, 30–120 s |",
    "| --- | " + lengthsS.map(() => "---").join(" | ") + " | --- | --- |",
    ...rows.map(
      ([name, interval]) =>
        `| ${name} | ${lengthsS.map((s) => String(lonePlay(interval, s * 1000).polls)).join(" | ")} | ` +
        `${sec(meanLate(interval, 1_000, 20_000, 37))} | ${sec(meanLate(interval, 30_000, 120_000, 113))} |`,
    ),
    "",
  ];
}

const sec = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? "–" : `${(ms / 1000).toFixed(2)} s`);
const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

export function judgeUserView(v: UserView, s: UserViewSettings): Target[] {
  const targets: Target[] = [];
  const add = (text: string, met: boolean | undefined, measured: string) =>
    targets.push({ text, met: met === true, measured: met === undefined ? `not measured: ${measured}` : measured });

  const big = v.cli.find((r) => r.count === 50 && r.parallel === 64);
  if (big) {
    const worst = Math.max(...Object.values(big.phases).map((p) => p!.ms / (p!.engineMs + p!.floorMs)));
    add("one stack, N = 50, --parallel 64: every phase ≤ 1.15 × (engine + floor)", worst <= 1.15, `worst phase ${worst.toFixed(2)} ×`);
  } else {
    add("one stack, N = 50, --parallel 64: every phase ≤ 1.15 × (engine + floor)", undefined, `this run went to N = ${Math.max(...s.cli.counts)} only`);
  }
  const refresh50 = v.cli.filter((r) => r.count === 50).map((r) => r.phases["up --refresh"]).filter((p) => p !== undefined);
  if (refresh50.length) {
    const calls = Math.max(...refresh50.map((p) => Object.values(p!.calls).reduce((a, b) => a + b, 0)));
    add("`up --refresh` of 50 unchanged previews: ≤ 10 API calls", calls <= 10, `${calls} calls`);
  } else {
    const largest = v.cli.filter((r) => r.phases["up --refresh"]).sort((a, b) => b.count - a.count)[0];
    const calls = largest ? Object.values(largest.phases["up --refresh"]!.calls).reduce((a, b) => a + b, 0) : NaN;
    add("`up --refresh` of 50 unchanged previews: ≤ 10 API calls", undefined,
      `N = 50 not run; N = ${largest?.count ?? "–"}: ${calls} calls (test/unit/fewer-calls.test.ts proves ≤ 10 for 50 in-process)`);
  }
  const c = v.runners.create;
  const all = [v.runners.create, ...(v.runners.delete ? [v.runners.delete] : [])];
  const worstWall = Math.max(...all.map((p) => p.wallMs / p.floorMs));
  const share = all.reduce((a, p) => a + p.limited, 0) / all.reduce((a, p) => a + p.calls, 0);
  const starved = Math.max(...all.map((p) => p.slowestMs / p.medianMs));
  const k = s.runners.k;
  // What the fair-share oracle reaches on the model with the same calls (shared-key-model.ts): the targets' reach.
  const oracle = v.model.find((m) => m.label.startsWith("fair-share oracle, the same calls"));
  const oracleWall = oracle ? Math.max(oracle.phases.create.wallOverFloor, oracle.phases.delete.wallOverFloor) : NaN;
  const oracleShare = oracle ? Math.max(oracle.phases.create.limitedShare, oracle.phases.delete.limitedShare) : NaN;
  add(`many runners (${k} processes, ${s.runners.rate} requests/s): total ≤ 1.3 × floor`, k >= 20 ? worstWall <= 1.3 : undefined,
    `${worstWall.toFixed(2)} × (create ${sec(c.wallMs)} vs ${sec(c.floorMs)}, median of ${v.runnerRuns.length} runs); the fair-share oracle on the model: ${oracleWall.toFixed(2)} ×`);
  add(`many runners: 429s ≤ 10 % of calls`, k >= 20 ? share <= 0.1 : undefined, `${(share * 100).toFixed(0)} %; the fair-share oracle on the model: up to ${(oracleShare * 100).toFixed(0)} % in a phase`);
  add(`many runners: no runner slower than 2 × the median`, k >= 20 ? starved <= 2 : undefined, `slowest ${starved.toFixed(2)} × median`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [range, lo, hi, goalMs] of [["1–20 s", 0, 20_000, 500], ["30–120 s", 30_000, 120_000, 1_500]] as const) {
    const rows = v.lateness.filter((l) => l.jobMs >= lo && l.jobMs <= hi);
    if (!rows.length) continue;
    const late = mean(rows.map((l) => l.afterEndMs));
    add(`job lateness on the real clock (after the job's end): mean ≤ ${goalMs / 1000} s over ${range} jobs`, late <= goalMs,
      `${sec(late)} over ${rows.length} jobs, ${mean(rows.map((l) => l.polls)).toFixed(1)} polls per job (create − job − 4 round trips: ${sec(mean(rows.map((l) => l.wholeMs)))})`);
  }
  const load = med(v.fixedCost.map((f) => f.loadMs));
  const rss = med(v.fixedCost.map((f) => f.pluginPeakRssMb - f.enginePluginPeakRssMb));
  add("loading the provider ≤ 0.1 s", load <= 100, `${sec(load)} (with the HTTP client it loads at the first API call: ${sec(med(v.fixedCost.map((f) => f.loadWithClientMs)))})`);
  add("the plugin with one preview: peak RSS ≤ 20 MB over the engine's own plugin", rss <= 20,
    `+${rss.toFixed(0)} MB (${med(v.fixedCost.map((f) => f.pluginPeakRssMb)).toFixed(0)} vs ${med(v.fixedCost.map((f) => f.enginePluginPeakRssMb)).toFixed(0)} MB)`);
  return targets;
}

function phasesOf(v: UserView): [string, PhaseFigures][] {
  const phases: [string, PhaseFigures | undefined][] = [["create", v.runners.create], ["delete", v.runners.delete]];
  return phases.filter((e): e is [string, PhaseFigures] => e[1] !== undefined);
}

export function userViewMarkdown(v: UserView, s: UserViewSettings, targets: Target[] | undefined): string[] {
  const lines: string[] = ["## Performance as users see it (issue 16)", ""];
  lines.push("### One stack through the real CLI", "", ...cliMarkdown(v.cli, s.cli), "");
  const [ours, oracle, earlier] = v.model;
  const { k, rate } = s.runners;
  const x = (ratio: number | undefined) => (ratio === undefined ? "–" : `${ratio.toFixed(2)} ×`);
  const pct = (share: number | undefined) => (share === undefined ? "–" : `${(share * 100).toFixed(0)} %`);
  lines.push(
    "### Many runners sharing one API key",
    "",
    `${s.runners.k} separate Node processes (the real provider, real clock, each its own request budget and poll schedule), one preview each, ` +
      `one API key limited to ${s.runners.rate} requests/s, ${s.runners.latencyMs} ms added per request, jobs ${s.runners.jobMs / 1000} s ± 20 %. ` +
      "All start at once; floor = the slowest job plus one operation's round trips, or every runner's minimum calls at the rate limit " +
      `(create ${MIN_CALLS.create}: the key's scopes, the POST, the project (read during the job), one poll, the URLs; delete ${MIN_CALLS.delete}: the DELETE, one poll). ` +
      "The limiter is a fixed 1 s window per key, opened by the first request after the last one closed, answering 429 with `Retry-After: 1` " +
      "(at least what is left of the window) once it is full; a 429 does not count against the window. Each runner does its delete in the process of its create, " +
      `so it starts the delete with the pace its create learned. ${s.runnerRuns} runs (seeds ${s.runners.seed}–${s.runners.seed + s.runnerRuns - 1}); ` +
      "each phase's row is its median run by wall time, and every run is listed under the table.",
    "",
    "| phase | wall | floor | ÷ floor | calls | 429s | median runner | slowest runner | failures |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const [name, p] of phasesOf(v)) {
    lines.push(
      `| ${name} | ${sec(p.wallMs)} | ${sec(p.floorMs)} | ${(p.wallMs / p.floorMs).toFixed(2)} × | ${p.calls} | ${p.limited} (${((p.limited / p.calls) * 100).toFixed(0)} %) | ` +
        `${sec(p.medianMs)} | ${sec(p.slowestMs)} | ${p.failures} |`,
    );
  }
  lines.push("", "Every run (wall ÷ floor, 429 share):", "");
  for (const [i, run] of v.runnerRuns.entries()) {
    const phases = [["create", run.create], ["delete", run.delete]] as const;
    lines.push(`- seed ${s.runners.seed + i}: ` + phases.filter(([, p]) => p).map(([n, p]) => `${n} ${(p!.wallMs / p!.floorMs).toFixed(2)} ×, ${((p!.limited / p!.calls) * 100).toFixed(0)} %`).join("; "));
  }
  lines.push(
    "",
    "**What any client can reach here.** No process can see the others' requests; only 429s tell it about them. " +
      `A virtual-time model of this benchmark (test/bench/shared-key-model.ts, ${s.modelSeeds} seeds, run by this benchmark; the same calls, ` +
      "limiter, latency and job lengths, in milliseconds) compares the provider's request budget with a fair-share oracle: a pacer told at every " +
      `moment how many processes are still working, which sends at exactly its share (${ORACLE_UTILISATION} × the limit ÷ working processes) from ` +
      "a random phase and has no other rule. No client can know that number: what the oracle does not reach, no pacing rule can be expected to. " +
      "Means over the seeds:",
    "",
    "| model | create ÷ floor (worst) | create 429s | delete ÷ floor (worst) | delete 429s | slowest ÷ median (create, delete) |",
    "| --- | --- | --- | --- | --- | --- |",
    ...v.model.map((m) => {
      const [c, d] = [m.phases.create, m.phases.delete];
      return `| ${m.label} | ${c.wallOverFloor.toFixed(2)} × (${c.worstWallOverFloor.toFixed(2)}) | ${(c.limitedShare * 100).toFixed(0)} % | ` +
        `${d.wallOverFloor.toFixed(2)} × (${d.worstWallOverFloor.toFixed(2)}) | ${(d.limitedShare * 100).toFixed(0)} % | ` +
        `${c.slowestOverMedian.toFixed(2)}, ${d.slowestOverMedian.toFixed(2)} |`;
    }),
    "",
    "What that says:",
    "",
    `- **Creates.** With the project read before the POST (each runner's second call, as until this version), even the oracle needs ${x(earlier?.phases.create.wallOverFloor)} the floor: ` +
      `${k} runners' three calls before any job can start take ${((3 * k) / rate).toFixed(0)} of the floor's ${((MIN_CALLS.create * k) / rate).toFixed(0)} seconds, and the jobs come after. ` +
      "So the create now reads the project while its job runs, at the priority of a shared read (provider/operations/create.ts; a refused create is " +
      `explained by the project read instead, README "What happens when"). With that order the oracle needs ${x(oracle?.phases.create.wallOverFloor)}; ` +
      `the request budget, which must guess its share from 429s, ${x(ours?.phases.create.wallOverFloor)}.`,
    `- **Deletes** are bound by noticing the jobs' ends: ${k} jobs of a length nobody knows share ${rate} polls a second, so each is seen late by ` +
      `about half of ${(k / rate).toFixed(1)} s on average, after a DELETE that itself may wait a window. Even the oracle's deletes take ` +
      `${x(oracle?.phases.delete.wallOverFloor)} their floor, which counts neither.`,
    `- **429s.** At the start ${k} first requests meet one window of ${rate}, and those that got through send their second call into the same full ` +
      "window; no process can know before its first answer that it is not alone. That is about " +
      `${2 * Math.max(0, Math.min(k - rate, rate))} 429s for the ${MIN_CALLS.create * k} calls the creates need at least, before any rule can act; ` +
      `the oracle, told the number of processes from the start, still meets ${pct(oracle?.phases.create.limitedShare)} (creates) and ` +
      `${pct(oracle?.phases.delete.limitedShare)} (deletes) where random phases fill a window.`,
    "",
    "So 1.3 × the floor for every phase and 10 % 429s together are beyond a client that shares a key with processes it cannot see. Rules of " +
      "the request budget (provider/request-budget.ts) for that case, chosen on the model and then measured here: after a 429 when nothing of its " +
      "own got through in the last second, the pace starts again from 1 request/s (not half of 10/s); once the process has met the limit, a poll " +
      "of a job unlikely to be done waits 1.5 intervals of its pace where other calls wait one. Tried by hand on the model (2 December, 100 seeds, against " +
      "1.59 × for creates and 1.64 × for deletes, 35 % 429s) and left out: spreading the first request after a pause over one interval " +
      "(1.78 ×, 2.00 ×); setting the pace from what got through over the last 3 or 5 s instead of 1 s (1.62–1.67 ×, 1.66–1.70 ×); letting the " +
      "URLs go at once after the poll that saw the job done (creates 1.50 ×, but deletes 1.73 × and 38 % 429s); growing the pace faster after " +
      "a quiet spell (more calls and 429s, the same wall). In this benchmark, a pause drawn from [R, 2R] from the third 429 in a row made " +
      "stragglers (creates 16.6–22.2 s over five runs).",
  );
  lines.push("", "Calls by kind in the median runs (answered / 429):", "");
  for (const [name, p] of phasesOf(v)) lines.push(`- ${name}: ${Object.entries(p.kinds).map(([kind, [ok, no]]) => `${kind} ${ok}/${no}`).join(", ")}`);
  lines.push("", "Requests per second from the start, median runs (answered / 429):", "");
  for (const [name, p] of phasesOf(v)) lines.push(`- ${name}: ${p.timeline.map(([ok, no]) => `${ok}/${no}`).join(" ")}`);
  lines.push(
    "",
    "### Job lateness on the real clock",
    "",
    `One create per job length, each in its own runner process (nothing learned), all at once, no rate limit, ${s.runners.latencyMs} ms per request ` +
      "(test/bench/lateness.ts). \"After the end\": from the job's end on the control plane to the create returning, less the two round trips " +
      "it must make after it (the poll that sees it done, the URLs): how late the end is noticed. \"Whole\": the create's time less its job " +
      "and its four round trips (scopes and POST before the job), so it also counts the runner's first request (a new connection, the HTTP " +
      "parser's compilation, cold code). Polls: GET of the job, from the control plane's count.",
    "",
    "| job | " + v.lateness.map((l) => `${(l.jobMs / 1000).toFixed(1)} s`).join(" | ") + " |",
    "| --- | " + v.lateness.map(() => "---").join(" | ") + " |",
    "| late after the end | " + v.lateness.map((l) => sec(l.afterEndMs)).join(" | ") + " |",
    "| whole | " + v.lateness.map((l) => sec(l.wholeMs)).join(" | ") + " |",
    "| polls | " + v.lateness.map((l) => String(l.polls)).join(" | ") + " |",
    "",
    ...schedulePrice(),
  );
  lines.push(
    "",
    "### What every plugin launch costs",
    "",
    "| runs | load `pulumi-capydb/provider` | + its HTTP client (first API call) | RSS growth of the load (+ client) | plugin peak RSS, one create | engine's plugin, one no-op create |",
    "| --- | --- | --- | --- | --- | --- |",
    `| ${v.fixedCost.length} (median) | ${sec(med(v.fixedCost.map((f) => f.loadMs)))} | ${sec(med(v.fixedCost.map((f) => f.loadWithClientMs)))} | ` +
      `${med(v.fixedCost.map((f) => f.loadRssMb)).toFixed(0)} MB (${med(v.fixedCost.map((f) => f.loadWithClientRssMb)).toFixed(0)} MB) | ` +
      `${med(v.fixedCost.map((f) => f.pluginPeakRssMb)).toFixed(0)} MB | ${med(v.fixedCost.map((f) => f.enginePluginPeakRssMb)).toFixed(0)} MB |`,
    "",
    "Requests go through Node's own `http`/`https` keep-alive agents; undici is loaded only when a proxy variable is set " +
      "(provider/transport.ts). Chosen by measurement (by hand, 2026-12-02, 20 GETs to a loopback server in a bare Node 20 process, " +
      "peak RSS over the process's start): undici +55 MB, of which ~35 MB is V8 compiling its WebAssembly HTTP parser (llhttp) with " +
      "the optimizing tier; with `v8.setFlagsFromString('--liftoff-only')` before that compile +21 MB; `--no-wasm-tier-up` and " +
      "`--wasm-lazy-compilation` set the same way changed nothing; Node's `http` +3.5 MB. A process-wide V8 flag would also slow " +
      "other WebAssembly in the plugin process and still miss the goal; Node's parser is built in. Of what remains over the " +
      "engine's plugin, zod is about 11 MB.",
    "",
  );
  if (targets) {
    lines.push("### Targets of issue 16", "", "| target | met? | measured |", "| --- | --- | --- |");
    for (const t of targets) lines.push(`| ${t.text} | ${t.measured.startsWith("not measured") ? "not measured" : t.met ? "met" : "**not met**"} | ${t.measured} |`);
    lines.push("");
  }
  return lines;
}
