/**
 * What every real-CLI test file shares: the CLI (or a clear skip), a program installed from the packed
 * tarball, and small readers of the control plane's request log.
 */
import { execFile } from "child_process";
import { strict as assert } from "assert";
import { Client } from "pg";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ControlPlane, RequestLogEntry } from "../control-plane";
import { installProgram, REPO } from "../helpers/packed-program";
import { hasNodejsHost, locatePulumiCli, type PulumiCli, type PulumiVia } from "../pulumi/cli";

let announced = false;

/**
 * The CLI for this run, or a skip that says why. CI sets CAPYDB_REQUIRE_PULUMI_CLI=1 (after
 * `npm run pulumi:cli`), so there a missing CLI fails instead of skipping.
 */
export function requirePulumiCli(ctx: Mocha.Context): PulumiCli {
  const cli = locatePulumiCli();
  if (cli) {
    if (!announced) process.stderr.write(`      [test/cli] Pulumi CLI ${cli.version} (${cli.source}: ${cli.binary})\n`);
    announced = true;
    return cli;
  }
  const why = "no Pulumi CLI: run `npm run pulumi:cli` (builds it with Go) or put `pulumi` on PATH";
  if (process.env.CAPYDB_REQUIRE_PULUMI_CLI === "1") throw new Error(`test/cli cannot run: ${why}`);
  if (!announced) process.stderr.write(`      [test/cli] SKIPPED: ${why}\n`);
  announced = true;
  ctx.skip();
  throw new Error("unreachable");
}

/**
 * The CLI, able to run the program the given way: plain `pulumi` needs the Node.js language host beside
 * the CLI or on PATH (`npm run pulumi:cli` builds it); without one that case is skipped, or fails in CI.
 */
export function requirePulumiCliFor(ctx: Mocha.Context, via: PulumiVia): PulumiCli {
  const cli = requirePulumiCli(ctx);
  if (via === "program-host" || hasNodejsHost(cli)) return cli;
  const why = `no Node.js language host (pulumi-language-nodejs) beside ${cli.binary} or on PATH: run \`npm run pulumi:cli\``;
  if (process.env.CAPYDB_REQUIRE_PULUMI_CLI === "1") throw new Error(`test/cli cannot run plain pulumi: ${why}`);
  process.stderr.write(`      [test/cli] SKIPPED plain pulumi: ${why}\n`);
  ctx.skip();
  throw new Error("unreachable");
}

/** A copy of a program folder in a temp dir, with the packed tarball and @pulumi/pulumi installed. */
export async function installedCopy(sourceDir: string, extraDeps: Record<string, string> = {}, devDeps: Record<string, string> = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `capydb-cli-${path.basename(sourceDir)}-`));
  for (const file of fs.readdirSync(sourceDir)) {
    if (file === "node_modules" || file === "package-lock.json" || file === "package.json") continue;
    fs.cpSync(path.join(sourceDir, file), path.join(dir, file), { recursive: true });
  }
  await installProgram(dir, extraDeps, devDeps);
  return dir;
}

export const CLI_PROGRAM = path.join(REPO, "test", "cli", "program");

export function writes(requests: RequestLogEntry[]): RequestLogEntry[] {
  return requests.filter((r) => r.method !== "GET");
}

export function describeRequests(requests: RequestLogEntry[]): string {
  return requests.map((r) => `${r.method} ${r.path} -> ${r.status}`).join("\n");
}

export function livePreviews(cp: ControlPlane): { id: string; name: string; state: string }[] {
  return cp.previews.live().map((p) => ({ id: p.id, name: p.name, state: p.state }));
}

/** psql from the machine when it has one (Debian's postgresql-client), else undefined. */
export function psqlPath(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "psql");
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Runs one statement through psql with the URL as a user would paste it; returns the unaligned result.
 * Asynchronous on purpose: the pooled port is a proxy inside this test process.
 */
export function psql(url: string, sql: string): Promise<string> {
  const binary = psqlPath();
  if (!binary) throw new Error("psql is not installed");
  const env = { ...process.env, PGCONNECT_TIMEOUT: "10" };
  return new Promise((resolve, reject) =>
    execFile(binary, [url, "-X", "-tAc", sql], { encoding: "utf8", timeout: 30_000, env }, (err, stdout, stderr) =>
      err ? reject(new Error(`psql failed: ${stderr || err.message}`)) : resolve(stdout.trim()),
    ),
  );
}

/** undefined when the URL logs in and answers `select 1`, else the server's code or message. */
export async function loginError(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (e) {
    return `${(e as Error & { code?: string }).code ?? ""} ${(e as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A preview made the way the CapyDB CLI or GitHub Action would: straight through the API, waited for
 * until listed ready. Returns its id.
 */
export async function createOutsidePulumi(cp: ControlPlane, name: string): Promise<string> {
  const res = await fetch(`${cp.url}/v1/projects/${cp.projectId}/preview-databases`, {
    method: "POST",
    headers: { authorization: `Bearer ${cp.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name, mode: "empty", ttl_hours: 24 }),
  });
  assert.ok(res.ok, await res.text());
  for (let i = 0; i < 100 && cp.previews.live().find((p) => p.name === name)?.state !== "ready"; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const made = cp.previews.live().find((p) => p.name === name);
  assert.equal(made?.state, "ready", `the preview ${name} made through the API is ready`);
  return made.id;
}

/**
 * A lookup program (TypeScript or YAML) whose config `<project>:previewName` names a preview that does not
 * exist: `pulumi up` fails naming the project and the name, never the key. The config is put back after.
 */
export async function assertMissingLookupFails(
  stack: { config(key: string, value: string): Promise<unknown>; run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> },
  cp: ControlPlane,
  project: string,
  restoreName: string,
): Promise<void> {
  await stack.config(`${project}:previewName`, "no-such-preview");
  const result = await stack.run(["up", "--yes", "--non-interactive"]);
  assert.notEqual(result.code, 0);
  const text = result.stdout + result.stderr;
  assert.match(text, new RegExp(`No live preview named "no-such-preview" in CapyDB project "${cp.projectId}"`));
  assert.ok(!text.includes(cp.projectScopedKey), "never the API key");
  await stack.config(`${project}:previewName`, restoreName);
}
