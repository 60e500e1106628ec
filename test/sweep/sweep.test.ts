// The sweeper (`pulumi-capydb sweep`, issue 9): the command as shipped (dist/cli/main.js in a child process, as
// `npx pulumi-capydb` runs it) against the local control plane, plus its pure planning and argument rules.
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { branchStackOf, parseSweepArgs, planSweep } from "../../cli/sweep";
import { CapyDBClient } from "../../provider/client";
import { ControlPlane, startControlPlane } from "../control-plane";
import { apiPreview } from "../helpers/fixtures";

const REPO = path.resolve(__dirname, "..", "..", "..");
const BIN = path.join(REPO, "dist", "cli", "main.js");
const HOUR = 3_600_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sweep(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("sweeper: pulumi-capydb sweep", function () {
  this.timeout(120_000);

  describe("against the local control plane", () => {
    let cp: ControlPlane;
    let offset = 0;
    let env: Record<string, string>;
    let client: CapyDBClient;
    const ids: Record<string, string> = {};
    const liveNames = () => cp.previews.live(cp.projectId).map((p) => p.name).sort();
    const deletes = () => cp.requests().filter((r) => r.method === "DELETE");

    before(async () => {
      // CapyDB's clock runs 48 h behind while the "old" previews are created: they are 48 h old by the real clock.
      cp = await startControlPlane({ now: () => Date.now() + offset, previewLimit: 20 });
      client = new CapyDBClient({ apiUrl: cp.url, apiKey: cp.apiKey });
      const create = async (name: string) => {
        const { preview, job } = await client.createPreview(cp.projectId, { name, mode: "clone", ttl_hours: 168 });
        ids[name] = preview.id;
        while ((await client.getJob(job.id)).state !== "completed") await new Promise((r) => setTimeout(r, 5));
      };
      offset = -48 * HOUR;
      for (const name of ["pr-40", "pr-41", "pr-42-db-1a2b3c", "pr-39-api", "main", "feat-login-d668f0", "pr-0", "prx-7"]) await create(name);
      offset = 0;
      await create("pr-43");
      env = { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey };
    });

    after(async () => {
      await cp?.close();
    });

    it("dry run (the default): a line per preview, deletes nothing, touches no name outside the pattern", async () => {
      const before = liveNames();
      cp.clearRequests();
      const run = await sweep(["sweep", "--project", cp.projectId, "--keep", "pr-41,pr-42", "--older-than", "24h"], env);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trim().split("\n");
      assert.match(lines[0], new RegExp(`^sweep ${cp.projectId}: 9 previews listed; keeping pr-41, pr-42, only older than 24h; dry run \\(pass --delete to delete\\)$`));
      const line = (name: string) => lines.find((l) => l.includes(` ${name} (${ids[name]})`)) ?? "";
      assert.match(line("pr-40"), /^would delete pr-40 \(pvw_\w+\): created 48h ago, stack pr-40 is not in --keep$/);
      assert.match(line("pr-39-api"), /^would delete pr-39-api .*stack pr-39 is not in --keep$/);
      assert.match(line("pr-41"), /^keep pr-41 .*: stack pr-41 is in --keep$/);
      assert.match(line("pr-42-db-1a2b3c"), /^keep .*stack pr-42 is in --keep$/, "an auto-name belongs to its stack");
      assert.match(line("pr-43"), /^keep pr-43 .*created 0m ago, not older than 24h$/);
      for (const name of ["main", "feat-login-d668f0", "pr-0", "prx-7"]) {
        assert.match(line(name), /^ignore .*: outside the branch pattern pr-<number>\[-…\]$/, name);
      }
      assert.equal(lines.at(-1), "sweep done: 2 would be deleted, 3 kept, 4 ignored");
      assert.equal(lines.length, 11, "a header, one line per preview, a summary");
      assert.deepEqual(deletes(), []);
      assert.deepEqual(liveNames(), before);
      assert.ok(!run.stdout.includes(cp.projectScopedKey) && !run.stderr.includes(cp.projectScopedKey));
    });

    it("--delete deletes exactly the unwanted pattern previews and waits for each", async () => {
      cp.clearRequests();
      const run = await sweep(["sweep", "--project", cp.projectId, "--keep", "pr-41", "--keep", "pr-42", "--older-than", "24h", "--delete"], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^sweep prj_\w+: 9 previews listed; .*; deleting$/m);
      assert.match(run.stdout, /^deleted pr-40 \(pvw_\w+\) in [\d.]+s: created 48h ago, stack pr-40 is not in --keep$/m);
      assert.match(run.stdout, /^deleted pr-39-api /m);
      assert.match(run.stdout, /^sweep done: 2 deleted, 0 failed, 3 kept, 4 ignored$/m);
      assert.deepEqual(deletes().map((r) => r.path).sort(), [`/v1/preview-databases/${ids["pr-39-api"]}`, `/v1/preview-databases/${ids["pr-40"]}`].sort());
      assert.deepEqual(liveNames(), ["feat-login-d668f0", "main", "pr-0", "pr-41", "pr-42-db-1a2b3c", "pr-43", "prx-7"]);
      assert.match(run.stderr, /\[capydb\] sweep pr-40: delete of preview pvw_\w+ accepted/, "the waiter's progress goes to stderr");
    });

    it("without --older-than, --keep \"\" makes every pattern preview a candidate; a failed delete is reported and the rest go on", async () => {
      cp.faults.inject({ method: "DELETE", path: `/v1/preview-databases/${ids["pr-41"]}`, status: 403, body: { error: "API key lacks the projects:write scope" } });
      const run = await sweep(["sweep", `--project=${cp.projectId}`, "--keep=", "--delete"], env);
      assert.equal(run.code, 1, "a failed delete fails the command");
      assert.match(run.stdout, /^FAILED to delete pr-41 \(pvw_\w+\): .*HTTP 403: API key lacks the projects:write scope/m);
      assert.match(run.stdout, /^deleted pr-43 /m);
      assert.match(run.stdout, /^deleted pr-42-db-1a2b3c /m);
      assert.match(run.stdout, /^sweep done: 2 deleted, 1 failed, 0 kept, 4 ignored$/m);
      assert.deepEqual(liveNames(), ["feat-login-d668f0", "main", "pr-0", "pr-41", "prx-7"]);
    });

    it("clear errors: usage (exit 2) and credentials, never echoing the key", async () => {
      const cases: [string[], Record<string, string>, RegExp][] = [
        [["sweep", "--keep", "pr-1"], env, /--project is required \(or set CAPYDB_PROJECT_ID\)/],
        [["sweep", "--project", cp.projectId], env, /--keep is required: .*--keep "" keeps none/],
        [["sweep", "--project", cp.projectId, "--keep", "41,42"], env, /--keep takes stacks or preview names of the pattern pr-<number>\[-…\] \(e\.g\. pr-41\), got "41", "42"/],
        [["sweep", "--project", cp.projectId, "--keep", "pr-1", "--older-than", "soon"], env, /--older-than must be a duration such as "24h"/],
        [["sweep", "--project", cp.projectId, "--keep", "pr-1", "--dry-run", "--delete"], env, /either --dry-run or --delete, not both/],
        [["sweep", "--project", cp.projectId, "--keep", "pr-1", "--force"], env, /Unknown argument "--force"/],
        [["sweep", "--project", cp.projectId, "--keep", "pr-1"], { CAPYDB_API_URL: cp.url }, /CAPYDB_API_KEY is not set/],
        [["sweep", "--project", cp.projectId, "--keep", "pr-1"], { ...env, CAPYDB_API_URL: "ftp://x" }, /CAPYDB_API_URL\) to e\.g\./],
        [["frobnicate"], env, /Unknown command "frobnicate"/],
      ];
      for (const [args, e, expected] of cases) {
        const run = await sweep(args, e);
        assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
        assert.match(run.stderr, expected, args.join(" "));
      }
      const revoked = cp.createApiKey({ scopes: ["*"] });
      cp.revokeApiKey(revoked);
      const denied = await sweep(["sweep", "--project", cp.projectId, "--keep", ""], { ...env, CAPYDB_API_KEY: revoked });
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /HTTP 401: API key has been revoked/);
      assert.ok(!denied.stderr.includes(revoked), "the key is never printed");
    });
  });

  describe("rules", () => {
    it("the branch pattern: pr-<number>, optionally followed by -<suffix>, lowercase", () => {
      assert.equal(branchStackOf("pr-42"), "pr-42");
      assert.equal(branchStackOf("pr-42-db-1a2b3c"), "pr-42");
      for (const name of ["pr-", "pr-0", "pr-042", "PR-42", "pr-42-", "pr-42--x", "pr42", "xpr-42", "pr-4a", "main", "feat-pr-42"]) {
        assert.equal(branchStackOf(name), undefined, name);
      }
    });

    it("plans: keeps by stack or name, respects --older-than and unknown creation times, ignores deleting previews", () => {
      const now = Date.parse("2026-11-27T12:00:00Z");
      const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR).toISOString();
      const previews = [
        apiPreview({ id: "a", name: "pr-1", created_at: at(30) }),
        apiPreview({ id: "b", name: "pr-2", created_at: at(30) }),
        apiPreview({ id: "c", name: "pr-3-web-abcdef", created_at: at(30) }),
        apiPreview({ id: "d", name: "pr-4", created_at: at(2) }),
        apiPreview({ id: "e", name: "pr-5", created_at: null }),
        apiPreview({ id: "f", name: "pr-6", created_at: at(30), state: "deleting" }),
      ];
      const plan = planSweep(previews, { projectId: "prj_1", keep: ["pr-2", "pr-3-web-abcdef"], olderThanMs: 24 * HOUR, dryRun: true }, now);
      assert.deepEqual(plan.map((d) => `${d.preview.name}:${d.action}`),
        ["pr-1:delete", "pr-2:keep", "pr-3-web-abcdef:keep", "pr-4:keep", "pr-5:keep", "pr-6:ignore"]);
      const noAge = planSweep(previews, { projectId: "prj_1", keep: [], dryRun: true }, now);
      assert.deepEqual(noAge.filter((d) => d.action === "delete").map((d) => d.preview.name), ["pr-1", "pr-2", "pr-3-web-abcdef", "pr-4", "pr-5"]);
    });

    it("parses arguments: dry run by default, project from CAPYDB_PROJECT_ID, days", () => {
      const opts = parseSweepArgs(["--keep", "pr-1, pr-2", "--older-than", "7d"], { CAPYDB_PROJECT_ID: "prj_env" });
      assert.deepEqual(opts, { projectId: "prj_env", keep: ["pr-1", "pr-2"], olderThanMs: 7 * 24 * HOUR, dryRun: true });
      assert.equal(parseSweepArgs(["--project", "prj_1", "--keep", "", "--delete"], {}).dryRun, false);
    });
  });
});
