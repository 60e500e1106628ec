// Layer 5: the package as users get it. `npm pack` the repository, install the tarball and @pulumi/pulumi@3.248.0
// into a fresh program directory, build the `__provider` text there, and run a lifecycle with the plugin started
// from that directory, so every `require` resolves against the installed copy and never against this checkout.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { installProgram, packedTarball, PULUMI_SDK_VERSION as PULUMI_VERSION, REPO, run } from "../helpers/packed-program";
import { captureRegistrations, captureWithOrigin, isSecret, Stack, startPlugin, type CapturedResource, type Plugin } from "./harness";

const PROJECT = "capydb-packaged";

describe("packaging: the npm tarball installed in a fresh program", function () {
  this.timeout(300_000);
  let tmp: string;
  let fixture: string;
  let tarball: string;
  let cp: ControlPlane;
  let packaged: CapturedResource;
  let inRepo: CapturedResource;
  let packagedFrom: { module: string; pulumi: string };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-pack-"));
    fixture = path.join(tmp, "program");
    fs.mkdirSync(fixture);
    // The current build packed without scripts (`prepack` would rebuild it), installed as users install it.
    tarball = await packedTarball();
    await installProgram(fixture);
    cp = await startControlPlane();
    const args = { projectId: cp.projectId, name: "pv-packaged", ttlHours: 3 };
    let fromFixture: { resources: CapturedResource[]; loaded: { module: string; pulumi: string } };
    [fromFixture, [inRepo]] = await Promise.all([
      captureWithOrigin({ programDir: fixture, module: "pulumi-capydb", project: PROJECT,
        resources: [{ name: "db", exportName: "PreviewDatabase", args }] }),
      captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT,
        resources: [{ name: "db", exportName: "PreviewDatabase", args }] }),
    ]);
    [packaged] = fromFixture.resources;
    packagedFrom = fromFixture.loaded;
  });

  after(async () => {
    await cp?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("ships compiled code only, and resolves both entry points inside the installed package", async () => {
    const listing = (await run("tar", ["-tzf", tarball], tmp)).split("\n").filter(Boolean);
    assert.ok(listing.includes("package/dist/provider/index.js"));
    assert.ok(listing.includes("package/dist/sdk/index.js"));
    assert.deepEqual(listing.filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f)), [], "no TypeScript sources");
    assert.deepEqual(listing.filter((f) => /^package\/(test|dist\/test|program|examples)\//.test(f)), []);
    const installed = fs.realpathSync(path.join(fixture, "node_modules", "pulumi-capydb"));
    assert.ok(installed.startsWith(fs.realpathSync(fixture)), `installed at ${installed}`);
    // Resolved by a process whose cwd is the program: resolving here would hit this checkout's self-reference.
    const specs = ["pulumi-capydb", "pulumi-capydb/provider", "@pulumi/pulumi"];
    const resolved = JSON.parse(await run(process.execPath, ["-e",
      `console.log(JSON.stringify(${JSON.stringify(specs)}.map((s) => require("fs").realpathSync(require.resolve(s)))))`,
    ], fixture)) as string[];
    for (const [i, r] of resolved.entries()) {
      assert.ok(r.startsWith(fs.realpathSync(fixture)), `${specs[i]} -> ${r}`);
    }
    const version = (await run(process.execPath, ["-p", "require('@pulumi/pulumi/package.json').version"], fixture)).trim();
    assert.equal(version, PULUMI_VERSION);
  });

  it("builds, from the installed package, the same tiny shim text as the checkout: only a require of the subpath", () => {
    const text = packaged.inputs.__provider as string;
    assert.equal(typeof text, "string");
    for (const file of Object.values(packagedFrom)) {
      assert.ok(file.startsWith(fs.realpathSync(fixture)), `the program loaded ${file}`);
    }
    assert.equal(text, inRepo.inputs.__provider, "the shim text does not depend on where the package lives");
    const golden = path.join(REPO, "test", "golden", "provider-shim.js.txt");
    if (fs.existsSync(golden)) assert.equal(text, fs.readFileSync(golden, "utf8"));
    assert.ok(text.length < 4000, `${text.length} bytes`);
    assert.deepEqual([...new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))], ["pulumi-capydb/provider"]);
    assert.doesNotMatch(text, /node_modules|\/tmp\/|capydb-pack-|CapyDBClient|undici|zod/);
    assert.equal(packaged.type, "pulumi-nodejs:dynamic/capydb:PreviewDatabase");
    assert.deepEqual([...(packaged.additionalSecretOutputs ?? [])].sort(), ["directUrl", "password", "pooledUrl"]);
  });

  it("runs a lifecycle with the plugin started from the program directory, loading the installed implementation", async () => {
    const trace = path.join(tmp, "require-trace.log");
    let plugin: Plugin | undefined;
    try {
      plugin = await startPlugin({
        programDir: fixture, project: PROJECT,
        env: { NODE_OPTIONS: `--require ${path.join(__dirname, "trace-require.js")}`, TRACE_REQUIRE_LOG: trace },
      });
      assert.ok(fs.realpathSync(plugin.script).startsWith(fs.realpathSync(fixture)), plugin.script);
      const stack = new Stack({ plugin, config: { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url },
        secretKeys: ["capydb:apiKey"] });
      const db = { name: "db", type: packaged.type, inputs: packaged.inputs,
        additionalSecretOutputs: packaged.additionalSecretOutputs };
      await stack.up([db]);
      assert.ok(isSecret(stack.resource("db")!.outputs.directUrl));
      const res = await stack.up([{ ...db, inputs: { ...db.inputs, ttlHours: 5 } }]);
      assert.equal(res.step("db").op, "update");
      assert.equal(stack.resource("db")!.outputs.ttlHours, 5);
      const refreshed = await stack.refresh();
      assert.equal(refreshed.step("db").result, "same");
      await stack.destroy();
      assert.deepEqual(cp.previews.live(cp.projectId), []);

      const resolved = fs.readFileSync(trace, "utf8").split("\n").filter(Boolean)
        .map((l) => JSON.parse(l) as { request: string; resolved: string });
      const impl = resolved.filter((r) => r.request === "pulumi-capydb/provider").map((r) => fs.realpathSync(r.resolved));
      assert.ok(impl.length > 0, "the shim required the implementation");
      const expected = fs.realpathSync(path.join(fixture, "node_modules", "pulumi-capydb", "dist", "provider", "index.js"));
      assert.deepEqual([...new Set(impl)], [expected]);
    } finally {
      await plugin?.close();
    }
  });
});
