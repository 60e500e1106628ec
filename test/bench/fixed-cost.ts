import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startControlPlane } from "../control-plane";
import { jitteredJobMs } from "./concurrency";
import { loadProtos, startPlugin } from "../engine/plugin";

const REPO = path.resolve(__dirname, "..", "..", "..");
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";
const SHIM_TEXT = fs.readFileSync(path.join(REPO, "test", "golden", "provider-shim.js.txt"), "utf8");
/** A dynamic provider that calls nothing, serialized as Pulumi writes `__provider`: the engine's own plugin cost. */
const NOOP_TEXT = `exports.handler = __f0;

var __provider = {create: __f1};

function __f1(inputs) {
  return Promise.resolve({ id: "noop-" + inputs.name, outs: inputs });
}

function __f0() {
  return __provider;
}
`;

/**
 * What every plugin launch pays (issue 16): loading `pulumi-capydb/provider` in a fresh Node process
 * (time and RSS growth), then also the HTTP client it loads at the first API call; and the peak RSS
 * of the real dynamic-provider plugin after one create, ours against the same plugin with a no-op
 * dynamic resource.
 */
export interface FixedCost {
  loadMs: number;
  loadRssMb: number;
  loadWithClientMs: number;
  loadWithClientRssMb: number;
  pluginPeakRssMb: number;
  enginePluginPeakRssMb: number;
}

function loadProbe(withClient: boolean): { ms: number; rssMb: number } {
  const probe = `
    const before = process.memoryUsage().rss;
    const t = process.hrtime.bigint();
    require(${JSON.stringify(path.join(REPO, "dist", "provider", "index.js"))});
    ${withClient ? `require(${JSON.stringify(path.join(REPO, "dist", "provider", "client.js"))}); require(${JSON.stringify(path.join(REPO, "dist", "provider", "schemas.js"))});` : ""}
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    process.stdout.write(JSON.stringify({ ms, rssMb: (process.memoryUsage().rss - before) / 1048576 }));`;
  return JSON.parse(execFileSync(process.execPath, ["-e", probe], { encoding: "utf8" }));
}

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1]) / 1024;
}

async function pluginPeak(providerText: string, jobMs: number): Promise<number> {
  loadProtos();
  const cp = await startControlPlane({ jobProgression: "time", previewLimit: 1000, jobDurationMs: ({ previewName }) => jitteredJobMs(jobMs, previewName) });
  try {
    const plugin = await startPlugin({ programDir: REPO, project: "bench" });
    try {
      await plugin.configure({ "capydb:apiKey": cp.apiKey, "capydb:apiUrl": cp.url }, ["capydb:apiKey"]);
      const urn = plugin.urn(TYPE, "one");
      const { inputs } = await plugin.check(urn, {}, { projectId: cp.projectId, name: "one", __provider: providerText });
      await plugin.create(urn, inputs);
      return peakRssMb(plugin.pid);
    } finally {
      await plugin.close();
    }
  } finally {
    await cp.close();
  }
}

export async function fixedCostRun(opts: { jobMs: number }): Promise<FixedCost> {
  const load = loadProbe(false);
  const withClient = loadProbe(true);
  return {
    loadMs: load.ms,
    loadRssMb: load.rssMb,
    loadWithClientMs: withClient.ms,
    loadWithClientRssMb: withClient.rssMb,
    pluginPeakRssMb: await pluginPeak(SHIM_TEXT, opts.jobMs),
    enginePluginPeakRssMb: await pluginPeak(NOOP_TEXT, opts.jobMs),
  };
}
