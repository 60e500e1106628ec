import assert from "node:assert/strict";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, listPreviews, ManualClock, type ApiClient } from "./helpers";

describe("control plane: fault injection and rate limits", () => {
  let cp: ControlPlane;
  let api: ApiClient;
  let clock: ManualClock;
  const me = () => api.get("/v1/me");

  beforeEach(async () => {
    clock = new ManualClock();
    cp = await startControlPlane({ now: clock.now });
    api = apiClient(cp);
  });
  afterEach(() => cp.close());

  it("status fault: replaces the answer with the default error body, once by default", async () => {
    cp.faults.inject({ path: "/v1/me", status: 503 });
    const faulted = await me();
    assert.deepEqual([faulted.status, faulted.body], [503, { error: "injected fault" }]);
    assert.equal((await me()).status, 200);
  });

  it("body fault: a non-JSON string (proxy HTML) or a JSON object, with custom headers", async () => {
    cp.faults.inject({ path: "/v1/me", status: 502, body: "<html>Bad Gateway</html>", headers: { "content-type": "text/html" } });
    cp.faults.inject({ path: "/v1/me", status: 500, body: { error: "database is on fire" }, headers: { "x-request-id": "r1" } });
    const html = await me();
    assert.equal(html.status, 502);
    assert.equal(html.text, "<html>Bad Gateway</html>");
    assert.equal(html.headers["content-type"], "text/html");
    assert.equal(html.body, undefined);
    const json = await me();
    assert.deepEqual([json.status, json.body, json.headers["x-request-id"]], [500, { error: "database is on fire" }, "r1"]);
  });

  it("headers-only fault: adds headers to the real answer", async () => {
    cp.faults.inject({ path: "/v1/me", headers: { "x-extra": "yes" } });
    const res = await me();
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-extra"], "yes");
    assert.ok(res.body.principal);
  });

  it("delay fault: answers normally, late: after an undelayed request sent later", async () => {
    // Order, not elapsed time: the delayed answer arrives after the answer to a request sent after it.
    cp.faults.inject({ path: "/v1/me", delayMs: 1_000 });
    const order: string[] = [];
    const delayed = me().then((res) => (order.push("delayed"), res));
    await new Promise((resolve) => setImmediate(resolve));
    const prompt = api.get(`/v1/projects/${cp.projectId}/preview-databases`).then((res) => (order.push("undelayed"), res));
    const [res, other] = await Promise.all([delayed, prompt]);
    assert.deepEqual([res.status, other.status], [200, 200]);
    assert.ok(res.body.principal, "the real answer");
    assert.deepEqual(order, ["undelayed", "delayed"]);
  });

  it("drop fault: the socket closes without a response and the request is not applied", async () => {
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/preview-databases`, drop: true });
    await assert.rejects(api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "dropped" }));
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    assert.equal(cp.requests().find((r) => r.method === "POST")!.status, 0);
  });

  it("after: respond applies the request, then loses the answer (drop or status)", async () => {
    const path = `/v1/projects/${cp.projectId}/preview-databases`;
    cp.faults.inject({ method: "POST", path, drop: true, after: "respond" });
    await assert.rejects(api.post(path, { name: "lost-response" }));
    cp.faults.inject({ method: "POST", path, status: 504, after: "respond" });
    const timeout = await api.post(path, { name: "gateway-timeout" });
    assert.equal(timeout.status, 504);
    const names = (await listPreviews(api, cp.projectId)).map((p) => p.name).sort();
    assert.deepEqual(names, ["gateway-timeout", "lost-response"]);
  });

  it("rewrite: the request is applied, and its 2xx answer comes back in any shape (in-process only)", async () => {
    const path = `/v1/projects/${cp.projectId}/preview-databases`;
    cp.faults.inject({ method: "POST", path, rewrite: () => "not json at all" });
    const created = await api.post(path, { name: "rewritten" });
    assert.deepEqual([created.status, created.text], [201, "not json at all"]);
    assert.deepEqual((await listPreviews(api, cp.projectId)).map((p) => p.name), ["rewritten"], "applied");
    cp.faults.inject({ method: "GET", path, rewrite: (body, status) => ({ seen: (body as { preview_databases: unknown[] }).preview_databases.length, status }) });
    const listed = await api.get(path);
    assert.deepEqual([listed.status, listed.body], [200, { seen: 1, status: 200 }]);
    assert.equal(cp.requests().filter((r) => r.fault === "injected").length, 2);
  });

  it("applyAfterMs: answers with the fault now, applies the request once the control-plane clock has moved on", async () => {
    const path = `/v1/projects/${cp.projectId}/preview-databases`;
    cp.faults.inject({ method: "POST", path, status: 504, applyAfterMs: 1_000 });
    const late = await api.post(path, { name: "late" });
    assert.equal(late.status, 504);
    assert.equal(cp.faults.deferredCount(), 1);
    assert.deepEqual(await listPreviews(api, cp.projectId), [], "not applied before its time");
    clock.advance(1_000);
    assert.deepEqual((await listPreviews(api, cp.projectId)).map((p) => p.name), ["late"], "applied before the next request");
    assert.equal(cp.faults.deferredCount(), 0);
    const applied = cp.requests().filter((r) => r.fault === "applied-late");
    assert.deepEqual(applied.map((r) => [r.method, r.status]), [["POST", 201]]);
  });

  it("applyAfterMs with drop, and applyDeferred() lands what is still held", async () => {
    const path = `/v1/projects/${cp.projectId}/preview-databases`;
    cp.faults.inject({ method: "POST", path, drop: true, applyAfterMs: 60_000 });
    await assert.rejects(api.post(path, { name: "held" }));
    assert.deepEqual(cp.previews.live(), []);
    await cp.faults.applyDeferred();
    assert.deepEqual(cp.previews.live().map((p) => p.name), ["held"]);
  });

  it("skip N: the first N matching requests pass, then the rule applies", async () => {
    cp.faults.inject({ path: "/v1/me", status: 503, skip: 2 });
    assert.deepEqual([(await me()).status, (await me()).status, (await me()).status, (await me()).status], [200, 200, 503, 200]);
  });

  it("times N, method and RegExp path matching; clear() removes remaining rules", async () => {
    cp.faults.inject({ method: "GET", path: /^\/v1\/jobs\//, status: 500, times: 2 });
    cp.faults.inject({ method: "DELETE", status: 500, times: 10 });
    const job = (await api.post(`/v1/projects/${cp.projectId}/preview-databases`, {})).body.job.id;
    assert.equal((await me()).status, 200, "a GET on another path is untouched");
    assert.equal((await api.get(`/v1/jobs/${job}`)).status, 500);
    assert.equal((await api.get(`/v1/jobs/${job}`)).status, 500);
    assert.equal((await api.get(`/v1/jobs/${job}`)).status, 200);
    assert.equal((await api.del("/v1/preview-databases/pvw_x")).status, 500);
    cp.faults.clear();
    assert.equal((await api.del("/v1/preview-databases/pvw_x")).status, 404);
  });

  it("rate limit with Retry-After: 429 once the key's budget is spent, until the window passes", async () => {
    cp.faults.rateLimit({ budget: 2, retryAfterSeconds: 7 });
    assert.equal((await me()).status, 200);
    assert.equal((await me()).status, 200);
    const limited = await me();
    assert.deepEqual([limited.status, limited.body], [429, { error: "rate limit exceeded" }]);
    assert.equal(limited.headers["retry-after"], "7");
    const otherKey = apiClient(cp, cp.projectScopedKey);
    assert.equal((await otherKey.get("/v1/me")).status, 200, "budgets are per key");
    clock.advance(7_000);
    assert.equal((await me()).status, 200);
    assert.equal(cp.requests().filter((r) => r.fault === "rate-limit").length, 1);
  });

  it("rate limit without Retry-After", async () => {
    cp.faults.rateLimit({ budget: 0, retryAfterSeconds: null });
    const limited = await me();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers["retry-after"], undefined);
    cp.faults.clear();
    assert.equal((await me()).status, 200);
  });

  it("a rate-limited POST is not applied", async () => {
    cp.faults.rateLimit({ budget: 0 });
    const res = await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "limited" });
    assert.equal(res.status, 429);
    assert.equal(res.headers["retry-after"], "1");
    assert.equal(cp.previews.list().length, 0);
  });
});
