// Issue 17.3 through the real Pulumi CLI: a TypeScript program installed from the packed tarball, the
// local control plane on real Postgres, which lets a new preview's role log in only some time after its
// create job completed (logins.delayNext), as a real service may. With `readiness: "login"` (the
// default) `pulumi up` returns only once both URLs log in; with `readiness: "job"` it returns before.
// What is asserted is the state of the login at the moment `up` has returned, not how long it took.
import { strict as assert } from "assert";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { installedCopy, livePreviews, loginError, requirePulumiCli } from "./suite";

const PROJECT = "capydb-ts-suite";
export const TS_PROGRAM = path.join(REPO, "test", "cli", "ts-program");

describe("real Pulumi CLI: readiness waits for a login the control plane delays (test/cli, TypeScript program)", function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let stack: CliStack;
  let programDir: string;

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    programDir = suite.dir(await installedCopy(TS_PROGRAM, {}, { typescript: "5.9.3" }));
    cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    stack = await suite.stack(new CliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url }), { project: PROJECT, key: cp.projectScopedKey });
  });

  it("readiness login (the default): up returns only once both URLs log in; the refused first attempt is reported", async () => {
    await stack.config(`${PROJECT}:name`, "login-late");
    // Long enough that a create which did not wait would return well before the role can log in.
    cp.logins.delayNext(5_000);
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    const secrets = await stack.outputs(true);
    assert.equal(await loginError(String(secrets.directUrl)), undefined, "the direct URL logs in as soon as up has returned");
    assert.equal(await loginError(String(secrets.pooledUrl)), undefined, "the pooled URL too");
    const printed = up.stdout + up.stderr;
    assert.match(printed, /create login-late: the direct URL \(127\.0\.0\.1:\d+\/pv_\w+ as pv_\w+\) does not accept a login yet/, "the first login was refused");
    assert.match(printed, /create login-late: the direct URL \(.*\) accepts logins after \d+ attempts/);
    assert.ok(!printed.includes(String(secrets.password)), "the password is in no line up printed");
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp), []);
  });

  it('readiness "job": up returns while the role still cannot log in', async () => {
    await stack.config(`${PROJECT}:name`, "login-job");
    await stack.config(`${PROJECT}:readiness`, "job");
    cp.logins.delayNext(120_000);
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    const secrets = await stack.outputs(true);
    assert.match(String(await loginError(String(secrets.directUrl))), /28000|not permitted to log in/, "the role cannot log in yet");
    assert.doesNotMatch(up.stdout + up.stderr, /does not accept a login yet/, "no login was tried");
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp), []);
  });
});
