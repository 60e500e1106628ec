import { strict as assert } from "assert";
import { request } from "undici";
import { createProvider } from "../../provider";
import { planDiff } from "../../provider/diff";
import { checkInputs } from "../../provider/inputs";
import { restoreBody } from "../../provider/operations/restore";
import { classifyNamesake } from "../../provider/operations/names";
import { isPendingCreateId } from "../../provider/operations/pending-create";
import { SECRET_OUTPUTS } from "../../provider/secret-outputs";
import { normalizeRestoreTime } from "../../provider/source";
import { UNKNOWN } from "../../provider/unknown";
import { ControlPlane, PROVIDER_SCOPES, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";
import { apiPreview } from "../helpers/fixtures";

// Issue 17.1: `source`, a preview restored from a backup, a restore point or a point in time (E11).
// The pure rules (check, diff, the request body), then the provider against the memory control plane,
// whose restores keep the bookkeeping (catalog, window, clamping, provenance) without data.
type Props = Record<string, unknown>;
type Provider = ReturnType<typeof createProvider>;

const base = { __provider: "shim", projectId: "prj_1", name: "pr-1" };
const failuresOf = (news: Props) => checkInputs({}, { ...base, ...news }).failures;

describe("source: check (before any API call)", () => {
  it("accepts exactly one of backupKey, restorePointId or restoreTime", () => {
    for (const source of [{ backupKey: "bkp_1" }, { restorePointId: "rp_1" }, { restoreTime: "2026-11-30T09:00:00Z" }]) {
      const { inputs, failures } = checkInputs({}, { ...base, source });
      assert.deepEqual(failures, [], JSON.stringify(source));
      assert.deepEqual(inputs.source, source);
    }
  });

  it("refuses none, two, an unknown key, a non-string, naming the field and the fix", () => {
    const none = failuresOf({ source: {} });
    assert.equal(none[0].property, "source");
    assert.match(none[0].reason, /exactly one of backupKey, restorePointId or restoreTime.*names none.*Remove `source`/);
    const two = failuresOf({ source: { backupKey: "bkp_1", restoreTime: "2026-11-30T09:00:00Z" } });
    assert.equal(two[0].property, "source");
    assert.match(two[0].reason, /names backupKey and restoreTime\. Keep the one to restore from/);
    const typo = failuresOf({ source: { backupkey: "bkp_1" } });
    assert.equal(typo[0].property, "source.backupkey");
    assert.match(typo[0].reason, /not a restore source; use exactly one of backupKey/);
    const number = failuresOf({ source: { restorePointId: 7 } });
    assert.deepEqual(number.map((f) => f.property), ["source.restorePointId"]);
    assert.match(number[0].reason, /non-empty string, got number 7/);
    const notObject = failuresOf({ source: "bkp_1" });
    assert.equal(notObject[0].property, "source");
    assert.match(notObject[0].reason, /must be an object.*\{ backupKey: "bkp_…" \}/);
  });

  it("refuses a restoreTime that is not RFC 3339 with a zone, or names a time that does not exist", () => {
    for (const bad of ["2026-11-30", "2026-11-30T09:00:00", "30/11/2026 09:00", "2026-02-30T09:00:00Z", "2026-11-30T24:00:00Z", "2026-11-30T09:00:00+25:00", "yesterday"]) {
      const failures = failuresOf({ source: { restoreTime: bad } });
      assert.deepEqual(failures.map((f) => f.property), ["source.restoreTime"], bad);
      assert.match(failures[0].reason, /RFC 3339 date-time with a time zone, such as "2026-11-30T09:00:00Z"/);
    }
  });

  it("normalises restoreTime to UTC, keeping the fraction given, so two spellings of one instant are one value", () => {
    assert.equal(normalizeRestoreTime("2026-11-30T10:00:00+01:00"), "2026-11-30T09:00:00Z");
    assert.equal(normalizeRestoreTime("2026-11-30t09:00:00.250z"), "2026-11-30T09:00:00.25Z");
    assert.equal(normalizeRestoreTime("2026-11-30 09:00:00.123456789Z"), "2026-11-30T09:00:00.123456789Z");
    assert.equal(normalizeRestoreTime("2026-12-31T23:30:00-01:00"), "2027-01-01T00:30:00Z");
    assert.equal(normalizeRestoreTime("2026-11-30T09:00:00.000Z"), "2026-11-30T09:00:00Z");
    const { inputs } = checkInputs({}, { ...base, source: { restoreTime: "2026-11-30T10:00:00+01:00" } });
    assert.deepEqual(inputs.source, { restoreTime: "2026-11-30T09:00:00Z" });
  });

  it('refuses mode "empty" with a source; passes unknown values through during preview', () => {
    const failures = failuresOf({ mode: "empty", source: { backupKey: "bkp_1" } });
    assert.equal(failures[0].property, "mode");
    assert.match(failures[0].reason, /cannot be combined with `source`/);
    assert.deepEqual(failuresOf({ source: UNKNOWN }), []);
    assert.deepEqual(failuresOf({ source: { restoreTime: UNKNOWN } }), []);
  });

  it("the restore request carries target_kind new_preview, the preview's name, ttl_hours and the one source field", () => {
    const { inputs } = checkInputs({}, { ...base, ttlHours: 6, source: { restoreTime: "2026-11-30T10:00:00+01:00" } });
    assert.deepEqual(restoreBody(inputs as never), { target_kind: "new_preview", preview_name: "pr-1", ttl_hours: 6, restore_time: "2026-11-30T09:00:00Z" });
    const byKey = checkInputs({}, { ...base, source: { backupKey: "bkp_9" } }).inputs;
    assert.deepEqual(restoreBody(byKey as never), { target_kind: "new_preview", preview_name: "pr-1", ttl_hours: 24, backup_key: "bkp_9" });
  });
});

describe("source: diff", () => {
  const olds = { projectId: "prj_1", name: "pr-1", mode: "clone", ttlHours: 24, source: { backupKey: "bkp_1" }, resetTrigger: "1" };
  const diff = (news: Props, from: Props = olds) => planDiff(from, { ...from, ...news }, Date.now()).result;

  it("a change of source (or adding or removing one) replaces, deleting the old preview first", () => {
    for (const news of [{ source: { backupKey: "bkp_2" } }, { source: { restoreTime: "2026-11-30T09:00:00Z" } }, { source: undefined }]) {
      const r = diff(news);
      assert.deepEqual(r.replaces, ["source"], JSON.stringify(news));
      assert.equal(r.deleteBeforeReplace, true);
    }
    const { source: _gone, ...plain } = olds;
    assert.deepEqual(diff({ source: { backupKey: "bkp_1" } }, plain).replaces, ["source"]);
  });

  it("the same instant spelled another way (normalised by check) is no change", () => {
    const from = { ...olds, source: checkInputs({}, { ...base, source: { restoreTime: "2026-11-30T10:00:00+01:00" } }).inputs.source };
    const news = checkInputs({}, { ...base, source: { restoreTime: "2026-11-30T09:00:00.000Z" } }).inputs.source;
    assert.equal(diff({ source: news }, from).changes, false);
  });

  it("resetTrigger on a restored preview replaces it (a new restore from the same source); removing it does nothing", () => {
    const changed = diff({ resetTrigger: "2" });
    assert.deepEqual(changed.replaces, ["resetTrigger"]);
    assert.equal(changed.deleteBeforeReplace, true);
    const { resetTrigger: _t, ...untriggered } = olds;
    assert.deepEqual(diff({ resetTrigger: "1" }, untriggered).replaces, ["resetTrigger"], "a first trigger too");
    assert.deepEqual(diff({ resetTrigger: UNKNOWN }).replaces, ["resetTrigger"], "unknown during preview: the worst case");
    assert.deepEqual(diff({ resetTrigger: undefined }).replaces, [], "removed: no reset, no replacement");
    const { source: _s, ...plain } = olds;
    assert.deepEqual(diff({ resetTrigger: "2" }, plain).replaces, [], "without source: an in-place reset, as before");
  });
});

describe("source: the ownership rule of a restore whose answer was lost", () => {
  it("judges a restored namesake by its backup key, not its mode", () => {
    const sentAt = Date.parse("2026-11-27T12:00:00Z");
    const namesake = apiPreview({ name: "pr-1", mode: "clone", created_at: "2026-11-27T12:00:01Z", source_backup_key: "bkp_1" });
    const evidence = { unknownCreateSentAt: sentAt };
    assert.equal(classifyNamesake(namesake, { mode: "clone", source: { backupKey: "bkp_1" } }, evidence), "ours");
    assert.equal(classifyNamesake(namesake, { mode: "clone", source: { backupKey: "bkp_2" } }, evidence), "foreign");
    assert.equal(classifyNamesake({ ...namesake, mode: "something-new" }, { mode: "clone", source: { backupKey: "bkp_1" } }, evidence), "ours");
  });
});

describe("source: create through the restore endpoint (memory control plane)", function () {
  this.timeout(30_000);
  let cp: ControlPlane;
  let clock: FakeClock;
  let lines: string[];
  let restoreKey: string;

  beforeEach(async () => {
    clock = new FakeClock(Date.now());
    cp = await startControlPlane({ now: () => clock.now() });
    lines = [];
    restoreKey = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
  });
  afterEach(async () => {
    await cp.close();
  });

  async function newProvider(apiKey = restoreKey): Promise<Provider> {
    const p = createProvider({ clock, sink: (l) => lines.push(l), env: { CAPYDB_READINESS: "job" } });
    await p.configure({ config: { get: (k: string) => ({ "capydb:apiKey": apiKey, "capydb:apiUrl": cp.url })[k] } });
    return p;
  }
  async function checked(p: Provider, news: Props, olds: Props = {}) {
    const result = await p.check(olds, { __provider: "shim", projectId: cp.projectId, name: "pr-restore", ...news });
    assert.equal(result.failures, undefined, JSON.stringify(result.failures));
    return result.inputs;
  }
  const count = (method: string, re: RegExp) => cp.requests().filter((r) => r.method === method && re.test(r.path) && r.fault !== "applied-late").length;
  const restores = () => count("POST", /\/restores$/);
  /** Everything the provider said, for the secrets rule. */
  const noSecretIn = async (texts: string[]) => {
    const haystack = [...texts, ...lines].join("\n");
    const secrets = [cp.apiKey, restoreKey, cp.projectScopedKey];
    for (const p of cp.previews.live()) {
      const res = await request(`${cp.url}/v1/preview-databases/${p.id}/connections`, { headers: { authorization: `Bearer ${cp.apiKey}` } });
      const url = ((await res.body.json()) as { connections?: { direct_url?: string } }).connections?.direct_url;
      if (url) secrets.push(decodeURIComponent(new URL(url).password));
    }
    for (const s of secrets) assert.ok(!haystack.includes(s), `secret leaked (${s.slice(0, 10)}…)`);
  };
  const nonSecret = (outs: Props) => JSON.stringify(Object.fromEntries(Object.entries(outs).filter(([k]) => !(SECRET_OUTPUTS as readonly string[]).includes(k))));

  it("from a backup key: one restore, the preview's provenance in the outputs, kept by refresh and update; destroy leaves nothing", async () => {
    const provider = await newProvider();
    const backup = await cp.backups.take();
    const inputs = await checked(provider, { ttlHours: 5, source: { backupKey: backup.key } });
    const { id, outs } = await provider.create(inputs);
    assert.equal(restores(), 1);
    assert.equal(count("POST", /preview-databases$/), 0, "no clone was created");
    const preview = cp.previews.live().find((p) => p.id === id)!;
    assert.equal(preview.name, "pr-restore");
    assert.equal(preview.sourceBackupKey, backup.key);
    assert.equal(preview.ttlExpiresAt - preview.createdAt, 5 * 3_600_000, "ttl_hours was sent");
    assert.equal(outs.sourceKind, "backup");
    assert.equal(outs.sourceBackupKey, backup.key);
    assert.equal(outs.sourceRestoreTime, null);
    assert.equal(outs.restoreTimeClamped, null, "null without a restoreTime source");
    assert.equal(outs.effectiveRestoreTime, null);
    assert.deepEqual(outs.source, { backupKey: backup.key });
    assert.equal(outs.state, "ready");
    assert.ok(typeof outs.directUrl === "string" && typeof outs.pooledUrl === "string");
    assert.equal(outs.lastJobId, cp.jobs.list().find((j) => j.kind === "restore")!.id);

    const read = await provider.read(id, outs);
    assert.equal(read.props.sourceBackupKey, backup.key);
    assert.equal(read.props.sourceKind, "backup");
    const updated = await provider.update(id, outs, await checked(provider, { ttlHours: 6, source: { backupKey: backup.key } }, inputs));
    assert.equal(updated.outs.sourceBackupKey, backup.key);
    assert.equal(restores(), 1, "an update never restores");

    await provider.delete(id, updated.outs);
    assert.deepEqual(cp.previews.live(), []);
    await noSecretIn([nonSecret(outs), nonSecret(read.props), nonSecret(updated.outs)]);
  });

  it("from a time later than the latest restorable point: clamped, reported in the outputs and in one line, kept by refresh and update", async () => {
    const provider = await newProvider();
    clock.advance(60_000);
    const asked = new Date(clock.now() + 3_600_000).toISOString().replace(/\.000Z$/, "Z");
    const inputs = await checked(provider, { source: { restoreTime: asked } });
    const { id, outs } = await provider.create(inputs);
    const used = cp.previews.live().find((p) => p.id === id)!.sourceRestoreTime!;
    assert.ok(used < Date.parse(asked));
    assert.equal(outs.restoreTimeClamped, true);
    assert.equal(outs.effectiveRestoreTime, new Date(used).toISOString());
    assert.equal(outs.sourceKind, "pitr");
    assert.equal(outs.sourceRestoreTime, new Date(used).toISOString());
    const said = lines.filter((l) => /clamped/.test(l));
    assert.equal(said.length, 1, lines.join("\n"));
    assert.ok(said[0].includes(asked) && said[0].includes(new Date(used).toISOString()), said[0]);

    const read = await provider.read(id, outs);
    assert.equal(read.props.restoreTimeClamped, true);
    assert.equal(read.props.effectiveRestoreTime, outs.effectiveRestoreTime);
    const updated = await provider.update(id, read.props, await checked(provider, { ttlHours: 3, source: { restoreTime: asked } }, inputs));
    assert.equal(updated.outs.restoreTimeClamped, true);
    assert.equal(updated.outs.effectiveRestoreTime, outs.effectiveRestoreTime);
    await noSecretIn([nonSecret(outs), nonSecret(read.props), nonSecret(updated.outs)]);
  });

  it("an answer without pitr: the clamp is judged from the preview's restore time, said in one line, and a refresh of state without it fills it", async () => {
    const provider = await newProvider();
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/restores`, rewrite: (b) => ({ job: (b as { job: unknown }).job }) });
    const asked = new Date(clock.now() + 3_600_000).toISOString();
    const { id, outs } = await provider.create(await checked(provider, { source: { restoreTime: asked } }));
    assert.equal(outs.restoreTimeClamped, true);
    assert.equal(outs.effectiveRestoreTime, outs.sourceRestoreTime);
    assert.equal(lines.filter((l) => /clamped/.test(l)).length, 1, lines.join("\n"));
    const { restoreTimeClamped: _c, effectiveRestoreTime: _e, ...older } = outs;
    const read = await provider.read(id, older);
    assert.equal(read.props.restoreTimeClamped, true);
    assert.equal(read.props.effectiveRestoreTime, outs.sourceRestoreTime);
  });

  it("from a time inside the window: restored to that very time, not clamped, no clamp line", async () => {
    const provider = await newProvider();
    clock.advance(10 * 60_000);
    const asked = new Date(clock.now() - 5 * 60_000);
    const { outs } = await provider.create(await checked(provider, { source: { restoreTime: asked.toISOString() } }));
    assert.equal(outs.restoreTimeClamped, false);
    assert.equal(outs.effectiveRestoreTime, asked.toISOString());
    assert.ok(!lines.some((l) => /clamped/.test(l)), lines.join("\n"));
  });

  it("from a restore point, whose job withholds preview_database_id: the new preview is found by name", async () => {
    const provider = await newProvider();
    const point = await cp.restores.createRestorePoint();
    cp.restores.withholdPreviewIdNext();
    const { id, outs } = await provider.create(await checked(provider, { source: { restorePointId: point.id } }));
    assert.equal(cp.previews.live().find((p) => p.name === "pr-restore")!.id, id);
    assert.equal(outs.sourceKind, "pitr");
    assert.equal(restores(), 1);
  });

  it("an unknown backup key: a clear error naming source.backupKey, one request, nothing created", async () => {
    const provider = await newProvider();
    const error = await provider.create(await checked(provider, { source: { backupKey: "bkp_nope" } })).then(() => undefined, (e: Error & { id?: string }) => e);
    assert.ok(error instanceof Error && !(error as { id?: string }).id, String(error));
    assert.match(error.message, /Restoring preview "pr-restore" from source\.backupKey "bkp_nope" was refused: .*HTTP 400.*matches no backup/);
    assert.match(error.message, /Check `source\.backupKey`: it must name a backup of this project[\s\S]*Nothing was created/);
    assert.equal(restores(), 1);
    assert.deepEqual(cp.previews.live(), []);
  });

  it("a restore refused at the plan's preview limit (403): CapyDB's message and both likely causes, nothing created", async () => {
    await cp.close();
    cp = await startControlPlane({ now: () => clock.now(), previewLimit: 1 });
    restoreKey = cp.createApiKey({ scopes: [...PROVIDER_SCOPES, "backups:write"], projectId: cp.projectId });
    const provider = await newProvider();
    await provider.create(await checked(provider, { name: "pr-first" }));
    const error = await provider.create(await checked(provider, { source: { backupKey: cp.backups.list()[0].key } })).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /was refused: .*HTTP 403: preview limit reached for this plan[\s\S]*may lack `backups:write`[\s\S]*preview limit is reached[\s\S]*Nothing was created/);
    assert.equal(cp.previews.live().length, 1);
  });

  it("a key without backups:write: fails before the restore is sent, naming the scope; a create without source does not ask for it", async () => {
    const provider = await newProvider(cp.projectScopedKey);
    const error = await provider.create(await checked(provider, { source: { backupKey: "bkp_1" } })).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /lacks the scope `backups:write` that preview "pr-restore" needs[\s\S]*because the preview has a `source`/);
    assert.equal(restores(), 0, "nothing sent");
    const { outs } = await provider.create(await checked(provider, { name: "pr-plain" }));
    assert.equal(outs.state, "ready", "the same key creates an ordinary preview");
    await noSecretIn([String(error?.message), String(error?.stack)]);
  });

  it("a failed restore job: its preview is deleted, CapyDB's reason reported, redacted", async () => {
    const provider = await newProvider();
    const planted = "planted-Restore-Pa55-71c";
    cp.jobs.failNext("restore", { error: `pg_restore: connection to postgres://app:${planted}@10.0.0.7/src failed`, stderr: `PGPASSWORD=${planted} pg_restore\nbackup archive is corrupt` });
    const error = await provider.create(await checked(provider, { source: { backupKey: cp.backups.list()[0].key } })).then(() => undefined, (e: Error & { id?: string }) => e);
    assert.ok(error instanceof Error && !(error as { id?: string }).id, String(error));
    assert.match(error.message, /Restoring preview "pr-restore" failed: project\.restore job \S+ failed: .*pg_restore[\s\S]*backup archive is corrupt[\s\S]*was deleted, so nothing is left behind/);
    assert.ok(!error.message.includes(planted) && !lines.join("\n").includes(planted), "the planted password is masked");
    assert.deepEqual(cp.previews.live(), []);
  });

  it("the restore's answer lost after CapyDB applied it: the name is looked up, no second restore, the preview continued", async () => {
    const provider = await newProvider();
    cp.faults.inject({ method: "POST", path: `/v1/projects/${cp.projectId}/restores`, status: 502, body: "<html>502</html>", after: "respond" });
    const { id, outs } = await provider.create(await checked(provider, { source: { backupKey: cp.backups.list()[0].key } }));
    assert.equal(restores(), 1);
    assert.deepEqual(cp.previews.live().map((p) => p.id), [id]);
    assert.equal(outs.sourceBackupKey, cp.backups.list()[0].key);
    assert.ok(lines.some((l) => /outcome of the restore is unknown/.test(l)), lines.join("\n"));
  });

  it("a restore job that outlives timeouts.create: partial failure with the preview id; the next up resumes the wait", async () => {
    const provider = await newProvider();
    cp.jobs.stallNext("restore");
    const inputs = await checked(provider, { timeouts: { create: "10s" }, source: { backupKey: cp.backups.list()[0].key } });
    const error = (await provider.create(inputs).then(() => undefined, (e) => e)) as Error & { id?: string; properties?: Props };
    assert.match(String(error?.id), /^pvw_/);
    assert.ok(!isPendingCreateId(error.id!));
    assert.match(error.message, /is being restored but is not ready yet: timed out[\s\S]*run `pulumi up` again to resume waiting/);
    assert.equal(error.properties!.lastJobId, cp.jobs.list().find((j) => j.kind === "restore")!.id);
    cp.jobs.releaseStalled();
    const { outs } = await provider.update(error.id!, error.properties!, inputs);
    assert.equal(outs.state, "ready");
    assert.equal(restores(), 1);
  });

  it("a restore accepted whose preview is not listed yet: tracked by name with its job; refresh keeps it while the job runs, the next up waits for it (no second restore), destroy deletes it", async () => {
    const provider = await newProvider();
    cp.jobs.stallNext("restore");
    // A server that lists a restored preview only once its job has completed.
    const restoreDone = () => cp.jobs.list().some((j) => j.kind === "restore" && j.state === "completed");
    cp.faults.inject({
      method: "GET", path: `/v1/projects/${cp.projectId}/preview-databases`, times: 100_000,
      rewrite: (b) => ({ preview_databases: (b as { preview_databases: Props[] }).preview_databases.filter((p) => p.name !== "pr-restore" || restoreDone()) }),
    });
    const inputs = await checked(provider, { timeouts: { create: "10s" }, source: { backupKey: cp.backups.list()[0].key } });
    const error = (await provider.create(inputs).then(() => undefined, (e) => e)) as Error & { id?: string; properties?: Props };
    assert.ok(isPendingCreateId(String(error?.id)), String(error));
    const jobId = cp.jobs.list().find((j) => j.kind === "restore")!.id;
    assert.equal(error.properties!.lastJobId, jobId);
    assert.match(error.message, new RegExp(`CapyDB accepted the restore \\(job ${jobId}\\)[\\s\\S]*waits for job ${jobId}`));

    const read = await provider.read(error.id!, error.properties!);
    assert.equal(read.id, error.id, "refresh keeps the record while the job runs (not taken for gone)");

    cp.jobs.releaseStalled();
    const { outs } = await provider.update(error.id!, error.properties!, inputs);
    assert.equal(outs.state, "ready");
    assert.equal(restores(), 1, "no second restore");
    const live = cp.previews.live();
    assert.equal(live.length, 1);
    await provider.delete(error.id!, error.properties!);
    assert.deepEqual(cp.previews.live(), []);
  });

  it("adopt: true with a source takes over a live namesake instead of restoring", async () => {
    const provider = await newProvider();
    const { id: theirs } = await provider.create(await checked(provider, { name: "pr-adopt" }));
    const { id, outs } = await provider.create(await checked(provider, { name: "pr-adopt", adopt: true, source: { backupKey: cp.backups.list()[0].key } }));
    assert.equal(id, theirs);
    assert.equal(outs.state, "ready");
    assert.equal(restores(), 0);
    assert.ok(lines.some((l) => l.includes(`taking over preview ${theirs}`)), lines.join("\n"));
  });

  it("a 409 for a name another preview holds: \"already exists\", nothing restored", async () => {
    const provider = await newProvider();
    await provider.create(await checked(provider, { name: "pr-taken" }));
    const error = await provider.create(await checked(provider, { name: "pr-taken", source: { backupKey: cp.backups.list()[0].key } })).then(() => undefined, (e: Error) => e);
    assert.match(String(error?.message), /A preview named "pr-taken" already exists/);
    assert.equal(cp.previews.live().length, 1);
    assert.equal(cp.jobs.list().filter((j) => j.kind === "restore").length, 0);
  });
});
