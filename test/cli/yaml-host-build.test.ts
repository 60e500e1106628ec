// `npm run pulumi:cli` also builds the Pulumi YAML language host (scripts/pulumi-cli.js, wrapper
// module pulumi-yaml-host/): pinned, in its own module, and not rebuilt once built.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT as REPO } from "../pulumi/cli";

const SCRIPT = path.join(REPO, "scripts", "pulumi-cli.js");
const buildScript = require(SCRIPT) as { pinnedYamlVersion(): string; yamlHostPath(): string; ensureYamlHost(): Promise<string> };

describe("npm run pulumi:cli: the Pulumi YAML language host (pulumi-yaml-host/)", function () {
  this.timeout(120_000);

  it("pins pulumi-yaml v1.25.0 with the pulumi pkg/v3 release it compiles against, go.sum committed", () => {
    const gomod = fs.readFileSync(path.join(REPO, "pulumi-yaml-host", "go.mod"), "utf8");
    assert.equal(buildScript.pinnedYamlVersion(), "1.25.0");
    assert.match(gomod, /github\.com\/pulumi\/pulumi\/pkg\/v3 v3\.206\.0\b/);
    assert.match(gomod, /^tool github\.com\/pulumi\/pulumi-yaml\/cmd\/pulumi-language-yaml$/m);
    assert.ok(fs.statSync(path.join(REPO, "pulumi-yaml-host", "go.sum")).size > 0);
  });

  it("skips the build when the pinned host is already beside the CLI", function () {
    const binary = buildScript.yamlHostPath();
    if (!fs.existsSync(binary)) this.skip();
    const before = fs.statSync(binary).mtimeMs;
    const run = spawnSync(process.execPath, [SCRIPT], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /Pulumi YAML language host v1\.25\.0 is already built/);
    assert.equal(fs.statSync(binary).mtimeMs, before, "the binary was not rebuilt");
  });
});
