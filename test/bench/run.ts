/**
 * Benchmarks (`npm run bench`): timing goals live here, never in tests. One run compares this
 * version's job waits with the incumbents' strategies, measures 50 operations at once under a rate
 * limit and the plugin's cold start and memory, prints a markdown table with every target of issue 10
 * marked met or not, and writes it to BENCHMARKS.md.
 *
 * `npm run bench:smoke` (CI) runs every scenario once at a tiny size, in seconds: it proves the
 * benchmark still works, judges nothing and writes no file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { concurrencyFigures, lengthFigures, longFigures, similarFigures } from "./figures";
import { concurrencyRun } from "./concurrency";
import { lengthsRun, similarRun } from "./job-waits";
import { pluginRun } from "./plugin";
import { describeMachine, judge, markdown, Settings } from "./report";
import { Figures, medianFigures } from "./stats";
import { STRATEGIES } from "./strategies";

const REPO = path.resolve(__dirname, "..", "..", "..");

const FULL: Settings = {
  runs: 5,
  lengthsMs: Array.from({ length: 39 }, (_, i) => 1_000 + 500 * i),
  longMs: [60_000, 300_000],
  similar: { count: 10, baseMs: 13_000, spread: 0.15 },
  concurrency: { n: 50, jobMs: 15_000, rate: 10 },
  plugin: { runs: 3, ops: 50, jobMs: 3_000 },
};

const SMOKE: Settings = {
  runs: 1,
  lengthsMs: [1_000, 1_500],
  longMs: [60_000],
  similar: { count: 3, baseMs: 1_000, spread: 0.15 },
  concurrency: { n: 10, jobMs: 1_000, rate: 10 },
  plugin: { runs: 1, ops: 5, jobMs: 200 },
};

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main() {
  const smoke = process.argv.includes("--smoke");
  const settings = smoke ? SMOKE : FULL;
  const startedAt = Date.now();
  const loadBefore = os.loadavg();
  const runs: Figures[] = Array.from({ length: settings.runs }, () => ({}));

  progress("warm-up round (not counted)");
  await lengthsRun({ strategies: STRATEGIES, lengthsMs: [1_000] });

  // One scenario at a time: they would slow each other's requests down.
  for (let r = 0; r < settings.runs; r++) {
    progress(`run ${r + 1}/${settings.runs}: job waits, ${settings.lengthsMs.length} lengths × ${STRATEGIES.length} strategies`);
    lengthFigures(await lengthsRun({ strategies: STRATEGIES, lengthsMs: settings.lengthsMs }), runs[r]);
    progress(`run ${r + 1}/${settings.runs}: long jobs`);
    longFigures(await lengthsRun({ strategies: STRATEGIES, lengthsMs: settings.longMs }), runs[r]);
    progress(`run ${r + 1}/${settings.runs}: runs of ${settings.similar.count} similar jobs`);
    similarFigures(await similarRun({ strategies: STRATEGIES, seed: 1_000 + r, ...settings.similar }), runs[r]);
  }

  progress(`${settings.concurrency.n} operations at once at ${settings.concurrency.rate} requests/s, with and without Retry-After`);
  for (let r = 0; r < settings.runs; r++) {
    const [ra, none] = await Promise.all([true, false].map((retryAfter) => concurrencyRun({ ...settings.concurrency, retryAfter })));
    concurrencyFigures("ra", ra, runs[r]);
    concurrencyFigures("none", none, runs[r]);
    progress(`  run ${r + 1}/${settings.runs} done`);
  }

  progress("plugin cold start and peak RSS");
  const plugin: Figures[] = [];
  for (let r = 0; r < settings.plugin.runs; r++) {
    const result = await pluginRun(settings.plugin);
    plugin.push({
      "plugin.coldStart": result.coldStartMs,
      "plugin.coldStartCpu": result.coldStartCpuMs,
      "plugin.peakRss": result.peakRssMb,
      "plugin.failures": result.failures,
    });
  }

  const all = runs.map((figures, r) => ({ ...figures, ...(plugin[r] ?? {}) }));
  const figures = { ...medianFigures(all), ...medianFigures(plugin) };
  // Failures are judged on the worst run, not the median.
  const worst: Figures = {};
  for (const key of Object.keys(figures).filter((k) => k.endsWith(".failures"))) worst[key] = Math.max(...all.map((f) => f[key] ?? 0));

  const machine = describeMachine(loadBefore, startedAt);
  const targets = smoke ? undefined : judge(figures, worst);
  const text = markdown(figures, STRATEGIES, settings, machine, targets);
  console.log(text);
  if (targets) {
    fs.writeFileSync(path.join(REPO, "BENCHMARKS.md"), text + "\n");
    console.log("Targets:");
    for (const t of targets) console.log(`  ${t.met ? "met    " : "NOT MET"}  ${t.text}: ${t.measured}`);
    console.log(`${targets.filter((t) => t.met).length} of ${targets.length} targets met; written to BENCHMARKS.md`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
