// Every example is a complete program as `pulumi new typescript` makes one (tsconfig.json, typescript, @types/node)
// that depends on this repository's package (`file:../..`) through a committed lockfile. Here each one is installed
// with `npm ci` from its own lockfile next to the packed tarball's contents (so `../..` is the package exactly as
// npm ships it) and type-checked with its own compiler and tsconfig.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { npm, packedTarball, REPO, run } from "../helpers/packed-program";

const EXAMPLES = path.join(REPO, "examples");
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const examples = fs.readdirSync(EXAMPLES).filter((d) => fs.existsSync(path.join(EXAMPLES, d, "Pulumi.yaml"))).sort();

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

describe("examples: complete programs that type-check against the packed tarball", function () {
  this.timeout(600_000);
  const pkg = readJson(path.join(REPO, "package.json"));

  it("finds the examples", () => {
    assert.deepEqual(examples, ["app-wiring", "debug-as-of", "github-workflow", "per-branch-stack"]);
  });

  for (const example of examples) {
    it(`${example}: has what \`pulumi new typescript\` gives, and a lockfile in step with this package`, () => {
      const dir = path.join(EXAMPLES, example);
      for (const f of ["Pulumi.yaml", "index.ts", "package.json", "package-lock.json", "tsconfig.json", ".gitignore", ".npmrc"]) {
        assert.ok(fs.existsSync(path.join(dir, f)), `${example}/${f}`);
      }
      const manifest = readJson(path.join(dir, "package.json"));
      assert.equal(manifest.main, "index.ts");
      assert.ok(manifest.devDependencies?.typescript, "typescript is a devDependency (else Pulumi falls back to its bundled compiler)");
      assert.ok(manifest.devDependencies?.["@types/node"], "@types/node is a devDependency");
      assert.equal(manifest.dependencies?.["pulumi-capydb"], "file:../..", "depends on this repository's package");
      assert.ok(manifest.dependencies?.["@pulumi/pulumi"]);
      const tsconfig = readJson(path.join(dir, "tsconfig.json"));
      assert.equal(tsconfig.compilerOptions.strict, true);
      assert.deepEqual(tsconfig.files, ["index.ts"]);
      assert.match(fs.readFileSync(path.join(dir, ".npmrc"), "utf8"), /^install-links=true$/m);

      const lock = readJson(path.join(dir, "package-lock.json"));
      assert.deepEqual(lock.packages[""].dependencies, manifest.dependencies, "lock root = package.json (npm ci would refuse)");
      assert.deepEqual(lock.packages[""].devDependencies, manifest.devDependencies);
      const locked = lock.packages["node_modules/pulumi-capydb"];
      const stale = "the lockfile is stale for this package: run `bash scripts/lock-examples.sh`";
      assert.equal(locked.resolved, "file:../..");
      assert.equal(locked.link, undefined, "installed as a copy (install-links), not a symlink");
      assert.equal(locked.version, pkg.version, stale);
      assert.deepEqual(locked.dependencies, pkg.dependencies, stale);
      assert.deepEqual(locked.peerDependencies, pkg.peerDependencies, stale);
      assert.deepEqual(locked.bin, pkg.bin, stale);
      assert.deepEqual(locked.engines, pkg.engines, stale);
      assert.equal(lock.packages["node_modules/@pulumi/pulumi"].version, pkg.devDependencies["@pulumi/pulumi"],
        "the examples lock the @pulumi/pulumi this repository tests with");
    });
  }

  describe("installed with npm ci next to the tarball's contents", () => {
    let tmp: string;
    let root: string;
    const typecheck = new Map<string, Promise<string>>();
    const tsc = (dir: string) =>
      run(process.execPath, [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "--pretty", "false", "-p", "."], dir);

    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-examples-"));
      // The tarball of the current build (packed without scripts), as packaging.test.ts uses it.
      root = path.join(tmp, "pulumi-capydb");
      fs.mkdirSync(root);
      await run("tar", ["-xzf", await packedTarball(), "-C", root, "--strip-components=1"], tmp);
      for (const example of examples) {
        fs.cpSync(path.join(EXAMPLES, example), path.join(root, "examples", example), {
          recursive: true,
          filter: (src) => !/[/\\](node_modules|bin)$/.test(src),
        });
      }
      const ci = ["ci", "--no-audit", "--no-fund"];
      await Promise.all(examples.map((example) => {
        const dir = path.join(root, "examples", example);
        return run(npm, [...ci, "--offline"], dir).catch(() => run(npm, [...ci, "--prefer-offline"], dir));
      }));
      // A copy of the first example with a type error, on the same installed packages: proves the check can fail.
      const first = path.join(root, "examples", examples[0]);
      const broken = path.join(root, "examples", "broken");
      fs.cpSync(first, broken, { recursive: true, filter: (src) => !/[/\\]node_modules$/.test(src) });
      fs.symlinkSync(path.join(first, "node_modules"), path.join(broken, "node_modules"), "dir");
      fs.appendFileSync(path.join(broken, "index.ts"), "\nexport const broken: number = capydb.previewNameForStack(pulumi.getStack());\n");
      // Type-checks run side by side (each takes a while); the tests below read their results.
      for (const name of [...examples, "broken"]) {
        const p = tsc(path.join(root, "examples", name));
        p.catch(() => undefined);
        typecheck.set(name, p);
      }
    });

    after(async () => {
      await Promise.allSettled(typecheck.values());
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("installs the package from the tarball's contents as a copy, beside one @pulumi/pulumi", () => {
      for (const example of examples) {
        const dir = path.join(root, "examples", example);
        const installed = path.join(dir, "node_modules", "pulumi-capydb");
        assert.equal(fs.lstatSync(installed).isSymbolicLink(), false, example);
        assert.ok(fs.existsSync(path.join(installed, "dist", "sdk", "index.d.ts")), example);
        assert.equal(fs.existsSync(path.join(installed, "node_modules", "@pulumi")), false, `${example}: no second SDK copy`);
        assert.equal(readJson(path.join(dir, "node_modules", "@pulumi", "pulumi", "package.json")).version, pkg.devDependencies["@pulumi/pulumi"]);
      }
    });

    for (const example of examples) {
      it(`${example} type-checks with its own typescript and tsconfig`, async () => {
        await typecheck.get(example);
      });
    }

    it("a type error in an example is caught (the check can fail)", async () => {
      await assert.rejects(typecheck.get("broken")!, /index\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    });

    it("the package's command runs from an example: npx pulumi-capydb", async () => {
      const dir = path.join(root, "examples", "github-workflow");
      const env = { GITHUB_REF: "refs/pull/7/merge", GITHUB_HEAD_REF: "feat/x" };
      assert.equal((await run(npx, ["--no", "--", "pulumi-capydb", "stack-name"], dir, env)).trim(), "pr-7");
      assert.match(await run(npx, ["--no", "--", "pulumi-capydb", "sweep", "--help"], dir), /Usage: pulumi-capydb sweep --project/);
    });
  });
});
