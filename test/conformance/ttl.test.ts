import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, createReady, listPreviews, ManualClock, type ApiClient } from "./helpers";

const HOUR = 3_600_000;

describe("control plane: TTL and out-of-band removal (§4.2, §4.3)", () => {
  let cp: ControlPlane;
  let api: ApiClient;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    cp = await startControlPlane({ now: clock.now, reaperIntervalMs: 20 });
    api = apiClient(cp);
  });
  afterEach(() => cp.close());

  it("an expired preview vanishes from E3 at once, E8 answers 404, extend answers 409, before any reaper tick", async () => {
    await cp.close();
    cp = await startControlPlane({ now: clock.now, reaperIntervalMs: 3_600_000 });
    api = apiClient(cp);
    const { id } = await createReady(api, cp.projectId, { ttl_hours: 1 });
    clock.advance(HOUR - 1);
    assert.equal((await listPreviews(api, cp.projectId)).length, 1);
    clock.advance(1);
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    assert.deepEqual((await api.get(`/v1/preview-databases/${id}/connections`)).body, { error: "preview not found" });
    const extend = await api.post(`/v1/preview-databases/${id}/extend`, { ttl_hours: 5 });
    assert.deepEqual([extend.status, extend.body], [409, { error: "preview is not ready" }]);
    assert.equal((await api.post(`/v1/preview-databases/${id}/reset`)).status, 404);
    assert.equal((await api.del(`/v1/preview-databases/${id}`)).status, 404);
    assert.equal(cp.previews.list()[0].deletedAt, undefined, "no reaper tick has happened yet");
  });

  it("the reaper deletes expired previews for good (deletedBy ttl); an expired name can be reused", async () => {
    const { id } = await createReady(api, cp.projectId, { name: "short", ttl_hours: 1 });
    clock.advance(2 * HOUR);
    const deadline = Date.now() + 2_000;
    while (cp.previews.list()[0].deletedAt === undefined && Date.now() < deadline) await sleep(10);
    const record = cp.previews.list().find((p) => p.id === id)!;
    assert.equal(record.deletedBy, "ttl");
    assert.equal(record.state, "deleted");
    assert.equal((await api.post(`/v1/preview-databases/${id}/extend`, { ttl_hours: 5 })).status, 404);
    assert.equal((await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "short" })).status, 201);
  });

  it("extend pushes expiry out so the preview survives past its original TTL", async () => {
    const { id } = await createReady(api, cp.projectId, { ttl_hours: 1 });
    clock.advance(HOUR / 2);
    assert.equal((await api.post(`/v1/preview-databases/${id}/extend`, { ttl_hours: 2 })).status, 200);
    clock.advance(HOUR);
    assert.deepEqual((await listPreviews(api, cp.projectId)).map((p) => p.id), [id]);
  });

  it("expireNow makes a preview vanish immediately", async () => {
    const { id } = await createReady(api, cp.projectId);
    cp.previews.expireNow(id);
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    assert.deepEqual(cp.previews.live(), []);
  });

  it("remove simulates an out-of-band delete: gone from E3, 404 everywhere, recorded as out-of-band", async () => {
    const { id } = await createReady(api, cp.projectId);
    cp.previews.remove(id);
    assert.deepEqual(await listPreviews(api, cp.projectId), []);
    assert.equal((await api.del(`/v1/preview-databases/${id}`)).status, 404);
    assert.equal(cp.previews.list()[0].deletedBy, "out-of-band");
    assert.throws(() => cp.previews.remove("pvw_missing"), /unknown preview/);
  });

  it("an out-of-band removal while the create job runs makes that job fail", async () => {
    const created = await api.post(`/v1/projects/${cp.projectId}/preview-databases`, {});
    cp.previews.remove(created.body.preview.id);
    await api.get(`/v1/jobs/${created.body.job.id}`);
    const job = (await api.get(`/v1/jobs/${created.body.job.id}`)).body.job;
    assert.equal(job.state, "failed");
    assert.match(job.error, /deleted/);
  });
});
