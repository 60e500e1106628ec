/**
 * `npm run test:mutations`: applies each named mutation (mutations.ts) to the compiled provider in dist/,
 * one at a time, runs the tests expected to catch it, and restores the file. A mutation is "killed" when
 * at least one of those tests fails. Exits non-zero when a mutation survives, when its search text is not
 * found exactly once, or when the chosen tests fail without any mutation (then "killed" would mean nothing).
 *
 *   node dist/test/mutations/run.js [name ...]     only the named mutations
 *
 * The plugin the engine tests start loads the provider from this checkout's dist/ too, so it runs the
 * mutated code as well. Each mutated file carries a marker comment; a run that finds one (an interrupted
 * run) refuses to start until `npm run build` has rewritten dist/.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Mutation, MutationForm, MUTATIONS } from "./mutations";

const DIST = path.resolve(__dirname, "..", "..");
const REPO = path.resolve(DIST, "..");
const MARKER = "/* capydb-mutation:";

interface Outcome {
  mutation: Mutation;
  verdict: "killed" | "survived" | "not-found";
  form?: MutationForm;
  failing: string[];
  seconds: number;
  detail?: string;
}

type RunResult = { failing: string[]; passes: number; error?: string };

/** Each entry ("file" or "file#grep") in its own mocha; the failures of all of them. */
function runTests(entries: string[]): RunResult {
  const results = entries.map(runEntry);
  const errors = results.filter((r) => r.error).map((r) => r.error);
  return { failing: results.flatMap((r) => r.failing), passes: results.reduce((n, r) => n + r.passes, 0), error: errors.length ? errors.join("\n") : undefined };
}

/** Mocha's JSON report of one entry: failing full titles, and whether it ran at all. */
function runEntry(entry: string): RunResult {
  const [file, grep] = entry.split("#", 2);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "capydb-mutation-")), "report.json");
  const mocha = path.join(REPO, "node_modules", "mocha", "bin", "mocha.js");
  const args = [mocha, "--no-config", "--exit", "--timeout", "120000", "--reporter", "json", "--reporter-option", `output=${report}`, ...(grep ? ["--grep", grep] : []), path.join(DIST, "test", file)];
  const run = spawnSync(process.execPath, args, { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  try {
    const json = JSON.parse(fs.readFileSync(report, "utf8")) as { stats: { passes: number }; failures: { fullTitle: string }[] };
    // A selection that runs no test would make every mutation "survive" for a reason nobody sees.
    if (json.stats.passes + json.failures.length === 0) return { failing: [], passes: 0, error: `${entry}: no test matches` };
    return { failing: json.failures.map((f) => f.fullTitle), passes: json.stats.passes };
  } catch {
    return { failing: [], passes: 0, error: `${entry}: mocha wrote no report (exit ${run.status}):\n${run.stderr.slice(-2000)}` };
  } finally {
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
}

const read = (file: string): string | undefined => (fs.existsSync(path.join(DIST, file)) ? fs.readFileSync(path.join(DIST, file), "utf8") : undefined);

/** The one form whose search text is found exactly once, or why the mutation cannot be applied. */
function formOf(m: Mutation): { form: MutationForm; original: string } | { missing: string } {
  const found = m.forms
    .map((form) => ({ form, original: read(form.file) ?? "" }))
    .map((f) => ({ ...f, n: f.original.split(f.form.search).length - 1 }))
    .filter((f) => f.n > 0);
  if (found.length !== 1 || found[0].n !== 1) {
    const tried = m.forms.map((f) => `dist/${f.file}${read(f.file) === undefined ? " (no such file)" : ""}${f.of ? ` [${f.of}]` : ""}`).join(", ");
    const seen = found.map((f) => `${f.n}× in dist/${f.form.file}`).join(", ") || "none";
    return { missing: `expected exactly one occurrence of exactly one form's search text; found ${seen}; forms: ${tried}` };
  }
  return { form: found[0].form, original: found[0].original };
}

function main(): number {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !MUTATIONS.some((m) => m.name === n));
  if (unknown.length) {
    console.error(`unknown mutation(s): ${unknown.join(", ")}; known: ${MUTATIONS.map((m) => m.name).join(", ")}`);
    return 2;
  }
  const chosen = only.length ? MUTATIONS.filter((m) => only.includes(m.name)) : MUTATIONS;
  for (const file of new Set(chosen.flatMap((m) => m.forms.map((f) => f.file)))) {
    if (read(file)?.includes(MARKER)) {
      console.error(`dist/${file} is still mutated (an interrupted run?): run \`npm run build\` first`);
      return 2;
    }
  }

  // The baseline: the tests of every mutation that applies pass on the code as built, or a failure under a
  // mutation proves nothing. (A mutation whose code is not here is reported below, and its tests may not be.)
  const allFiles = [...new Set(chosen.filter((m) => !("missing" in formOf(m))).flatMap((m) => m.tests))];
  const t0 = Date.now();
  const baseline = runTests(allFiles);
  if (baseline.error || baseline.failing.length) {
    console.error(`baseline: the chosen tests fail without any mutation:\n${baseline.error ?? baseline.failing.join("\n")}`);
    return 1;
  }
  console.log(`baseline: ${baseline.passes} tests pass in ${allFiles.length} selections (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const outcomes: Outcome[] = [];
  let restore: (() => void) | undefined;
  const onSignal = () => {
    restore?.();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  for (const m of chosen) {
    const started = Date.now();
    const found = formOf(m);
    if ("missing" in found) {
      outcomes.push({ mutation: m, verdict: "not-found", failing: [], seconds: 0, detail: found.missing });
      continue;
    }
    const { form, original } = found;
    const target = path.join(DIST, form.file);
    restore = () => fs.writeFileSync(target, original);
    fs.writeFileSync(target, `${original.replace(form.search, () => form.replace)}\n${MARKER} ${m.name} */\n`);
    let result: ReturnType<typeof runTests>;
    try {
      result = runTests(m.tests);
    } finally {
      restore();
      restore = undefined;
    }
    const seconds = (Date.now() - started) / 1000;
    // A run that crashed before reporting is not a kill: nothing says which behaviour failed.
    if (result.error) outcomes.push({ mutation: m, form, verdict: "survived", failing: [], seconds, detail: result.error });
    else outcomes.push({ mutation: m, form, verdict: result.failing.length ? "killed" : "survived", failing: result.failing, seconds });
  }

  for (const o of outcomes) {
    console.log(`\n${o.verdict.toUpperCase().padEnd(9)} ${o.mutation.name} (${o.seconds.toFixed(1)} s): breaks "${o.mutation.breaks}"`);
    if (o.form) console.log(`          dist/${o.form.file}${o.form.of ? ` (the form for ${o.form.of})` : ""}`);
    console.log(`          tests: ${o.mutation.tests.join(", ")}`);
    if (o.detail) console.log(`          ${o.detail.replace(/\n/g, "\n          ")}`);
    for (const t of o.failing) console.log(`          caught by: ${t}`);
  }
  const bad = outcomes.filter((o) => o.verdict !== "killed");
  console.log(`\n${outcomes.length - bad.length} of ${outcomes.length} mutations killed in ${((Date.now() - t0) / 1000).toFixed(0)} s` + (bad.length ? `; not killed: ${bad.map((o) => o.mutation.name).join(", ")}` : ""));
  return bad.length ? 1 : 0;
}

process.exitCode = main();
