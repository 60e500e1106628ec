import * as os from "os";
import type { Figures } from "./stats";
import type { LimitStrategy, Strategy } from "./strategies";

export interface Settings {
  runs: number;
  lengthsMs: number[];
  longMs: number[];
  similar: { count: number; baseMs: number; spread: number };
  concurrency: { n: number; jobMs: number; rate: number };
  plugin: { runs: number; ops: number; jobMs: number };
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  loadBefore: number[];
  loadAfter: number[];
  date: string;
  durationS: number;
}

export function describeMachine(loadBefore: number[], startedAt: number): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGb: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadBefore,
    loadAfter: os.loadavg(),
    date: new Date().toISOString(),
    durationS: (Date.now() - startedAt) / 1000,
  };
}

const s = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? "–" : `${(ms / 1000).toFixed(2)} s`);
const n = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits).replace(/\.0+$/, ""));
const ratio = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : `${v.toFixed(2)} ×`);
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const header = (cells: string[]) => [row(cells), row(cells.map(() => "---"))];

export interface Target {
  text: string;
  met: boolean;
  measured: string;
}

/** The targets of issue 10, judged on the medians over runs (failures: on the worst run). */
export function judge(f: Figures, worst: Figures): Target[] {
  const targets: Target[] = [];
  const add = (text: string, met: boolean, measured: string) => targets.push({ text, met, measured });
  for (const kind of ["create", "delete"]) {
    const mean = f[`len.ours.${kind}.meanOver`];
    const maxOver = f[`len.ours.${kind}.maxOver`];
    add(`${kind}, jobs of 1–20 s: mean overshoot ≤ 0.9 s`, mean <= 900, s(mean));
    add(`${kind}, jobs of 1–20 s: max overshoot ≤ 2 s`, maxOver <= 2000, s(maxOver));
  }
  for (const kind of ["create", "delete"]) {
    const mean = f[`sim.ours.${kind}.meanOver`];
    const polls = f[`sim.ours.${kind}.maxPolls`];
    add(`${kind}, learned job lengths (jobs 2–10 of 13 s ± 15%): mean overshoot ≤ 0.3 s`, mean <= 300, s(mean));
    add(`${kind}, learned job lengths: ≤ 10 polls per job (the most any job took)`, polls <= 10, n(polls, 0));
  }
  for (const kind of ["create", "delete"]) {
    const p60 = f[`long.ours.${kind}.60000.polls`];
    const p300 = f[`long.ours.${kind}.300000.polls`];
    // Issue 16 traded polls for lateness (poll-schedule.ts): kept, and now expected not met.
    if (p60 !== undefined) add(`${kind}, 60 s job (± 5 %): ≤ 25 polls (issue 10; issue 16 chose ~50 for 0.36 s mean lateness up to 20 s and 1.1 s at 30–120 s)`, p60 <= 25, n(p60, 0));
    if (p300 !== undefined) add(`${kind}, 300 s job (± 5 %): ≤ 40 polls (issue 10; issue 16 chose ~95)`, p300 <= 40, n(p300, 0));
  }
  for (const mode of ["none", "ra"] as const) {
    const label = mode === "ra" ? "with Retry-After" : "without Retry-After";
    for (const phase of ["creates", "refreshes", "deletes"]) {
      const key = `conc.ours.${mode}.${phase}`;
      add(`50 concurrent ${phase} ${label}: zero failures (in every run)`, worst[`${key}.failures`] === 0, n(worst[`${key}.failures`], 0));
      add(`50 concurrent ${phase} ${label}: wall ≤ 1.25 × floor`, f[`${key}.ratio`] <= 1.25, ratio(f[`${key}.ratio`]));
      add(`50 concurrent ${phase} ${label}: 429s ≤ 10% of calls`, f[`${key}.limitedPct`] <= 10, `${n(f[`${key}.limitedPct`], 1)} %`);
    }
    const lists = f[`conc.ours.${mode}.refreshes.lists`];
    add(`50 concurrent refreshes of one project ${label}: ≤ 5 list calls`, lists <= 5, n(lists, 0));
  }
  add("plugin cold start (spawn to first API request) ≤ 1.3 s", f["plugin.coldStart"] <= 1300, s(f["plugin.coldStart"]));
  add("plugin peak RSS with 50 operations in flight ≤ 200 MB", f["plugin.peakRss"] <= 200, `${n(f["plugin.peakRss"], 0)} MB`);
  return targets;
}

/** "3 of 10 (429: 3, timed out: 0)": failures, out of how many ran when fewer than `n`, and what they died of. */
function failures(f: Figures, key: string, all: number): string {
  const count = f[`${key}.failures`];
  const ran = f[`${key}.operations`];
  let text = n(count, 0);
  if (ran !== undefined && ran !== all) text += ` of ${n(ran, 0)}`;
  const causes: string[] = [];
  if (f[`${key}.limitFailures`] > 0) causes.push(`429: ${n(f[`${key}.limitFailures`], 0)}`);
  if (f[`${key}.timeouts`] > 0) causes.push(`timed out: ${n(f[`${key}.timeouts`], 0)}`);
  return causes.length > 0 ? `${text} (${causes.join(", ")})` : text;
}

export function markdown(f: Figures, strategies: Strategy[], limitStrategies: LimitStrategy[], settings: Settings, machine: Machine, targets: Target[] | undefined): string {
  const out: string[] = [];
  const lengths = settings.lengthsMs;
  out.push("# Benchmarks", "");
  out.push(
    `Generated by \`npm run bench\` (test/bench/run.ts) on ${machine.date.slice(0, 10)}; every figure is the median of ${settings.runs} run(s).`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${n(machine.memoryGb, 1)} GB, ${machine.os}, Node ${machine.node}; ` +
      `load average ${machine.loadBefore.map((l) => l.toFixed(1)).join(" / ")} before and ${machine.loadAfter.map((l) => l.toFixed(1)).join(" / ")} after ` +
      `(1/5/15 min; the machine is shared, so timings carry noise). The whole benchmark took ${Math.round(machine.durationS)} s.`,
    "",
  );
  out.push("## Job waits", "");
  out.push(
    `The same provider code (\`createProvider\`, real HTTP through the local control plane, memory backend, jobs finishing by time) ` +
      `with only the poll schedule swapped through the \`schedule\` option. Overshoot = the provider operation's wall time minus the ` +
      `job's length (create: from the POST to outputs with connection URLs; delete: from the DELETE to the job seen completed). ` +
      `Calls = every request of the operation. Each preview is created and deleted in a fresh simulated process (its own request ` +
      `budget, keep-alive agent and memory), so nothing is learned in these rows.`,
    "",
  );
  out.push(`### Jobs of ${lengths[0] / 1000}–${lengths[lengths.length - 1] / 1000} s in 0.5 s steps (${lengths.length} lengths)`, "");
  out.push(...header(["strategy", "operation", "mean overshoot", "max overshoot", "job polls (mean)", "calls (mean)"]));
  for (const st of strategies) {
    for (const kind of ["create", "delete"]) {
      const k = `len.${st.id}.${kind}`;
      out.push(row([st.label, kind, s(f[`${k}.meanOver`]), s(f[`${k}.maxOver`]), n(f[`${k}.polls`]), n(f[`${k}.calls`])]));
    }
  }
  out.push("");
  out.push("### Long jobs", "");
  out.push(...header(["strategy", "operation", "job", "overshoot", "job polls", "calls"]));
  for (const st of strategies) {
    for (const kind of ["create", "delete"]) {
      for (const ms of settings.longMs) {
        const k = `long.${st.id}.${kind}.${ms}`;
        out.push(row([st.label, kind, `${ms / 1000} s`, s(f[`${k}.over`]), n(f[`${k}.polls`], 0), n(f[`${k}.calls`], 0)]));
      }
    }
  }
  out.push("");
  const sim = settings.similar;
  out.push(
    `### A run of ${sim.count} jobs of ${sim.baseMs / 1000} s ± ${Math.round(sim.spread * 100)}% in one process`,
    "",
    `One process per strategy creates ${sim.count} previews one after the other (lengths drawn uniformly from ${n((sim.baseMs * (1 - sim.spread)) / 1000, 2)}–` +
      `${n((sim.baseMs * (1 + sim.spread)) / 1000, 2)} s, the same for every strategy; delete jobs drawn the same way) and deletes each as soon ` +
      `as it is ready, while the next one is created. "Learned" are jobs 2–${sim.count}: their kind (project and job type) was seen before.`,
    "",
  );
  out.push(...header(["strategy", "operation", "first job: overshoot", "first job: polls", "learned: mean overshoot", "learned: max overshoot", "learned: polls (mean / max)", "learned: calls (mean)"]));
  for (const st of strategies) {
    for (const kind of ["create", "delete"]) {
      const k = `sim.${st.id}.${kind}`;
      out.push(row([st.label, kind, s(f[`${k}.firstOver`]), n(f[`${k}.firstPolls`], 0), s(f[`${k}.meanOver`]), s(f[`${k}.maxOver`]), `${n(f[`${k}.polls`])} / ${n(f[`${k}.maxPolls`], 0)}`, n(f[`${k}.calls`])]));
    }
  }
  out.push("");
  const c = settings.concurrency;
  out.push(`## ${c.n} operations at once against a key limited to ${c.rate} requests/s`, "");
  out.push(
    `One provider process runs ${c.n} creates at once (jobs of ${c.jobMs / 1000} s), then refreshes and deletes at once of every ` +
      `preview the creates left tracked (all ${c.n}, unless creates failed before anything existed), against the local control plane ` +
      `limiting the key to ${c.rate} requests per 1 s window (429 with \`Retry-After: 1\`, or with no header). The same provider code ` +
      `runs every row, with only the request policy swapped through the \`clientOptions.budget\` option: this version's shared budget, ` +
      `0.1.0's backoff of each call on its own, and the Go transport of the CapyDB CLI and Terraform provider, for which a 429 is final ` +
      `(see "How the figures are obtained"). The floor is the least time the limit allows for the calls no client can avoid: creates ` +
      `longest job + 2n/rate (after the first job can have ended: one poll and one connections read per preview; a create no longer ` +
      `lists the project), refreshes 1/rate (one list: the URLs of previews unchanged since their create are not read again), ` +
      `deletes longest job + n/rate (one poll per job after it ended); job lengths ${c.jobMs / 1000} s ± 20 % (seeded by name), ` +
      `with n the operations run; each phase starts on a fresh window (the clock idles one window between phases, outside the ` +
      `wall time), and since a fixed window lets its first ${c.rate} calls through at once, a phase can end up to one window under ` +
      `this floor. Failures: operations that ended in an error, "of m" when fewer than ${c.n} ran, with what they died ` +
      `of (a 429 given up on, a wait past its deadline); where operations failed, wall / floor says little, since a failed ` +
      `operation stops early. TCP connections are counted by a proxy in front of the control plane, which ` +
      `keeps idle connections open and sends no Keep-Alive hint (like a load balancer with a long idle timeout).`,
    "",
  );
  out.push(...header(["request policy", "Retry-After", "phase", "wall", "floor", "wall / floor", "calls", "429s", "failures", "TCP connections", "list calls"]));
  for (const mode of ["none", "ra"]) {
    for (const phase of ["creates", "refreshes", "deletes"]) {
      for (const st of limitStrategies) {
        const k = `conc.${st.id}.${mode}.${phase}`;
        out.push(row([st.label, mode === "ra" ? "1 s" : "none", phase, s(f[`${k}.wall`]), s(f[`${k}.floor`]), ratio(f[`${k}.ratio`]), n(f[`${k}.calls`], 0), `${n(f[`${k}.limited`], 0)} (${n(f[`${k}.limitedPct`], 1)} %)`, failures(f, k, c.n), n(f[`${k}.tcp`], 0), n(f[`${k}.lists`], 0)]));
      }
    }
  }
  out.push("");
  out.push("## Plugin", "");
  out.push(
    `The real dynamic-provider plugin of \`@pulumi/pulumi\` from this checkout, driven over gRPC by the engine harness (test/engine). ` +
      `Cold start: from spawning it to the first API request reaching the control plane (Configure, Check and Create in between); ` +
      `its CPU time (user + system) up to then is given beside it, since on a loaded machine the wall time mostly measures the load. ` +
      `Peak RSS (VmHWM) after ${settings.plugin.ops} creates at once and as many deletes.`,
    "",
  );
  out.push(...header(["cold start (wall)", "cold start (CPU time)", "peak RSS", "failures"]));
  out.push(row([s(f["plugin.coldStart"]), s(f["plugin.coldStartCpu"]), `${n(f["plugin.peakRss"], 0)} MB`, n(f["plugin.failures"], 0)]));
  out.push("");
  if (targets) {
    out.push("## Targets (issue 10)", "");
    out.push(...header(["target", "measured", "result"]));
    for (const t of targets) out.push(row([t.text, t.measured, t.met ? "met" : "**not met**"]));
    out.push("");
  }
  out.push("## How the figures are obtained", "");
  out.push(
    "- Time: the control plane's clock and every simulated provider process of a scenario share one clock that runs in real time, " +
      "except that when no request is in flight and every process is asleep (until its next poll, a rate-limit pause or a job's end), " +
      "it jumps to the earliest wake-up (test/bench/clock.ts). Requests, answers and all the work between them take their real time, " +
      "on this machine, under its load; waiting costs nothing, so 300 s jobs and 15 s jobs fit in the run, and timers firing late " +
      "on a busy machine do not blur the schedules.",
    "- Strategies other than this version are the schedule before issue 16 (the same learning, with the fallback interval issue 16 replaced: " +
      "1.2 s growing to 1.6 s up to 20 s, to 2.8 s at 2 minutes), the incumbents' schedules as documented (capydb-api.md §5) and 0.1.0's, run by the same client: " +
      "0.1.0 polls at once, then 0.5 s growing by half to a 2 s cap in the first minute and a 10 s cap after; the Terraform provider every 5 s; " +
      "the CLI at once, then 2 s doubling to 10 s.",
    "- Request policies other than this version's (the table of operations at once) are 0.1.0's rules and the Go transport's as " +
      "documented (capydb-api.md §1.5 and §5), run by the same client (test/bench/unshared-requests.ts). 0.1.0 sends every request at " +
      "once, and after a 429 only that call waits: Retry-After as given (capped at 60 s), else 1 s, 2 s, 4 s … 30 s, jittered down to " +
      "half, for the call's successive 429s, until the operation's deadline. The Go transport sends every request at once and fails " +
      "the call on its first 429: a create or delete whose POST or DELETE is refused fails, and a refused read during a wait counts as " +
      "one of the five poll errors in a row a wait tolerates (as the CLI does). Both retry failed GETs at +1 s and +3 s, unjittered " +
      "(no 5xx occurs here). Everything else in these rows is this version's (poll schedule, shared identical reads, keep-alive agent), " +
      "so the rows isolate how the limit is handled: 0.1.0 as released also polled on its own schedule and sent one list per refresh. " +
      "Each operation keeps the provider's 20-minute deadline on the benchmark's clock. Targets are judged on this version's rows only.",
    "- Simulated processes share the benchmark's Node process and its event loop, with the control plane; the operations of one " +
      "scenario run at the same time, scenarios one after the other.",
    `- ${settings.runs} run(s) per figure; a warm-up round runs first and is not counted. "Max" figures are the median of each run's maximum.`,
    "",
  );
  return out.join("\n");
}
