import { strict as assert } from "assert";
import { Client } from "pg";
import { createProvider } from "../../provider";
import { ControlPlane, startControlPlane } from "../control-plane";

// End to end on real databases: the provider against the local control plane's Postgres backend.
async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function loginError(url: string): Promise<string | undefined> {
  return query(url, "select 1").then(() => undefined, (e: Error & { code?: string }) => e.code ?? e.message);
}

describe("end to end on real Postgres (provider → local control plane → embedded Postgres)", function () {
  this.timeout(90_000);
  let cp: ControlPlane;
  let provider: ReturnType<typeof createProvider>;
  const sink: string[] = [];

  before(async () => {
    cp = await startControlPlane({ backend: "postgres" });
    provider = createProvider({ sink: (l) => sink.push(l), env: {} });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
  });
  after(async () => {
    await cp?.close();
  });

  async function create(name: string, mode: "clone" | "empty") {
    const { inputs } = await provider.check({}, { projectId: cp.projectId, name, mode, __provider: "shim" });
    return { inputs, ...(await provider.create(inputs)) };
  }

  it("creates a clone that logs in on both URLs, resets it, and deletes database and role", async () => {
    const { id, outs, inputs } = await create("e2e-clone", "clone");
    const direct = String(outs.directUrl);
    const pooled = String(outs.pooledUrl);
    assert.notEqual(new URL(direct).port, new URL(pooled).port, "pooled port differs from direct port");

    const cloned = (await query(direct, "select count(*)::int as n from customers")) as { n: number }[];
    assert.ok(cloned[0].n > 0, "the clone holds the project's data");
    await query(direct, "create table notes (body text); insert into notes values ('written on the preview')");
    const viaPool = (await query(pooled, "select body from notes")) as { body: string }[];
    assert.deepEqual(viaPool.map((r) => r.body), ["written on the preview"]);

    const { inputs: news } = await provider.check(inputs, { ...inputs, resetTrigger: "1" });
    const { outs: after } = await provider.update(id, outs, news);
    assert.notEqual(after.password, outs.password, "credentials rotate on reset");
    assert.ok(await loginError(direct), "the old password no longer logs in");
    const tables = (await query(String(after.directUrl), "select count(*)::int as n from pg_tables where tablename = 'notes'")) as { n: number }[];
    assert.equal(tables[0].n, 0, "reset re-cloned: the table written on the preview is gone");
    const again = (await query(String(after.pooledUrl), "select count(*)::int as n from customers")) as { n: number }[];
    assert.equal(again[0].n, cloned[0].n, "and the project's data is back");

    await provider.delete(id, after);
    assert.deepEqual(cp.previews.live(), []);
    assert.ok(await loginError(String(after.directUrl)), "database and role are gone");
  });

  it("creates an empty preview with no project data", async () => {
    const { id, outs } = await create("e2e-empty", "empty");
    const rows = (await query(String(outs.directUrl), "select count(*)::int as n from pg_tables where schemaname = 'public'")) as { n: number }[];
    assert.equal(rows[0].n, 0);
    await provider.delete(id, outs);
    assert.ok(await loginError(String(outs.pooledUrl)));
  });
});
