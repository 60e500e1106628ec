// Issue 17.1 through the native door: the plugin shares the core, so `source` (a nested object) must pass
// its check, create, diff and outputs unchanged; the schema types it as capydb:index:PreviewDatabaseSource.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { schemaPath } from "../../plugin/main";
import { CapyDBPluginService } from "../../plugin/server";
import { fromStruct, toStruct } from "../../plugin/wire";
import { PROVIDER_SCOPES, startControlPlane, type ControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";
import { normalizeRestoreTime } from "../../provider/source";

const URN = "urn:pulumi:dev::proj::capydb:index:PreviewDatabase::db";
const K = pb.PropertyDiff.Kind;

describe("source through the plugin door", () => {
  let cp: ControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane({ backend: "memory" });
  });
  afterEach(async () => {
    await cp.close();
  });

  function service(): CapyDBPluginService {
    return new CapyDBPluginService({ schemaText: fs.readFileSync(schemaPath(), "utf8"), clock: new FakeClock(Date.now()), env: { CAPYDB_READINESS: "job" }, sink: () => undefined });
  }

  it("the schema types source as an object of three strings, and publishes the restore outputs", () => {
    const schema = JSON.parse(fs.readFileSync(schemaPath(), "utf8"));
    const resource = schema.resources["capydb:index:PreviewDatabase"];
    assert.equal(resource.inputProperties.source.$ref, "#/types/capydb:index:PreviewDatabaseSource");
    const type = schema.types["capydb:index:PreviewDatabaseSource"];
    assert.deepEqual(Object.keys(type.properties).sort(), ["backupKey", "restorePointId", "restoreTime"]);
    for (const p of Object.values(type.properties) as Array<{ type: string }>) assert.equal(p.type, "string");
    assert.equal(resource.properties.restoreTimeClamped.type, "boolean");
    for (const name of ["sourceKind", "sourceBackupKey", "sourceRestoreTime", "effectiveRestoreTime"]) assert.equal(resource.properties[name].type, "string", name);
  });

  it("check names a bad source field; create restores from a backup key; diff replaces on a source change and on resetTrigger", async () => {
    const svc = service();
    const key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    const req = new pb.ConfigureRequest();
    req.getVariablesMap().set("capydb:config:apiUrl", cp.url).set("capydb:config:apiKey", key);
    await svc.configure(req);

    const checkOf = (news: Record<string, unknown>) => svc.check(new pb.CheckRequest().setUrn(URN).setName("db").setOlds(toStruct({})).setNews(toStruct(news)));
    const bad = await checkOf({ projectId: cp.projectId, source: { restoreTime: "yesterday" } });
    assert.deepEqual(bad.getFailuresList().map((f) => f.getProperty()), ["source.restoreTime"]);

    const backup = cp.backups.list()[0];
    const checked = await checkOf({ projectId: cp.projectId, source: { backupKey: backup.key } });
    assert.deepEqual(checked.getFailuresList().map((f) => f.getReason()), []);
    const inputs = fromStruct(checked.getInputs());
    const created = await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(toStruct(inputs)));
    const outs = fromStruct(created.getProperties());
    assert.match(created.getId(), /^pvw_/);
    assert.equal(outs.sourceBackupKey, backup.key);
    assert.equal(outs.sourceKind, "backup");
    assert.deepEqual(outs.source, { backupKey: backup.key });
    assert.equal(cp.requests().filter((r) => r.method === "POST" && r.path.endsWith("/restores")).length, 1);

    const diff = (news: Record<string, unknown>) => svc.diff(new pb.DiffRequest().setUrn(URN).setId(created.getId()).setOlds(toStruct(outs)).setNews(toStruct({ ...inputs, ...news })));
    const otherSource = await diff({ source: { restoreTime: "2026-11-30T09:00:00Z" } });
    assert.deepEqual(otherSource.getReplacesList(), ["source"]);
    assert.equal(otherSource.getDeletebeforereplace(), true);
    assert.equal(otherSource.getDetaileddiffMap().get("source")?.getKind(), K.UPDATE_REPLACE);
    const trigger = await diff({ resetTrigger: "1" });
    assert.deepEqual(trigger.getReplacesList(), ["resetTrigger"]);
    assert.equal(trigger.getDetaileddiffMap().get("resetTrigger")?.getKind(), K.ADD_REPLACE);
  });

  it("pulumi import of restored previews gives the source a program would declare: no replacement planned after it", async () => {
    const svc = service();
    const key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    const req = new pb.ConfigureRequest();
    req.getVariablesMap().set("capydb:config:apiUrl", cp.url).set("capydb:config:apiKey", key);
    await svc.configure(req);
    const backup = cp.backups.list()[0];
    const asOf = new Date(cp.restores.window().earliest).toISOString();
    const made: Record<string, string> = {};
    for (const [name, source] of [["from-backup", { backupKey: backup.key }], ["from-time", { restoreTime: asOf }], ["a-clone", undefined]] as const) {
      const checked = await svc.check(new pb.CheckRequest().setUrn(URN).setName("db").setOlds(toStruct({})).setNews(toStruct({ projectId: cp.projectId, name, ...(source ? { source } : {}) })));
      assert.deepEqual(checked.getFailuresList().map((f) => f.getReason()), []);
      made[name] = (await svc.create(new pb.CreateRequest().setUrn(URN).setProperties(checked.getInputs()))).getId();
    }
    const imported = async (name: string) => {
      const read = await svc.read(new pb.ReadRequest().setUrn(URN).setId(`${cp.projectId}/${made[name]}`).setProperties(toStruct({})).setInputs(toStruct({})));
      return { inputs: fromStruct(read.getInputs()), outs: fromStruct(read.getProperties()) };
    };
    const fromBackup = await imported("from-backup");
    assert.deepEqual(fromBackup.inputs.source, { backupKey: backup.key });
    const fromTime = await imported("from-time");
    // As check stores a declared time (UTC, trailing zeros of the fraction dropped: ".040" is ".04").
    assert.deepEqual(fromTime.inputs.source, { restoreTime: normalizeRestoreTime(asOf) });
    assert.equal((await imported("a-clone")).inputs.source, undefined);

    // The program that declares the same source plans no replacement against what was imported.
    const diff = await svc.diff(
      new pb.DiffRequest().setUrn(URN).setId(made["from-backup"]).setOlds(toStruct(fromBackup.outs)).setOldInputs(toStruct(fromBackup.inputs)).setNews(toStruct(fromBackup.inputs)),
    );
    assert.deepEqual(diff.getReplacesList(), []);
  });
});
