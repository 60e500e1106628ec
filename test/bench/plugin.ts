import * as fs from "fs";
import * as path from "path";
import { jitteredJobMs } from "./concurrency";
import { startControlPlane } from "../control-plane";
import { loadProtos, startPlugin } from "../engine/plugin";

const REPO = path.resolve(__dirname, "..", "..", "..");
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";
/** The `__provider` text the SDK writes into state (the frozen shim, as Pulumi serializes it). */
const PROVIDER_TEXT = fs.readFileSync(path.join(REPO, "test", "golden", "provider-shim.js.txt"), "utf8");

/** CPU time (user + system) a process has used so far, in ms (Linux: /proc/<pid>/stat). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Peak resident set of a process so far (Linux: VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb / 1024;
}

/**
 * The real dynamic-provider plugin (`@pulumi/pulumi/cmd/dynamic-provider`, from this checkout) driven
 * over gRPC as the engine drives it. Cold start: from spawning it to the first API request that reaches
 * the control plane (Configure, Check and Create in between). Then `ops` creates at once, and as many
 * deletes, with the plugin's peak RSS read after.
 */
export async function pluginRun(opts: { ops: number; jobMs: number }): Promise<{ coldStartMs: number; coldStartCpuMs: number; peakRssMb: number; failures: number }> {
  loadProtos(); // the harness's own gRPC client, loaded before the clock starts
  // Jittered like every other row (issue 16): ±20 % around jobMs, seeded by the preview's name.
  const cp = await startControlPlane({ jobProgression: "time", previewLimit: 100_000, jobDurationMs: ({ previewName }) => jitteredJobMs(opts.jobMs, previewName) });
  try {
    cp.clearRequests();
    const spawnedAt = Date.now();
    const plugin = await startPlugin({ programDir: REPO, project: "bench" });
    try {
      await plugin.configure({ "capydb:apiKey": cp.apiKey, "capydb:apiUrl": cp.url }, ["capydb:apiKey"]);
      // The CPU the plugin used to get there: what a busy machine cannot inflate.
      let coldStartCpuMs = NaN;
      const firstRequest = setInterval(() => {
        if (cp.requests().length > 0 && Number.isNaN(coldStartCpuMs)) coldStartCpuMs = cpuMs(plugin.pid);
      }, 5);
      const create = async (name: string) => {
        const urn = plugin.urn(TYPE, name);
        const { inputs } = await plugin.check(urn, {}, { projectId: cp.projectId, name, __provider: PROVIDER_TEXT });
        const created = await plugin.create(urn, inputs);
        return { urn, ...created, inputs };
      };
      const first = await create("cold-start");
      clearInterval(firstRequest);
      const coldStartMs = cp.requests()[0].wallAt - spawnedAt;
      const settled = await Promise.allSettled(Array.from({ length: opts.ops }, (_, i) => create(`rss-${i}`)));
      const made = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      const deleted = await Promise.allSettled([first, ...made].map((r) => plugin.delete(r.urn, r.id, r.properties, r.inputs)));
      const failures = settled.filter((s) => s.status === "rejected").length + deleted.filter((s) => s.status === "rejected").length;
      return { coldStartMs, coldStartCpuMs, peakRssMb: peakRssMb(plugin.pid), failures };
    } finally {
      await plugin.close();
    }
  } finally {
    await cp.close();
  }
}
