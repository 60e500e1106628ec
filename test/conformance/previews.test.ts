import assert from "node:assert/strict";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, createReady, listPreviews, ManualClock, pollJob, type ApiClient } from "./helpers";

const HOUR = 3_600_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe("control plane: preview endpoints (§2, §3)", () => {
  let cp: ControlPlane;
  let api: ApiClient;
  const clock = new ManualClock();
  const previewsPath = () => `/v1/projects/${cp.projectId}/preview-databases`;

  beforeEach(async () => {
    cp = await startControlPlane({ now: clock.now });
    api = apiClient(cp);
  });
  afterEach(() => cp.close());

  it("E2 describes the project", async () => {
    const res = await api.get(`/v1/projects/${cp.projectId}`);
    assert.equal(res.status, 200);
    const p = res.body.project;
    assert.equal(p.id, cp.projectId);
    assert.match(p.organization_id, /^org_/);
    assert.equal(p.environment, "non_production");
    assert.match(p.postgres_version, /^\d+$/);
    assert.equal(p.direct_port, 5432);
    assert.equal(p.pooled_port, 6432);
    assert.equal(p.runtime_status, "active");
    assert.match(p.created_at, RFC3339);
    const missing = await api.get("/v1/projects/prj_missing");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: "project not found" });
  });

  it("E4 answers 201 with a provisioning preview and a pending branch.create job, listed at once", async () => {
    const res = await api.post(previewsPath(), { name: "feature-x", mode: "empty", ttl_hours: 48, unknown_field: true });
    assert.equal(res.status, 201);
    const { preview, job } = res.body;
    assert.match(preview.id, /^pvw_/);
    assert.equal(preview.project_id, cp.projectId);
    assert.equal(preview.name, "feature-x");
    assert.equal(preview.mode, "empty");
    assert.equal(preview.state, "provisioning");
    assert.equal(Date.parse(preview.ttl_expires_at), clock.time + 48 * HOUR);
    assert.match(preview.public_host, /^feature-x-[a-z0-9]{6}\.db\.capydb\.local$/);
    assert.equal(preview.direct_port, 5432);
    assert.equal(preview.pooled_port, 6432);
    assert.equal(preview.ssl_mode, "require");
    assert.ok(preview.role_name && preview.database_name);
    assert.match(preview.created_at, RFC3339);
    assert.equal("last_error" in preview, false, "empty optional fields are omitted");
    assert.match(job.id, /^job_/);
    assert.equal(job.type, "branch.create");
    assert.equal(job.state, "pending");
    assert.equal(job.preview_database_id, preview.id);
    assert.equal(job.project_id, cp.projectId);

    const listed = await listPreviews(api, cp.projectId);
    assert.deepEqual(listed.map((p) => p.id), [preview.id]);
  });

  it("E4 defaults: mode clone, ttl 24 h (also for ttl_hours 0), generated name; empty body allowed", async () => {
    const res = await api.post(previewsPath(), {});
    assert.equal(res.status, 201);
    assert.equal(res.body.preview.mode, "clone");
    assert.equal(Date.parse(res.body.preview.ttl_expires_at), clock.time + 24 * HOUR);
    assert.match(res.body.preview.name, /^[a-z0-9-]+$/);
    const zero = await api.post(previewsPath(), { ttl_hours: 0, name: "zero" });
    assert.equal(Date.parse(zero.body.preview.ttl_expires_at), clock.time + 24 * HOUR);
    const noBody = await api.post(previewsPath(), undefined);
    assert.equal(noBody.status, 201);
  });

  it("E4 validation: 400 for bad mode, ttl_hours, name or body; 404 unknown project", async () => {
    const bad: unknown[] = [
      { mode: "copy" },
      { ttl_hours: 169 },
      { ttl_hours: -1 },
      { ttl_hours: 1.5 },
      { ttl_hours: "24" },
      { name: "Upper" },
      { name: "under_score" },
      { name: "x".repeat(64) },
      [],
    ];
    for (const body of bad) {
      const res = await api.post(previewsPath(), body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof res.body.error, "string");
    }
    const notJson = await api.post(previewsPath(), undefined, { raw: "{not json" });
    assert.equal(notJson.status, 400);
    assert.equal((await api.post(previewsPath(), { name: "x".repeat(63), ttl_hours: 168 })).status, 201);
    const unknown = await api.post("/v1/projects/prj_missing/preview-databases", {});
    assert.deepEqual([unknown.status, unknown.body], [404, { error: "project not found" }]);
    assert.equal(cp.previews.list().length, 1);
  });

  it("E4 answers 409 for a live duplicate name, case-insensitively, and allows it again once deleted", async () => {
    const first = await createReady(api, cp.projectId, { name: "dup" });
    const dup = await api.post(previewsPath(), { name: "dup" });
    assert.deepEqual([dup.status, dup.body], [409, { error: "a preview with this name already exists" }]);
    await pollJob(api, (await api.del(`/v1/preview-databases/${first.id}`)).body.job.id);
    assert.equal((await api.post(previewsPath(), { name: "dup" })).status, 201);
  });

  it("E4 enforces the plan limit with a switchable status", async () => {
    await cp.close();
    cp = await startControlPlane({ now: clock.now, previewLimit: 2, previewLimitStatus: 409 });
    api = apiClient(cp);
    assert.equal((await api.post(previewsPath(), { name: "a" })).status, 201);
    assert.equal((await api.post(previewsPath(), { name: "b" })).status, 201);
    const third = await api.post(previewsPath(), { name: "c" });
    assert.deepEqual([third.status, third.body], [409, { error: "preview limit reached for this plan" }]);
  });

  it("E4 plan limit defaults to 5 and 403", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await api.post(previewsPath(), { name: `p${i}` })).status, 201);
    const sixth = await api.post(previewsPath(), { name: "p5" });
    assert.deepEqual([sixth.status, sixth.body], [403, { error: "preview limit reached for this plan" }]);
  });

  it("E5 extend is absolute (now + ttl_hours), can shorten, and checks range", async () => {
    const { id } = await createReady(api, cp.projectId, { ttl_hours: 100 });
    clock.advance(10 * HOUR);
    const res = await api.post(`/v1/preview-databases/${id}/extend`, { ttl_hours: 5 });
    assert.equal(res.status, 200);
    assert.equal(Date.parse(res.body.preview.ttl_expires_at), clock.time + 5 * HOUR);
    assert.equal(res.body.preview.state, "ready");
    for (const ttl of [0, 169, 2.5, null]) {
      assert.equal((await api.post(`/v1/preview-databases/${id}/extend`, { ttl_hours: ttl })).status, 400, String(ttl));
    }
    assert.equal((await api.post(`/v1/preview-databases/${id}/extend`, {})).status, 400);
    assert.equal((await api.post(`/v1/preview-databases/pvw_missing/extend`, { ttl_hours: 1 })).status, 404);
  });

  it("E5 refuses a preview that is not ready (409), or busy (409 active operation)", async () => {
    const created = await api.post(previewsPath(), { name: "busy" });
    const id = created.body.preview.id;
    const busy = await api.post(`/v1/preview-databases/${id}/extend`, { ttl_hours: 2 });
    assert.deepEqual([busy.status, busy.body], [409, { error: "preview has an active operation" }]);
    cp.jobs.failNext("create");
    const failed = await createReadyOrFailed(api, cp.projectId, "broken");
    const notReady = await api.post(`/v1/preview-databases/${failed}/extend`, { ttl_hours: 2 });
    assert.deepEqual([notReady.status, notReady.body], [409, { error: "preview is not ready" }]);
  });

  it("E6 reset answers 202 {job}, shows resetting, and rotates the password only", async () => {
    const { id } = await createReady(api, cp.projectId, { name: "rot" });
    const before = (await api.get(`/v1/preview-databases/${id}/connections`)).body.connections;
    const reset = await api.post(`/v1/preview-databases/${id}/reset`);
    assert.equal(reset.status, 202);
    assert.equal(reset.body.job.type, "branch.reset");
    assert.equal(reset.body.job.state, "pending");
    assert.equal(reset.body.job.preview_database_id, id);
    assert.equal((await listPreviews(api, cp.projectId))[0].state, "resetting");
    assert.equal((await api.post(`/v1/preview-databases/${id}/reset`)).status, 409);
    assert.equal((await pollJob(api, reset.body.job.id)).state, "completed");
    const after = (await api.get(`/v1/preview-databases/${id}/connections`)).body.connections;
    assert.equal(after.username, before.username);
    assert.notEqual(after.direct_url, before.direct_url);
    const strip = (u: string) => u.replace(/:[^:@/]+@/, ":***@");
    assert.equal(strip(after.direct_url), strip(before.direct_url), "only the password changes");
    assert.equal(strip(after.pooled_url), strip(before.pooled_url));
    assert.equal((await listPreviews(api, cp.projectId))[0].state, "ready");
  });

  it("E7 delete answers 202 {job}, lists the preview as deleting until done, then 404", async () => {
    const { id } = await createReady(api, cp.projectId);
    const del = await api.del(`/v1/preview-databases/${id}`);
    assert.equal(del.status, 202);
    assert.equal(del.body.job.type, "branch.delete");
    assert.equal((await api.del(`/v1/preview-databases/${id}`)).status, 409, "delete while deleting is busy");
    const duringList = await listPreviews(api, cp.projectId);
    assert.equal(duringList[0].state, "deleting");
    await pollJob(api, del.body.job.id);
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    const again = await api.del(`/v1/preview-databases/${id}`);
    assert.deepEqual([again.status, again.body], [404, { error: "preview not found" }]);
    assert.equal((await api.get(`/v1/preview-databases/${id}/connections`)).status, 404);
    const record = cp.previews.list().find((p) => p.id === id)!;
    assert.equal(record.deletedBy, "api");
    assert.equal(record.deletedAt, clock.time);
  });

  it("E7 with removeOnDeleteImmediately drops the preview from the list at once", async () => {
    await cp.close();
    cp = await startControlPlane({ now: clock.now, removeOnDeleteImmediately: true });
    api = apiClient(cp);
    const { id } = await createReady(api, cp.projectId);
    const del = await api.del(`/v1/preview-databases/${id}`);
    assert.equal(del.status, 202);
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    assert.equal((await pollJob(api, del.body.job.id)).state, "completed");
  });

  it("E8 returns username and both URLs; omits URLs while provisioning and for N forced polls", async () => {
    const created = await api.post(previewsPath(), { name: "conn" });
    const id = created.body.preview.id;
    const early = await api.get(`/v1/preview-databases/${id}/connections`);
    assert.equal(early.status, 200);
    assert.deepEqual(Object.keys(early.body.connections), ["username"]);
    await pollJob(api, created.body.job.id);

    const res = await api.get(`/v1/preview-databases/${id}/connections`);
    const { username, direct_url, pooled_url } = res.body.connections;
    const direct = new URL(direct_url);
    const pooled = new URL(pooled_url);
    assert.equal(direct.protocol, "postgres:");
    assert.equal(direct.username, username);
    assert.ok(direct.password.length >= 16);
    assert.equal(direct.port, "5432");
    assert.equal(pooled.port, "6432");
    assert.equal(direct.searchParams.get("sslmode"), "require");
    assert.equal(direct.hostname, created.body.preview.public_host);
    assert.equal(direct.pathname, `/${created.body.preview.database_name}`);

    cp.previews.connectionsMissingFor(id, 2);
    for (let i = 0; i < 2; i++) {
      const missing = (await api.get(`/v1/preview-databases/${id}/connections`)).body.connections;
      assert.deepEqual(missing, { username });
    }
    assert.equal((await api.get(`/v1/preview-databases/${id}/connections`)).body.connections.direct_url, direct_url);
    assert.deepEqual((await api.get(`/v1/preview-databases/pvw_missing/connections`)).body, { error: "preview not found" });
  });

  it("explicitNulls sends null lists and null optional fields instead of omitting them", async () => {
    await cp.close();
    cp = await startControlPlane({ now: clock.now, explicitNulls: true });
    api = apiClient(cp);
    const empty = await api.get(previewsPath());
    assert.deepEqual(empty.body, { preview_databases: null });
    assert.deepEqual((await api.get(`/v1/projects/${cp.projectId}/jobs`)).body, { jobs: null });
    const created = await api.post(previewsPath(), { name: "nulls" });
    assert.equal(created.body.preview.last_error, null);
    assert.equal(created.body.job.error, null);
    assert.equal(created.body.job.completed_at, null);
    const conn = await api.get(`/v1/preview-databases/${created.body.preview.id}/connections`);
    assert.equal(conn.body.connections.direct_url, null);
  });

  it("E10 lists project jobs newest first with a limit", async () => {
    const a = await api.post(previewsPath(), { name: "a" });
    clock.advance(1);
    const b = await api.post(previewsPath(), { name: "b" });
    const res = await api.get(`/v1/projects/${cp.projectId}/jobs?limit=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.jobs.map((j: { id: string }) => j.id), [b.body.job.id]);
    const all = await api.get(`/v1/projects/${cp.projectId}/jobs`);
    assert.deepEqual(all.body.jobs.map((j: { id: string }) => j.id), [b.body.job.id, a.body.job.id]);
    assert.equal((await api.get(`/v1/projects/${cp.projectId}/jobs?limit=zero`)).status, 400);
    assert.deepEqual((await api.get("/v1/jobs/job_missing")).body, { error: "job not found" });
  });

  it("unknown routes answer 404 and wrong methods 405, both with an error body", async () => {
    const unknown = await api.get("/v1/nothing-here");
    assert.equal(unknown.status, 404);
    assert.equal(typeof unknown.body.error, "string");
    const wrong = await api.post(`/v1/projects/${cp.projectId}`, {});
    assert.equal(wrong.status, 405);
    assert.equal(typeof wrong.body.error, "string");
  });
});

async function createReadyOrFailed(api: ApiClient, projectId: string, name: string): Promise<string> {
  const { id, job } = await createReady(api, projectId, { name });
  assert.equal(job.state, "failed");
  return id;
}
