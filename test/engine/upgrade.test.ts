// Layer 6: state written by earlier releases (test/fixtures/upgrade/*.json, see upgrade-fixture.ts) must keep
// working with the code in this checkout: Read, Diff/Update and Delete run against the old outputs and the old
// `__provider` text, and must load the current implementation.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import {
  captureRegistrations,
  DeploymentError,
  isSecret,
  reveal,
  Stack,
  startPlugin,
  type CapturedResource,
  type Plugin,
  type PropertyMap,
  type ResourceGoal,
  type ResourceState,
} from "./harness";
import { instantiate, type FixtureResource, type UpgradeFixture } from "./upgrade-fixture";

const REPO = path.resolve(__dirname, "..", "..", "..");
const FIXTURES = path.join(REPO, "test", "fixtures", "upgrade");
const PROJECT = "capydb-upgrade";
const SECRET_OUTPUTS = ["directUrl", "pooledUrl", "password"];
const REQUIRED_OUTPUTS = ["projectId", "name", "mode", "state", "host", "directPort", "pooledPort", "roleName",
  "databaseName", "sslMode", "ttlHours", "ttlExpiresAt", "createdAt", ...SECRET_OUTPUTS];

const files = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".json")).sort() : [];

function argsFrom(inputs: PropertyMap, projectId: string, name: string): Record<string, unknown> {
  const { __provider, autoNameSeed, projectId: _p, name: _n, ...rest } = reveal<Record<string, unknown>>(inputs); // eslint-disable-line @typescript-eslint/no-unused-vars
  return { ...rest, projectId, name };
}

function assertComplete(r: ResourceState, label: string): void {
  for (const k of REQUIRED_OUTPUTS) {
    const v = reveal(r.outputs[k]);
    assert.ok(v !== undefined && v !== null, `${label}: output ${k} is set`);
  }
  for (const k of SECRET_OUTPUTS) assert.ok(isSecret(r.outputs[k]), `${label}: ${k} is secret`);
}

describe("upgrade: state written by earlier releases", function () {
  this.timeout(60_000);
  it("has at least one recorded release", () => {
    assert.ok(files.length > 0, `no fixtures in ${FIXTURES}`);
  });

  for (const file of files) {
    describe(`from ${file}`, () => {
      const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as UpgradeFixture;
      let cp: ControlPlane;
      let plugin: Plugin;
      let regs: Record<string, CapturedResource>;
      let upgraded: Stack;

      const config = () => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url });
      const oldState = (f: FixtureResource, live: ResourceState, name?: string): ResourceState => {
        const inputs = instantiate(f.inputs, live);
        const outputs = instantiate(f.outputs, live);
        if (name) inputs.name = outputs.name = name;
        return {
          urn: live.urn, type: fixture.type, name: live.name, id: live.id, inputs, outputs,
          initErrors: f.initErrors, additionalSecretOutputs: f.additionalSecretOutputs,
        };
      };
      const goal = (r: CapturedResource): ResourceGoal => ({
        name: r.name, type: r.type, inputs: r.inputs, additionalSecretOutputs: r.additionalSecretOutputs,
      });

      before(async () => {
        cp = await startControlPlane();
        const { ready, partial } = fixture.resources;
        const [p, captured] = await Promise.all([
          startPlugin({ programDir: REPO, project: PROJECT }),
          captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT, resources: [
            { name: "ready", exportName: "PreviewDatabase", args: argsFrom(ready.inputs, cp.projectId, ready.inputs.name as string) },
            { name: "untouched", exportName: "PreviewDatabase", args: argsFrom(ready.inputs, cp.projectId, "pv-upgrade-untouched") },
            { name: "partial", exportName: "PreviewDatabase", args: argsFrom(partial.inputs, cp.projectId, partial.inputs.name as string) },
          ] }),
        ]);
        plugin = p;
        regs = Object.fromEntries(captured.map((r) => [r.name, r]));

        // Live objects for the old state to point at, made by the current code; only their values are used.
        const maker = new Stack({ plugin, config: config(), secretKeys: ["capydb:apiKey"] });
        await maker.up([goal(regs.ready), goal(regs.untouched)]);
        cp.jobs.stallNext("create");
        await maker.up([goal(regs.ready), goal(regs.untouched), goal(regs.partial)]).catch((e) => {
          if (!(e instanceof DeploymentError && e.initFailure)) throw e;
        });
        cp.jobs.releaseStalled();

        upgraded = new Stack({ plugin, config: config(), secretKeys: ["capydb:apiKey"], state: { resources: [
          oldState(ready, maker.resource("ready")!),
          oldState(ready, maker.resource("untouched")!, "pv-upgrade-untouched"),
          oldState(partial, maker.resource("partial")!),
        ] } });
      });

      after(async () => {
        await plugin?.close();
        await cp?.close();
      });

      it("the recorded state really carries that release's shim text", () => {
        for (const r of upgraded.resources) {
          assert.equal(r.outputs.__provider, fixture.providerText, r.name);
          assert.equal(r.inputs.__provider, fixture.providerText, r.name);
        }
      });

      it("up: updates the old resource, resumes the old partial create, keeps the untouched one", async () => {
        const seq = plugin.log.length;
        const changed = { ...goal(regs.ready), inputs: { ...regs.ready.inputs, ttlHours: 12 } };
        const res = await upgraded.up([changed, goal(regs.untouched), goal(regs.partial)]);
        assert.equal(res.step("ready").op, "update");
        assert.equal(res.step("untouched").op, "same");
        assert.equal(res.step("partial").op, "update");
        assert.equal(res.step("partial").continuesInitialization, true);

        const updates = plugin.log.slice(seq).filter((e) => e.method === "Update");
        assert.equal(updates.length, 2);
        for (const u of updates) {
          assert.equal((u.request.olds as PropertyMap).__provider, fixture.providerText, "Update olds are the old outputs");
        }
        const ready = upgraded.resource("ready")!;
        assertComplete(ready, "ready");
        assert.equal(ready.outputs.ttlHours, 12);
        const partial = upgraded.resource("partial")!;
        assertComplete(partial, "partial");
        assert.equal(partial.outputs.state, "ready");
        assert.equal(partial.initErrors, undefined);
        assert.equal(upgraded.resource("untouched")!.outputs.__provider, fixture.providerText, "same keeps old outputs");
      });

      it("refresh: Read runs each stored text and reports no drift", async () => {
        const seq = plugin.log.length;
        const res = await upgraded.refresh();
        for (const s of res.steps) assert.equal(s.result, "same", `${s.name} after refresh`);
        const reads = plugin.log.slice(seq).filter((e) => e.method === "Read");
        const untouchedRead = reads.find((e) => (e.request.properties as PropertyMap).name === "pv-upgrade-untouched")!;
        assert.equal((untouchedRead.request.properties as PropertyMap).__provider, fixture.providerText);
        for (const r of upgraded.resources) assertComplete(r, r.name);
      });

      it("destroy: Delete works from the old outputs and old text", async () => {
        const seq = plugin.log.length;
        await upgraded.destroy();
        const deletes = plugin.log.slice(seq).filter((e) => e.method === "Delete");
        assert.equal(deletes.length, 3);
        const untouchedDelete = deletes.find((e) => (e.request.properties as PropertyMap).name === "pv-upgrade-untouched")!;
        assert.equal((untouchedDelete.request.properties as PropertyMap).__provider, fixture.providerText);
        assert.equal(upgraded.resources.length, 0);
        assert.deepEqual(cp.previews.live(cp.projectId), []);
      });
    });

    describe(`from ${file}: TTL keep-alive on that release's state`, () => {
      const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as UpgradeFixture;
      const HOUR = 3_600_000;
      // CapyDB's timestamps run 4 h behind while the old release creates the preview, then catch up: for the
      // plugin (real clock) the preview is 4 h old, with 2 h of its 6 h left. Nothing else is faked. The offset
      // stands for time passing, not for a wrong clock, so the Date header keeps the true time.
      let offset = -4 * HOUR;
      let cp: ControlPlane;
      let plugin: Plugin;
      let aged: CapturedResource;
      let upgraded: Stack;
      let oldExpiry: number;

      before(async () => {
        cp = await startControlPlane({ now: () => Date.now() + offset, dateHeader: "wall" });
        const { ready } = fixture.resources;
        assert.equal(ready.inputs.ttlHours, 6, "the fixture's ready preview has a 6 h TTL");
        const [p, captured] = await Promise.all([
          startPlugin({ programDir: REPO, project: PROJECT }),
          captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT, resources: [
            { name: "aged", exportName: "PreviewDatabase", args: argsFrom(ready.inputs, cp.projectId, "pv-upgrade-aged") },
          ] }),
        ]);
        plugin = p;
        [aged] = captured;
        const config = { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url };
        const maker = new Stack({ plugin, config, secretKeys: ["capydb:apiKey"] });
        await maker.up([{ name: aged.name, type: aged.type, inputs: aged.inputs, additionalSecretOutputs: aged.additionalSecretOutputs }]);
        offset = 0;
        const live = maker.resource("aged")!;
        const inputs = instantiate(ready.inputs, live);
        const outputs = instantiate(ready.outputs, live);
        inputs.name = outputs.name = "pv-upgrade-aged";
        oldExpiry = Date.parse(String(outputs.ttlExpiresAt));
        upgraded = new Stack({ plugin, config, secretKeys: ["capydb:apiKey"], state: { resources: [{
          urn: live.urn, type: fixture.type, name: live.name, id: live.id, inputs, outputs,
          additionalSecretOutputs: ready.additionalSecretOutputs,
        }] } });
      });

      after(async () => {
        await plugin?.close();
        await cp?.close();
      });

      const goal = () => ({ name: aged.name, type: aged.type, inputs: aged.inputs, additionalSecretOutputs: aged.additionalSecretOutputs });
      const extendCalls = () => cp.requests().filter((r) => r.method === "POST" && /\/extend$/.test(r.path)).length;

      it("the old state has no keepAlive and less than half of its TTL left", () => {
        const r = upgraded.resource("aged")!;
        assert.equal("keepAlive" in r.outputs, false);
        assert.equal(r.outputs.__provider, fixture.providerText);
        const leftHours = (oldExpiry - Date.now()) / HOUR;
        assert.ok(leftHours > 1.5 && leftHours < 3, `${leftHours} h left`);
      });

      it("preview: an in-place update, with the reason on the plugin's stderr (which the CLI shows)", async () => {
        const mark = plugin.stderr.length;
        const res = await upgraded.preview([goal()]);
        assert.equal(res.step("aged").op, "update");
        assert.deepEqual(res.step("aged").replaces ?? [], []);
        const reason = /\[capydb\] diff pv-upgrade-aged: TTL renewal due: (1h5\dm|2h) of 6h left, less than half of ttlHours \(3h\)/;
        assert.match(await plugin.outputMatching("stderr", reason, mark), reason);
        assert.equal(extendCalls(), 0, "preview calls no API");
      });

      it("up renews it (the old text's outputs in, complete outputs out); the next up has nothing to do", async () => {
        const seq = plugin.log.length;
        const res = await upgraded.up([goal()]);
        assert.equal(res.step("aged").op, "update");
        const [update] = plugin.log.slice(seq).filter((e) => e.method === "Update");
        assert.equal((update.request.olds as PropertyMap).__provider, fixture.providerText);
        assert.equal(extendCalls(), 1);
        const after = upgraded.resource("aged")!;
        assertComplete(after, "aged");
        const newExpiry = Date.parse(String(after.outputs.ttlExpiresAt));
        assert.ok(newExpiry > oldExpiry + 3.5 * HOUR, "renewed to 6 h from now");
        assert.ok(newExpiry <= Date.now() + 6 * HOUR);

        const again = await upgraded.up([goal()]);
        assert.equal(again.step("aged").op, "same");
        assert.equal(extendCalls(), 1);
      });

      it("destroy still works", async () => {
        await upgraded.destroy();
        assert.deepEqual(cp.previews.live(cp.projectId), []);
      });
    });
  }
});
