// The tarball as a company would adopt it: `npm pack` on a fresh clone (the build runs at pack time), installed
// into a new program with npm's install-script checks on, then type-checked with this repository's TypeScript under
// the module resolutions programs use. Needs the npm cache (or the registry) for @pulumi/pulumi and @types/node.
import * as assert from "assert/strict";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..", "..");
const PULUMI_VERSION = "3.248.0";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const TSC = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
/** Lifecycle scripts npm runs (or, since npm 11.x, flags for approval) when a package is installed from a tarball. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];

interface Ran {
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<Ran> {
  // npm_* variables from an enclosing `npm test` would redirect the nested npm (prefix, cache, config).
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** What a fresh clone holds: the tracked files plus new, not ignored ones (so uncommitted work is packed too). */
async function copyCheckout(to: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO);
  for (const file of stdout.split("\0").filter(Boolean)) {
    const from = path.join(REPO, file);
    if (!fs.existsSync(from)) continue; // deleted in the work tree, not yet committed
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(from, path.join(to, file));
  }
  // The clone's `npm ci` would install exactly these; linking them keeps the test offline and fast.
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(to, "node_modules"), "dir");
}

function tsFilesUnder(root: string, dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return tsFilesUnder(root, rel);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [rel] : [];
  });
}

/** The licence's terms, whatever the line wrapping and list markers of a given copy. */
function licenceTerms(text: string): string {
  const start = text.indexOf("TERMS AND CONDITIONS FOR USE");
  const end = text.indexOf("END OF TERMS AND CONDITIONS");
  assert.ok(start >= 0 && end > start, "the text holds the terms and conditions");
  return text.slice(start, end).replace(/\([a-d]\)\s/g, "").replace(/\s+/g, " ").trim();
}

function minVersion(range: string): number[] {
  const match = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  assert.ok(match, `"${range}" is a plain >= floor`);
  return match.slice(1).map(Number);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

// Two programs importing the package: the SDK (what every Pulumi program does) and the stable provider subpath.
// Each `@ts-expect-error` fails the check if the types resolved to `any` instead of the package's declarations.
const ROOT_TS = `import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";
import { PreviewDatabase, PreviewDatabaseArgs, PREVIEW_DATABASE_SECRET_OUTPUTS } from "pulumi-capydb";

const args: PreviewDatabaseArgs = { projectId: "prj_123", name: "pr-42", mode: "clone", ttlHours: 72, timeouts: { create: "30m" } };
const db = new PreviewDatabase("db", args);
export const pooledUrl: pulumi.Output<string | null> = db.pooledUrl;
export const directPort: pulumi.Output<number | null> = db.directPort;
export const secretOutputs: string[] = PREVIEW_DATABASE_SECRET_OUTPUTS;
export const otherHost = new capydb.PreviewDatabase("other", { projectId: "prj_123", adopt: true }).host;
// @ts-expect-error ttlHours is a number of hours
new PreviewDatabase("bad-ttl", { projectId: "prj_123", ttlHours: "72" });
// @ts-expect-error mode is "clone" or "empty"
new PreviewDatabase("bad-mode", { projectId: "prj_123", mode: "copy" });
`;
const PROVIDER_TS = `import * as provider from "pulumi-capydb/provider";
import { check, configure, create, diff, read, update } from "pulumi-capydb/provider";

export const methods = [configure, check, diff, create, read, update, provider.delete];
export const checked: Promise<{ inputs: Record<string, unknown> }> = check({}, { projectId: "prj_123" });
// @ts-expect-error read needs the id and the stored outputs
read();
`;

/** The code of the `@example` in a shipped declaration's TSDoc, as an editor shows it to users. */
function exampleOf(declarations: string): string {
  const text = fs.readFileSync(declarations, "utf8");
  const match = /@example\s*\n\s*\* ```ts\n([\s\S]*?)\n\s*\* ```/.exec(text);
  assert.ok(match, `an @example with a ts code block in ${declarations}`);
  return match[1].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n") + "\n";
}

/** `pulumi new typescript`'s tsconfig.json (moduleResolution "node", i.e. node10), checking only emits nothing. */
const PULUMI_NEW_OPTIONS = {
  strict: true, target: "es2020", module: "commonjs", moduleResolution: "node", experimentalDecorators: true,
  noFallthroughCasesInSwitch: true, noImplicitReturns: true, forceConsistentCasingInFileNames: true, noEmit: true,
};

/**
 * No skipLibCheck anywhere: the package's declarations are checked as a user's tsc checks them, with
 * `pulumi new typescript`'s options as they are (no esModuleInterop) under node10: the provider subpath's
 * declarations use plain types, so zod's own declarations (which would need esModuleInterop) never load.
 */
const TYPE_CHECKS: { name: string; options: Record<string, unknown>; files: string[] }[] = [
  { name: "node (pulumi new typescript)", options: PULUMI_NEW_OPTIONS, files: ["root.ts", "provider.ts", "example.ts"] },
  { name: "node16", options: { strict: true, target: "es2022", module: "node16", moduleResolution: "node16", noEmit: true },
    files: ["root.ts", "provider.ts", "example.ts"] },
  { name: "bundler", options: { strict: true, target: "es2022", module: "esnext", moduleResolution: "bundler", noEmit: true },
    files: ["root.ts", "provider.ts", "example.ts"] },
];

describe("tarball: npm pack on a fresh clone, installed and type-checked as a user would", function () {
  this.timeout(600_000);
  let tmp: string;
  let clone: string;
  let program: string;
  let packedFiles: string[];
  let installOutput: string;
  let installed: string;
  let manifest: {
    version: string; scripts?: Record<string, string>; engines?: { node?: string }; keywords?: string[];
    repository?: { url?: string }; homepage?: string; bugs?: { url?: string };
  };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-tarball-"));
    clone = path.join(tmp, "clone");
    program = path.join(tmp, "program");
    fs.mkdirSync(program, { recursive: true });
    await copyCheckout(clone);
    assert.equal(fs.existsSync(path.join(clone, "dist")), false, "the clone starts without a build");

    // With scripts: the build that ships runs at pack time.
    const packed = JSON.parse((await run(npm, ["pack", "--json", "--pack-destination", tmp], clone)).stdout);
    packedFiles = (packed[0].files as { path: string }[]).map((f) => f.path).sort();
    const tarball = path.join(tmp, packed[0].filename);

    const typesNode = JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", "@types", "node", "package.json"), "utf8")).version;
    fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({
      name: "capydb-adopter", version: "1.0.0", private: true,
      dependencies: { "pulumi-capydb": `file:${tarball}`, "@pulumi/pulumi": PULUMI_VERSION },
      devDependencies: { "@types/node": typesNode },
    }, null, 2));
    // Scripts on, as in a user's install: npm reports the install scripts a package brings.
    const install = ["install", "--no-audit", "--no-fund"];
    const out = await run(npm, [...install, "--offline"], program).catch(() => run(npm, [...install, "--prefer-offline"], program));
    installOutput = `${out.stdout}\n${out.stderr}`;
    installed = path.join(program, "node_modules", "pulumi-capydb");
    manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
    fs.writeFileSync(path.join(program, "root.ts"), ROOT_TS);
    fs.writeFileSync(path.join(program, "provider.ts"), PROVIDER_TS);
    fs.writeFileSync(path.join(program, "example.ts"), exampleOf(path.join(installed, "dist", "sdk", "preview-database.d.ts")));
  });

  after(() => {
    // The link first, on its own: removing the tree must never reach the checkout's node_modules.
    if (clone && fs.existsSync(path.join(clone, "node_modules"))) fs.unlinkSync(path.join(clone, "node_modules"));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("packs exactly the compiled provider, SDK and command (code and declarations), README, CHANGELOG and LICENSE", () => {
    const compiled = ["cli", "provider", "sdk"].flatMap((dir) => tsFilesUnder(clone, dir))
      .flatMap((ts) => [`dist/${ts.replace(/\.ts$/, ".js")}`, `dist/${ts.replace(/\.ts$/, ".d.ts")}`]);
    assert.ok(compiled.includes("dist/provider/index.js") && compiled.includes("dist/sdk/index.d.ts"));
    assert.deepEqual(packedFiles, [...compiled, "CHANGELOG.md", "LICENSE", "README.md", "package.json"].sort());
  });

  it("ships the full Apache License 2.0 text, and only that", () => {
    const shipped = fs.readFileSync(path.join(installed, "LICENSE"), "utf8");
    assert.equal(shipped, fs.readFileSync(path.join(REPO, "LICENSE"), "utf8"));
    assert.equal(manifest.version, JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version);
    assert.match(shipped, /^\s*Apache License\s+Version 2\.0, January 2004/);
    // The same terms as the copy TypeScript ships (wrapped differently), so no section is missing or altered.
    const reference = fs.readFileSync(path.join(REPO, "node_modules", "typescript", "LICENSE.txt"), "utf8");
    assert.equal(licenceTerms(shipped), licenceTerms(reference));
    // Nobody's notices: the only copyright line is the appendix's template.
    assert.deepEqual(shipped.match(/^\s*Copyright\b(?! License).*$/gm)?.map((l) => l.trim()), ["Copyright [yyyy] [name of copyright owner]"]);
  });

  it("installs without running or flagging any script of its own", () => {
    const scripts = manifest.scripts ?? {};
    assert.deepEqual(INSTALL_SCRIPTS.filter((s) => s in scripts), [], JSON.stringify(scripts));
    const flagged = installOutput.split("\n").filter((line) => /install.?script/i.test(line) && /pulumi-capydb/.test(line));
    assert.deepEqual(flagged, [], installOutput);
  });

  it("declares the Node floor of its HTTP client, its CHANGELOG entry and where it lives", () => {
    // The undici this package resolves (@pulumi/pulumi may bring another major).
    const undici = JSON.parse(fs.readFileSync(require.resolve("undici/package.json", { paths: [installed] }), "utf8"));
    const ours = minVersion(manifest.engines?.node ?? "");
    assert.ok(compareVersions(ours, minVersion(undici.engines.node)) >= 0,
      `engines.node ${manifest.engines?.node} admits Node versions undici ${undici.version} (${undici.engines.node}) refuses`);
    const changelog = fs.readFileSync(path.join(installed, "CHANGELOG.md"), "utf8");
    assert.match(changelog, new RegExp(`^## \\[?${manifest.version.replace(/\./g, "\\.")}\\]?`, "m"), "an entry for this version");
    assert.ok((manifest.keywords ?? []).includes("pulumi"));
    const repo = /^git\+(https:\/\/github\.com\/[^/]+\/[^/]+?)\.git$/.exec(manifest.repository?.url ?? "");
    assert.ok(repo, `repository.url ${manifest.repository?.url}`);
    assert.equal(manifest.homepage, `${repo[1]}#readme`);
    assert.equal(manifest.bugs?.url, `${repo[1]}/issues`);
  });

  it("type-checks the SDK, the provider subpath and the resource's @example under node (node10), node16 and bundler", async () => {
    const failures: string[] = [];
    // Two at a time: each tsc loads all of @pulumi/pulumi's declarations.
    for (let i = 0; i < TYPE_CHECKS.length; i += 2) {
      await Promise.all(TYPE_CHECKS.slice(i, i + 2).map(async (check, j) => {
        const config = path.join(program, `tsconfig.${i + j}.json`);
        fs.writeFileSync(config, JSON.stringify({ compilerOptions: check.options, files: check.files }, null, 2));
        await run(process.execPath, [TSC, "-p", config, "--pretty", "false"], program)
          .catch((err: Error) => failures.push(`${check.name}:\n${err.message}`));
      }));
    }
    assert.deepEqual(failures, []);
  });
});
