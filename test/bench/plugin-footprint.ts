/**
 * `npm run build && node dist/test/bench/plugin-footprint.js`: the two doors' plugin processes side by
 * side. Cold start: from spawn to the port on the first stdout line (the native plugin from its
 * archive; the dynamic-provider plugin through the launcher Pulumi ships, from a program's node_modules).
 * Peak memory: the plugin process's VmHWM while the real CLI runs `pulumi up` creating one preview and
 * `pulumi destroy` (YAML program for the native plugin, the packed-tarball TypeScript program for the
 * dynamic one), against the local control plane in memory. Linux only (/proc).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startControlPlane } from "../control-plane";
import { locatePulumiCli, type PulumiCli } from "../pulumi/cli";
import { CliStack } from "../cli/cli-stack";
import { DirectCliStack, pluginArchive, programCopy, YAML_PROGRAM } from "../cli/native";
import { CLI_PROGRAM, installedCopy } from "../cli/suite";

const RUNS = 5;

function coldStartMs(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // Its own process group: the engine's pulumi-nodejs launcher runs node as a child, which a kill of
    // the launcher alone would leave running.
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
    child.stdout.once("data", () => {
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
      process.kill(-child.pid!, "SIGKILL");
    });
    child.once("error", reject);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `work` while sampling the highest VmHWM (kB) of processes whose command line contains `marker`. */
async function peakRssKb(marker: string, work: () => Promise<unknown>): Promise<number> {
  let peak = 0;
  const sample = () => {
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
        if (hwm) peak = Math.max(peak, Number(hwm[1]));
      } catch {
        // gone meanwhile
      }
    }
  };
  const timer = setInterval(sample, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return peak;
}

async function main(): Promise<void> {
  const cli: PulumiCli | undefined = locatePulumiCli();
  if (!cli) throw new Error("no Pulumi CLI: run `npm run pulumi:cli`");
  const cp = await startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 300, reset: 200, delete: 200 } });
  const tsDir = await installedCopy(CLI_PROGRAM);
  const yamlDir = programCopy(YAML_PROGRAM);
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-plugin-unpacked-"));
  try {
    await new Promise<void>((resolve, reject) =>
      spawn("tar", ["-xzf", pluginArchive(), "-C", unpacked], { stdio: "inherit" }).once("close", (c) => (c === 0 ? resolve() : reject(new Error("tar failed")))),
    );
    const env = { ...process.env, PATH: [path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter) };
    const native: number[] = [];
    const dynamic: number[] = [];
    const nodejsLauncher = path.join(path.dirname(cli.binary), "pulumi-resource-pulumi-nodejs");
    for (let i = 0; i < RUNS; i++) {
      native.push(await coldStartMs(path.join(unpacked, "pulumi-resource-capydb"), ["127.0.0.1:1"], unpacked, env));
      dynamic.push(await coldStartMs(nodejsLauncher, ["127.0.0.1:1"], tsDir, env));
    }

    const yamlStack = new DirectCliStack(cli, yamlDir, "bench", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_READINESS: "job" });
    await yamlStack.installPlugin();
    await yamlStack.init();
    await yamlStack.config("capydb-yaml-suite:projectId", cp.projectId);
    const nativePeak = await peakRssKb("pulumi-resource-capydb.js", async () => {
      await yamlStack.ok(["up", "--yes", "--non-interactive"]);
      await yamlStack.ok(["destroy", "--yes", "--non-interactive"]);
    });
    const tsStack = new CliStack(cli, tsDir, "bench", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_READINESS: "job" });
    await tsStack.init();
    await tsStack.config("capydb-cli-suite:projectId", cp.projectId);
    const dynamicPeak = await peakRssKb("dynamic-provider", async () => {
      await tsStack.ok(["up", "--yes", "--non-interactive"]);
      await tsStack.ok(["destroy", "--yes", "--non-interactive"]);
    });
    yamlStack.remove();
    tsStack.remove();

    const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
    const ms = (values: number[]) => `${median(values).toFixed(0)} ms (median of ${RUNS}; ${values.map((v) => v.toFixed(0)).join(", ")})`;
    process.stdout.write(
      `node ${process.versions.node}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}\n` +
        `| plugin | cold start (spawn to port) | peak RSS, up + destroy of one preview |\n|---|---|---|\n` +
        `| native pulumi-resource-capydb (archive, esbuild bundle) | ${ms(native)} | ${mb(nativePeak)} |\n` +
        `| dynamic pulumi-resource-pulumi-nodejs (program's node_modules) | ${ms(dynamic)} | ${mb(dynamicPeak)} |\n`,
    );
  } finally {
    await cp.close();
    for (const dir of [tsDir, yamlDir, unpacked]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
// The installed program's npm handles and the control plane's pools may outlive main(): exit explicitly.
