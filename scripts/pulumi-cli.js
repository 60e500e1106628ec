#!/usr/bin/env node
// `npm run pulumi:cli`: builds the Pulumi CLI from its Go modules (pinned by pulumi-cli/go.mod) into
// .pulumi-cli/bin/, or does nothing when the binary there already reports the pinned version.
//
// Beside it, the Node.js language host (pulumi-language-nodejs, pinned by pulumi-language-nodejs/go.mod) so that
// plain `pulumi up` runs JavaScript programs, and the YAML language host (pulumi-yaml-host/go.mod) for YAML
// programs of the native plugin; see ensureNodejsLanguageHost and ensureYamlHost below.
//
// Also required by `npm start` and the CLI test suite (test/pulumi/cli.ts) to find or build the CLI.
"use strict";
const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const REPO = path.resolve(__dirname, "..");
const MODULE_DIR = path.join(REPO, "pulumi-cli");
const BIN_DIR = path.join(REPO, ".pulumi-cli", "bin");
const CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi";
const VERSION_VAR = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version";
/** How often a long step says it is still alive (CI logs show nothing otherwise). */
const HEARTBEAT_MS = 30_000;

const say = (line) => process.stderr.write(`[pulumi-cli] ${line}\n`);

/** The release pinned by the wrapper module, e.g. "3.274.1". */
function pinnedVersion() {
  const gomod = fs.readFileSync(path.join(MODULE_DIR, "go.mod"), "utf8");
  const match = /github\.com\/pulumi\/pulumi\/pkg\/v3 v(\d+\.\d+\.\d+)\b/.exec(gomod);
  if (!match) throw new Error(`pulumi-cli/go.mod does not require github.com/pulumi/pulumi/pkg/v3 at a release version`);
  return match[1];
}

function projectCliPath() {
  return path.join(BIN_DIR, "pulumi");
}

/** "v3.274.1", or undefined when the binary is missing or does not run. */
function cliVersion(binary) {
  const run = spawnSync(binary, ["version"], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    timeout: 60_000,
  });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** The first executable `name` on PATH, or undefined. */
function findOnPath(name, envPath = process.env.PATH ?? "") {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function formatElapsed(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

function goEnv() {
  // Release builds are static (no cgo) and stamp the version; see pulumi-cli/README.md.
  return { ...process.env, CGO_ENABLED: "0" };
}

/** Runs a go command in a wrapper module (the CLI's unless cwd says), calling onLine for each stderr line. */
function runGo(args, { onLine, heartbeat, cwd = MODULE_DIR } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn("go", args, { cwd, env: goEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let tail = [];
    let buffered = "";
    const timer = heartbeat ? setInterval(() => say(`${heartbeat} (${formatElapsed(Date.now() - started)})`), HEARTBEAT_MS) : undefined;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop();
      for (const line of lines) {
        tail = [...tail.slice(-40), line];
        onLine?.(line);
      }
    });
    child.once("error", (err) => {
      if (timer) clearInterval(timer);
      reject(err);
    });
    child.once("close", (code) => {
      if (timer) clearInterval(timer);
      if (buffered) tail.push(buffered);
      if (code === 0) resolve(stdout);
      else reject(new Error(`go ${args[0]} failed (exit code ${code}):\n${tail.join("\n")}`));
    });
  });
}

function goAvailable() {
  const run = spawnSync("go", ["version"], { encoding: "utf8" });
  return run.error ? undefined : run.stdout.trim();
}

const NO_GO =
  "Go is not installed (no `go` on PATH). The Pulumi CLI is built here from its Go modules and needs Go 1.26 or newer " +
  "(https://go.dev/dl/). Alternatively install the Pulumi CLI yourself (https://www.pulumi.com/docs/install/) and put " +
  "`pulumi` on PATH.";

/**
 * Builds the pinned CLI into .pulumi-cli/bin unless the right version is already there. Returns the
 * binary's path. Throws with NO_GO when Go is missing.
 */
async function ensureProjectCli() {
  const version = pinnedVersion();
  const binary = projectCliPath();
  const found = cliVersion(binary);
  if (found === `v${version}`) {
    say(`Pulumi CLI ${found} is already built: ${binary}`);
    installPluginShim();
    return binary;
  }
  const go = goAvailable();
  if (!go) throw new Error(NO_GO);
  const started = Date.now();
  say(`building the Pulumi CLI v${version} from its Go modules with ${go}${found ? ` (found ${found})` : ""}`);
  say("the first build downloads and compiles about 1,700 packages: several minutes on 2 cores; later builds reuse Go's caches");

  say("step 1/3: downloading modules (go mod download)");
  await runGo(["mod", "download"], { heartbeat: "still downloading modules" });

  const packages = (await runGo(["list", "-deps", CLI_PACKAGE])).split("\n").filter(Boolean).length;
  say(`step 2/3: compiling (${packages} packages; cached ones are skipped)`);
  let compiled = 0;
  let lastReport = Date.now();
  let lastDecile = 0;
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  try {
    await runGo(
      [
        "build",
        "-v",
        "-trimpath",
        "-tags", "osusergo,grpcnotrace",
        "-ldflags", `-s -w -X ${VERSION_VAR}=v${version}`,
        "-o", partial,
        CLI_PACKAGE,
      ],
      {
        heartbeat: "still compiling",
        onLine: (line) => {
          // `go build -v` prints each package it compiles: count them for a progress line.
          if (!/^[\w.\-/~]+$/.test(line)) return say(line);
          compiled++;
          const decile = Math.floor((compiled / packages) * 10);
          if (decile > lastDecile || Date.now() - lastReport > HEARTBEAT_MS) {
            lastDecile = decile;
            lastReport = Date.now();
            say(`compiled ${compiled}/${packages} packages (${formatElapsed(Date.now() - started)})`);
          }
        },
      },
    );
    // Rename last, so an interrupted build never leaves a binary that looks finished.
    fs.renameSync(partial, binary);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  say("step 3/3: checking the binary");
  const built = cliVersion(binary);
  if (built !== `v${version}`) throw new Error(`the built CLI reports ${built ?? "nothing"} instead of v${version}`);
  installPluginShim();
  say(`built Pulumi CLI ${built} in ${formatElapsed(Date.now() - started)}: ${binary}`);
  return binary;
}

/**
 * The CLI looks for `pulumi-resource-pulumi-nodejs` (the dynamic-provider plugin's launcher) beside its
 * own binary or on PATH; a Pulumi release ships it beside `pulumi`. It is a small script inside
 * @pulumi/pulumi that starts the plugin from the program's own node_modules, so one copy serves every program.
 */
function installPluginShim() {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [REPO] }));
  const target = path.join(BIN_DIR, "pulumi-resource-pulumi-nodejs");
  fs.copyFileSync(path.join(sdkDir, "pulumi-resource-pulumi-nodejs"), target);
  fs.chmodSync(target, 0o755);
}

// --- The Pulumi YAML language host (pulumi-language-yaml), beside the CLI -------------------------
// YAML programs (`runtime: yaml`) need it; the CLI looks for it beside its own binary or on PATH.
// pulumi-yaml pins pulumi pkg/v3 v3.206.0 and does not compile against the CLI's release, so it has
// its own wrapper module (pulumi-yaml-host/go.mod). A stamp beside the binary records the version
// built, since the host prints none.

const YAML_MODULE_DIR = path.join(REPO, "pulumi-yaml-host");
const YAML_PACKAGE = "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml";

/** The pulumi-yaml release pinned by pulumi-yaml-host/go.mod, e.g. "1.25.0". */
function pinnedYamlVersion() {
  const gomod = fs.readFileSync(path.join(YAML_MODULE_DIR, "go.mod"), "utf8");
  const match = /github\.com\/pulumi\/pulumi-yaml v(\d+\.\d+\.\d+)\b/.exec(gomod);
  if (!match) throw new Error("pulumi-yaml-host/go.mod does not require github.com/pulumi/pulumi-yaml at a release version");
  return match[1];
}

function yamlHostPath() {
  return path.join(BIN_DIR, "pulumi-language-yaml");
}

/** Builds pulumi-language-yaml into .pulumi-cli/bin unless the pinned version is already there. */
async function ensureYamlHost() {
  const version = pinnedYamlVersion();
  const binary = yamlHostPath();
  const stamp = `${binary}.version`;
  if (fs.existsSync(binary) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === `v${version}`) {
    say(`Pulumi YAML language host v${version} is already built: ${binary}`);
    return binary;
  }
  const go = goAvailable();
  if (!go) throw new Error(NO_GO);
  const started = Date.now();
  say(`building the Pulumi YAML language host v${version} (pulumi-yaml-host/) with ${go}`);
  await runGo(["mod", "download"], { cwd: YAML_MODULE_DIR, heartbeat: "still downloading the YAML host's modules" });
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const partial = `${binary}.partial-${process.pid}`;
  try {
    await runGo(
      ["build", "-trimpath", "-tags", "osusergo,grpcnotrace", "-ldflags", "-s -w", "-o", partial, YAML_PACKAGE],
      { cwd: YAML_MODULE_DIR, heartbeat: "still compiling the YAML host" },
    );
    fs.renameSync(partial, binary);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  fs.writeFileSync(stamp, `v${version}\n`);
  say(`built the Pulumi YAML language host v${version} in ${formatElapsed(Date.now() - started)}: ${binary}`);
  return binary;
}

// --- The Node.js language host (pulumi-language-nodejs) ---------------------------------------------------
// The CLI runs a `runtime: nodejs` program through this separate binary, found beside `pulumi` or on PATH; a
// Pulumi release ships it there. Its last home inside the sdk/v3 module is v3.68.0, so it is built from its own
// wrapper module (pulumi-language-nodejs/), which cannot share the CLI's: that one pins sdk/v3 at the CLI's release.
// What the CLI finds in bin/ is a small launcher from the same module that passes Pulumi.yaml's runtime options
// to the real host in libexec/ (the newer CLI no longer does; see pulumi-language-nodejs/launcher/main.go).
const NODEJS_HOST_MODULE_DIR = path.join(REPO, "pulumi-language-nodejs");
const NODEJS_HOST_PACKAGE = "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs";
const NODEJS_LAUNCHER_PACKAGE = "./launcher";
const LIBEXEC_DIR = path.join(REPO, ".pulumi-cli", "libexec");

/** The sdk/v3 release pinned by pulumi-language-nodejs/go.mod, e.g. "3.68.0". */
function nodejsHostPinnedVersion() {
  const gomod = fs.readFileSync(path.join(NODEJS_HOST_MODULE_DIR, "go.mod"), "utf8");
  const match = /github\.com\/pulumi\/pulumi\/sdk\/v3 v(\d+\.\d+\.\d+)\b/.exec(gomod);
  if (!match) throw new Error("pulumi-language-nodejs/go.mod does not require github.com/pulumi/pulumi/sdk/v3 at a release version");
  return match[1];
}

/** The launcher the CLI finds beside itself. */
function nodejsHostPath() {
  return path.join(BIN_DIR, "pulumi-language-nodejs");
}

/**
 * The sdk/v3 version a binary was built from ("3.68.0"), read from the build information Go embeds in every
 * binary (the host has no --version flag), or undefined when there is no such binary.
 */
function nodejsHostVersion(binary = nodejsHostPath()) {
  let bytes;
  try {
    bytes = fs.readFileSync(binary);
  } catch {
    return undefined;
  }
  const found = /\tgithub\.com\/pulumi\/pulumi\/sdk\/v3\tv(\d+\.\d+\.\d+)\t/.exec(bytes.toString("latin1"));
  return found?.[1];
}

/**
 * Builds the pinned pulumi-language-nodejs (the launcher into .pulumi-cli/bin, the host into .pulumi-cli/libexec)
 * unless both are already there at that version. Returns the launcher's path.
 */
async function ensureNodejsLanguageHost() {
  const version = nodejsHostPinnedVersion();
  const launcher = nodejsHostPath();
  const host = path.join(LIBEXEC_DIR, "pulumi-language-nodejs");
  const found = [nodejsHostVersion(launcher), nodejsHostVersion(host)];
  if (found.every((v) => v === version)) {
    say(`Node.js language host v${version} is already built: ${launcher}`);
    return launcher;
  }
  const go = goAvailable();
  if (!go) throw new Error(NO_GO);
  const started = Date.now();
  const cwd = NODEJS_HOST_MODULE_DIR;
  const had = found.find(Boolean);
  say(`building the Node.js language host (pulumi-language-nodejs) v${version} with ${go}${had ? ` (found v${had})` : ""}`);
  say("host step 1/3: downloading modules (go mod download)");
  await runGo(["mod", "download"], { cwd, heartbeat: "still downloading the host's modules" });
  const packages = new Set((await runGo(["list", "-deps", NODEJS_HOST_PACKAGE, NODEJS_LAUNCHER_PACKAGE], { cwd })).split("\n").filter(Boolean)).size;
  say(`host step 2/3: compiling (${packages} packages; cached ones are skipped)`);
  let compiled = 0;
  let lastDecile = 0;
  const onLine = (line) => {
    // `go build -v` prints each package it compiles: count them for a progress line.
    if (!/^[\w.\-/~]+$/.test(line)) return say(line);
    compiled++;
    const decile = Math.floor((compiled / packages) * 10);
    if (decile > lastDecile) {
      lastDecile = decile;
      say(`host: compiled ${compiled}/${packages} packages (${formatElapsed(Date.now() - started)})`);
    }
  };
  for (const [pkg, target] of [
    [NODEJS_HOST_PACKAGE, host],
    [NODEJS_LAUNCHER_PACKAGE, launcher],
  ]) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const partial = `${target}.partial-${process.pid}`;
    try {
      const ldflags = `-s -w -X ${VERSION_VAR}=v${version}`;
      await runGo(["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", partial, pkg], { cwd, onLine, heartbeat: "still compiling the host" });
      // Rename last, so an interrupted build never leaves a binary that looks finished.
      fs.renameSync(partial, target);
    } finally {
      fs.rmSync(partial, { force: true });
    }
  }
  say("host step 3/3: checking the binaries");
  const built = [nodejsHostVersion(launcher), nodejsHostVersion(host)];
  if (!built.every((v) => v === version)) throw new Error(`the built language host reports sdk/v3 ${built.join(", ")} instead of v${version}`);
  say(`built the Node.js language host v${version} in ${formatElapsed(Date.now() - started)}: ${launcher}`);
  return launcher;
}

module.exports = {
  pinnedVersion,
  projectCliPath,
  cliVersion,
  findOnPath,
  ensureProjectCli,
  goAvailable,
  BIN_DIR,
  NO_GO,
  ensureYamlHost,
  yamlHostPath,
  pinnedYamlVersion,
  nodejsHostPinnedVersion,
  nodejsHostPath,
  nodejsHostVersion,
  ensureNodejsLanguageHost,
};

if (require.main === module) {
  (async () => {
    const binary = await ensureProjectCli();
    // The Node.js language host: plain `pulumi up` of JavaScript programs (npm start, test/cli).
    await ensureNodejsLanguageHost();
    // The YAML language host: YAML programs of the native plugin (test/cli).
    await ensureYamlHost();
    say(`to use it in this shell: export PATH="${path.dirname(binary)}:$PATH"`);
  })().catch((err) => {
    say(err.message);
    process.exit(1);
  });
}
