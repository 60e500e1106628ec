import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { missingScopes } from "../../provider/scope-check";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

// Scope check before create (issue 9): GET /v1/me, then fail before any write when the key lacks a scope.
describe("scope check before create", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];

  async function providerWith(apiKey: string) {
    const p = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" } });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": apiKey, "capydb:apiUrl": cp.url })[k] } });
    return p;
  }
  const inputs = (name: string) => ({ __provider: "shim", projectId: cp.projectId, name, mode: "clone", ttlHours: 24 });
  const writes = () => cp.requests().filter((r) => r.method !== "GET");
  const meCalls = () => cp.requests().filter((r) => r.method === "GET" && r.path === "/v1/me").length;

  beforeEach(async () => {
    clock = new FakeClock();
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
  });
  afterEach(async () => {
    await cp.close();
  });

  for (const lacking of ["jobs:read", "credentials:read", "projects:write"]) {
    it(`a key without ${lacking} fails before any write, naming the scope and how to get a key that has it`, async () => {
      const scopes = ["projects:read", "projects:write", "credentials:read", "jobs:read"].filter((s) => s !== lacking);
      const provider = await providerWith(cp.createApiKey({ scopes, projectId: cp.projectId }));
      cp.clearRequests();
      const error = await provider.create(inputs("pr-scope")).then(() => undefined, (e: Error) => e);
      assert.ok(error, "create must fail");
      assert.match(error.message, new RegExp(`lacks the scope \`${lacking}\``));
      assert.match(error.message, /Nothing was created/);
      assert.match(error.message, /project-scoped API key/);
      assert.match(error.message, /pulumi config set --secret capydb:apiKey/);
      assert.deepEqual(writes(), [], "no POST or DELETE was sent");
      assert.equal(meCalls(), 1);
      assert.deepEqual(cp.previews.list(), [], "nothing exists");
    });
  }

  it("a key with every scope, or with *, creates; the check runs once per process per key", async () => {
    const scoped = await providerWith(cp.projectScopedKey);
    cp.clearRequests();
    await scoped.create(inputs("pr-a"));
    await scoped.create(inputs("pr-b"));
    assert.equal(meCalls(), 1, "once per key");
    const admin = await providerWith(cp.apiKey);
    await admin.create(inputs("pr-c"));
    assert.equal(meCalls(), 2, "a new key is checked again");
    assert.equal(cp.previews.live().length, 3);
  });

  it("an empty scope list (what test doubles answer) does not fail the check", async () => {
    cp.faults.inject({ method: "GET", path: "/v1/me", status: 200, body: { organization: null, principal: { auth_source: "api_key", scopes: [] } } });
    const provider = await providerWith(cp.projectScopedKey);
    const { outs } = await provider.create(inputs("pr-empty"));
    assert.equal(outs.state, "ready");
    assert.deepEqual(missingScopes([]), []);
    assert.deepEqual(missingScopes(undefined), []);
    assert.deepEqual(missingScopes(["*"]), []);
    assert.deepEqual(missingScopes(["projects:read"]), ["projects:write", "credentials:read", "jobs:read"]);
  });

  it("a rejected key fails at the check, before any write", async () => {
    const key = cp.createApiKey({ scopes: ["*"] });
    cp.revokeApiKey(key);
    const provider = await providerWith(key);
    cp.clearRequests();
    const error = await provider.create(inputs("pr-revoked")).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /GET \/v1\/me failed with HTTP 401/);
    assert.deepEqual(writes(), []);
  });

  it("trouble with /v1/me itself is reported and the create goes on; the next create checks again", async () => {
    cp.faults.inject({ method: "GET", path: "/v1/me", status: 404, body: { error: "not found" } });
    const provider = await providerWith(cp.projectScopedKey);
    const { outs } = await provider.create(inputs("pr-nome"));
    assert.equal(outs.state, "ready");
    assert.ok(lines.some((l) => /create pr-nome: could not check the API key's scopes \(.*404.*\); going on/.test(l)), lines.join("\n"));
    cp.clearRequests();
    await provider.create(inputs("pr-nome-2"));
    assert.equal(meCalls(), 1, "a failed check is not remembered");
  });

  // --- A: the project check (issue 14.10) ---
  const projectCalls = (projectId: string) => cp.requests().filter((r) => r.method === "GET" && r.path === `/v1/projects/${projectId}`).length;

  const refusedCreates = () => writes().map((r) => `${r.method} ${r.path} ${r.status}`);

  it("a project-scoped key used for another project: the create is refused, nothing is created, and the error names the project and the key's scope", async () => {
    const other = await cp.createProject({ name: "other" });
    const provider = await providerWith(cp.projectScopedKey);
    cp.clearRequests();
    const error = await provider.create({ ...inputs("pr-other"), projectId: other }).then(() => undefined, (e: Error) => e);
    assert.ok(error, "create must fail");
    assert.match(error.message, new RegExp(`may not use project "${other}" \\(GET /v1/projects/${other}: HTTP 403`));
    assert.match(error.message, new RegExp(`the key is scoped to another project, ${cp.projectId}`));
    assert.match(error.message, /Nothing was created/);
    assert.deepEqual(refusedCreates(), [`POST /v1/projects/${other}/preview-databases 403`], "one create, refused");
    assert.deepEqual(cp.previews.list(), []);
  });

  it("an unknown project: the create is refused, and the error says the project does not exist", async () => {
    const provider = await providerWith(cp.apiKey);
    cp.clearRequests();
    const error = await provider.create({ ...inputs("pr-nowhere"), projectId: "prj_nowhere" }).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /CapyDB project "prj_nowhere" does not exist or this API key cannot see it \(GET \/v1\/projects\/prj_nowhere: HTTP 404/);
    assert.match(String(error?.message), /the key is not scoped to one project/);
    assert.deepEqual(refusedCreates(), ["POST /v1/projects/prj_nowhere/preview-databases 404"]);
  });

  it("a create refused 403 in a project the key may use keeps the create's own error (a plan limit, say)", async () => {
    const provider = await providerWith(cp.projectScopedKey);
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/preview-databases`, status: 403, body: { error: "preview limit reached for this plan" } });
    const error = await provider.create(inputs("pr-limit")).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /HTTP 403[\s\S]*preview limit reached for this plan/);
    assert.doesNotMatch(String(error?.message), /may not use project|does not exist/);
    assert.equal(projectCalls(cp.projectId), 1, "the refusal was explained by reading the project");
  });

  it("the create does not wait for the project: it is read after the POST, while the job runs", async () => {
    const provider = await providerWith(cp.projectScopedKey);
    cp.clearRequests();
    const out = await provider.create(inputs("pr-order"));
    const order = cp.requests().map((r) => `${r.method} ${r.path.replace(/\/(pvw|job)_\w+/g, "/$1_")}`);
    const post = order.indexOf(`POST /v1/projects/${cp.projectId}/preview-databases`);
    const project = order.indexOf(`GET /v1/projects/${cp.projectId}`);
    assert.ok(post >= 0 && project > post, `the project after the POST: ${order.join(", ")}`);
    assert.equal(order.indexOf("GET /v1/me"), 0, "the scopes before anything");
    assert.equal(out.outs.postgresVersion, "17", "its facts are still outputs");
  });

  it("a restore checks the project before it is sent: its endpoint answers 404 for an unknown backup too", async () => {
    const other = await cp.createProject({ name: "other" });
    const provider = await providerWith(cp.createApiKey({ scopes: ["projects:read", "projects:write", "credentials:read", "jobs:read", "backups:write"], projectId: cp.projectId }));
    cp.clearRequests();
    const error = await provider.create({ ...inputs("pr-restore-other"), projectId: other, source: { backupKey: "bk_any" } }).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), new RegExp(`may not use project "${other}" \\(GET /v1/projects/${other}: HTTP 403`));
    assert.deepEqual(writes(), [], "no restore was sent");
  });

  it("the project is checked once per process per key and project", async () => {
    const provider = await providerWith(cp.projectScopedKey);
    cp.clearRequests();
    await provider.create(inputs("pr-p1"));
    await provider.create(inputs("pr-p2"));
    assert.equal(projectCalls(cp.projectId), 1);
    const admin = await providerWith(cp.apiKey);
    await admin.create(inputs("pr-p3"));
    assert.equal(projectCalls(cp.projectId), 2, "another key is checked again");
  });
});
