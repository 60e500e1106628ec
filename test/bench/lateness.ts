import { fork } from "child_process";
import * as path from "path";
import { startControlPlane } from "../control-plane";

/**
 * Job lateness on the real clock (issue 16): one create per job length, each in its own runner process
 * (runner-child.ts: nothing learned, its own budget and agent), all at once, no rate limit, `latencyMs`
 * added to every request. Per job, from the control plane's own records:
 * - late after the end: from the job's end (its creation on the control plane plus its length) to the
 *   create returning, less the two round trips it must make after it (the poll that sees it done, the
 *   URLs). This is how late the provider notices the end: its poll schedule, timers and answer handling.
 * - create − job − 4 round trips: the create's whole time less its job and every round trip it must make
 *   (scopes and POST before, poll and URLs after): also counts what comes before the POST (the runner's
 *   first request opens a connection, loads the HTTP parser, compiles cold code).
 * - polls: GET /v1/jobs/{id} answered for the job.
 */
export interface LatenessRow {
  jobMs: number;
  afterEndMs: number;
  wholeMs: number;
  polls: number;
}

type Reply = { ready?: true; ok?: boolean; ms?: number; id?: string; error?: string };

export async function latenessRun(s: { lengthsMs: number[]; latencyMs: number }): Promise<LatenessRow[]> {
  const byName = new Map(s.lengthsMs.map((ms, i) => [`late-${i}`, ms]));
  const cp = await startControlPlane({ jobProgression: "time", previewLimit: 100_000, jobDurationMs: ({ previewName }) => byName.get(previewName) });
  const script = path.join(__dirname, "runner-child.js");
  const children = s.lengthsMs.map(() => fork(script, [], { stdio: ["ignore", "ignore", "inherit", "ipc"], env: { PATH: process.env.PATH ?? "" } }));
  try {
    cp.faults.inject({ delayMs: s.latencyMs, times: 1e9 });
    const replies = children.map((child) => {
      const messages: Reply[] = [];
      const waiters: ((r: Reply & { at: number }) => void)[] = [];
      child.on("message", (m: Reply) => {
        const stamped = { ...m, at: Date.now() };
        if (waiters.length) waiters.shift()!(stamped);
        else messages.push(stamped);
      });
      child.on("exit", () => waiters.splice(0).forEach((w) => w({ ok: false, error: "runner exited", at: Date.now() })));
      return () => (messages.length ? Promise.resolve(messages.shift() as Reply & { at: number }) : new Promise<Reply & { at: number }>((r) => waiters.push(r)));
    });
    await Promise.all(replies.map((next) => next())); // "ready": loaded, not yet timed
    const done = await Promise.all(
      children.map((child, i) => {
        child.send({ op: "create", apiUrl: cp.url, apiKey: cp.apiKey, projectId: cp.projectId, name: `late-${i}` });
        return replies[i]();
      }),
    );
    const jobs = cp.jobs.list().filter((j) => j.kind === "create");
    return s.lengthsMs.map((jobMs, i) => {
      const reply = done[i];
      const job = jobs.find((j) => j.previewId === reply.id);
      if (!reply.ok || !job) throw new Error(`lateness run: the create of a ${jobMs} ms job failed: ${reply.error ?? "no job"}`);
      return {
        jobMs,
        afterEndMs: reply.at - (job.createdAt + jobMs) - 2 * s.latencyMs,
        wholeMs: reply.ms! - jobMs - 4 * s.latencyMs,
        polls: job.polls,
      };
    });
  } finally {
    for (const child of children) child.kill();
    await cp.close();
  }
}

/** `node dist/test/bench/lateness.js`: the lateness rows alone (the lengths of `npm run bench:user-view`). */
if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { USER_VIEW_FULL } = require("./user-view") as typeof import("./user-view");
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  latenessRun({ lengthsMs: USER_VIEW_FULL.latenessMs, latencyMs: USER_VIEW_FULL.runners.latencyMs }).then(
    (rows) => {
      for (const r of rows) console.log(`${r.jobMs} ms job: ${r.afterEndMs} ms after the end, whole ${r.wholeMs} ms, ${r.polls} polls`);
      for (const [lo, hi] of [[0, 20_000], [30_000, 120_000]]) {
        const some = rows.filter((r) => r.jobMs >= lo && r.jobMs <= hi);
        console.log(`${lo / 1000}–${hi / 1000} s: mean after the end ${mean(some.map((r) => r.afterEndMs))} ms, whole ${mean(some.map((r) => r.wholeMs))} ms, polls ${mean(some.map((r) => r.polls))}`);
      }
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
