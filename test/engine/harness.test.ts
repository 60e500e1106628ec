// Validates the contract harness against a tiny fixture provider (fixtures/echo), so that contract tests of the
// real provider can trust what the harness does on the engine's behalf.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  captureRegistrations,
  DeploymentError,
  HarnessError,
  isSecret,
  reveal,
  secret,
  SIG_KEY,
  Stack,
  startPlugin,
  UNKNOWN,
  type CapturedResource,
  type Plugin,
  type PropertyMap,
  type ResourceGoal,
} from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const ECHO_MODULE = path.join(__dirname, "fixtures", "echo", "index.js");
const ECHO_TYPE = "pulumi-nodejs:dynamic/echo:Echo";
const PROJECT = "echoproj";
const TOKEN = "tok-s3cr3t-9f8e7d";

type LogLine = { op: string; [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("engine harness (echo fixture)", function () {
  this.timeout(60_000);
  let tmp: string;
  let logFile: string;
  let goneFile: string;
  let plugin: Plugin;
  let providerText: string;
  let captured: CapturedResource[];
  let capturedPreview: CapturedResource[];

  const readLog = (): LogLine[] =>
    fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogLine);
  const opsSince = (n: number) => readLog().slice(n).map((l) => l.op);
  const newStack = () => new Stack({
    plugin,
    config: { "echo:token": TOKEN, "echo:plain": "visible", [`${PROJECT}:region`]: "eu-1" },
    secretKeys: ["echo:token"],
  });
  const echo = (name: string, inputs: PropertyMap, extra: Partial<ResourceGoal> = {}): ResourceGoal => ({
    name, type: ECHO_TYPE, inputs: { ...inputs, __provider: providerText },
    additionalSecretOutputs: ["secretOut"], ...extra,
  });

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "engine-harness-"));
    logFile = path.join(tmp, "echo.log");
    goneFile = path.join(tmp, "gone.txt");
    fs.writeFileSync(logFile, "");
    // Each capture is a child process that loads the SDK (~2 s): batch them, alongside the plugin's start.
    [plugin, captured, capturedPreview] = await Promise.all([
      startPlugin({ programDir: REPO, project: PROJECT, env: { ECHO_LOG: logFile, ECHO_GONE: goneFile } }),
      captureRegistrations({ programDir: REPO, module: ECHO_MODULE, project: PROJECT, resources: [
        { name: "a", exportName: "Echo", args: { greeting: "hi", password: { $secret: "pw" }, nested: { k: 1 } },
          opts: { deleteBeforeReplace: true } },
        { name: "u", exportName: "Echo", args: { ttl: { $unknown: true }, k: 1 } },
      ] }),
      captureRegistrations({ programDir: REPO, module: ECHO_MODULE, project: PROJECT, preview: true, resources: [
        { name: "a", exportName: "Echo", args: { greeting: "hi" } },
        { name: "u", exportName: "Echo", args: { ttl: { $unknown: true }, nested: { deep: { $unknown: true }, k: 1 } } },
      ] }),
    ]);
    // Registration order follows input resolution, not construction order.
    const byName = (rs: CapturedResource[]) => ["a", "u"].map((n) => rs.find((r) => r.name === n)!);
    captured = byName(captured);
    capturedPreview = byName(capturedPreview);
    providerText = captured[0].inputs.__provider as string;
  });

  after(async () => {
    await plugin?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("captures the SDK's real RegisterResource inputs: token, __provider text, secrets, options", async () => {
    const r = captured[0];
    assert.equal(captured.length, 2, "the marker resource behind $unknown is not reported");
    assert.equal(r.type, ECHO_TYPE);
    assert.equal(r.custom, true);
    assert.equal(typeof r.inputs.__provider, "string");
    assert.equal(capturedPreview[0].inputs.__provider, providerText, "serialization is deterministic across processes");
    assert.match(providerText, /exports\.handler/);
    assert.deepEqual(r.inputs.password, secret("pw"));
    assert.deepEqual(r.inputs.nested, { k: 1 });
    assert.ok(!("echoId" in r.inputs), "undefined output placeholders are not sent");
    assert.deepEqual(r.additionalSecretOutputs, ["secretOut"]);
    assert.equal(r.deleteBeforeReplace, true);
  });

  it("captures unknowns during preview at the top level and nested", () => {
    const r = capturedPreview[1];
    assert.equal(r.inputs.ttl, UNKNOWN);
    assert.deepEqual(r.inputs.nested, { deep: UNKNOWN, k: 1 });
    // Outside preview the same program drops the never-resolved value instead.
    assert.ok(!("ttl" in captured[1].inputs));
    assert.equal(captured[1].inputs.k, 1);
  });

  it("sends Configure first, once, with the whole config; the provider gets it decrypted and namespaced", async () => {
    const stack = newStack();
    await stack.up([echo("cfg", { v: 1 })]);
    assert.equal(plugin.log[0].method, "Configure");
    assert.equal(plugin.methods().filter((m) => m === "Configure").length, 1);
    const args = plugin.log[0].request.args as PropertyMap;
    assert.ok(isSecret(args["echo:token"]), "secret config travels wrapped in Configure");
    assert.equal(args["echo:plain"], "visible");
    const cfg = readLog().find((l) => l.op === "configure");
    assert.deepEqual(cfg, { op: "configure", hasToken: true, tokenLength: TOKEN.length, region: "eu-1", plain: "visible" });
    await stack.up([echo("cfg", { v: 1 })]);
    assert.equal(plugin.methods().filter((m) => m === "Configure").length, 1);
    await stack.destroy();
  });

  it("refuses to reconfigure a plugin with different config (one plugin per command)", async () => {
    const other = new Stack({ plugin, config: { "echo:token": "different" }, secretKeys: ["echo:token"] });
    await assert.rejects(other.up([echo("x", {})]), HarnessError);
  });

  it("create: Check then Create; state keeps checked inputs and outputs, both with __provider", async () => {
    const stack = newStack();
    const mark = readLog().length;
    const seq = plugin.log.length;
    const res = await stack.up([echo("c1", { greeting: "hi", ttl: 5 })]);
    assert.equal(res.step("c1").op, "create");
    assert.deepEqual(res.step("c1").rpcs, ["Check", "Create"]);
    assert.deepEqual(opsSince(mark), ["check", "create"]);
    const check = plugin.log[seq];
    assert.deepEqual(check.request.olds, {}, "a create's Check has empty olds");
    const st = stack.resource("c1")!;
    assert.match(st.id, /^echo-\d+$/);
    assert.equal(st.inputs.__provider, providerText);
    assert.equal(st.outputs.__provider, providerText);
    assert.equal(typeof st.inputs.autoName, "string", "check's defaults are stored as inputs");
    assert.equal(st.outputs.echoId, st.id);
    assert.equal(st.urn, `urn:pulumi:dev::${PROJECT}::${ECHO_TYPE}::c1`);
    await stack.destroy();
    assert.equal(stack.resources.length, 0);
  });

  it("same: Check then Diff(no change); old outputs are kept, nothing else is called", async () => {
    const stack = newStack();
    await stack.up([echo("s1", { greeting: "hi" })]);
    const before = stack.resource("s1")!;
    const seq = plugin.log.length;
    const res = await stack.up([echo("s1", { greeting: "hi" })]);
    assert.equal(res.step("s1").op, "same");
    assert.deepEqual(plugin.log.slice(seq).map((e) => e.method), ["Check", "Diff"]);
    const [check, diff] = plugin.log.slice(seq);
    assert.deepEqual(check.request.olds, reveal(before.inputs), "Check olds = stored inputs");
    assert.deepEqual(diff.request.olds, reveal(before.outputs), "Diff olds = stored outputs");
    assert.deepEqual(diff.request.oldInputs, reveal(before.inputs));
    assert.deepEqual(stack.resource("s1")!.outputs, before.outputs);
    await stack.destroy();
  });

  it("update: Diff(changes) then Update with olds = outputs; outputs replaced wholesale", async () => {
    const stack = newStack();
    await stack.up([echo("u1", { greeting: "hi" })]);
    const id = stack.resource("u1")!.id;
    const seq = plugin.log.length;
    const res = await stack.up([echo("u1", { greeting: "hello" })]);
    assert.equal(res.step("u1").op, "update");
    assert.deepEqual(res.step("u1").rpcs, ["Check", "Diff", "Update"]);
    const upd = plugin.log.slice(seq).find((e) => e.method === "Update")!;
    assert.equal(upd.request.id, id);
    assert.equal((upd.request.olds as PropertyMap).stage, "ready");
    assert.equal((upd.request.news as PropertyMap).greeting, "hello");
    const st = stack.resource("u1")!;
    assert.equal(st.id, id);
    assert.equal(st.outputs.greeting, "hello");
    assert.equal(st.outputs.updates, 1);
    assert.equal(st.outputs.__provider, providerText, "the server copies __provider into update results");
    await stack.destroy();
  });

  it("DIFF_UNKNOWN: the engine compares old and new inputs itself", async () => {
    const stack = newStack();
    await stack.up([echo("d1", { diffMode: "unknown", greeting: "hi" })]);
    let res = await stack.up([echo("d1", { diffMode: "unknown", greeting: "hi" })]);
    assert.equal(res.step("d1").diff?.resolvedByEngine, true);
    assert.equal(res.step("d1").op, "same");
    res = await stack.up([echo("d1", { diffMode: "unknown", greeting: "changed" })]);
    assert.equal(res.step("d1").op, "update");
    await stack.destroy();
  });

  it("replace (create-before-delete): second Check with no olds, Create new, Delete old last", async () => {
    const stack = newStack();
    await stack.up([echo("r1", { replaceOn: ["zone"], zone: "a" }), echo("r2", { k: 1 })]);
    const old = stack.resource("r1")!;
    const mark = readLog().length;
    const res = await stack.up([echo("r1", { replaceOn: ["zone"], zone: "b" }), echo("r2", { k: 1 })]);
    const step = res.step("r1");
    assert.equal(step.op, "replace");
    assert.deepEqual(step.replaces, ["zone"]);
    assert.equal(step.deleteBeforeReplace, false);
    assert.deepEqual(step.rpcs, ["Check", "Diff", "Check", "Create"]);
    const log = readLog().slice(mark);
    assert.deepEqual(log.map((l) => l.op), ["check", "diff", "check", "create", "check", "diff", "delete"],
      "the old half is deleted after every other resource's steps");
    assert.deepEqual(log[2].olds, {}, "the replacement's Check gets no olds");
    assert.notEqual(log[3].inputs.autoName, old.inputs.autoName, "defaults are recomputed for the replacement");
    assert.equal(log[6].id, old.id);
    assert.notEqual(stack.resource("r1")!.id, old.id);
    await stack.destroy();
  });

  it("replace (delete-before-replace) from the DiffResult and from the resource option", async () => {
    const stack = newStack();
    await stack.up([echo("b1", { replaceOn: ["zone"], zone: "a", dbr: true }), echo("b2", { replaceOn: ["zone"], zone: "a" })]);
    const [old1, old2] = [stack.resource("b1")!, stack.resource("b2")!];
    const mark = readLog().length;
    const res = await stack.up([
      echo("b1", { replaceOn: ["zone"], zone: "b", dbr: true }),
      echo("b2", { replaceOn: ["zone"], zone: "b" }, { deleteBeforeReplace: true }),
    ]);
    assert.equal(res.step("b1").deleteBeforeReplace, true);
    assert.equal(res.step("b2").deleteBeforeReplace, true);
    assert.deepEqual(res.step("b1").rpcs, ["Check", "Diff", "Check", "Delete", "Create"]);
    const log = readLog().slice(mark);
    assert.deepEqual(log.map((l) => l.op),
      ["check", "diff", "check", "delete", "create", "check", "diff", "check", "delete", "create"]);
    assert.equal(log[3].id, old1.id);
    assert.equal(log[8].id, old2.id);
    // An explicit `deleteBeforeReplace: false` option overrides the provider's request.
    const mark2 = readLog().length;
    await stack.up([echo("b1", { replaceOn: ["zone"], zone: "c", dbr: true }, { deleteBeforeReplace: false }),
      echo("b2", { replaceOn: ["zone"], zone: "b" })]);
    assert.deepEqual(opsSince(mark2), ["check", "diff", "check", "create", "check", "diff", "delete"]);
    await stack.destroy();
  });

  it("preview: unknowns reach only Check and Diff (top level, nested, number field); nothing is created", async () => {
    const stack = newStack();
    await stack.up([echo("p1", { ttl: 5, nested: { a: 1 } })]);
    const stateBefore = stack.exportState();
    const mark = readLog().length;
    const seq = plugin.log.length;
    const res = await stack.preview([
      echo("p1", { ttl: UNKNOWN, nested: { a: UNKNOWN } }),
      echo("p2", { ttl: UNKNOWN, greeting: "new" }),
    ]);
    assert.deepEqual(opsSince(mark), ["check", "diff", "check"]);
    assert.deepEqual(plugin.log.slice(seq).map((e) => e.method), ["Check", "Diff", "Check"]);
    const log = readLog().slice(mark);
    assert.equal(log[0].news.ttl, UNKNOWN);
    assert.deepEqual(log[0].news.nested, { a: UNKNOWN });
    assert.equal(log[1].news.ttl, UNKNOWN);
    assert.equal(res.step("p1").op, "update");
    assert.equal(res.step("p1").status, "planned");
    assert.equal(res.step("p2").op, "create");
    assert.equal(res.step("p2").outputs?.ttl, UNKNOWN, "preview outputs are the checked inputs");
    assert.deepEqual(stack.exportState(), stateBefore, "preview leaves state alone");
    await assert.rejects(stack.up([echo("p1", { ttl: UNKNOWN })]), HarnessError);
    await stack.destroy();
  });

  it("preview shows a replace and a removal without Create or Delete", async () => {
    const stack = newStack();
    await stack.up([echo("pr", { replaceOn: ["zone"], zone: "a" }), echo("gone", {})]);
    const seq = plugin.log.length;
    const res = await stack.preview([echo("pr", { replaceOn: ["zone"], zone: UNKNOWN })]);
    assert.equal(res.step("pr").op, "replace");
    assert.deepEqual(res.step("pr").replaces, ["zone"]);
    assert.equal(res.stepsFor("gone")[0].op, "delete");
    assert.deepEqual(plugin.log.slice(seq).map((e) => e.method), ["Check", "Diff", "Check"]);
    await stack.destroy();
  });

  it("secrets: stripped from every request, re-marked on same-named outputs, additionalSecretOutputs applied", async () => {
    const stack = newStack();
    const seq = plugin.log.length;
    await stack.up([echo("sec", { password: secret("hunter2"), conf: { inner: secret("deep"), plain: 1 }, list: [1, secret(2)] })]);
    await stack.up([echo("sec", { password: secret("hunter2"), conf: { inner: secret("deep"), plain: 1 }, list: [1, secret(2)], v: 2 })]);
    await stack.refresh();
    const st = stack.resource("sec")!;
    for (const s of [st.inputs, st.outputs]) {
      assert.ok(isSecret(s.password));
      assert.ok(isSecret((s.conf as PropertyMap).inner), "annotateSecrets recurses into objects");
      assert.ok(!isSecret((s.conf as PropertyMap).plain));
      assert.ok(isSecret(s.list), "a secret inside an array makes the whole array secret");
      assert.ok(!isSecret(s.greeting));
    }
    assert.ok(isSecret(st.outputs.secretOut), "additionalSecretOutputs");
    assert.ok(!isSecret(st.outputs.echoId));
    assert.equal(reveal(st.outputs.password), "hunter2");
    const leaks = plugin.log.slice(seq).filter((e) => JSON.stringify([e.request, e.response]).includes(SIG_KEY));
    assert.deepEqual(leaks.map((e) => e.method), [], "no secret wrapper is ever sent to or returned by the plugin");
    assert.deepEqual(plugin.wireContains(TOKEN, (e) => e.method !== "Configure"), []);
    assert.equal(plugin.wireContains(TOKEN).length, 1, "the token travels only in Configure");
    await stack.destroy();
  });

  it("check failures fail the command and leave state untouched", async () => {
    const stack = newStack();
    const err = await stack.up([echo("bad", { bad: true })]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError);
    assert.deepEqual(err.failed.checkFailures, [{ property: "bad", reason: "bad is set" }]);
    assert.deepEqual(err.failed.rpcs, ["Check"]);
    assert.equal(stack.resources.length, 0);
  });

  it("partial failure on create: decoded, recorded with id and init errors; next up updates even without changes", async () => {
    const stack = newStack();
    const err = await stack.up([echo("pf", { failCreate: "partial" })]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError, String(err));
    const init = err.initFailure!;
    assert.match(init.id, /^echo-\d+$/);
    assert.deepEqual(init.reasons, ["still initializing"]);
    assert.equal(init.properties.stage, "initializing");
    assert.equal(init.properties.__provider, providerText);
    assert.equal(err.failed.status, "partial");
    assert.match(err.message, /still initializing/);
    const st = stack.resource("pf")!;
    assert.equal(st.id, init.id);
    assert.deepEqual(st.initErrors, ["still initializing"]);
    assert.ok(isSecret(st.outputs.secretOut), "additionalSecretOutputs also apply to a partial state");

    // Same inputs: Diff says no change, but init errors force an Update ("continue awaiting initialization").
    const res = await stack.up([echo("pf", { failCreate: "partial" })]);
    const step = res.step("pf");
    assert.equal(step.op, "update");
    assert.equal(step.continuesInitialization, true);
    assert.equal(step.diff?.changes, "none");
    assert.deepEqual(step.rpcs, ["Check", "Diff", "Update"]);
    assert.equal(stack.resource("pf")!.initErrors, undefined);
    assert.equal(stack.resource("pf")!.outputs.stage, "ready");
    await stack.destroy();
  });

  it("partial failure on update keeps the id and records init errors; a plain error keeps old state", async () => {
    const stack = newStack();
    await stack.up([echo("pu", { v: 1 })]);
    const id = stack.resource("pu")!.id;
    const err = await stack.up([echo("pu", { v: 2, failUpdate: "partial" })]).then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError);
    assert.equal(err.initFailure?.id, id);
    assert.deepEqual(stack.resource("pu")!.initErrors, ["update still initializing"]);
    const before = stack.exportState();
    const err2 = await stack.up([echo("pu", { v: 3, failUpdate: "error" })]).then(() => undefined, (e) => e);
    assert.ok(err2 instanceof DeploymentError);
    assert.equal(err2.initFailure, undefined);
    assert.match(String(err2.stepError?.message), /exploded/);
    assert.deepEqual(stack.exportState(), before);
    await stack.destroy();
  });

  it("refresh: Read with outputs and inputs; gone ids drop; returned inputs replace stored ones", async () => {
    const stack = newStack();
    await stack.up([echo("f1", { v: 1 }), echo("f2", { v: 2 }), echo("f3", { v: 3, returnInputs: true })]);
    const f1 = stack.resource("f1")!;
    fs.writeFileSync(goneFile, `${stack.resource("f2")!.id}\n`);
    const seq = plugin.log.length;
    const res = await stack.refresh();
    const reads = plugin.log.slice(seq).filter((e) => e.method === "Read");
    assert.equal(reads.length, 3);
    assert.deepEqual(reads[0].request.properties, reveal(f1.outputs));
    assert.deepEqual(reads[0].request.inputs, reveal(f1.inputs));
    assert.equal(res.step("f2").result, "delete");
    assert.equal(stack.resource("f2"), undefined);
    assert.equal(stack.resource("f1")!.outputs.reads, 1);
    assert.equal(res.step("f1").result, "same", "refresh diff: outputs changed but inputs did not");
    assert.deepEqual(res.step("f1").rpcs, ["Read", "Diff"]);
    assert.equal(stack.resource("f3")!.inputs.refreshed, true);
    // The refresh Diff frames the refreshed state as "old" and the previous inputs as "new".
    const f3Diff = plugin.log.slice(seq).filter((e) => e.method === "Diff")[1];
    assert.equal((f3Diff.request.oldInputs as PropertyMap).refreshed, true);
    assert.equal((f3Diff.request.news as PropertyMap).refreshed, undefined);
    assert.equal((f3Diff.request.olds as PropertyMap).reads, 1);
    fs.writeFileSync(goneFile, "");
    await stack.destroy();
  });

  it("`preview --refresh` reads but persists nothing; `up --refresh` persists the refresh first", async () => {
    const stack = newStack();
    await stack.up([echo("pr1", { v: 1 })]);
    const id = stack.resource("pr1")!.id;
    fs.writeFileSync(goneFile, `${id}\n`);
    const before = stack.exportState();
    const res = await stack.preview([echo("pr1", { v: 1 })], { refresh: true });
    assert.deepEqual(res.steps.map((s) => [s.op, s.result ?? s.status]), [["refresh", "delete"], ["create", "planned"]]);
    assert.deepEqual(stack.exportState(), before);
    const up = await stack.up([echo("pr1", { v: 1 })], { refresh: true });
    assert.deepEqual(up.steps.map((s) => s.op), ["refresh", "create"]);
    assert.notEqual(stack.resource("pr1")!.id, id);
    fs.writeFileSync(goneFile, "");
    await stack.destroy();
  });

  it("removal from the program deletes; destroy deletes in reverse order; a failed delete keeps the resource", async () => {
    const stack = newStack();
    await stack.up([echo("x1", {}), echo("x2", {}), echo("x3", { failDelete: true })]);
    const res = await stack.up([echo("x1", {}), echo("x3", { failDelete: true })]);
    assert.equal(res.stepsFor("x2")[0].op, "delete");
    assert.equal(stack.resource("x2"), undefined);
    const err = await stack.destroy().then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError);
    assert.equal(err.failed.name, "x3");
    assert.ok(stack.resource("x3"), "a failed delete keeps the resource in state");
    assert.ok(stack.resource("x1"), "deletes stop at the first failure");
    const refused = /delete of echo-\d+ refused/;
    assert.match(await plugin.outputMatching("stderr", refused), refused, "plain failures are printed to plugin stderr");
    await stack.up([echo("x1", {}), echo("x3", { failDelete: false })]);
    const mark = readLog().length;
    await stack.destroy();
    assert.deepEqual(readLog().slice(mark).map((l) => [l.op, l.props.__provider === providerText]),
      [["delete", true], ["delete", true]]);
    assert.equal(stack.resources.length, 0);
  });

  it("a failed create-before-delete replacement leaves the old resource live", async () => {
    const stack = newStack();
    await stack.up([echo("cb", { replaceOn: ["zone"], zone: "a" })]);
    const old = stack.resource("cb")!;
    await assert.rejects(stack.up([echo("cb", { replaceOn: ["zone"], zone: "b", failCreate: "error" })]), DeploymentError);
    assert.deepEqual(stack.resource("cb"), old);
    await stack.destroy();
  });

  it("delete-before-replace whose create fails leaves a pending replacement that the next up only creates", async () => {
    const stack = newStack();
    await stack.up([echo("pend", { replaceOn: ["zone"], zone: "a", dbr: true })]);
    const old = stack.resource("pend")!;
    const err = await stack.up([echo("pend", { replaceOn: ["zone"], zone: "b", dbr: true, failCreate: "error" })])
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof DeploymentError);
    assert.deepEqual(err.failed.rpcs, ["Check", "Diff", "Check", "Delete", "Create"]);
    const pending = stack.resource("pend")!;
    assert.equal(pending.id, old.id);
    assert.equal(pending.pendingReplacement, true);
    const mark = readLog().length;
    const res = await stack.up([echo("pend", { replaceOn: ["zone"], zone: "b", dbr: true })]);
    assert.equal(res.step("pend").op, "replace");
    assert.deepEqual(opsSince(mark), ["check", "diff", "check", "create"], "the old object is not deleted twice");
    assert.equal(stack.resource("pend")!.pendingReplacement, undefined);
    await stack.destroy();
  });

  it("keeps provider stdout (after the port line) and stderr for assertions", async () => {
    const stack = newStack();
    await stack.up([echo("loud", { shout: "hello-from-create" })]);
    const stdout = await plugin.outputMatching("stdout", /echo stdout: hello-from-create/);
    assert.match(stdout, /echo stdout: hello-from-create/);
    assert.doesNotMatch(stdout, /^\d+\n/, "the port line is not part of stdout");
    assert.match(await plugin.outputMatching("stderr", /echo stderr: hello-from-create/), /echo stderr: hello-from-create/);
    assert.equal((await plugin.getPluginInfo()).version, "3.248.0");
    await stack.destroy();
  });

  it("parallel up runs independent resources concurrently and records each", async () => {
    const stack = newStack();
    const res = await stack.up([echo("pa", {}), echo("pb", {}), echo("pc", {})], { parallel: true });
    assert.deepEqual(res.steps.map((s) => s.op), ["create", "create", "create"]);
    assert.equal(stack.resources.length, 3);
    await stack.destroy();
  });
});
