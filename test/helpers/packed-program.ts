/**
 * The package as users install it: `npm pack` of this checkout (once per test process) installed into a
 * fresh program directory, so every require resolves against the installed copy, never this checkout.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO = path.resolve(__dirname, "..", "..", "..");
/** The SDK version programs install: the development pin (users get the peer range). */
export const PULUMI_SDK_VERSION = "3.248.0";

export const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/**
 * Runs a command and returns its stdout; npm_* variables of an enclosing `npm test` are dropped, since
 * they would redirect a nested npm (prefix, cache, config). `env` is added on top.
 */
export function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 300_000): Promise<string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) base[k] = v;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...base, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} in ${cwd} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

let packed: Promise<string> | undefined;

/** The tarball of the current build, packed once per process into a temp dir removed at exit. */
export function packedTarball(): Promise<string> {
  packed ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-tarball-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    // Scripts are skipped: the tests run against the current build, which is what gets packed.
    const out = JSON.parse(await run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], REPO)) as { filename: string }[];
    return path.join(dir, out[0].filename);
  })();
  return packed;
}

/**
 * Writes package.json with `dependencies` (pulumi-capydb as the packed tarball, @pulumi/pulumi at the pin,
 * plus any extra) and installs them from the npm cache when it can, else from the registry.
 */
export async function installProgram(dir: string, extra: Record<string, string> = {}, devDependencies: Record<string, string> = {}): Promise<void> {
  const tarball = await packedTarball();
  const pkg = {
    name: path.basename(dir).toLowerCase().replace(/[^a-z0-9-]/g, "-"),
    version: "1.0.0",
    private: true,
    dependencies: { "pulumi-capydb": `file:${tarball}`, "@pulumi/pulumi": PULUMI_SDK_VERSION, ...extra },
    devDependencies,
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  const install = ["install", "--no-audit", "--no-fund", "--ignore-scripts"];
  await run(npm, [...install, "--offline"], dir).catch(() => run(npm, [...install, "--prefer-offline"], dir));
}
