/**
 * The real Pulumi CLI for `npm start` and the CLI test suite: where it is, and how to run one command
 * against a local (file://) backend. Building it is scripts/pulumi-cli.js (`npm run pulumi:cli`).
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
/** Runs one CLI command with the program served from the calling directory (see program-host.ts). */
export const PROGRAM_HOST = path.join(__dirname, "program-host.js");

interface BuildScript {
  pinnedVersion(): string;
  projectCliPath(): string;
  cliVersion(binary: string): string | undefined;
  findOnPath(name: string, envPath?: string): string | undefined;
  ensureProjectCli(): Promise<string>;
  goAvailable(): string | undefined;
  NO_GO: string;
  nodejsHostPinnedVersion(): string;
  nodejsHostPath(): string;
  nodejsHostVersion(binary?: string): string | undefined;
  ensureNodejsLanguageHost(): Promise<string>;
}
// Plain JavaScript so that `npm run pulumi:cli` needs no TypeScript build first.
export const buildScript = require(path.join(REPO_ROOT, "scripts", "pulumi-cli.js")) as BuildScript;

export interface PulumiCli {
  binary: string;
  version: string;
  /** Where it was found: $PULUMI_CLI, the project's build (.pulumi-cli/bin), or PATH. */
  source: "PULUMI_CLI" | "project" | "PATH";
}

type Source = PulumiCli["source"];

/** The first CLI that runs, in the order asked for; the project's build counts only at the pinned version. */
export function locatePulumiCli(order: Source[] = ["PULUMI_CLI", "project", "PATH"]): PulumiCli | undefined {
  for (const source of order) {
    const binary =
      source === "PULUMI_CLI"
        ? process.env.PULUMI_CLI || undefined
        : source === "project"
          ? buildScript.projectCliPath()
          : buildScript.findOnPath("pulumi");
    if (!binary) continue;
    const version = buildScript.cliVersion(binary);
    if (!version) continue;
    if (source === "project" && version !== `v${buildScript.pinnedVersion()}`) continue;
    return { binary, version, source };
  }
  return undefined;
}

/**
 * Environment for a stack on a local backend: nothing here needs the network or a Pulumi account.
 * PULUMI_HOME is per backend so plugins, credentials and history of the machine are never touched.
 */
export function localBackendEnv(
  cli: PulumiCli,
  backendDir: string,
  passphrase: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...extra,
    PULUMI_CLI: cli.binary,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_HOME: path.join(backendDir, ".pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // The plugin launcher beside the CLI needs `node`; the CLI's own directory holds that launcher.
    PATH: [path.dirname(cli.binary), path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
  };
}

/**
 * How a command that runs the program reaches it: "cli" is plain `pulumi <args>` (the CLI starts the
 * program through its Node.js language host, as for any user); "program-host" serves the program from
 * program-host.js instead, for a CLI that has no Node.js language host.
 */
export type PulumiVia = "cli" | "program-host";

/** Whether the CLI can run a Node.js program itself: pulumi-language-nodejs beside it or on PATH, where it looks. */
export function hasNodejsHost(cli: PulumiCli, envPath = process.env.PATH): boolean {
  return fs.existsSync(path.join(path.dirname(cli.binary), "pulumi-language-nodejs")) || buildScript.findOnPath("pulumi-language-nodejs", envPath) !== undefined;
}

/** The executable and arguments that run `pulumi <args>` the given way (env.PULUMI_CLI is the CLI). */
export function pulumiCommand(args: string[], env: NodeJS.ProcessEnv, via: PulumiVia): { file: string; argv: string[] } {
  return via === "cli" ? { file: env.PULUMI_CLI || "pulumi", argv: args } : { file: process.execPath, argv: [PROGRAM_HOST, ...args] };
}

export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface StartedPulumi {
  child: ChildProcess;
  done: Promise<PulumiRun>;
}

export interface PulumiRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Also copy the output to this process's stdout/stderr. */
  echo?: boolean;
  /** Its own process group (kill the whole tree with process.kill(-pid)). */
  detached?: boolean;
  /** Plain `pulumi`, or through program-host.js (the default). */
  via?: PulumiVia;
}

/** Starts `pulumi <args>` in the program directory `cwd`, plain or through the program host. */
export function startPulumi(args: string[], opts: PulumiRunOptions): StartedPulumi {
  const { file, argv } = pulumiCommand(args, opts.env, opts.via ?? "program-host");
  return startCommand(file, argv, opts);
}

/** Runs `pulumi <args>` to its end (startPulumi's `done`). */
export function runPulumi(args: string[], opts: PulumiRunOptions): Promise<PulumiRun> {
  return startPulumi(args, opts).done;
}

/** Starts any command, collecting its output; its exit is the code, or 137 when a signal ended it. */
export function startCommand(file: string, args: string[], opts: PulumiRunOptions): StartedPulumi {
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d;
    if (opts.echo) process.stdout.write(d);
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d;
    if (opts.echo) process.stderr.write(d);
  });
  const done = new Promise<PulumiRun>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 137 : 1), stdout, stderr }));
  });
  return { child, done };
}
