// Issue 17.4 through the real Pulumi CLI: a program installed from the packed tarball reads, with
// getPreviewDatabase, a preview that was created outside Pulumi, without managing it.
import { strict as assert } from "assert";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { assertMissingLookupFails, createOutsidePulumi, installedCopy, requirePulumiCli } from "./suite";

const PROJECT = "capydb-lookup-suite";
const PROGRAM = path.resolve(__dirname, "..", "..", "..", "test", "cli", "lookup-program");

describe("real Pulumi CLI: getPreviewDatabase reads a preview made outside Pulumi (test/cli)", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let stack: CliStack;
  let programDir: string;
  let previewId: string;

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    programDir = suite.dir(await installedCopy(PROGRAM));
    cp = await suite.startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 200, reset: 200, delete: 200 } });
    previewId = await createOutsidePulumi(cp, "made-elsewhere");
    stack = await suite.stack(new CliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url }), { project: PROJECT, key: cp.projectScopedKey });
    await stack.config(`${PROJECT}:previewName`, "made-elsewhere");
  });

  it("up exports the preview's fields, the URL and password as secrets, and manages nothing", async () => {
    await stack.ok(["up", "--yes", "--non-interactive"]);
    const shown = await stack.outputs();
    assert.equal(shown.previewId, previewId);
    assert.equal(shown.state, "ready");
    assert.equal(shown.postgresVersion, "17");
    assert.equal(shown.region, "local");
    assert.equal(typeof shown.pooledPort, "number");
    assert.equal(shown.pooledUrl, "[secret]");
    assert.equal(shown.password, "[secret]");
    const secrets = await stack.outputs(true);
    assert.match(String(secrets.pooledUrl), /^postgres(ql)?:\/\//);
    assert.ok(String(secrets.pooledUrl).includes(String(secrets.password)));
    assert.ok(!stack.stateFileText(PROJECT).includes(String(secrets.password)), "the password is not in the state file in plain text");
    const state = await stack.exportState();
    assert.ok(!(state.resources ?? []).some((r) => r.type.includes("PreviewDatabase")), "no PreviewDatabase resource in the stack");
  });

  it("a missing preview fails the program naming the project and the name", async () => {
    await assertMissingLookupFails(stack, cp, PROJECT, "made-elsewhere");
  });

  it("destroy leaves the preview alone", async () => {
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(cp.previews.live().map((p) => p.id), [previewId]);
  });
});
