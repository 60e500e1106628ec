// Every example in examples/ previews with the real CLI, and the root program (Pulumi.yaml at the
// repository root) goes up and is destroyed, each installed from the packed tarball with the
// dependencies its package.json lists.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import type { PulumiCli } from "../pulumi/cli";
import { CliStack } from "./cli-stack";
import { installedCopy, livePreviews, requirePulumiCli } from "./suite";

const EXAMPLES = path.join(REPO, "examples");
/** Installed from the packed tarball and the development pin instead of what package.json says. */
const PROVIDED = new Set(["pulumi-capydb", "@pulumi/pulumi"]);

function dependenciesOf(dir: string): { deps: Record<string, string>; devDeps: Record<string, string> } {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const keep = (all: Record<string, string> = {}) => Object.fromEntries(Object.entries(all).filter(([name]) => !PROVIDED.has(name)));
  return { deps: keep(pkg.dependencies), devDeps: keep(pkg.devDependencies) };
}

const examples = fs.readdirSync(EXAMPLES).filter((d) => fs.existsSync(path.join(EXAMPLES, d, "Pulumi.yaml")));

describe("real Pulumi CLI: examples and the root program (test/cli)", function () {
  this.timeout(300_000);
  let cli: PulumiCli;
  let cp: ControlPlane;
  const cleanup: string[] = [];
  const stacks: CliStack[] = [];

  before(async function () {
    cli = requirePulumiCli(this);
    cp = await startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 200, reset: 200, delete: 200 } });
  });
  after(async () => {
    await cp?.close();
    for (const stack of stacks) stack.remove();
    for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") for (const s of stacks) process.stderr.write(s.transcript.slice(-2).join("\n"));
  });

  function stackFor(programDir: string, name: string): CliStack {
    const stack = new CliStack(cli, programDir, name, { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_PROJECT_ID: cp.projectId, CAPYDB_READINESS: "job" });
    stacks.push(stack);
    return stack;
  }

  it("has examples to check", () => {
    assert.ok(examples.length >= 3, examples.join(", "));
  });

  for (const example of examples) {
    it(`examples/${example} previews a create and calls no CapyDB API`, async () => {
      const source = path.join(EXAMPLES, example);
      const { deps, devDeps } = dependenciesOf(source);
      const dir = await installedCopy(source, deps, devDeps);
      cleanup.push(dir);
      const stack = stackFor(dir, "pr-42");
      await stack.init();
      await stack.config("capydb:projectId", cp.projectId);
      cp.clearRequests();
      const { stdout } = await stack.ok(["preview", "--non-interactive"]);
      assert.match(stdout, /\+\s+pulumi-nodejs:dynamic\/capydb:PreviewDatabase\s+\S+\s+create/);
      assert.deepEqual(cp.requests(), []);
    });
  }

  it("the root program goes up and is destroyed", async () => {
    // The root program runs compiled (Pulumi.yaml: main dist/program/index.js, typescript off).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-cli-root-"));
    cleanup.push(dir);
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.mkdirSync(path.join(dir, "dist", "program"), { recursive: true });
    fs.copyFileSync(path.join(REPO, "dist", "program", "index.js"), path.join(dir, "dist", "program", "index.js"));
    const installed = await installedCopy(dir);
    cleanup.push(installed);
    const stack = stackFor(installed, "root-dev");
    await stack.init();
    const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.match(stdout, /PreviewDatabase\s+db\s+created/);
    const outs = await stack.outputs();
    assert.deepEqual(livePreviews(cp).filter((p) => p.id === outs.previewId).map((p) => p.state), ["ready"]);
    await stack.ok(["destroy", "--yes", "--non-interactive", "--remove"]);
    assert.deepEqual(livePreviews(cp).filter((p) => p.id === outs.previewId), []);
  });
});
