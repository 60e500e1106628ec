import { strict as assert } from "assert";
import { Client } from "pg";
import { createProvider } from "../../provider";
import { ControlPlane, PROVIDER_SCOPES, startControlPlane } from "../control-plane";

// Issue 17.1 on real data: the provider's `source` against the control plane's Postgres backend, whose
// restores are real point-in-time recoveries (test/conformance/restores-postgres.test.ts). With the default
// readiness ("login"), create returns only once both URLs log in.
async function names(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query<{ name: string }>("SELECT name FROM customers ORDER BY id")).rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("source on real Postgres: the preview holds the rows of the chosen moment", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let provider: ReturnType<typeof createProvider>;
  const lines: string[] = [];

  before(async () => {
    cp = await startControlPlane({ backend: "postgres" });
    const key = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    provider = createProvider({ sink: (l) => lines.push(l), env: {} });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": key, "capydb:apiUrl": cp.url })[k] } });
  });
  after(async () => {
    await cp?.close();
  });

  const insert = (name: string) => cp.sources.query(`INSERT INTO customers (name, email) VALUES ('${name}', '${name}@example.com')`);
  async function created(name: string, source: Record<string, unknown>) {
    const { inputs, failures } = await provider.check({}, { __provider: "shim", projectId: cp.projectId, name, source });
    assert.equal(failures, undefined, JSON.stringify(failures));
    return provider.create(inputs);
  }

  it("restoreTime (spelled with an offset): rows written before it are in both URLs, rows after it are not; not clamped", async () => {
    await insert("before-nine");
    await sleep(20);
    const at = new Date();
    await sleep(20);
    await insert("after-nine");
    // The same instant, written as a +01:00 local time: check normalises it to UTC.
    const local = new Date(at.getTime() + 3_600_000).toISOString().replace("Z", "+01:00");
    const { id, outs } = await created("as-of-nine", { restoreTime: local });
    assert.equal(outs.restoreTimeClamped, false);
    assert.equal(outs.effectiveRestoreTime, at.toISOString());
    assert.equal(outs.sourceKind, "pitr");
    for (const url of [outs.directUrl, outs.pooledUrl]) {
      const rows = await names(String(url));
      assert.ok(rows.includes("before-nine"), `${rows}`);
      assert.ok(!rows.includes("after-nine"), `${rows}`);
    }
    assert.ok(!lines.join("\n").includes(String(outs.password)), "the password is in no log line");
    await provider.delete(id, outs);
  });

  it("a time after the latest restorable point: clamped, said once, and the preview holds the latest rows", async () => {
    await insert("latest-row");
    await sleep(5);
    const { id, outs } = await created("as-of-later", { restoreTime: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(outs.restoreTimeClamped, true);
    assert.equal(lines.filter((l) => l.includes("create as-of-later") && l.includes("clamped")).length, 1);
    assert.equal((await names(String(outs.directUrl))).at(-1), "latest-row");
    await provider.delete(id, outs);
  });

  it("backupKey: the rows of the backup's moment; destroy leaves nothing", async () => {
    await insert("in-backup");
    const backup = await cp.backups.take();
    await insert("after-backup");
    const { id, outs } = await created("from-backup", { backupKey: backup.key });
    assert.equal(outs.sourceBackupKey, backup.key);
    const rows = await names(String(outs.pooledUrl));
    assert.equal(rows.at(-1), "in-backup");
    assert.ok(!rows.includes("after-backup"));
    await provider.delete(id, outs);
    assert.deepEqual(cp.previews.live(), []);
  });
});
