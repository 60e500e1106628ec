// The Node.js language host that `npm run pulumi:cli` builds (sdk/v3 v3.68.0) under the 3.274.1 CLI:
// Pulumi.yaml's runtime options reach it (through its launcher, pulumi-language-nodejs/launcher), as they
// reach the host a Pulumi release ships.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "../helpers/packed-program";
import { CliStack } from "./cli-stack";
import { requirePulumiCliFor } from "./suite";

describe("real Pulumi CLI: the Node.js language host honours Pulumi.yaml's runtime options (test/cli)", function () {
  this.timeout(120_000);
  let dir: string;
  let stack: CliStack;

  afterEach(function () {
    if (this.currentTest?.state === "failed" && stack) process.stderr.write(stack.transcript.join("\n"));
  });

  after(() => {
    stack?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("typescript: false loads no ts-node, and nodeargs reach node", async function () {
    const cli = requirePulumiCliFor(this, "cli");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-host-options-"));
    const program = path.join(dir, "program");
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(program);
    fs.mkdirSync(tmp);
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(program, "node_modules"));
    const probe = path.join(program, "probe.js");
    const seen = path.join(dir, "exec-argv.json");
    fs.writeFileSync(probe, `require("fs").writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.execArgv));\n`);
    fs.writeFileSync(path.join(program, "package.json"), JSON.stringify({ name: "host-options", main: "index.js" }));
    fs.writeFileSync(path.join(program, "index.js"), `require("@pulumi/pulumi");\nmodule.exports = { answer: 42 };\n`);
    fs.writeFileSync(
      path.join(program, "Pulumi.yaml"),
      `name: host-options\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: "--require ${probe}"\n`,
    );
    stack = new CliStack(cli, program, "dev", { TMPDIR: tmp }, "cli");
    await stack.init();
    const { stdout } = await stack.ok(["preview", "--non-interactive"]);
    assert.match(stdout, /answer\s*:\s*42/);
    assert.deepEqual(JSON.parse(fs.readFileSync(seen, "utf8")), ["--require", probe], "node ran with the project's nodeargs");
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith("ts-node")), [], "no ts-node was loaded");
  });
});
