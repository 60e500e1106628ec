import assert from "node:assert/strict";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, call, ManualClock } from "./helpers";

describe("control plane: authentication and scopes (§1.2)", () => {
  let cp: ControlPlane;
  const clock = new ManualClock();

  before(async () => {
    cp = await startControlPlane({ now: clock.now });
  });
  after(() => cp.close());

  it("accepts the key as a Bearer token and as X-API-Key", async () => {
    const bearer = await call(cp.url, "GET", "/v1/me", { key: cp.apiKey, via: "bearer" });
    const header = await call(cp.url, "GET", "/v1/me", { key: cp.apiKey, via: "x-api-key" });
    assert.equal(bearer.status, 200);
    assert.equal(header.status, 200);
    assert.equal(bearer.body.principal.auth_source, "api_key");
    assert.deepEqual(bearer.body.principal.scopes, ["*"]);
    assert.match(bearer.body.organization.id, /^org_/);
    assert.equal(header.body.organization.id, bearer.body.organization.id);
  });

  it("answers 401 with an error body for a missing, unknown, revoked or expired key", async () => {
    const revoked = cp.createApiKey({ scopes: ["*"] });
    cp.revokeApiKey(revoked);
    const expired = cp.createApiKey({ scopes: ["*"], expiresAt: clock.time + 1000 });
    assert.equal((await call(cp.url, "GET", "/v1/me", { key: expired })).status, 200);
    clock.advance(1000);
    for (const key of [undefined, "capy_live_nope", revoked, expired]) {
      const res = await call(cp.url, "GET", "/v1/me", { key });
      assert.equal(res.status, 401, `key ${key}`);
      assert.equal(typeof res.body.error, "string");
      assert.ok(res.body.error.length > 0);
    }
  });

  it("answers 403 when the key lacks the endpoint's scope", async () => {
    const readOnly = apiClient(cp, cp.createApiKey({ scopes: ["projects:read"] }));
    assert.equal((await readOnly.get(`/v1/projects/${cp.projectId}`)).status, 200);
    assert.equal((await readOnly.get(`/v1/projects/${cp.projectId}/preview-databases`)).status, 200);
    const create = await readOnly.post(`/v1/projects/${cp.projectId}/preview-databases`, { mode: "empty" });
    assert.equal(create.status, 403);
    assert.match(create.body.error, /projects:write/);
    assert.equal((await readOnly.get(`/v1/projects/${cp.projectId}/jobs`)).status, 403);
    assert.equal(cp.previews.list().length, 0, "a refused create must not create anything");
  });

  it("lets the seeded project-scoped key do what the provider needs, on its project only", async () => {
    const scoped = apiClient(cp, cp.projectScopedKey);
    const me = await scoped.get("/v1/me");
    assert.equal(me.status, 200);
    assert.deepEqual([...me.body.principal.scopes].sort(), ["credentials:read", "jobs:read", "projects:read", "projects:write"]);

    const created = await scoped.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "scoped", mode: "empty" });
    assert.equal(created.status, 201);
    assert.equal((await scoped.get(`/v1/jobs/${created.body.job.id}`)).status, 200);

    const other = await cp.createProject({ name: "other" });
    assert.equal((await scoped.get(`/v1/projects/${other}`)).status, 403);
    assert.equal((await scoped.get(`/v1/projects/${other}/preview-databases`)).status, 403);
    assert.equal((await scoped.post(`/v1/projects/${other}/preview-databases`, {})).status, 403);

    const foreign = await apiClient(cp).post(`/v1/projects/${other}/preview-databases`, { name: "foreign" });
    assert.equal(foreign.status, 201);
    const foreignId = foreign.body.preview.id;
    assert.equal((await scoped.get(`/v1/preview-databases/${foreignId}/connections`)).status, 403);
    assert.equal((await scoped.del(`/v1/preview-databases/${foreignId}`)).status, 403);
    assert.equal((await scoped.get(`/v1/jobs/${foreign.body.job.id}`)).status, 403);
  });

  it("refuses org-management scopes on a project-scoped key", () => {
    assert.throws(() => cp.createApiKey({ scopes: ["api_keys:write"], projectId: cp.projectId }), /org-management/);
  });
});
