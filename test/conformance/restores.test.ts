import assert from "node:assert/strict";
import { PROVIDER_SCOPES, startControlPlane, type ControlPlane } from "../control-plane";
import { apiClient, call, listPreviews, ManualClock, pollJob, type ApiClient } from "./helpers";

const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

describe("control plane: restores into a new preview (E11), memory backend", () => {
  let cp: ControlPlane;
  let api: ApiClient;
  const clock = new ManualClock();
  const restoresPath = () => `/v1/projects/${cp.projectId}/restores`;
  const restore = (body: Record<string, unknown>) => api.post(restoresPath(), { target_kind: "new_preview", ...body });

  beforeEach(async () => {
    cp = await startControlPlane({ now: clock.now });
    api = apiClient(cp);
  });
  afterEach(() => cp.close());

  const initialBackup = () => cp.backups.list()[0];

  it("each project starts with one backup, which opens its restorable window", async () => {
    const backups = cp.backups.list();
    assert.equal(backups.length, 1);
    assert.equal(backups[0].trigger, "initial");
    assert.match(backups[0].key, /^bkp_[a-z0-9]{16}$/);
    assert.equal(backups[0].projectId, cp.projectId);
    assert.deepEqual(cp.restores.window(), { earliest: backups[0].takenAt, latest: clock.time });
    const other = await cp.createProject({ name: "other" });
    assert.equal(cp.backups.list(other).length, 1);
    assert.notEqual(cp.backups.list(other)[0].key, backups[0].key);
  });

  it("needs the backups:write scope (403 without it, e.g. with the provider's usual scopes)", async () => {
    assert.equal(PROVIDER_SCOPES.includes("backups:write"), false);
    const body = { target_kind: "new_preview", backup_key: initialBackup().key };
    const denied = await call(cp.url, "POST", restoresPath(), { key: cp.projectScopedKey, json: body });
    assert.equal(denied.status, 403);
    const allowed = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    assert.equal((await call(cp.url, "POST", restoresPath(), { key: allowed, json: body })).status, 202);
    assert.equal((await call(cp.url, "POST", restoresPath(), { json: body })).status, 401);
    assert.equal((await api.post("/v1/projects/prj_missing/restores", body)).status, 404);
  });

  it("validates the body: 400 naming the field and the fix", async () => {
    const key = initialBackup().key;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ backup_key: key }, /target_kind is required: send "new_preview"/],
      [{ target_kind: "preview", backup_key: key }, /target_kind "preview" is not supported by the local control plane: only "new_preview"/],
      [{ target_kind: "project", backup_key: key }, /only "new_preview"/],
      [{ target_kind: "fork", backup_key: key }, /target_kind must be one of new_preview, preview, project/],
      [{ target_kind: "new_preview" }, /exactly one of backup_key, restore_point_id, restore_time is required \(got none\)/],
      [{ target_kind: "new_preview", backup_key: key, restore_time: iso(clock.time) }, /\(got backup_key, restore_time\)/],
      [{ target_kind: "new_preview", restore_time: "yesterday at nine" }, /restore_time must be an RFC 3339 time/],
      [{ target_kind: "new_preview", restore_time: "2026-01-01" }, /restore_time must be an RFC 3339 time/],
      [{ target_kind: "new_preview", backup_key: 42 }, /backup_key must be a non-empty string/],
      [{ target_kind: "new_preview", backup_key: key, preview_name: "Not_Valid" }, /preview_name must be 1-63 characters/],
      [{ target_kind: "new_preview", backup_key: key, ttl_hours: 0 }, /ttl_hours must be an integer between 1 and 168/],
      [{ target_kind: "new_preview", backup_key: key, ttl_hours: 169 }, /ttl_hours must be an integer between 1 and 168/],
      [{ target_kind: "new_preview", backup_key: key, recreate: "yes" }, /recreate must be a boolean/],
    ];
    for (const [body, message] of cases) {
      const res = await api.post(restoresPath(), body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error, message, JSON.stringify(body));
    }
    assert.equal((await api.post(restoresPath(), undefined, { raw: "[1]" })).status, 400);
    assert.deepEqual(await listPreviews(api, cp.projectId), [], "a refused restore makes no preview");
  });

  it("from a backup key: 202 with a pending project.restore job; the preview is listed at once and named by the job once completed", async () => {
    const key = initialBackup().key;
    const res = await restore({ backup_key: key, preview_name: "from-backup", ttl_hours: 6 });
    assert.equal(res.status, 202);
    assert.deepEqual(Object.keys(res.body).sort(), ["job"], "no pitr member for a backup");
    const job = res.body.job;
    assert.equal(job.type, "project.restore");
    assert.equal(job.state, "pending");
    assert.equal(job.project_id, cp.projectId);
    assert.equal("preview_database_id" in job, false, "the preview is named only when the job completes");

    // The listing moves the job one step (pending → running), as it does for create jobs.
    const [listed] = await listPreviews(api, cp.projectId);
    assert.equal(listed.name, "from-backup");
    assert.equal(listed.state, "provisioning");
    assert.equal(listed.mode, "clone");
    assert.equal(listed.source_kind, "backup");
    assert.equal(listed.source_backup_key, key);
    assert.equal("source_restore_time" in listed, false);
    assert.equal(Date.parse(listed.ttl_expires_at), clock.time + 6 * HOUR);
    assert.equal(cp.jobs.list().find((j) => j.id === job.id)?.state, "running");

    const done = await pollJob(api, job.id);
    assert.equal(done.state, "completed");
    assert.equal(done.preview_database_id, listed.id);
    const [ready] = await listPreviews(api, cp.projectId);
    assert.equal(ready.state, "ready");
    assert.equal(ready.source_backup_key, key);

    const conn = (await api.get(`/v1/preview-databases/${listed.id}/connections`)).body.connections;
    assert.ok(conn.direct_url && conn.pooled_url, "a restored preview has URLs like any other");
    const record = cp.previews.list().find((p) => p.id === listed.id)!;
    assert.equal(record.sourceKind, "backup");
    assert.equal(record.sourceBackupKey, key);
  });

  it("defaults: a generated name and a 24 h TTL", async () => {
    const res = await restore({ backup_key: initialBackup().key });
    assert.equal(res.status, 202);
    const [listed] = await listPreviews(api, cp.projectId);
    assert.match(listed.name, /^preview-[a-z0-9]{8}$/);
    assert.equal(Date.parse(listed.ttl_expires_at), clock.time + 24 * HOUR);
  });

  it("an unknown backup key, or another project's, is a 400 naming it", async () => {
    const unknown = await restore({ backup_key: "bkp_nope" });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, `backup_key "bkp_nope" matches no backup of project ${cp.projectId}`);
    const other = await cp.createProject({ name: "other" });
    const foreign = await restore({ backup_key: cp.backups.list(other)[0].key });
    assert.equal(foreign.status, 400);
    assert.match(foreign.body.error, /matches no backup of project/);
  });

  it("a live preview of the same name is a 409, as on create; the preview limit applies", async () => {
    const key = initialBackup().key;
    assert.equal((await restore({ backup_key: key, preview_name: "twin" })).status, 202);
    const again = await restore({ backup_key: key, preview_name: "twin" });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, "a preview with this name already exists");
    const created = await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "twin" });
    assert.equal(created.status, 409);
    for (let i = 0; i < 4; i++) assert.equal((await restore({ backup_key: key })).status, 202);
    const over = await restore({ backup_key: key });
    assert.equal(over.status, 403);
    assert.equal(over.body.error, "preview limit reached for this plan");
  });

  it("from a time inside the window: pitr echoes it unclamped and the preview carries source_kind pitr and the time", async () => {
    const start = clock.time;
    clock.advance(2 * HOUR);
    const at = start + HOUR;
    const res = await restore({ restore_time: new Date(at).toISOString().replace("Z", "+00:00"), preview_name: "at-one" });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.pitr, { requested_restore_time: iso(at), restore_time: iso(at), restore_time_clamped: false });
    const [listed] = await listPreviews(api, cp.projectId);
    assert.equal(listed.source_kind, "pitr");
    assert.equal(listed.source_restore_time, iso(at));
    assert.equal("source_backup_key" in listed, false);
  });

  it("restore_time is taken to the millisecond, in any offset: more fraction digits are cut", async () => {
    clock.advance(2 * HOUR);
    const at = clock.time - HOUR + 123;
    const local = new Date(at + 2 * HOUR).toISOString().replace("Z", "999+02:00");
    const res = await restore({ restore_time: local, preview_name: "truncated" });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.pitr.requested_restore_time, iso(at));
    assert.equal(res.body.pitr.restore_time, iso(at));
  });

  it("a time later than the latest restorable point (now) is clamped to it, and pitr says so", async () => {
    const requested = clock.time + 3 * HOUR;
    const res = await restore({ restore_time: iso(requested), preview_name: "future" });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.pitr, { requested_restore_time: iso(requested), restore_time: iso(clock.time), restore_time_clamped: true });
    const [listed] = await listPreviews(api, cp.projectId);
    assert.equal(listed.source_restore_time, iso(clock.time));
  });

  it("a time earlier than the earliest restorable point is a 400 naming the window", async () => {
    const earliest = initialBackup().takenAt;
    clock.advance(HOUR);
    const res = await restore({ restore_time: iso(earliest - 1000) });
    assert.equal(res.status, 400);
    assert.equal(
      res.body.error,
      `restore_time ${iso(earliest - 1000)} is before the earliest restorable point: restorable window is ${iso(earliest)} to ${iso(clock.time)}`,
    );
    assert.equal((await restore({ restore_time: iso(earliest) })).status, 202, "the earliest point itself is restorable");
  });

  it("from a restore point: source_kind pitr at the point's time; an unknown point is a 400", async () => {
    clock.advance(1000);
    const point = await cp.restores.createRestorePoint({ name: "before-migration" });
    assert.match(point.id, /^rp_[a-z0-9]{16}$/);
    assert.deepEqual(cp.restores.restorePoints(), [point]);
    clock.advance(HOUR);
    const res = await restore({ restore_point_id: point.id, preview_name: "at-point" });
    assert.equal(res.status, 202);
    assert.equal("pitr" in res.body, false);
    await pollJob(api, res.body.job.id);
    const [listed] = await listPreviews(api, cp.projectId);
    assert.equal(listed.state, "ready");
    assert.equal(listed.source_kind, "pitr");
    assert.equal(listed.source_restore_time, iso(point.createdAt));
    const unknown = await restore({ restore_point_id: "rp_nope" });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, `restore_point_id "rp_nope" matches no restore point of project ${cp.projectId}`);
  });

  it("withholdPreviewIdNext: the completed job never names the preview, so a client finds it by name", async () => {
    cp.restores.withholdPreviewIdNext();
    const res = await restore({ backup_key: initialBackup().key, preview_name: "find-me" });
    const done = await pollJob(api, res.body.job.id);
    assert.equal(done.state, "completed");
    assert.equal("preview_database_id" in done, false);
    const byName = (await listPreviews(api, cp.projectId)).find((p) => p.name === "find-me");
    assert.equal(byName?.state, "ready");
    // Only the next one.
    const next = await restore({ backup_key: initialBackup().key, preview_name: "named" });
    assert.match((await pollJob(api, next.body.job.id)).preview_database_id, /^pvw_/);
  });

  it("the job fault switches apply to restores: a failed job leaves a failed, listed preview with last_error", async () => {
    cp.jobs.failNext("restore", { error: "project.restore failed: backup unreadable", stderr: "ERROR:  could not read" });
    const res = await restore({ backup_key: initialBackup().key, preview_name: "broken" });
    const done = await pollJob(api, res.body.job.id);
    assert.equal(done.state, "failed");
    assert.equal(done.error, "project.restore failed: backup unreadable");
    assert.equal(done.last_stderr, "ERROR:  could not read");
    assert.equal("preview_database_id" in done, false, "a failed restore names no preview");
    const [listed] = await listPreviews(api, cp.projectId);
    assert.equal(listed.state, "failed");
    assert.equal(listed.last_error, "project.restore failed: backup unreadable");

    cp.jobs.unknownStateNext("restore", "queued");
    const queued = await restore({ backup_key: initialBackup().key, preview_name: "queued" });
    assert.equal((await api.get(`/v1/jobs/${queued.body.job.id}`)).body.job.state, "queued");

    cp.jobs.endNext("restore", { state: "cancelled" });
    const cancelled = await restore({ backup_key: initialBackup().key, preview_name: "cancelled" });
    await api.get(`/v1/jobs/${cancelled.body.job.id}`);
    const ended = (await api.get(`/v1/jobs/${cancelled.body.job.id}`)).body.job;
    assert.equal(ended.state, "cancelled");
    assert.ok(ended.completed_at);
  });

  it("a reset of a restored preview keeps its provenance", async () => {
    const key = initialBackup().key;
    const res = await restore({ backup_key: key, preview_name: "reset-me" });
    await pollJob(api, res.body.job.id);
    const [listed] = await listPreviews(api, cp.projectId);
    const reset = await api.post(`/v1/preview-databases/${listed.id}/reset`);
    assert.equal(reset.status, 202);
    assert.equal((await pollJob(api, reset.body.job.id)).state, "completed");
    const [after] = await listPreviews(api, cp.projectId);
    assert.equal(after.state, "ready");
    assert.equal(after.source_backup_key, key);
  });
});

describe("control plane: backupEveryMs", () => {
  it("starts a backup schedule with the control plane", async () => {
    const cp = await startControlPlane({ backupEveryMs: 20 });
    try {
      while (!cp.backups.list().some((b) => b.trigger === "scheduled")) await new Promise((r) => setTimeout(r, 10));
      assert.equal(cp.backups.list()[0].trigger, "initial");
    } finally {
      await cp.close();
    }
    const none = await startControlPlane();
    try {
      await new Promise((r) => setTimeout(r, 60));
      assert.deepEqual(none.backups.list().map((b) => b.trigger), ["initial"], "no schedule unless asked");
    } finally {
      await none.close();
    }
  });
});

describe("control plane: restores with time progression and explicit nulls", () => {
  it("a restore job finishes on the clock like the others; empty source fields go out as null", async () => {
    const clock = new ManualClock();
    const cp = await startControlPlane({ now: clock.now, jobProgression: "time", jobDurationsMs: { restore: 5000 }, explicitNulls: true });
    try {
      const api = apiClient(cp);
      const created = await api.post(`/v1/projects/${cp.projectId}/preview-databases`, { name: "plain" });
      assert.equal(created.body.preview.source_kind, null);
      assert.equal(created.body.preview.source_backup_key, null);
      const res = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", backup_key: cp.backups.list()[0].key });
      assert.equal(res.body.job.preview_database_id, null);
      clock.advance(4999);
      assert.equal((await api.get(`/v1/jobs/${res.body.job.id}`)).body.job.state, "running");
      clock.advance(1);
      const done = (await api.get(`/v1/jobs/${res.body.job.id}`)).body.job;
      assert.equal(done.state, "completed");
      assert.match(done.preview_database_id, /^pvw_/);
    } finally {
      await cp.close();
    }
  });
});

describe("control plane: backup and restore-point admin routes (/_capydb_local)", () => {
  let cp: ControlPlane;
  beforeEach(async () => {
    cp = await startControlPlane();
  });
  afterEach(() => cp.close());

  const admin = (method: "GET" | "POST", path: string, json?: unknown) => call(cp.url, method, `/_capydb_local${path}`, { json });

  it("lists and takes backups, makes restore points, reports the window", async () => {
    const taken = await admin("POST", "/backups", {});
    assert.equal(taken.status, 201);
    assert.equal(taken.body.backup.trigger, "manual");
    const listed = await admin("GET", `/backups?projectId=${cp.projectId}`);
    assert.deepEqual(listed.body.backups.map((b: { key: string }) => b.key), [cp.backups.list()[0].key, taken.body.backup.key]);

    const point = await admin("POST", "/restore-points", { name: "release-1" });
    assert.equal(point.status, 201);
    assert.equal(point.body.restore_point.name, "release-1");
    assert.deepEqual((await admin("GET", "/restore-points")).body.restore_points, [point.body.restore_point]);

    const window = (await admin("GET", "/restore-window")).body.window;
    assert.equal(window.earliest, cp.backups.list()[0].takenAt);
    assert.ok(window.latest >= window.earliest);

    assert.equal((await admin("GET", "/backups?projectId=prj_nope")).status, 400);
    assert.equal((await admin("POST", "/backups/schedule", { everyMs: "often" })).status, 400);
    assert.equal((await admin("POST", "/sources/query", { sql: "SELECT 1" })).status, 400, "the memory backend has no data");
  });

  it("job fault switches take the restore kind over HTTP", async () => {
    assert.equal((await admin("POST", "/jobs/fail-next", { kind: "restore", error: "over http" })).status, 200);
    const api = apiClient(cp);
    const res = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", backup_key: cp.backups.list()[0].key });
    const done = await pollJob(api, res.body.job.id);
    assert.equal(done.state, "failed");
    assert.equal(done.error, "over http");
  });

  it("withhold-preview-id-next over HTTP", async () => {
    assert.equal((await admin("POST", "/restores/withhold-preview-id-next")).status, 200);
    const api = apiClient(cp);
    const res = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", backup_key: cp.backups.list()[0].key });
    const done = await pollJob(api, res.body.job.id);
    assert.equal("preview_database_id" in done, false);
  });

  it("a backup schedule takes backups of every project until switched off", async () => {
    const other = await cp.createProject({ name: "other" });
    assert.equal((await admin("POST", "/backups/schedule", { everyMs: 20 })).status, 200);
    const scheduled = (id: string) => cp.backups.list(id).filter((b) => b.trigger === "scheduled").length;
    while (scheduled(cp.projectId) < 2 || scheduled(other) < 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await admin("POST", "/backups/schedule", { everyMs: null })).status, 200);
    await new Promise((r) => setTimeout(r, 30)); // a backup already under way may still land
    const stopped = scheduled(cp.projectId);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(scheduled(cp.projectId), stopped, "no backup after the schedule is off");
  });
});
