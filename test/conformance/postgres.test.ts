import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { startEmbeddedPostgres, type PostgresServer } from "../control-plane/embedded-postgres";
import { postmasterOn } from "../helpers/postmaster";
import { apiClient, createReady, query, type ApiClient } from "./helpers";

describe("control plane: postgres backend (embedded-postgres)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let api: ApiClient;

  before(async () => {
    cp = await startControlPlane({ backend: "postgres" });
    api = apiClient(cp);
  });
  after(async () => {
    await cp?.close();
  });

  const connections = async (id: string) => (await api.get(`/v1/preview-databases/${id}/connections`)).body.connections;

  it("creates real clone and empty previews whose direct and pooled URLs log in", async () => {
    const clone = await createReady(api, cp.projectId, { name: "pg-clone", mode: "clone" });
    const empty = await createReady(api, cp.projectId, { name: "pg-empty", mode: "empty" });
    assert.equal(clone.job.state, "completed", clone.job.error);
    assert.equal(empty.job.state, "completed", empty.job.error);
    assert.equal(clone.preview.ssl_mode, "disable");
    assert.equal(clone.preview.public_host, "127.0.0.1");
    assert.notEqual(clone.preview.pooled_port, clone.preview.direct_port);

    const cloneConn = await connections(clone.id);
    assert.equal(new URL(cloneConn.direct_url).port, String(clone.preview.direct_port));
    assert.equal(new URL(cloneConn.pooled_url).port, String(clone.preview.pooled_port));
    for (const url of [cloneConn.direct_url, cloneConn.pooled_url]) {
      const rows = await query<{ name: string; me: string }>(url, "SELECT name, current_user AS me FROM customers ORDER BY id");
      assert.deepEqual(rows.map((r) => r.name), ["Ada Lovelace", "Grace Hopper", "Alan Turing"]);
      assert.equal(rows[0].me, cloneConn.username);
    }
    // The clone belongs to the preview's role: it can write, not only read.
    await query(cloneConn.direct_url, "INSERT INTO customers (name, email) VALUES ('Edsger Dijkstra', 'ewd@example.com')");

    const emptyConn = await connections(empty.id);
    for (const url of [emptyConn.direct_url, emptyConn.pooled_url]) {
      const tables = await query<{ n: string }>(url, "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = 'public'");
      assert.deepEqual(tables, [{ n: "0" }]);
    }
    await query(emptyConn.pooled_url, "CREATE TABLE scratch (id int)");

    // A preview's role cannot reach another preview's database.
    const foreign = new URL(cloneConn.direct_url);
    foreign.pathname = `/${empty.preview.database_name}`;
    await assert.rejects(query(foreign.toString(), "SELECT 1"), /permission denied/);
  });

  it("reset re-clones the data and rotates the password; delete drops database and role", async () => {
    const { id, preview } = await createReady(api, cp.projectId, { name: "pg-reset", mode: "clone" });
    const before = await connections(id);
    await query(before.direct_url, "DELETE FROM customers");

    const reset = await api.post(`/v1/preview-databases/${id}/reset`);
    assert.equal(reset.status, 202);
    await api.get(`/v1/jobs/${reset.body.job.id}`);
    const resetJob = (await api.get(`/v1/jobs/${reset.body.job.id}`)).body.job;
    assert.equal(resetJob.state, "completed", resetJob.error);

    const after = await connections(id);
    assert.notEqual(new URL(after.direct_url).password, new URL(before.direct_url).password);
    await assert.rejects(query(before.direct_url, "SELECT 1"), /password authentication failed/);
    const rows = await query<{ n: string }>(after.pooled_url, "SELECT count(*)::text AS n FROM customers");
    assert.deepEqual(rows, [{ n: "3" }]);

    const del = await api.del(`/v1/preview-databases/${id}`);
    await api.get(`/v1/jobs/${del.body.job.id}`);
    assert.equal((await api.get(`/v1/jobs/${del.body.job.id}`)).body.job.state, "completed");
    await assert.rejects(query(after.direct_url, "SELECT 1"), /password authentication failed|does not exist/);

    // Ask the server itself, as its superuser, through a preview that still exists.
    const witness = await createReady(api, cp.projectId, { name: "pg-witness", mode: "empty" });
    const witnessUrl = (await connections(witness.id)).direct_url;
    const leftovers = await query<{ kind: string }>(
      witnessUrl,
      `SELECT 'database' AS kind FROM pg_database WHERE datname = '${preview.database_name}'
       UNION ALL SELECT 'role' FROM pg_roles WHERE rolname = '${preview.role_name}'`,
    );
    assert.deepEqual(leftovers, []);
  });

  it("close() stops postgres and removes its data directory", async () => {
    const port = (await api.get(`/v1/projects/${cp.projectId}`)).body.project.direct_port;
    const postmaster = postmasterOn(port);
    assert.ok(postmaster, `a postgres serves port ${port}`);
    assert.ok(existsSync(postmaster.dataDir));
    await cp.close();
    assert.equal(postmasterOn(port), undefined);
    assert.equal(existsSync(`/proc/${postmaster.pid}`), false, "the postmaster process is gone");
    assert.equal(existsSync(postmaster.dataDir), false, "the data directory is removed");
  });
});

describe("control plane: postgres backend on an existing server (postgresUrl)", function () {
  this.timeout(30_000);
  let server: PostgresServer;
  let superuserUrl: string;

  before(async () => {
    server = await startEmbeddedPostgres();
    superuserUrl = `postgres://${server.user}:${server.password}@${server.host}:${server.port}/postgres`;
  });
  after(() => server?.stop());

  const leftovers = () =>
    query<{ name: string }>(
      superuserUrl,
      `SELECT datname AS name FROM pg_database WHERE datname LIKE 'pv\\_%' OR datname LIKE 'capydb\\_%'
       UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'pv\\_%' OR rolname LIKE 'capydb\\_%'`,
    );

  it("works against the given server and drops every database and role it made on close()", async () => {
    const cp = await startControlPlane({ backend: "postgres", postgresUrl: superuserUrl });
    try {
      const api = apiClient(cp);
      const project = (await api.get(`/v1/projects/${cp.projectId}`)).body.project;
      assert.equal(project.direct_port, server.port);
      const clone = await createReady(api, cp.projectId, { name: "ext-clone", mode: "clone" });
      assert.equal(clone.job.state, "completed", clone.job.error);
      const url = (await api.get(`/v1/preview-databases/${clone.id}/connections`)).body.connections.pooled_url;
      assert.deepEqual(await query(url, "SELECT count(*)::int AS n FROM customers"), [{ n: 3 }]);
      assert.ok((await leftovers()).length >= 4, "preview db + role, source db + owner role exist while running");
    } finally {
      await cp.close();
    }
    assert.deepEqual(await leftovers(), []);
  });
});
