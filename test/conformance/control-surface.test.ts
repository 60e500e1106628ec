import assert from "node:assert/strict";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, call, listPreviews, type ApiClient } from "./helpers";

describe("control plane: HTTP control surface and request log", () => {
  let cp: ControlPlane;
  let api: ApiClient;
  const admin = (method: "GET" | "POST" | "DELETE", path: string, json?: unknown) =>
    call(cp.url, method, `/_capydb_local${path}`, json === undefined ? {} : { json });

  beforeEach(async () => {
    cp = await startControlPlane();
    api = apiClient(cp);
  });
  afterEach(() => cp.close());

  it("injects and clears faults over HTTP, including RegExp paths", async () => {
    assert.equal((await admin("POST", "/faults", { pathRegex: "^/v1/m", status: 418, times: 2 })).status, 200);
    assert.equal((await api.get("/v1/me")).status, 418);
    assert.equal((await admin("DELETE", "/faults")).status, 200);
    assert.equal((await api.get("/v1/me")).status, 200);
  });

  it("switches rate limiting on over HTTP", async () => {
    await admin("POST", "/rate-limit", { budget: 0, retryAfterSeconds: 3 });
    const res = await api.get("/v1/me");
    assert.equal(res.status, 429);
    assert.equal(res.headers["retry-after"], "3");
  });

  it("drives jobs over HTTP: fail-next, stall-next + release, unknown-state-next, list", async () => {
    await admin("POST", "/jobs/fail-next", { kind: "create", error: "nope", stderr: "E", exitCode: 2 });
    const failed = (await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "f" })).body.job.id;
    await api.get(`/v1/jobs/${failed}`);
    const job = (await api.get(`/v1/jobs/${failed}`)).body.job;
    assert.deepEqual([job.state, job.error, job.last_stderr, job.last_exit_code], ["failed", "nope", "E", 2]);

    await admin("POST", "/jobs/stall-next", { kind: "create" });
    await admin("POST", "/jobs/unknown-state-next", { kind: "create", state: "waiting" });
    const stalled = (await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "s" })).body.job.id;
    const states = [];
    for (let i = 0; i < 4; i++) states.push((await api.get(`/v1/jobs/${stalled}`)).body.job.state);
    assert.deepEqual(states, ["waiting", "running", "running", "running"]);
    await admin("POST", "/jobs/release");
    assert.equal((await api.get(`/v1/jobs/${stalled}`)).body.job.state, "completed");

    const listed = await admin("GET", "/jobs");
    assert.deepEqual(listed.body.jobs.map((j: { id: string }) => j.id), [failed, stalled]);
    assert.equal((await admin("POST", "/jobs/fail-next", { kind: "explode" })).status, 400);
  });

  it("ends the next job in a chosen state with completed_at, and puts a preview in any state, over HTTP", async () => {
    await admin("POST", "/jobs/end-next", { kind: "create", state: "cancelled", error: "drained", previewState: "error", lastError: "host gone" });
    const created = (await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "e" })).body;
    await api.get(`/v1/jobs/${created.job.id}`);
    const job = (await api.get(`/v1/jobs/${created.job.id}`)).body.job;
    assert.deepEqual([job.state, job.error, typeof job.completed_at], ["cancelled", "drained", "string"]);
    const listed = (await listPreviews(api, cp.projectId)).find((p) => p.id === created.preview.id)!;
    assert.deepEqual([listed.state, listed.last_error], ["error", "host gone"]);
    // Ended: the preview is no longer busy with it.
    assert.equal((await api.del(`/v1/preview-databases/${created.preview.id}`)).status, 202);

    const other = (await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "s2" })).body.preview.id;
    assert.equal((await admin("POST", `/previews/${other}/state`, { state: "suspended", lastError: "billing" })).status, 200);
    const suspended = (await listPreviews(api, cp.projectId)).find((p) => p.id === other)!;
    assert.deepEqual([suspended.state, suspended.last_error], ["suspended", "billing"]);
    assert.equal((await admin("POST", "/jobs/end-next", { kind: "create" })).status, 400, "state is required");
  });

  it("lists, expires, starves connections of and removes previews over HTTP", async () => {
    const created = await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "adm" });
    const id = created.body.preview.id;
    await api.get(`/v1/jobs/${created.body.job.id}`);
    await api.get(`/v1/jobs/${created.body.job.id}`);

    await admin("POST", `/previews/${id}/connections-missing`, { polls: 1 });
    assert.equal((await api.get(`/v1/preview-databases/${id}/connections`)).body.connections.direct_url, undefined);
    assert.ok((await api.get(`/v1/preview-databases/${id}/connections`)).body.connections.direct_url);

    const live = await admin("GET", `/previews?live=true&projectId=${cp.projectId}`);
    assert.deepEqual(live.body.previews.map((p: { id: string }) => p.id), [id]);
    assert.equal(JSON.stringify(live.body).includes("password"), false, "records carry no password");

    assert.equal((await admin("POST", `/previews/${id}/expire`)).status, 200);
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    assert.equal((await admin("DELETE", `/previews/${id}`)).status, 200);
    const all = await admin("GET", "/previews");
    assert.equal(all.body.previews[0].deletedBy, "out-of-band");
    assert.equal((await admin("POST", "/previews/pvw_missing/expire")).status, 404);
  });

  it("creates projects and API keys over HTTP, and revokes keys", async () => {
    const project = await admin("POST", "/projects", { name: "Second Project" });
    assert.equal(project.status, 201);
    const projectId = project.body.id;
    assert.equal((await api.get(`/v1/projects/${projectId}`)).body.project.slug, "second-project");

    const key = (await admin("POST", "/api-keys", { scopes: ["projects:read"], projectId })).body.key;
    assert.match(key, /^capy_live_/);
    assert.equal((await call(cp.url, "GET", `/v1/projects/${projectId}`, { key })).status, 200);
    assert.equal((await call(cp.url, "GET", `/v1/projects/${cp.projectId}`, { key })).status, 403);
    await admin("POST", "/api-keys/revoke", { key });
    assert.equal((await call(cp.url, "GET", `/v1/projects/${projectId}`, { key })).status, 401);
  });

  it("logs method, path, query, status and auth header kind, never key values; control calls are not logged", async () => {
    await call(cp.url, "GET", "/v1/me", { key: cp.apiKey, via: "x-api-key" });
    await call(cp.url, "GET", "/v1/me");
    await api.get(`/v1/projects/${cp.projectId}/jobs?limit=3`);
    await admin("GET", "/requests");
    const log = cp.requests();
    assert.deepEqual(
      log.map((r) => [r.method, r.path, r.status, r.auth]),
      [
        ["GET", "/v1/me", 200, "x-api-key"],
        ["GET", "/v1/me", 401, "none"],
        ["GET", `/v1/projects/${cp.projectId}/jobs`, 200, "bearer"],
      ],
    );
    assert.equal(log[2].query, "limit=3");
    assert.ok(log.every((r) => typeof r.at === "number" && typeof r.wallAt === "number"));
    const overHttp = await admin("GET", "/requests");
    assert.equal(overHttp.body.requests.length, 3);
    assert.equal(JSON.stringify(overHttp.body).includes(cp.apiKey), false);
    await admin("DELETE", "/requests");
    assert.deepEqual(cp.requests(), []);
  });
});
