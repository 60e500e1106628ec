// The preview-db workflow's exact Pulumi commands through the real CLI: examples/github-workflow/scripts/preview-stack.sh
// (what both jobs of .github/workflows/preview-db.yml run) against the local control plane, for a pull request's
// life: a close before any up, the first push, a push once the TTL is more than half used (keep-alive: shown by
// `pulumi preview`, done by `up`), a push with nothing to do, and the close.
//
// `pulumi` on the script's PATH is a two-line wrapper around test/pulumi/program-host.js: the real CLI for every
// command, with the program served in-process because the Node.js language host cannot be built here (see there).
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { PROGRAM_HOST, type PulumiCli } from "../pulumi/cli";
import { CliStack } from "./cli-stack";
import { describeRequests, installedCopy, livePreviews, requirePulumiCli, writes } from "./suite";

const EXAMPLE = path.join(REPO, "examples", "github-workflow");
const HOUR = 3_600_000;

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  summary: string;
}

describe("real Pulumi CLI: the preview-db workflow's commands (scripts/preview-stack.sh)", function () {
  this.timeout(600_000);
  let cli: PulumiCli;
  let cp: ControlPlane;
  // CapyDB's timestamps run behind while the first push creates the preview: by the real clock it is then that
  // old. The offset stands for time passing, not for a wrong clock, so the Date header keeps the true time.
  let offset = 0;
  let dir: string;
  let stack: CliStack;
  let wrapperDir: string;
  const transcript: string[] = [];

  before(async function () {
    cli = requirePulumiCli(this);
    cp = await startControlPlane({
      backend: "memory", jobProgression: "time", jobDurationsMs: { create: 200, reset: 200, delete: 200 },
      now: () => Date.now() + offset,
      dateHeader: "wall",
    });
    const pkg = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
    dir = await installedCopy(EXAMPLE, {}, pkg.devDependencies ?? {});
    stack = new CliStack(cli, dir, "pr-42", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_PROJECT_ID: cp.projectId, CAPYDB_READINESS: "job" });
    wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-cli-wrapper-"));
    fs.writeFileSync(path.join(wrapperDir, "pulumi"), `#!/bin/sh\nexec "${process.execPath}" "${PROGRAM_HOST}" "$@"\n`, { mode: 0o755 });
  });

  after(async () => {
    await cp?.close();
    stack?.remove();
    for (const d of [dir, wrapperDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") process.stderr.write(transcript.slice(-2).join("\n") + "\n" + stack.transcript.slice(-1).join("\n"));
  });

  function script(...args: string[]): Promise<ScriptRun> {
    const summaryFile = path.join(wrapperDir, `summary-${transcript.length}.md`);
    fs.writeFileSync(summaryFile, "");
    const env = { ...stack.env, PATH: `${wrapperDir}${path.delimiter}${stack.env.PATH}`, GITHUB_STEP_SUMMARY: summaryFile };
    return new Promise((resolve) => {
      execFile("bash", ["scripts/preview-stack.sh", ...args], { cwd: dir, env, timeout: 540_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const run = { code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, summary: fs.readFileSync(summaryFile, "utf8") };
        transcript.push(`$ preview-stack.sh ${args.join(" ")}  (exit ${run.code})\n${stdout}${stderr}`);
        resolve(run);
      });
    });
  }

  const extendCalls = () => cp.requests().filter((r) => r.method === "POST" && /\/extend$/.test(r.path));
  const noCredential = (text: string) => {
    assert.ok(!text.includes(cp.projectScopedKey), "no API key");
    assert.doesNotMatch(text, /postgres(ql)?:\/\/[^\s`]*:[^\s`@]+@/, "no URL with a password");
  };

  it("a close before any up: destroy finds no stack and skips cleanly", async () => {
    cp.clearRequests();
    const run = await script("destroy", "pr-42");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /No stack pr-42: nothing to destroy/);
    assert.match(run.summary, /No stack pr-42: nothing to destroy/);
    assert.deepEqual(cp.requests(), []);
  });

  it("the first push: up --refresh creates preview pr-42 and posts its host, never a credential, to the job summary", async () => {
    offset = -40 * HOUR;
    const run = await script("up", "pr-42");
    offset = 0;
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const [preview] = cp.previews.live();
    assert.deepEqual(livePreviews(cp).map((p) => [p.name, p.state]), [["pr-42", "ready"]]);
    assert.match(run.summary, /### Preview database `pr-42` \(stack `pr-42`\)/);
    assert.ok(run.summary.includes(`| \`${preview.publicHost}\` |`), run.summary);
    for (const text of [run.summary, run.stdout, run.stderr]) noCredential(text);
  });

  it("40 h later (32 h of 72 h left), pulumi preview shows the renewal as an update and prints why", async () => {
    cp.clearRequests();
    const { stdout, stderr } = await stack.ok(["preview", "--non-interactive", "--stack", "pr-42"]);
    assert.match(stdout, /~\s+pulumi-nodejs:dynamic\/capydb:PreviewDatabase\s+db\s+update/);
    assert.match(`${stdout}\n${stderr}`, /\[capydb\] diff pr-42: TTL renewal due: 3[12]h(\d\dm)? of 72h left, less than half of ttlHours \(36h\)/);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
  });

  it("the next push: up renews the TTL (one extend, to 72 h from now)", async () => {
    cp.clearRequests();
    const before = Date.now();
    const run = await script("up", "pr-42");
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.equal(extendCalls().length, 1, describeRequests(cp.requests()));
    const expires = cp.previews.live()[0].ttlExpiresAt;
    assert.ok(expires >= before + 72 * HOUR - 60_000, "renewed to 72 h from the update");
    assert.match(run.summary, new RegExp(new Date(expires).toISOString().slice(0, 16)), "the summary shows the new expiry");
  });

  it("a push with nothing due changes nothing", async () => {
    cp.clearRequests();
    const run = await script("up", "pr-42");
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
  });

  it("the close: destroy --refresh --remove deletes the preview and removes the stack", async () => {
    const run = await script("destroy", "pr-42");
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(livePreviews(cp), []);
    assert.match(run.summary, /Stack `pr-42` destroyed/);
    const { stdout } = await stack.ok(["stack", "ls", "--json"]);
    assert.deepEqual(JSON.parse(stdout), [], "the stack is gone");
  });
});
