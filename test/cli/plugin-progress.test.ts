// The native plugin's progress lines reach the CLI output: the engine shows a resource plugin's stderr
// only with -v, so the plugin sends them through the engine's Log RPC, attached to the resource. Shown
// with readiness on real Postgres: a Pulumi YAML program's `pulumi up` creates a preview whose role the
// control plane lets log in only later (logins.delayNext); up returns once both URLs log in, and its output
// says that the first login was refused and that it was retried.
import { strict as assert } from "assert";
import type { ControlPlane } from "../control-plane";
import { DirectCliStack, programCopy, requireYamlHost, YAML_PROGRAM } from "./native";
import { StackSuite } from "./stack-suite";
import { livePreviews, loginError, requirePulumiCli } from "./suite";

const PROJECT = "capydb-yaml-suite";

describe("real Pulumi CLI: the capydb plugin's progress lines are shown, here readiness waiting for a delayed login (test/cli, YAML)", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let stack: DirectCliStack;
  let programDir: string;

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    requireYamlHost(ctx, cli);
    programDir = suite.dir(programCopy(YAML_PROGRAM));
    cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    const direct = new DirectCliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: "" });
    await direct.installPlugin();
    stack = await suite.stack(direct, { project: PROJECT, key: cp.projectScopedKey });
  });

  it("up returns once the delayed login works, and shows the refused attempt under the resource", async () => {
    cp.logins.delayNext(5_000);
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    const secrets = await stack.outputs(true);
    assert.equal(await loginError(String(secrets.directUrl)), undefined, "the direct URL logs in as soon as up has returned");
    const name = String(secrets.name);
    const printed = up.stdout + up.stderr;
    assert.match(printed, new RegExp(`\\[capydb\\] create ${name}: the direct URL \\(127\\.0\\.0\\.1:\\d+/pv_\\w+ as pv_\\w+\\) does not accept a login yet`));
    assert.match(printed, new RegExp(`\\[capydb\\] create ${name}: the direct URL \\(.*\\) accepts logins after \\d+ attempts`));
    // Under the resource, in the diagnostics the CLI prints after the run.
    assert.match(printed, /Diagnostics:\s*\n\s*capydb:index:PreviewDatabase \(db\):\s*\n\s*\[capydb\] create /);
    assert.ok(!printed.includes(String(secrets.password)), "the password is in no line up printed");
  });

  it("destroy leaves nothing", async () => {
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp), []);
  });
});
