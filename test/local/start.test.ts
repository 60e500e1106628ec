// `npm start` as a user runs it (the real npm, the package's "start" script), from a checkout only root
// can enter (a 0700 folder, like a clone in /root): prints the exports, serves the API, runs the root
// program through the real CLI when it has one, and every way of stopping it (Ctrl-C, SIGINT or SIGTERM
// to npm or to node, npm killed outright) leaves no preview, no Postgres and no temp data behind.
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { request } from "undici";
import { REPO } from "../helpers/packed-program";
import { postmasterOn, type Postmaster } from "../helpers/postmaster";
import { commandLine, descendantsOf, isRunning, parentOf } from "../helpers/process-tree";
import { requirePulumiCli } from "../cli/suite";
import { buildScript, hasNodejsHost } from "../pulumi/cli";

/**
 * A copy of this checkout (build, dependencies, scripts, project files) inside a 0700 folder. Dependencies
 * are hard-linked when the filesystem allows, so the copy is cheap.
 */
function rootOnlyCheckout(): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-rootonly-"));
  fs.chmodSync(parent, 0o700);
  const root = path.join(parent, "checkout");
  fs.mkdirSync(root);
  for (const entry of ["dist", "scripts", "pulumi-cli", "pulumi-language-nodejs", "package.json", "Pulumi.yaml"]) {
    fs.cpSync(path.join(REPO, entry), path.join(root, entry), { recursive: true });
  }
  const linked = spawnSync("cp", ["-al", path.join(REPO, "node_modules"), path.join(root, "node_modules")]);
  if (linked.status !== 0) fs.cpSync(path.join(REPO, "node_modules"), path.join(root, "node_modules"), { recursive: true, verbatimSymlinks: true });
  return parent;
}

/** A TMPDIR of its own for each run, so that what it leaves behind can be seen; the postgres user must enter it. */
function privateTmp(parent: string, name: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  return dir;
}

interface Started {
  /** npm's process id: the process a terminal starts for `npm start`. */
  pid: number;
  stdout: () => string;
  stderr: () => string;
  /** npm's exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Signals the whole process group, as a terminal's Ctrl-C does (npm and node both get it). */
  kill: (signal: NodeJS.Signals) => void;
}

const NPM = path.join(path.dirname(process.execPath), "npm");

/**
 * `npm start` in the checkout, as a terminal runs it. `--ignore-scripts` skips only "prestart" (the
 * TypeScript build, which needs the sources this copy leaves out); "start" runs as written.
 */
function startNpmStart(checkout: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(fs.existsSync(NPM) ? NPM : "npm", ["start", "--ignore-scripts"], {
    cwd: checkout,
    env: { HOME: process.env.HOME ?? "/tmp", CAPYDB_LOCAL_PORT: "0", npm_config_update_notifier: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that kill() can signal the group as a terminal's Ctrl-C does.
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  return { pid: child.pid!, stdout: () => stdout, stderr: () => stderr, exited, kill };
}

/** The two node processes of npm start: the foreground one npm runs, and the worker in its own group. */
function startProcesses(npmPid: number): { node: number; worker: number } {
  const ours = descendantsOf(npmPid).filter((pid) => commandLine(pid).includes(path.join("local", "start.js")));
  const node = ours.find((pid) => parentOf(pid) === npmPid);
  const worker = ours.find((pid) => node !== undefined && parentOf(pid) === node);
  assert.ok(node && worker, `npm start runs node directly, and node its worker: ${ours.map((p) => `${p}: ${commandLine(p)}`).join("; ")}`);
  return { node, worker };
}

async function waitUntilGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  return pids.filter(isRunning);
}

async function waitFor(what: RegExp, text: () => string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what.test(text()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.match(text(), what);
}

function exportsOf(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

async function projectPort(exports: Record<string, string>): Promise<number> {
  const project = await request(`${exports.CAPYDB_API_URL}/v1/projects/${exports.CAPYDB_PROJECT_ID}`, {
    headers: { authorization: `Bearer ${exports.CAPYDB_API_KEY}` },
  });
  assert.equal(project.statusCode, 200);
  return ((await project.body.json()) as { project: { direct_port: number } }).project.direct_port;
}

/** Restores the project's first backup into a new preview (E11) and answers the port its postmaster serves. */
async function restoredPreviewPort(exports: Record<string, string>): Promise<number> {
  const base = exports.CAPYDB_API_URL;
  const post = async (url: string, body: unknown, key?: string) => {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const get = async (url: string, key: string) =>
    (await (await request(url, { headers: { authorization: `Bearer ${key}` } })).body.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const projectId = exports.CAPYDB_PROJECT_ID;
  const key = (await post(`${base}/_capydb_local/api-keys`, { scopes: ["projects:read", "jobs:read", "backups:write"], projectId })).body.key as string;
  const backups = await get(`${base}/_capydb_local/backups?projectId=${projectId}`, key);
  const restore = await post(`${base}/v1/projects/${projectId}/restores`, { target_kind: "new_preview", backup_key: backups.backups[0].key, preview_name: "restored" }, key);
  assert.equal(restore.status, 202, JSON.stringify(restore.body));
  for (let i = 0; i < 600; i++) {
    const job = (await get(`${base}/v1/jobs/${restore.body.job.id}`, key)).job;
    if (job.state === "completed") {
      const previews = (await get(`${base}/v1/projects/${projectId}/preview-databases`, key)).preview_databases as { id: string; direct_port: number }[];
      return previews.find((p) => p.id === job.preview_database_id)!.direct_port;
    }
    assert.notEqual(job.state, "failed", job.error);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the restore job did not complete within a minute");
}

describe("npm start from a checkout only root can enter", function () {
  this.timeout(240_000);
  let parent: string;
  let checkout: string;
  let tmpRoot: string;

  before(() => {
    parent = rootOnlyCheckout();
    checkout = path.join(parent, "checkout");
    // Beside the checkout's 0700 parent, since the postgres user must reach the data it keeps there.
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-start-tmp-"));
    fs.chmodSync(tmpRoot, 0o755);
  });
  after(() => {
    for (const dir of [parent, tmpRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("without a Pulumi CLI or Go: prints the exports, serves the API, says how to get a CLI, stops cleanly on Ctrl-C", async () => {
    // Only Node's own directory on PATH: no `pulumi`, no `go`, whatever the machine has installed.
    const tmp = privateTmp(tmpRoot, "no-cli");
    const run = startNpmStart(checkout, { PATH: path.dirname(process.execPath), TMPDIR: tmp });
    try {
      await waitFor(/Serving /, run.stderr, 60_000);
      const exports = exportsOf(run.stdout());
      assert.deepEqual(Object.keys(exports).sort(), ["CAPYDB_API_KEY", "CAPYDB_API_URL", "CAPYDB_PROJECT_ID"], run.stdout() + run.stderr());
      assert.match(run.stderr(), /No Pulumi CLI/);
      assert.match(run.stderr(), /get\.pulumi\.com/);
      assert.match(run.stderr(), /Go 1\.26/);
      const postmaster = postmasterOn(await projectPort(exports));
      assert.ok(postmaster, "a postgres serves the project");
      // A restored preview runs a postmaster of its own, from a base backup and the WAL archive.
      const restoredPostmaster = postmasterOn(await restoredPreviewPort(exports));
      assert.ok(restoredPostmaster, "a postgres serves the restored preview");

      run.kill("SIGINT");
      assert.equal(await run.exited, 0, run.stderr());
      assert.equal(fs.existsSync(`/proc/${postmaster.pid}`), false, "the postmaster process is gone");
      assert.equal(fs.existsSync(postmaster.dataDir), false, "the data directory is removed");
      assert.equal(fs.existsSync(`/proc/${restoredPostmaster.pid}`), false, "the restored preview's postmaster is gone");
      assert.equal(fs.existsSync(restoredPostmaster.dataDir), false, "its data directory is removed");
      assert.deepEqual(fs.readdirSync(tmp), [], "no temp folder left (base backups and WAL archive included)");
    } finally {
      run.kill("SIGKILL");
    }
  });

  it("with the CLI: pulumi up of the root program, a psql line that works, and Ctrl-C destroys it all", async function () {
    const cli = requirePulumiCli(this);
    const tmp = privateTmp(tmpRoot, "with-cli");
    // With Go on PATH and no `pulumi`, npm start builds the project's CLI in the copy first (Go's caches
    // are warm by now, so that is a link step); without Go it uses the CLI found for this run.
    const go = buildScript.findOnPath("go");
    const PATH = [go ? path.dirname(go) : path.dirname(cli.binary), path.dirname(process.execPath), "/usr/bin", "/bin"].join(":");
    const run = startNpmStart(checkout, { PATH, TMPDIR: tmp });
    try {
      await waitFor(/Serving /, run.stderr, 180_000);
      const out = run.stdout();
      if (go) assert.match(run.stderr(), /building it from its Go modules[\s\S]*built Pulumi CLI v[\s\S]*built the Node\.js language host v/);
      assert.match(run.stderr(), /\$ pulumi up --yes/);
      if (go || hasNodejsHost(cli)) {
        // Plain `pulumi`: the CLI ran the program through its Node.js language host, not program-host.js.
        assert.doesNotMatch(run.stderr(), /program-host/);
        assert.match(run.stdout(), /psql "\$\(pulumi -C /);
      }
      assert.match(out, /PreviewDatabase\s+db\s+created/, run.stderr());
      const exports = exportsOf(out);
      for (const name of ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "CAPYDB_API_URL", "CAPYDB_API_KEY", "CAPYDB_PROJECT_ID"]) {
        assert.ok(exports[name], `prints export ${name}`);
      }
      assert.match(out, /directUrl\s+\[secret\]/, "stack outputs are shown with secrets masked");
      const psqlLine = out.split("\n").find((l) => l.startsWith("psql "));
      assert.ok(psqlLine, "prints a psql line");

      // The line works as printed, in a shell with the printed exports, with `select 1` as its input.
      const backendDir = new URL(exports.PULUMI_BACKEND_URL).pathname;
      const script = `${out.split("\n").filter((l) => l.startsWith("export ")).join("\n")}\n${psqlLine} -X -tAc 'select 1'\n`;
      if (fs.existsSync("/usr/bin/psql")) {
        // The same PATH npm start had: its `pulumi`, or the printed `export PATH=…` for the one it built.
        const shell = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { HOME: process.env.HOME ?? "/tmp", PATH } });
        assert.equal(shell.stdout.trim(), "1", shell.stderr);
      }
      const postmaster = postmasterOn(await projectPort(exports));
      assert.ok(postmaster);

      run.kill("SIGINT");
      assert.equal(await run.exited, 0, run.stderr());
      assert.match(run.stdout(), /PreviewDatabase\s+db\s+deleted/, "Ctrl-C destroyed the stack");
      assert.match(run.stderr(), /no preview, no Postgres, no temp data left/);
      assert.equal(fs.existsSync(backendDir), false, "the state backend is removed");
      assert.equal(fs.existsSync(`/proc/${postmaster.pid}`), false, "the postmaster process is gone");
      assert.equal(fs.existsSync(postmaster.dataDir), false, "the data directory is removed");
      assert.deepEqual(fs.readdirSync(tmp), [], "no temp folder left");
    } finally {
      run.kill("SIGKILL");
    }
  });

  /**
   * Each way a user or a system stops `npm start`, on a stack that `pulumi up` created. The stacks start
   * together (the slow part), then each case signals its own and checks that everything it had is gone.
   */
  describe("signals: whatever stops npm start, the stack is destroyed and nothing is left", function () {
    this.timeout(300_000);
    interface Case {
      title: string;
      send: (run: Started, pids: { node: number; worker: number }) => void;
      /** npm's exit code: 0 after a clean stop, null when the case killed npm itself. */
      npmExit: number | null;
      /** What the worker says made it stop. */
      stoppedBy: RegExp;
    }
    const cases: Case[] = [
      { title: "SIGINT to npm's process", send: (run) => process.kill(run.pid, "SIGINT"), npmExit: 0, stoppedBy: /^SIGINT: destroying/m },
      { title: "SIGTERM to npm's process", send: (run) => process.kill(run.pid, "SIGTERM"), npmExit: 0, stoppedBy: /^SIGTERM: destroying/m },
      { title: "SIGINT to node", send: (_, p) => process.kill(p.node, "SIGINT"), npmExit: 0, stoppedBy: /^SIGINT: destroying/m },
      { title: "SIGTERM to node", send: (_, p) => process.kill(p.node, "SIGTERM"), npmExit: 0, stoppedBy: /^SIGTERM: destroying/m },
      {
        title: "SIGKILL to npm: node sees its parent gone and stops the worker",
        send: (run) => process.kill(run.pid, "SIGKILL"),
        npmExit: null,
        stoppedBy: /is gone: stopping[\s\S]*SIGTERM: destroying/,
      },
      {
        title: "SIGKILL to npm's process group (npm and node): the worker cleans up by itself",
        send: (run) => run.kill("SIGKILL"),
        npmExit: null,
        stoppedBy: /foreground process is gone: destroying/,
      },
    ];
    interface Running {
      run: Started;
      tmp: string;
      pids: { node: number; worker: number };
      everything: number[];
      postmaster: Postmaster;
      backendDir: string;
    }
    const running = new Map<Case, Running>();

    before(async function () {
      const cli = requirePulumiCli(this);
      // The CLI for this run (with its language host beside it), no Go: nothing is built in the copy.
      const PATH = [path.dirname(cli.binary), path.dirname(process.execPath), "/usr/bin", "/bin"].join(":");
      const started = cases.map((c, i) => ({ c, tmp: privateTmp(tmpRoot, `signal-${i}`) })).map(({ c, tmp }) => ({ c, tmp, run: startNpmStart(checkout, { PATH, TMPDIR: tmp }) }));
      for (const { c, tmp, run } of started) {
        await waitFor(/Serving /, run.stderr, 240_000);
        assert.match(run.stdout(), /PreviewDatabase\s+db\s+created/, run.stderr());
        const exports = exportsOf(run.stdout());
        const postmaster = postmasterOn(await projectPort(exports));
        assert.ok(postmaster, "a postgres serves the project");
        const pids = startProcesses(run.pid);
        const everything = [run.pid, ...descendantsOf(run.pid)];
        assert.ok(everything.includes(postmaster.pid), "Postgres runs under npm start");
        running.set(c, { run, tmp, pids, everything, postmaster, backendDir: new URL(exports.PULUMI_BACKEND_URL).pathname });
      }
    });

    after(() => {
      for (const { run, pids } of running.values()) {
        run.kill("SIGKILL");
        try {
          process.kill(-pids.worker, "SIGKILL");
        } catch {
          // gone already
        }
      }
    });

    for (const c of cases) {
      it(c.title, async () => {
        const r = running.get(c);
        assert.ok(r, "started");
        c.send(r.run, r.pids);
        const left = await waitUntilGone(r.everything, 240_000);
        assert.deepEqual(left.map((pid) => `${pid}: ${commandLine(pid)}`), [], `every process of npm start has ended\n${r.run.stderr()}`);
        assert.equal(await r.run.exited, c.npmExit, r.run.stderr());
        const stderr = r.run.stderr();
        assert.match(stderr, c.stoppedBy);
        assert.match(r.run.stdout(), /PreviewDatabase\s+db\s+deleted/, `the stack was destroyed\n${stderr}`);
        assert.match(stderr, /no preview, no Postgres, no temp data left/);
        assert.equal(fs.existsSync(r.backendDir), false, "the state backend is removed");
        assert.equal(isRunning(r.postmaster.pid), false, "the postmaster process is gone");
        assert.equal(fs.existsSync(r.postmaster.dataDir), false, "the data directory is removed");
        assert.deepEqual(fs.readdirSync(r.tmp), [], "no temp folder left");
      });
    }
  });
});
