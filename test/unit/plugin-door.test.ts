// The native door's translations, RPC by RPC, over the real core and the local control plane (in
// memory), with time on a fake clock: config from `args` and from `variables`, the stable auto-name
// from the URN, detailed diffs, the engine's timeout in place of the `timeouts` input, Cancel,
// secrets in and out, import ids.
import { strict as assert } from "assert";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { cancellableClock, CancelledError } from "../../plugin/cancel";
import { configFromRequest } from "../../plugin/config";
import { parseImportId } from "../../plugin/import-id";
import { nodeTooOld, schemaPath } from "../../plugin/main";
import { CapyDBPluginService } from "../../plugin/server";
import { engineTimeoutText, restoreTimeouts, withEngineTimeout } from "../../plugin/timeouts";
import { fromStruct, SECRET_SIG, SIG_KEY, toStruct } from "../../plugin/wire";
import type { Clock } from "../../provider/clock";
import { UNKNOWN } from "../../provider/unknown";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";
import * as fs from "fs";

const URN = "urn:pulumi:dev::proj::capydb:index:PreviewDatabase::db";
const K = pb.PropertyDiff.Kind;

/** Sleeps that end only when cancelled: what Ctrl-C meets in the middle of a wait. */
class StuckClock implements Clock {
  sleeping = 0;
  now(): number {
    return Date.UTC(2026, 10, 27, 12, 0, 0);
  }
  sleep(): Promise<void> {
    this.sleeping++;
    return new Promise(() => undefined);
  }
}

// The memory control plane has no database to log in to: readiness "job".
function service(clock: Clock, env: NodeJS.ProcessEnv = { CAPYDB_READINESS: "job" }): CapyDBPluginService {
  return new CapyDBPluginService({ schemaText: fs.readFileSync(schemaPath(), "utf8"), clock, env, sink: () => undefined });
}

async function configure(svc: CapyDBPluginService, cp: ControlPlane, how: "args" | "variables"): Promise<pb.ConfigureResponse> {
  const req = new pb.ConfigureRequest();
  if (how === "args") {
    req.setArgs(toStruct({ apiUrl: cp.url, apiKey: { [SIG_KEY]: SECRET_SIG, value: cp.projectScopedKey } }));
  } else {
    req.getVariablesMap().set("capydb:config:apiUrl", cp.url).set("capydb:config:apiKey", cp.projectScopedKey);
  }
  return svc.configure(req);
}

async function check(svc: CapyDBPluginService, news: Record<string, unknown>, olds: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await svc.check(new pb.CheckRequest().setUrn(URN).setName("db").setOlds(toStruct(olds)).setNews(toStruct(news)));
  assert.deepEqual(res.getFailuresList().map((f) => f.getReason()), []);
  return fromStruct(res.getInputs());
}

describe("plugin door (plugin/server.ts)", () => {
  let cp: ControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ backend: "memory" });
  });
  afterEach(async () => {
    cp.jobs.releaseStalled();
    await cp.close();
  });

  it("reads the key from Configure's args (secret) and from the deprecated variables map", async () => {
    for (const how of ["args", "variables"] as const) {
      const svc = service(new FakeClock());
      const res = await configure(svc, cp, how);
      assert.equal(res.getAcceptsecrets(), true);
      assert.equal(res.getSupportspreview(), true);
      const inputs = await check(svc, { projectId: cp.projectId });
      cp.clearRequests();
      const created = await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(inputs)));
      assert.ok(created.getId(), `${how}: created`);
      assert.ok(cp.requests().every((r) => r.auth !== "none"), `${how}: the key reached the API`);
    }
  });

  it("config: args win over variables; a typed boolean is passed on as text", () => {
    const config = configFromRequest({ apiUrl: "https://a.example", allowInsecureHttp: true }, new Map([["capydb:config:apiUrl", "https://b.example"], ["capydb:config:apiKey", "k"]]));
    assert.equal(config.get("capydb:apiUrl"), "https://a.example");
    assert.equal(config.get("capydb:apiKey"), "k");
    assert.equal(config.get("capydb:allowInsecureHttp"), "true");
  });

  it("check seeds the stable auto-name from the URN's stack and resource name", async () => {
    const svc = service(new FakeClock());
    const inputs = await check(svc, { projectId: "prj_1" });
    assert.equal(inputs.autoNameSeed, "dev-db");
    assert.match(String(inputs.name), /^dev-db-[a-z0-9]+$/);
  });

  it("diff answers a detailed diff: replaces as *_REPLACE with delete-before-replace, ttlHours as an update", async () => {
    const svc = service(new FakeClock());
    const olds = { projectId: "prj_1", name: "a", mode: "clone", ttlHours: 24, ttlExpiresAt: new Date(Date.UTC(2026, 10, 28)).toISOString() };
    const diff = async (news: Record<string, unknown>) =>
      svc.diff(new pb.DiffRequest().setUrn(URN).setId("pvw_1").setOlds(toStruct(olds)).setNews(toStruct(news)));
    const ttl = await diff({ projectId: "prj_1", name: "a", mode: "clone", ttlHours: 48 });
    assert.equal(ttl.getChanges(), pb.DiffResponse.DiffChanges.DIFF_SOME);
    assert.deepEqual(ttl.getReplacesList(), []);
    assert.equal(ttl.getDetaileddiffMap().get("ttlHours")?.getKind(), K.UPDATE);
    assert.equal(ttl.getHasdetaileddiff(), true);

    const renamed = await diff({ projectId: "prj_1", name: "b", mode: "clone", ttlHours: 24 });
    assert.deepEqual(renamed.getReplacesList(), ["name"]);
    assert.equal(renamed.getDeletebeforereplace(), true);
    assert.equal(renamed.getDetaileddiffMap().get("name")?.getKind(), K.UPDATE_REPLACE);

    const trigger = await diff({ projectId: "prj_1", name: "a", mode: "clone", ttlHours: 24, resetTrigger: "1" });
    assert.equal(trigger.getDetaileddiffMap().get("resetTrigger")?.getKind(), K.ADD);

    const same = await diff({ projectId: "prj_1", name: "a", mode: "clone", ttlHours: 24 });
    assert.equal(same.getChanges(), pb.DiffResponse.DiffChanges.DIFF_NONE);
    assert.deepEqual(same.getDetaileddiffMap().toArray(), []);

    const unknownName = await diff({ projectId: "prj_1", name: UNKNOWN, mode: "clone", ttlHours: 24 });
    assert.deepEqual(unknownName.getReplacesList(), ["name"], "an unknown name during preview is a possible replacement");
  });

  it("create during preview calls no API and returns every output unknown", async () => {
    const svc = service(new FakeClock());
    await configure(svc, cp, "args");
    const inputs = await check(svc, { projectId: cp.projectId });
    cp.clearRequests();
    const res = await svc.create(new pb.CreateRequest().setUrn(URN).setPreview(true).setProperties(toStruct(inputs)));
    assert.deepEqual(cp.requests(), []);
    const outs = fromStruct(res.getProperties());
    assert.equal(outs.host, UNKNOWN);
    assert.equal(outs.directUrl, UNKNOWN);
    assert.equal(outs.projectId, cp.projectId);
  });

  it("create returns the credentials as secrets, nothing else", async () => {
    const svc = service(new FakeClock());
    await configure(svc, cp, "args");
    const inputs = await check(svc, { projectId: cp.projectId });
    const res = await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(inputs)));
    const raw = res.getProperties()!.toJavaScript() as Record<string, { [SIG_KEY]?: string }>;
    const secret = Object.keys(raw).filter((k) => raw[k] !== null && typeof raw[k] === "object" && raw[k][SIG_KEY] === SECRET_SIG).sort();
    assert.deepEqual(secret, ["directUrl", "password", "pooledUrl"]);
  });

  it("the engine's create timeout (customTimeouts) bounds the wait; the outputs echo the user's own timeouts", async () => {
    const clock = new FakeClock();
    const svc = service(clock);
    await configure(svc, cp, "args");
    const inputs = await check(svc, { projectId: cp.projectId, timeouts: { delete: "2m" } });
    cp.jobs.stallNext("create");
    const started = clock.now();
    const error = await svc.create(new pb.CreateRequest().setUrn(URN).setTimeout(5).setProperties(toStruct(inputs))).then(
      () => assert.fail("the stalled create must time out"),
      (e: Error & { initFailed?: pb.ErrorResourceInitFailed }) => e,
    );
    const waited = clock.now() - started;
    // The core stops polling when the next poll would pass its deadline: 5 s after the start, not 20 minutes.
    assert.ok(waited > 1_000 && waited <= 5_000, `waited ${waited} ms on the fake clock`);
    assert.match(error.message, /is not ready yet: timed out after [\d.]+s/);
    const tracked = error.initFailed!;
    assert.ok(tracked.getId().startsWith("pvw_"), "the preview is handed to the engine by its id");
    assert.deepEqual(fromStruct(tracked.getProperties()).timeouts, { delete: "2m" }, "the user's timeouts, not the engine's");
  });

  it("the engine's delete timeout bounds the delete's wait the same way", async () => {
    const clock = new FakeClock();
    const svc = service(clock);
    await configure(svc, cp, "args");
    const inputs = await check(svc, { projectId: cp.projectId });
    const made = await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(inputs)));
    cp.jobs.stallNext("delete");
    const started = clock.now();
    await assert.rejects(
      svc.delete(new pb.DeleteRequest().setUrn(URN).setId(made.getId()).setTimeout(3).setProperties(made.getProperties())),
      // The message, which the engine gets (the core shortens only what the dynamic host prints: quietErrors).
      (error: Error) => /timed out after [\d.]+s/.test(error.message),
    );
    const waited = clock.now() - started;
    assert.ok(waited > 500 && waited <= 3_000, `waited ${waited} ms on the fake clock: the 3 s bound, not 20 minutes`);
  });

  it("the engine's update timeout bounds a reset's wait the same way", async () => {
    const clock = new FakeClock();
    const svc = service(clock);
    await configure(svc, cp, "args");
    const inputs = await check(svc, { projectId: cp.projectId });
    const made = await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(inputs)));
    const news = await check(svc, { projectId: cp.projectId, resetTrigger: "1" }, inputs);
    cp.jobs.stallNext("reset");
    const started = clock.now();
    await assert.rejects(
      svc.update(new pb.UpdateRequest().setUrn(URN).setId(made.getId()).setTimeout(3).setOlds(made.getProperties()).setNews(toStruct(news))),
      /timed out after [\d.]+s/,
    );
    const waited = clock.now() - started;
    assert.ok(waited > 500 && waited <= 3_000, `waited ${waited} ms on the fake clock: the 3 s bound, not 20 minutes`);
  });

  it("without an engine timeout, the `timeouts` input bounds the wait", () => {
    assert.deepEqual(withEngineTimeout({ timeouts: { create: "30m" } }, "create", 0), { timeouts: { create: "30m" } });
    assert.deepEqual(withEngineTimeout({ timeouts: { create: "30m" } }, "create", 90.2), { timeouts: { create: "91s" } });
    assert.equal(engineTimeoutText(0.2), "1s");
    assert.equal(engineTimeoutText(10 * 24 * 3600), "86400s");
    assert.deepEqual(restoreTimeouts({ a: 1, timeouts: { create: "5s" } }, {}), { a: 1 });
  });

  it("Cancel ends a create's wait at once: a partial failure carrying the preview's id", async () => {
    const clock = new StuckClock();
    const svc = service(clock);
    await configure(svc, cp, "args");
    const inputs = await check(svc, { projectId: cp.projectId });
    cp.jobs.stallNext("create");
    const pending = svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(inputs))).then(
      () => assert.fail("a cancelled create cannot succeed"),
      (e: Error & { initFailed?: pb.ErrorResourceInitFailed }) => e,
    );
    while (clock.sleeping === 0) await new Promise((r) => setImmediate(r));
    const handlers = svc.handlers() as Record<string, (call: unknown, done: (err: unknown, res: unknown) => void) => void>;
    await new Promise((resolve) => handlers.cancel({ request: new Struct() }, resolve));
    const error = await pending;
    assert.match(error.message, /cancelled/);
    const [live] = cp.previews.live();
    assert.equal(error.initFailed?.getId(), live.id);
  });

  it("a cancelled clock rejects sleeps already waiting and every later one", async () => {
    const clock = cancellableClock(new StuckClock());
    const waiting = clock.sleep(1_000);
    clock.cancel();
    await assert.rejects(waiting, CancelledError);
    await assert.rejects(clock.sleep(1), CancelledError);
  });

  it("read of an import id returns the preview's inputs and outputs; the checked inputs then diff as no change", async () => {
    const svc = service(new FakeClock());
    await configure(svc, cp, "args");
    const made = await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(await check(svc, { projectId: cp.projectId, name: "outside" }))));
    const read = await svc.read(new pb.ReadRequest().setUrn(URN).setId(`${cp.projectId}/${made.getId()}`));
    assert.equal(read.getId(), made.getId());
    const inputs = fromStruct(read.getInputs());
    assert.deepEqual(inputs, { projectId: cp.projectId, name: "outside", mode: "clone" });
    const outs = fromStruct(read.getProperties());
    assert.equal(typeof outs.password, "string");
    const checked = await check(svc, { projectId: cp.projectId, name: "outside" }, inputs);
    const diff = await svc.diff(new pb.DiffRequest().setUrn(URN).setId(read.getId()).setOlds(read.getProperties()).setNews(toStruct(checked)));
    assert.equal(diff.getChanges(), pb.DiffResponse.DiffChanges.DIFF_NONE);
  });

  it("the plugin refuses a node older than 20.18.1 (undici 7's floor)", () => {
    assert.deepEqual(["18.20.4", "20.18.0", "20.9.9"].map((v) => nodeTooOld(v)), [true, true, true]);
    assert.deepEqual(["20.18.1", "20.20.2", "22.0.0", "24.1.0"].map((v) => nodeTooOld(v)), [false, false, false, false]);
  });

  it("an import by name is refused, saying the id is needed", async () => {
    const svc = service(new FakeClock());
    await configure(svc, cp, "args");
    await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(await check(svc, { projectId: cp.projectId, name: "by-name" }))));
    await assert.rejects(svc.read(new pb.ReadRequest().setUrn(URN).setId(`${cp.projectId}/by-name`)), /with the preview's id \(e\.g\. "pvw_…"\), not its name/);
  });

  it("import ids must be <projectId>/<previewId>", () => {
    assert.deepEqual(parseImportId("prj_1/pvw_2"), { projectId: "prj_1", previewId: "pvw_2" });
    for (const bad of ["pvw_2", "prj_1/", "/pvw_2", "prj_1/pvw_2/x", "../pvw"]) {
      assert.throws(() => parseImportId(bad), /<projectId>\/<previewId>/, bad);
    }
  });
});
