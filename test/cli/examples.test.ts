// Every example in examples/ previews with the real CLI, and the root program (Pulumi.yaml at the
// repository root) goes up and is destroyed, each installed from the packed tarball with the
// dependencies its package.json lists.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import type { PulumiCli } from "../pulumi/cli";
import { CliStack } from "./cli-stack";
import { installedCopy, livePreviews, requirePulumiCli } from "./suite";
import { StackSuite } from "./stack-suite";

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
  let suite: StackSuite;

  StackSuite.use(async (ctx, s) => {
    suite = s;
    cli = requirePulumiCli(ctx);
    cp = await suite.startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 200, reset: 200, delete: 200 } });
  }, 2);

  /** A stack of the program, set up by `stack init` alone: the key and project come from the environment. */
  function stackFor(programDir: string, name: string): Promise<CliStack> {
    return suite.stack(new CliStack(cli, programDir, name, { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_PROJECT_ID: cp.projectId, CAPYDB_READINESS: "job" }));
  }

  it("has examples to check", () => {
    assert.ok(examples.length >= 3, examples.join(", "));
  });

  for (const example of examples) {
    it(`examples/${example} previews a create and calls no CapyDB API`, async () => {
      const source = path.join(EXAMPLES, example);
      const { deps, devDeps } = dependenciesOf(source);
      const dir = suite.dir(await installedCopy(source, deps, devDeps));
      const stack = await stackFor(dir, "pr-42");
      await stack.config("capydb:projectId", cp.projectId);
      cp.clearRequests();
      const { stdout } = await stack.ok(["preview", "--non-interactive"]);
      assert.match(stdout, /\+\s+pulumi-nodejs:dynamic\/capydb:PreviewDatabase\s+\S+\s+create/);
      assert.deepEqual(cp.requests(), []);
    });
  }

  it("the root program goes up and is destroyed", async () => {
    // The root program runs compiled (Pulumi.yaml: main dist/program/index.js, typescript off).
    const dir = suite.dir(fs.mkdtempSync(path.join(os.tmpdir(), "capydb-cli-root-")));
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.mkdirSync(path.join(dir, "dist", "program"), { recursive: true });
    fs.copyFileSync(path.join(REPO, "dist", "program", "index.js"), path.join(dir, "dist", "program", "index.js"));
    const installed = suite.dir(await installedCopy(dir));
    const stack = await stackFor(installed, "root-dev");
    const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.match(stdout, /PreviewDatabase\s+db\s+created/);
    const outs = await stack.outputs();
    assert.deepEqual(livePreviews(cp).filter((p) => p.id === outs.previewId).map((p) => p.state), ["ready"]);
    await stack.ok(["destroy", "--yes", "--non-interactive", "--remove"]);
    assert.deepEqual(livePreviews(cp).filter((p) => p.id === outs.previewId), []);
  });
});
