// Restores on real Postgres: WAL archiving, base backups and point-in-time recovery of the embedded cluster
// (see wal-backups.ts). Each restored preview is served by its own postmaster; these tests read its rows.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { startEmbeddedPostgres } from "../control-plane/embedded-postgres";
import { postmasterOn } from "../helpers/postmaster";
import { apiClient, createReady, pollJob, query, type ApiClient } from "./helpers";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("control plane: restores on the postgres backend (WAL archive, base backups, point-in-time recovery)", function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let api: ApiClient;
  let mainPort: number;
  const restoredPorts: number[] = [];

  before(async () => {
    cp = await startControlPlane({ backend: "postgres", previewLimit: 20 });
    api = apiClient(cp);
    mainPort = (await api.get(`/v1/projects/${cp.projectId}`)).body.project.direct_port;
  });
  after(async () => {
    await cp?.close();
  });

  const insert = (name: string) => cp.sources.query(`INSERT INTO customers (name, email) VALUES ('${name}', '${name}@example.com')`);
  const names = async (url: string) => (await query<{ name: string }>(url, "SELECT name FROM customers ORDER BY id")).map((r) => r.name);

  /** Restores, waits for the job, and answers the preview (found by the job's preview_database_id) and its URLs. */
  async function restored(body: Record<string, unknown>) {
    const res = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", ...body });
    assert.equal(res.status, 202, res.text);
    const job = await pollJob(api, res.body.job.id);
    assert.equal(job.state, "completed", job.error);
    const preview = (await api.get(`/v1/projects/${cp.projectId}/preview-databases`)).body.preview_databases.find(
      (p: { id: string }) => p.id === job.preview_database_id,
    );
    assert.equal(preview.state, "ready");
    const connections = (await api.get(`/v1/preview-databases/${preview.id}/connections`)).body.connections;
    restoredPorts.push(preview.direct_port);
    return { preview, connections, pitr: res.body.pitr };
  }

  it("a backup key gives exactly the rows of the moment the backup was taken, through URLs that log in", async () => {
    await insert("before-backup");
    // A preview of the main cluster exists at backup time: its database and role must not come along.
    const bystander = await createReady(api, cp.projectId, { name: "bystander", mode: "clone" });
    assert.equal(bystander.job.state, "completed");
    const backup = await cp.backups.take();
    await insert("after-backup");
    const { preview, connections } = await restored({ backup_key: backup.key, preview_name: "from-backup" });

    assert.notEqual(preview.direct_port, mainPort, "served by its own postmaster");
    assert.notEqual(preview.pooled_port, preview.direct_port);
    assert.equal(new URL(connections.direct_url).port, String(preview.direct_port));
    for (const url of [connections.direct_url, connections.pooled_url]) {
      const rows = await names(url);
      assert.deepEqual(rows, ["Ada Lovelace", "Grace Hopper", "Alan Turing", "before-backup"]);
      const [{ me, db }] = await query<{ me: string; db: string }>(url, "SELECT current_user AS me, current_database() AS db");
      assert.equal(me, connections.username);
      assert.equal(db, preview.database_name);
    }
    // The role owns what it restored: it can write.
    await query(connections.direct_url, "INSERT INTO customers (name, email) VALUES ('mine', 'mine@example.com')");
    // Nothing of other databases or roles came along.
    const databases = await query<{ datname: string }>(connections.direct_url, "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1");
    assert.deepEqual(databases.map((d) => d.datname).sort(), ["postgres", preview.database_name].sort());
    const roles = await query<{ rolname: string }>(connections.direct_url, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'pv\\_%'");
    assert.deepEqual(roles.map((r) => r.rolname), [connections.username]);
    assert.equal(preview.source_kind, "backup");
    assert.equal(preview.source_backup_key, backup.key);
  });

  it("a restore time gives the rows committed up to that time: before it in, after it out (updates and deletes too)", async () => {
    await insert("before-time");
    await cp.sources.query("UPDATE customers SET name = 'Ada King' WHERE email = 'ada@example.com'");
    await sleep(20);
    const at = new Date(Date.now()).toISOString();
    await sleep(20);
    await insert("after-time");
    await cp.sources.query("DELETE FROM customers WHERE email = 'alan@example.com'");
    await cp.sources.query("UPDATE customers SET name = 'Grace B. Hopper' WHERE email = 'grace@example.com'");

    const { preview, connections, pitr } = await restored({ restore_time: at, preview_name: "at-time" });
    assert.deepEqual(pitr, { requested_restore_time: at, restore_time: at, restore_time_clamped: false });
    assert.equal(preview.source_kind, "pitr");
    assert.equal(preview.source_restore_time, at);
    assert.deepEqual(await names(connections.pooled_url), ["Ada King", "Grace Hopper", "Alan Turing", "before-backup", "after-backup", "before-time"]);
  });

  it("precision: a row is restored exactly when its commit time (µs) is at or before restore_time (ms)", async () => {
    // Sixty one-row transactions in one round trip, a few hundred microseconds apart: several per millisecond.
    const batch = Array.from(
      { length: 60 },
      (_, i) => `BEGIN; SELECT pg_sleep(0.0003); INSERT INTO customers (name, email) VALUES ('burst-${i}', 'burst-${i}@example.com'); COMMIT;`,
    );
    await cp.sources.query(batch.join(" "));
    const commits = await cp.sources.query(
      `SELECT name, (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::bigint::text AS us
       FROM customers WHERE name LIKE 'burst-%' ORDER BY id`,
    );
    const commitUs = commits.map((c) => ({ name: String(c.name), us: BigInt(String(c.us)) }));
    // A millisecond boundary inside the burst (the one just before the 31st commit).
    const atMs = Number(commitUs[30].us / 1000n);
    const expected = commitUs.filter((c) => c.us <= BigInt(atMs) * 1000n).map((c) => c.name);
    assert.ok(expected.length > 0 && expected.length < commitUs.length, "the chosen time splits the burst");
    const { connections } = await restored({ restore_time: new Date(atMs).toISOString(), preview_name: "precision" });
    const restoredBurst = (await names(connections.direct_url)).filter((n) => n.startsWith("burst-"));
    assert.deepEqual(restoredBurst, expected);
  });

  it("a restore point gives the rows of the moment it was made", async () => {
    await insert("before-point");
    const point = await cp.restores.createRestorePoint({ name: "before-release" });
    await insert("after-point");
    const { connections, preview } = await restored({ restore_point_id: point.id, preview_name: "at-point" });
    const rows = await names(connections.direct_url);
    assert.equal(rows.includes("before-point"), true);
    assert.equal(rows.includes("after-point"), false);
    assert.equal(rows.at(-1), "before-point");
    assert.equal(preview.source_restore_time, new Date(point.createdAt).toISOString());
  });

  it("a time later than the latest restorable point is clamped to the request's time, said in pitr; the data is the latest", async () => {
    await insert("latest");
    await sleep(5);
    const requested = new Date(Date.now() + 3_600_000).toISOString();
    const res = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", restore_time: requested, preview_name: "clamped" });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.pitr.requested_restore_time, requested);
    assert.equal(res.body.pitr.restore_time_clamped, true);
    assert.ok(Date.parse(res.body.pitr.restore_time) < Date.parse(requested));
    await sleep(5);
    // Written after the request: after the clamped time, so not in the restore.
    await insert("after-request");
    const job = await pollJob(api, res.body.job.id);
    assert.equal(job.state, "completed", job.error);
    const url = (await api.get(`/v1/preview-databases/${job.preview_database_id}/connections`)).body.connections.direct_url;
    restoredPorts.push(Number(new URL(url).port));
    const rows = await names(url);
    assert.equal(rows.at(-1), "latest");
    assert.equal(rows.includes("after-request"), false);
  });

  it("reset of a restored preview goes back to the restored rows, with a new password, on the same ports", async () => {
    const { preview, connections } = await restored({ restore_point_id: cp.restores.restorePoints()[0].id, preview_name: "reset-me" });
    await query(connections.direct_url, "DELETE FROM customers");
    const reset = await api.post(`/v1/preview-databases/${preview.id}/reset`);
    assert.equal((await pollJob(api, reset.body.job.id)).state, "completed");
    const after = (await api.get(`/v1/preview-databases/${preview.id}/connections`)).body.connections;
    assert.notEqual(new URL(after.direct_url).password, new URL(connections.direct_url).password);
    assert.equal(new URL(after.direct_url).port, new URL(connections.direct_url).port);
    assert.equal(new URL(after.pooled_url).port, new URL(connections.pooled_url).port);
    assert.equal((await names(after.pooled_url)).at(-1), "before-point");
    await assert.rejects(query(connections.direct_url, "SELECT 1"), /password authentication failed/);
  });

  it("logins.delayNext applies to a restore: the restored role logs in only after the delay", async () => {
    cp.logins.delayNext(Infinity);
    const { connections } = await restored({ backup_key: cp.backups.list()[0].key, preview_name: "late-login" });
    await assert.rejects(query(connections.direct_url, "SELECT 1"), /is not permitted to log in/);
  });

  it("delete stops the restored preview's postmaster and removes its data directory", async () => {
    const { preview, connections } = await restored({ backup_key: cp.backups.list()[0].key, preview_name: "delete-me" });
    const postmaster = postmasterOn(preview.direct_port);
    assert.ok(postmaster, "a postmaster serves the restored preview");
    assert.ok(existsSync(postmaster.dataDir));
    const del = await api.del(`/v1/preview-databases/${preview.id}`);
    assert.equal((await pollJob(api, del.body.job.id)).state, "completed");
    assert.equal(postmasterOn(preview.direct_port), undefined);
    assert.equal(existsSync(`/proc/${postmaster.pid}`), false);
    assert.equal(existsSync(postmaster.dataDir), false);
    await assert.rejects(query(connections.pooled_url, "SELECT 1"));
  });

  it("a restored preview the TTL reaper removes also loses its postmaster and folder", async () => {
    const { preview } = await restored({ backup_key: cp.backups.list()[0].key, preview_name: "expire-me" });
    const postmaster = postmasterOn(preview.direct_port);
    assert.ok(postmaster);
    cp.previews.expireNow(preview.id);
    // The reaper drops it in the background: wait for the postmaster to go, then for its folder.
    while (postmasterOn(preview.direct_port) || existsSync(postmaster.dataDir)) await sleep(50);
    assert.equal(cp.previews.list().find((p) => p.id === preview.id)?.deletedBy, "ttl");
  });

  it("a time before the first backup is refused with the window; the initial backup holds the seed rows", async () => {
    const first = cp.backups.list()[0];
    const early = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", restore_time: new Date(first.takenAt - 60_000).toISOString() });
    assert.equal(early.status, 400);
    assert.match(early.body.error, /is before the earliest restorable point: restorable window is /);
    const { connections } = await restored({ restore_time: new Date(first.takenAt).toISOString(), preview_name: "seed" });
    assert.deepEqual(await names(connections.direct_url), ["Ada Lovelace", "Grace Hopper", "Alan Turing"]);
  });

  it("sources.query runs in the project's source database and answers the last statement's rows", async () => {
    const rows = await cp.sources.query("SELECT 1; SELECT count(*)::int AS n FROM customers WHERE name = 'latest'");
    assert.deepEqual(rows, [{ n: 1 }]);
  });

  it("close() leaves no restored postmaster, no restored data directory, no WAL archive", async () => {
    const live = restoredPorts.map((port) => postmasterOn(port)).filter((p) => p !== undefined);
    assert.ok(live.length >= 3, "restored previews are still served");
    const main = postmasterOn(mainPort)!;
    const archiveSetting = readFileSync(`/proc/${main.pid}/cmdline`, "utf8").split("\0").find((arg) => arg.startsWith("archive_command="));
    const archiveDir = /cp %p (\S+)\/%f$/.exec(archiveSetting ?? "")?.[1];
    assert.ok(archiveDir && existsSync(archiveDir), "the cluster archives its WAL");
    const segments = readdirSync(archiveDir).filter((f) => /^[0-9A-F]{24}$/.test(f));
    assert.ok(segments.length > 0);
    for (const segment of segments) assert.equal(statSync(`${archiveDir}/${segment}`).size, 1024 * 1024, "1 MB WAL segments");
    await cp.close();
    for (const port of [mainPort, ...restoredPorts]) assert.equal(postmasterOn(port), undefined, `nothing serves port ${port}`);
    for (const postmaster of live) assert.equal(existsSync(postmaster.dataDir), false, postmaster.dataDir);
    assert.equal(existsSync(archiveDir), false, "the WAL archive is removed");
  });
});

describe("control plane: restores on a server given by postgresUrl", function () {
  this.timeout(60_000);

  it("fails the restore job saying restores need the embedded Postgres, and leaves the preview failed and listed", async () => {
    const server = await startEmbeddedPostgres();
    try {
      const cp = await startControlPlane({ backend: "postgres", postgresUrl: `postgres://${server.user}:${server.password}@${server.host}:${server.port}/postgres` });
      try {
        const api = apiClient(cp);
        const res = await api.post(`/v1/projects/${cp.projectId}/restores`, { target_kind: "new_preview", backup_key: cp.backups.list()[0].key, preview_name: "ext" });
        assert.equal(res.status, 202);
        const job = await pollJob(api, res.body.job.id);
        assert.equal(job.state, "failed");
        assert.equal(job.error, "project.restore failed: restores need the embedded Postgres: a server given by postgresUrl has no WAL archive here");
        const [preview] = (await api.get(`/v1/projects/${cp.projectId}/preview-databases`)).body.preview_databases;
        assert.equal(preview.state, "failed");
      } finally {
        await cp.close();
      }
    } finally {
      await server.stop();
    }
  });
});
