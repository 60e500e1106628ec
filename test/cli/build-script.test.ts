// `npm run pulumi:cli` (scripts/pulumi-cli.js): a clear failure without Go, and no rebuild when the
// pinned version is already built.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "../helpers/packed-program";
import { buildScript } from "../pulumi/cli";

const SCRIPT = path.join(REPO, "scripts", "pulumi-cli.js");

describe("npm run pulumi:cli (scripts/pulumi-cli.js)", function () {
  this.timeout(120_000);

  it("reads the pinned version from the wrapper module", () => {
    const gomod = fs.readFileSync(path.join(REPO, "pulumi-cli", "go.mod"), "utf8");
    assert.match(buildScript.pinnedVersion(), /^\d+\.\d+\.\d+$/);
    assert.ok(gomod.includes(`github.com/pulumi/pulumi/pkg/v3 v${buildScript.pinnedVersion()}`));
    assert.ok(gomod.includes(`github.com/pulumi/pulumi/sdk/v3 v${buildScript.pinnedVersion()}`), "sdk/v3 at the same release");
  });

  it("fails with a clear message, and builds nothing, when Go is missing", () => {
    // A checkout without a built CLI: the script and the wrapper module only.
    const checkout = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-no-go-"));
    try {
      fs.mkdirSync(path.join(checkout, "scripts"));
      fs.copyFileSync(SCRIPT, path.join(checkout, "scripts", "pulumi-cli.js"));
      fs.cpSync(path.join(REPO, "pulumi-cli"), path.join(checkout, "pulumi-cli"), { recursive: true });
      const run = spawnSync(process.execPath, [path.join(checkout, "scripts", "pulumi-cli.js")], {
        encoding: "utf8",
        env: { PATH: path.dirname(process.execPath), HOME: process.env.HOME ?? "/tmp" },
      });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /\[pulumi-cli\] Go is not installed \(no `go` on PATH\)/);
      assert.match(run.stderr, /Go 1\.26 or newer/);
      assert.equal(fs.existsSync(path.join(checkout, ".pulumi-cli")), false);
    } finally {
      fs.rmSync(checkout, { recursive: true, force: true });
    }
  });

  it("skips the build when .pulumi-cli/bin/pulumi already reports the pinned version", function () {
    if (buildScript.cliVersion(buildScript.projectCliPath()) !== `v${buildScript.pinnedVersion()}`) this.skip();
    const before = fs.statSync(buildScript.projectCliPath()).mtimeMs;
    const run = spawnSync(process.execPath, [SCRIPT], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Pulumi CLI v${buildScript.pinnedVersion().replace(/\./g, "\\.")} is already built`));
    assert.equal(fs.statSync(buildScript.projectCliPath()).mtimeMs, before, "the binary was not rebuilt");
    assert.ok(fs.existsSync(path.join(path.dirname(buildScript.projectCliPath()), "pulumi-resource-pulumi-nodejs")));
  });

  it("skips the Node.js language host build when the launcher and the host are built from the pinned sdk/v3", function () {
    const launcher = buildScript.nodejsHostPath();
    const host = path.join(REPO, ".pulumi-cli", "libexec", "pulumi-language-nodejs");
    const version = buildScript.nodejsHostPinnedVersion();
    if (buildScript.cliVersion(buildScript.projectCliPath()) !== `v${buildScript.pinnedVersion()}`) this.skip();
    if (buildScript.nodejsHostVersion(launcher) !== version || buildScript.nodejsHostVersion(host) !== version) this.skip();
    assert.equal(version, "3.68.0", "the last sdk/v3 release that carries nodejs/cmd/pulumi-language-nodejs");
    const before = [launcher, host].map((f) => fs.statSync(f).mtimeMs);
    const run = spawnSync(process.execPath, [SCRIPT], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /Node\.js language host v3\.68\.0 is already built/);
    assert.deepEqual([launcher, host].map((f) => fs.statSync(f).mtimeMs), before, "nothing was rebuilt");
  });
});
