// Moving a stack from the dynamic resource (pulumi-nodejs:dynamic/capydb:PreviewDatabase) to the plugin
// (capydb:index:PreviewDatabase) without deleting the database, as the README tells users:
//   1. pulumi state delete <the dynamic resource's URN>   (forgets it; calls no provider), and the
//      same for its default provider pulumi:providers:pulumi-nodejs::default once nothing uses it
//   2. switch the program to capydb:index:PreviewDatabase (here: the same project as Pulumi YAML)
//   3. pulumi import capydb:index:PreviewDatabase db <projectId>/<previewId>
//   4. pulumi up                                          (changes nothing)
// Shown through the real CLI against the local control plane on real Postgres: the preview's id,
// its data and its credentials are the same before and after, and no write reaches CapyDB.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { DirectCliStack, requireYamlHost } from "./native";
import { CLI_PROGRAM, describeRequests, installedCopy, livePreviews, psql, psqlPath, requirePulumiCli, writes } from "./suite";

const PROJECT = "capydb-cli-suite";

const YAML_PROGRAM = `name: ${PROJECT}
runtime: yaml
config:
  projectId:
    type: string
resources:
  db:
    type: capydb:index:PreviewDatabase
    properties:
      projectId: \${projectId}
outputs:
  previewId: \${db.id}
  name: \${db.name}
  password: \${db.password}
  directUrl: \${db.directUrl}
`;

describe("real Pulumi CLI: moving a stack from the dynamic resource to the capydb plugin (test/cli)", function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let dynamic: CliStack;
  let native: DirectCliStack;
  let programDir: string;
  let original: Record<string, unknown>;
  let suite: StackSuite;

  StackSuite.use(async (ctx, s) => {
    suite = s;
    const cli = requirePulumiCli(ctx);
    requireYamlHost(ctx, cli);
    programDir = suite.dir(await installedCopy(CLI_PROGRAM));
    cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    dynamic = await suite.stack(new CliStack(cli, programDir, "migrate", { CAPYDB_API_URL: cp.url }), { project: PROJECT, key: cp.projectScopedKey });
  });

  it("the dynamic resource's stack holds a preview with data in it", async function () {
    await dynamic.ok(["up", "--yes", "--non-interactive"]);
    original = await dynamic.outputs(true);
    const state = await dynamic.exportState();
    assert.ok((state.resources ?? []).some((r) => r.type === "pulumi-nodejs:dynamic/capydb:PreviewDatabase" && r.id === original.previewId));
    if (psqlPath()) await psql(String(original.directUrl), "create table migrated (v text); insert into migrated values ('kept')");
  });

  it("state delete + import + up move it to capydb:index:PreviewDatabase with no write to CapyDB", async () => {
    cp.clearRequests();
    const urn = `urn:pulumi:migrate::${PROJECT}::pulumi-nodejs:dynamic/capydb:PreviewDatabase::db`;
    await dynamic.ok(["state", "delete", urn, "--yes", "--stack", "migrate"]);
    // Its default provider serves nothing else now; left in the state, every command would start it.
    await dynamic.ok(["state", "delete", `urn:pulumi:migrate::${PROJECT}::pulumi:providers:pulumi-nodejs::default`, "--yes", "--stack", "migrate"]);
    assert.deepEqual(livePreviews(cp).map((p) => p.id), [original.previewId], "forgetting it deleted nothing");

    // The same project and stack (same backend and config), now a YAML program using the plugin.
    for (const file of fs.readdirSync(programDir)) {
      if (file !== "Pulumi.migrate.yaml") fs.rmSync(path.join(programDir, file), { recursive: true, force: true });
    }
    fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), YAML_PROGRAM);
    native = suite.adopt(new DirectCliStack(dynamic.cli, programDir, "migrate", { CAPYDB_API_URL: cp.url }));
    // One backend: the stack, its config and its encrypted secrets carry over.
    Object.assign(native.env, dynamic.env);
    await native.installPlugin();
    await native.ok(["import", "capydb:index:PreviewDatabase", "db", `${cp.projectId}/${original.previewId}`, "--yes", "--non-interactive", "--skip-preview", "--stack", "migrate"]);
    const up = await native.ok(["up", "--yes", "--non-interactive", "--stack", "migrate"]);
    assert.doesNotMatch(up.stdout, /PreviewDatabase\s+db\s+(updated|created|replaced|deleted)/);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
  });

  it("the id, the credentials and the data are the same", async function () {
    const after = await native.outputs(true);
    assert.equal(after.previewId, original.previewId);
    assert.equal(after.name, original.name);
    assert.equal(after.password, original.password);
    assert.equal(after.directUrl, original.directUrl);
    const state = await native.exportState();
    assert.deepEqual((state.resources ?? []).filter((r) => r.type.includes("PreviewDatabase") || r.type.includes("dynamic")).map((r) => r.type), ["capydb:index:PreviewDatabase"]);
    assert.deepEqual(livePreviews(cp).map((p) => p.id), [original.previewId]);
    if (psqlPath()) assert.equal(await psql(String(after.directUrl), "select v from migrated"), "kept");
  });

  it("destroy through the plugin deletes it", async () => {
    await native.ok(["destroy", "--yes", "--non-interactive", "--stack", "migrate"]);
    assert.deepEqual(livePreviews(cp), []);
  });
});
