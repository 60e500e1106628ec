// Layer 4 contract tests: the real SDK's registrations, the real dynamic-provider plugin and our provider, against
// the local control plane, driven the way the Pulumi engine drives them.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import {
  captureRegistrations,
  captureWithOrigin,
  DeploymentError,
  isSecret,
  reveal,
  sdkDirFrom,
  Stack,
  startPlugin,
  UNKNOWN,
  type CapturedResource,
  type Plugin,
  type PropertyMap,
  type ResourceGoal,
} from "./harness";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy";

const REPO = path.resolve(__dirname, "..", "..", "..");
// Compatibility run (scripts/compat.sh): a program directory outside this checkout with the packed tarball and
// another @pulumi/pulumi installed. The plugin, the captures and the client-side protos then all come from there,
// and every child runs on the Node binary running mocha. Unset: the checkout itself, as before.
const COMPAT_DIR = process.env.CAPYDB_COMPAT_PROGRAM_DIR ? path.resolve(process.env.CAPYDB_COMPAT_PROGRAM_DIR) : undefined;
const PROGRAM_DIR = COMPAT_DIR ?? REPO;
// Compat only: where the plugin resolves `pulumi-capydb*` (trace-require.ts), checked after the suite has run.
const TRACE = COMPAT_DIR ? path.join(os.tmpdir(), `capydb-compat-trace-${process.pid}.jsonl`) : undefined;
const TYPE = "pulumi-nodejs:dynamic/capydb:PreviewDatabase";
const PROJECT = "capydb-contract";
const STACK = "dev";
const SECRET_OUTPUTS = ["directUrl", "pooledUrl", "password"];
const HOUR = 3_600_000;

function patch(goal: ResourceGoal, inputs: PropertyMap): ResourceGoal {
  return { ...goal, inputs: { ...goal.inputs, ...inputs } };
}

describe("contract: PreviewDatabase through the dynamic-provider plugin", function () {
  this.timeout(60_000);
  let cp: ControlPlane;
  let proxy: RecordingProxy;
  let plugin: Plugin;
  const regs: Record<string, CapturedResource> = {};
  const previewRegs: Record<string, CapturedResource> = {};

  const newStack = () => new Stack({
    plugin,
    project: PROJECT,
    stack: STACK,
    config: { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": proxy.url, [`${PROJECT}:unrelated`]: "x" },
    secretKeys: ["capydb:apiKey"],
  });
  const goal = (r: CapturedResource): ResourceGoal => ({
    name: r.name, type: r.type, inputs: r.inputs,
    additionalSecretOutputs: r.additionalSecretOutputs, deleteBeforeReplace: r.deleteBeforeReplace,
  });
  const apiCalls = () => cp.requests().map((r) => `${r.method} ${r.path}`);

  before(async () => {
    cp = await startControlPlane();
    proxy = await startRecordingProxy(cp.url);
    const pid = cp.projectId;
    const [p, live, planned] = await Promise.all([
      startPlugin({ programDir: PROGRAM_DIR, project: PROJECT, stack: STACK,
        sdkDir: COMPAT_DIR ? sdkDirFrom(COMPAT_DIR) : undefined,
        env: TRACE ? { NODE_OPTIONS: `--require ${path.join(__dirname, "trace-require.js")}`, TRACE_REQUIRE_LOG: TRACE }
          : undefined }),
      captureRegistrations({ programDir: PROGRAM_DIR, module: "pulumi-capydb", project: PROJECT, stack: STACK, resources: [
        { name: "db", exportName: "PreviewDatabase", args: { projectId: pid, ttlHours: 24 } },
        { name: "stall", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-stall", timeouts: { create: "2s" } } },
        { name: "stall2", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-stall-destroy", timeouts: { create: "2s" } } },
        { name: "stall3", exportName: "PreviewDatabase", args: { projectId: pid, name: "pv-stall-refresh", timeouts: { create: "2s" } } },
      ] }),
      captureRegistrations({ programDir: PROGRAM_DIR, module: "pulumi-capydb", project: PROJECT, stack: STACK, preview: true,
        resources: [
          { name: "fresh", exportName: "PreviewDatabase",
            args: { projectId: { $unknown: true }, ttlHours: { $unknown: true }, timeouts: { create: { $unknown: true } } } },
          { name: "db", exportName: "PreviewDatabase", args: { projectId: pid, ttlHours: { $unknown: true } } },
        ] }),
    ]);
    plugin = p;
    for (const r of live) regs[r.name] = r;
    for (const r of planned) previewRegs[r.name] = r;
  });

  after(async () => {
    await plugin?.close();
    await proxy?.close();
    await cp?.close();
    if (TRACE) fs.rmSync(TRACE, { force: true });
  });

  if (COMPAT_DIR) {
    it("compat: plugin, SDK and provider all load from the compat program, not from this checkout", async () => {
      const real = (p: string) => fs.realpathSync(p);
      const inside = (p: string, dir: string) => real(p).startsWith(real(dir) + path.sep);
      const sdkDir = sdkDirFrom(COMPAT_DIR);
      const sdkVersion = JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8")).version as string;
      console.log(`      compat: node ${process.version}, @pulumi/pulumi ${sdkVersion} (${sdkDir})`);
      assert.ok(inside(plugin.script, COMPAT_DIR), `plugin script ${plugin.script}`);
      const expectNode = process.env.CAPYDB_COMPAT_NODE_MAJOR;
      if (expectNode) assert.equal(process.versions.node.split(".")[0], expectNode, `running on ${process.version}`);
      const { loaded } = await captureWithOrigin({ programDir: COMPAT_DIR, module: "pulumi-capydb", project: PROJECT,
        resources: [{ name: "probe", exportName: "PreviewDatabase", args: { projectId: cp.projectId } }] });
      assert.ok(inside(loaded.module, COMPAT_DIR), `pulumi-capydb loaded from ${loaded.module}`);
      assert.ok(inside(loaded.pulumi, COMPAT_DIR), `@pulumi/pulumi loaded from ${loaded.pulumi}`);
    });
  }

  it("registers with the expected token, options and a tiny shim as __provider", () => {
    const db = regs.db;
    assert.equal(db.type, TYPE);
    assert.deepEqual([...(db.additionalSecretOutputs ?? [])].sort(), [...SECRET_OUTPUTS].sort());
    const text = db.inputs.__provider as string;
    assert.equal(typeof text, "string");
    assert.ok(text.length < 4000, `shim text is ${text.length} bytes`);
    const requires = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(requires)], ["pulumi-capydb/provider"]);
    assert.doesNotMatch(text, /CapyDBClient|undici|zod|fetch\(/, "no implementation is inlined");
    assert.equal(previewRegs.db.inputs.__provider, text);
  });

  it("preview with unknown inputs (top level, nested, number field) makes no API call and plans a create", async () => {
    const stack = newStack();
    const fresh = previewRegs.fresh;
    assert.equal(fresh.inputs.projectId, UNKNOWN);
    assert.equal(fresh.inputs.ttlHours, UNKNOWN);
    assert.deepEqual(fresh.inputs.timeouts, { create: UNKNOWN });
    cp.clearRequests();
    proxy.clear();
    const res = await stack.preview([goal(fresh)]);
    const step = res.step("fresh");
    assert.equal(step.op, "create");
    assert.deepEqual(step.rpcs, ["Check"]);
    assert.equal(step.inputs?.projectId, UNKNOWN, "check passes unknowns through untouched");
    assert.equal(step.inputs?.ttlHours, UNKNOWN);
    assert.deepEqual(step.inputs?.timeouts, { create: UNKNOWN });
    assert.equal(typeof step.inputs?.name, "string", "the stable name does not depend on unknowns");
    assert.deepEqual(apiCalls(), []);
    assert.deepEqual(proxy.requests(), []);
    assert.equal(stack.resources.length, 0);
  });

  describe("lifecycle", () => {
    let stack: Stack;
    let firstId: string;

    before(() => {
      stack = newStack();
    });

    after(async () => {
      if (stack.resources.length) await stack.destroy().catch(() => undefined);
    });

    it("up creates the preview with complete outputs; credentials come back secret", async () => {
      const res = await stack.up([goal(regs.db)]);
      assert.equal(res.step("db").op, "create");
      const st = stack.resource("db")!;
      firstId = st.id;
      assert.match(st.id, /^pvw_/);
      const live = cp.previews.live(cp.projectId);
      assert.deepEqual(live.map((p) => p.id), [st.id]);
      const o = reveal<Record<string, unknown>>(st.outputs);
      for (const k of ["projectId", "name", "mode", "state", "host", "directPort", "pooledPort", "roleName", "databaseName",
        "sslMode", "ttlHours", "ttlExpiresAt", "createdAt", "directUrl", "pooledUrl", "password", "__provider"]) {
        assert.ok(o[k] !== undefined && o[k] !== null, `output ${k} is set`);
      }
      assert.equal(o.projectId, cp.projectId);
      assert.equal(o.mode, "clone");
      assert.equal(o.ttlHours, 24);
      assert.equal(o.name, live[0].name);
      for (const k of SECRET_OUTPUTS) assert.ok(isSecret(st.outputs[k]), `${k} is secret in state`);
      for (const k of ["host", "name", "state", "ttlExpiresAt"]) assert.ok(!isSecret(st.outputs[k]), `${k} is plain`);
      assert.equal(st.outputs.__provider, regs.db.inputs.__provider);
    });

    it("the API key never crosses the wire outside Configure, nor reaches plugin output; no secret in stderr", () => {
      assert.deepEqual(plugin.wireContains(cp.projectScopedKey, (e) => e.method !== "Configure").map((e) => e.method), []);
      assert.ok(!plugin.stdout.includes(cp.projectScopedKey));
      assert.ok(!plugin.stderr.includes(cp.projectScopedKey));
      const password = reveal<string>(stack.resource("db")!.outputs.password);
      assert.ok(password.length > 0);
      assert.ok(!plugin.stderr.includes(password), "stderr progress lines carry no password");
      assert.ok(!plugin.stdout.includes(password));
      for (const e of plugin.log) {
        assert.ok(!JSON.stringify(e.request).includes("4dabf18193072939515e22adb298388d") || e.method === "Configure",
          `${e.method} request carries a secret wrapper`);
      }
    });

    it("a no-op up is `same`: Check and Diff only, no API call", async () => {
      cp.clearRequests();
      const res = await stack.up([goal(regs.db)]);
      assert.equal(res.step("db").op, "same");
      assert.deepEqual(res.step("db").rpcs, ["Check", "Diff"]);
      assert.deepEqual(apiCalls(), []);
    });

    it("preview with an unknown ttlHours over existing state plans an update, and an unknown name a replace", async () => {
      cp.clearRequests();
      const res = await stack.preview([goal(previewRegs.db)]);
      assert.equal(res.step("db").op, "update");
      assert.deepEqual(res.step("db").rpcs, ["Check", "Diff"]);
      const res2 = await stack.preview([patch(goal(regs.db), { name: UNKNOWN })]);
      assert.equal(res2.step("db").op, "replace");
      assert.ok(res2.step("db").replaces?.includes("name"));
      assert.equal(res2.step("db").deleteBeforeReplace, true, "an unknown name may be the same name");
      assert.deepEqual(apiCalls(), []);
      assert.equal(stack.resource("db")!.id, firstId);
    });

    it("a ttlHours change updates in place with exactly one extend carrying the absolute ttl_hours", async () => {
      cp.clearRequests();
      proxy.clear();
      const before = Date.now();
      const res = await stack.up([patch(goal(regs.db), { ttlHours: 2 })]);
      assert.equal(res.step("db").op, "update");
      assert.deepEqual(res.step("db").rpcs, ["Check", "Diff", "Update"]);
      const extends_ = cp.requests().filter((r) => r.method === "POST" && r.path.endsWith("/extend"));
      assert.equal(extends_.length, 1);
      assert.equal(extends_[0].path, `/v1/preview-databases/${firstId}/extend`);
      assert.deepEqual(proxy.bodies("POST", /\/extend$/), [{ ttl_hours: 2 }]);
      const st = stack.resource("db")!;
      assert.equal(st.id, firstId);
      assert.equal(st.outputs.ttlHours, 2);
      const expires = Date.parse(st.outputs.ttlExpiresAt as string);
      assert.ok(expires >= before + 2 * HOUR - 60_000 && expires <= Date.now() + 2 * HOUR + 60_000,
        "expiry = time of the update + ttlHours");
      for (const k of SECRET_OUTPUTS) assert.ok(isSecret(st.outputs[k]), `${k} stays secret after update`);
      assert.ok(!apiCalls().some((c) => c.startsWith("DELETE") || c.startsWith("POST /v1/projects/")));
    });

    it("a name change replaces delete-first: two previews at once could exceed the plan's preview limit", async () => {
      cp.clearRequests();
      const res = await stack.up([patch(goal(regs.db), { ttlHours: 2, name: "pv-renamed" })]);
      const step = res.step("db");
      assert.equal(step.op, "replace");
      assert.deepEqual(step.replaces, ["name"]);
      assert.equal(step.deleteBeforeReplace, true);
      const calls = apiCalls();
      const deleted = calls.findIndex((c) => c === `DELETE /v1/preview-databases/${firstId}`);
      const created = calls.findIndex((c) => c === `POST /v1/projects/${cp.projectId}/preview-databases`);
      assert.ok(deleted >= 0 && created > deleted, calls.join("\n"));
      const st = stack.resource("db")!;
      assert.notEqual(st.id, firstId);
      assert.equal(st.outputs.name, "pv-renamed");
      assert.deepEqual(cp.previews.live(cp.projectId).map((p) => p.id), [st.id]);
      firstId = st.id;
    });

    it("a mode change with the name kept replaces delete-first", async () => {
      cp.clearRequests();
      const res = await stack.up([patch(goal(regs.db), { ttlHours: 2, name: "pv-renamed", mode: "empty" })]);
      const step = res.step("db");
      assert.equal(step.op, "replace");
      assert.deepEqual(step.replaces, ["mode"]);
      assert.equal(step.deleteBeforeReplace, true);
      assert.deepEqual(step.rpcs, ["Check", "Diff", "Check", "Delete", "Create"]);
      const calls = apiCalls();
      const deleted = calls.findIndex((c) => c === `DELETE /v1/preview-databases/${firstId}`);
      const created = calls.findIndex((c) => c === `POST /v1/projects/${cp.projectId}/preview-databases`);
      assert.ok(deleted >= 0 && created > deleted, calls.join("\n"));
      const st = stack.resource("db")!;
      assert.equal(st.outputs.mode, "empty");
      assert.equal(st.outputs.name, "pv-renamed");
      firstId = st.id;
    });

    it("refresh of a healthy preview reports no drift", async () => {
      const res = await stack.refresh();
      assert.deepEqual(res.step("db").rpcs, ["Read", "Diff"]);
      assert.equal(res.step("db").result, "same");
      const st = stack.resource("db")!;
      for (const k of SECRET_OUTPUTS) assert.ok(isSecret(st.outputs[k]), `${k} stays secret after refresh`);
    });

    it("refresh after the preview expired drops it from state", async () => {
      cp.previews.expireNow(firstId);
      // A new command, so a new plugin process, as with the real CLI: the plugin that just refreshed
      // may answer reads from its list of a moment ago (RECENT_LIST_MAX_AGE_MS), which showed it alive.
      const fresh = await startPlugin({ programDir: PROGRAM_DIR, project: PROJECT, stack: STACK,
        sdkDir: COMPAT_DIR ? sdkDirFrom(COMPAT_DIR) : undefined,
        env: TRACE ? { NODE_OPTIONS: `--require ${path.join(__dirname, "trace-require.js")}`, TRACE_REQUIRE_LOG: TRACE } : undefined });
      const previous = plugin;
      plugin = fresh;
      stack.usePlugin(fresh);
      await previous.close();
      const res = await stack.refresh();
      assert.equal(res.step("db").result, "delete");
      assert.equal(stack.resources.length, 0);
    });

    it("the next up creates it again", async () => {
      const res = await stack.up([patch(goal(regs.db), { ttlHours: 2, name: "pv-renamed", mode: "empty" })]);
      assert.equal(res.step("db").op, "create");
      assert.notEqual(stack.resource("db")!.id, firstId);
    });

    it("destroy deletes it; the control plane has no live previews", async () => {
      const res = await stack.destroy();
      assert.deepEqual(res.steps.map((s) => [s.name, s.op, s.rpcs.join(",")]), [["db", "delete", "Delete"]]);
      assert.equal(stack.resources.length, 0);
      assert.deepEqual(cp.previews.live(cp.projectId), []);
    });
  });

  describe("a create that outlives its timeout", () => {
    it("is recorded as a partial failure, and the next up resumes it through Update", async () => {
      const stack = newStack();
      cp.jobs.stallNext("create");
      const err = await stack.up([goal(regs.stall)]).then(() => undefined, (e) => e);
      assert.ok(err instanceof DeploymentError, String(err));
      const init = err.initFailure!;
      assert.ok(init, `expected a partial failure, got: ${err.message}`);
      assert.match(init.id, /^pvw_/);
      assert.equal(init.properties.__provider, regs.stall.inputs.__provider);
      assert.ok(init.reasons.length > 0);
      const st = stack.resource("stall")!;
      assert.equal(st.id, init.id);
      assert.deepEqual(st.initErrors, init.reasons);
      assert.equal(st.outputs.__provider, regs.stall.inputs.__provider);

      cp.jobs.releaseStalled();
      const res = await stack.up([goal(regs.stall)]);
      const step = res.step("stall");
      assert.equal(step.op, "update");
      assert.deepEqual(step.rpcs, ["Check", "Diff", "Update"]);
      const done = stack.resource("stall")!;
      assert.equal(done.id, init.id);
      assert.equal(done.initErrors, undefined);
      assert.equal(done.outputs.state, "ready");
      for (const k of SECRET_OUTPUTS) {
        assert.ok(isSecret(done.outputs[k]), `${k} is secret after resuming`);
        assert.ok(reveal(done.outputs[k]), `${k} is filled in after resuming`);
      }
      await stack.destroy();
      assert.ok(!cp.previews.live(cp.projectId).some((p) => p.id === init.id));
    });

    it("is completed by `up --refresh` too, although the refresh clears its init errors", async () => {
      // CI runs `pulumi up --refresh` (§7). A successful Read clears init errors (RefreshStep), so the up that
      // follows gets no forced Update: read itself must bring the outputs up to date.
      const stack = newStack();
      cp.jobs.stallNext("create");
      const err = await stack.up([goal(regs.stall3)]).then(() => undefined, (e) => e);
      assert.ok(err instanceof DeploymentError && err.initFailure, String(err));
      cp.jobs.releaseStalled();
      const res = await stack.up([goal(regs.stall3)], { refresh: true });
      assert.equal(res.stepsFor("stall3")[0].op, "refresh");
      const done = stack.resource("stall3")!;
      assert.equal(done.initErrors, undefined);
      assert.equal(done.outputs.state, "ready", `after up --refresh: ${res.step("stall3").op}`);
      for (const k of SECRET_OUTPUTS) {
        assert.ok(isSecret(done.outputs[k]), `${k} is secret`);
        assert.ok(reveal(done.outputs[k]), `${k} is filled in`);
      }
      await stack.destroy();
    });

    it("can be destroyed while still partially created (delete backs off while the create job runs)", async () => {
      const stack = newStack();
      cp.jobs.stallNext("create");
      const err = await stack.up([goal(regs.stall2)]).then(() => undefined, (e) => e);
      assert.ok(err instanceof DeploymentError && err.initFailure, String(err));
      const id = stack.resource("stall2")!.id;
      cp.clearRequests();
      // The API refuses a delete while the create job is active (409); let the job finish only after the provider
      // has met that refusal, as happens when a destroy follows a timed-out create.
      const deletePath = `/v1/preview-databases/${id}`;
      const release = (async () => {
        while (!cp.requests().some((r) => r.method === "DELETE" && r.path === deletePath && r.status === 409)) {
          await new Promise((r) => setTimeout(r, 25));
        }
        cp.jobs.releaseStalled();
      })();
      const res = await stack.destroy();
      await release;
      assert.deepEqual(res.steps.map((s) => s.rpcs.join(",")), ["Delete"]);
      assert.equal(stack.resources.length, 0);
      assert.ok(!cp.previews.live(cp.projectId).some((p) => p.id === id));
      const deletes = cp.requests().filter((r) => r.method === "DELETE" && r.path === deletePath).map((r) => r.status);
      assert.equal(deletes[0], 409);
      assert.ok(deletes[deletes.length - 1] < 300, `deletes: ${deletes}`);
    });
  });

  if (COMPAT_DIR) {
    describe("compat: after the lifecycle", () => {
      it("the plugin ran the provider installed in the compat program", () => {
        const lines = fs.existsSync(TRACE!) ? fs.readFileSync(TRACE!, "utf8").split("\n").filter(Boolean) : [];
        const hits = lines.map((l) => JSON.parse(l) as { request: string; resolved: string });
        assert.ok(hits.some((h) => h.request === "pulumi-capydb/provider"), `trace: ${lines.join("\n")}`);
        const root = fs.realpathSync(COMPAT_DIR) + path.sep;
        for (const h of hits) assert.ok(fs.realpathSync(h.resolved).startsWith(root), `${h.request} -> ${h.resolved}`);
      });
    });
  }
});
