import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { CapyDBClient } from "../../provider/client";
import { operationContext } from "../../provider/context";
import { projectFacts, seedProjectFacts } from "../../provider/project-facts";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

// Issue 17.5: postgresVersion and region come from GET /v1/projects/{id}, read once per process per project.
describe("project facts: postgresVersion and region (memory control plane)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];

  async function newProvider() {
    const p = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" } });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
    return p;
  }
  const inputs = (name: string) => ({ __provider: "shim", projectId: cp.projectId, name, mode: "clone", ttlHours: 24, readiness: "job" });
  const projectReads = () => cp.requests().filter((r) => r.method === "GET" && r.path === `/v1/projects/${cp.projectId}`).length;

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
  });
  afterEach(async () => {
    await cp.close();
  });

  it("outputs the project's Postgres major and region, reading the project once per process", async () => {
    const provider = await newProvider();
    const a = await provider.create(inputs("facts-a"));
    const b = await provider.create(inputs("facts-b"));
    assert.equal(a.outs.postgresVersion, "17");
    assert.equal(a.outs.region, "local");
    assert.equal(b.outs.postgresVersion, "17");
    // State written before these outputs existed: a refresh fills them in, without reading the project again.
    const { postgresVersion: _v, region: _r, ...oldState } = a.outs;
    const read = await provider.read(a.id, oldState);
    assert.equal(read.props.postgresVersion, "17");
    assert.equal(read.props.region, "local");
    assert.equal(projectReads(), 1, "one GET /v1/projects/{id} for two creates and a read");

    // Another process (a new provider, so a new client) reads it again, once.
    const other = await newProvider();
    await other.read(b.id, b.outs);
    assert.equal(projectReads(), 2);
  });

  it("a project that cannot be read leaves the facts null, fails nothing, and is asked again next time", async () => {
    const provider = await newProvider();
    // The project check before the create reads it first, while the project still provisions (no version
    // yet: nothing to hand over); the facts' own read then meets a server failure (503, all 3 attempts).
    cp.faults.inject({ method: "GET", path: `/v1/projects/${cp.projectId}`, rewrite: () => ({ project: { id: cp.projectId, postgres_version: "", region: "" } }), times: 1 });
    // (Rules apply in order: this one once the first is used up.)
    cp.faults.inject({ method: "GET", path: `/v1/projects/${cp.projectId}`, status: 503, times: 3 });
    const a = await provider.create(inputs("facts-c"));
    assert.equal(a.outs.state, "ready");
    assert.equal(a.outs.postgresVersion, null);
    assert.equal(a.outs.region, null);
    assert.ok(lines.some((l) => l.includes("could not read project") && l.includes("leaving them null")), lines.join("\n"));
    const b = await provider.create(inputs("facts-d"));
    assert.equal(b.outs.postgresVersion, "17", "a failed read is not remembered");
    assert.equal(projectReads(), 1 + 3 + 1, "the check, the facts' 3 failed attempts, the facts again for the next create");
  });

  it("an answer another reader of the project handed over (the project check) needs no second request", async () => {
    const client = new CapyDBClient({ apiKey: cp.projectScopedKey, apiUrl: cp.url, clock });
    const ctx = operationContext({ client, clock, sink: (l) => lines.push(l) });
    await seedProjectFacts(client, cp.projectId, { project: { id: cp.projectId, postgres_version: "16", region: "eu-x" } });
    assert.deepEqual(await projectFacts(ctx, cp.projectId, clock.now() + 10_000, "t"), { postgresVersion: "16", region: "eu-x" });
    assert.equal(projectReads(), 0);
    // An incomplete answer (a project still provisioning) is not kept: the facts are read.
    await seedProjectFacts(client, "prj_other", { project: { postgres_version: "" } });
    await seedProjectFacts(client, cp.projectId, { nonsense: true });
    assert.deepEqual(await projectFacts(ctx, cp.projectId, clock.now() + 10_000, "t"), { postgresVersion: "16", region: "eu-x" });
  });
});
