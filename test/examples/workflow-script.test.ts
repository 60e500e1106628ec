// The preview-db workflow's Pulumi commands live in examples/github-workflow/scripts/preview-stack.sh. Here the
// script runs against a stand-in `pulumi` that records its arguments, to pin down its control flow: which commands,
// in which order, the clean skip for a close with no stack, and a job summary without credentials. The real CLI
// runs the same script in the CLI suite (test/cli/).
import * as assert from "assert/strict";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..", "..");
const EXAMPLE = path.join(REPO, "examples", "github-workflow");
const SCRIPT = path.join(EXAMPLE, "scripts", "preview-stack.sh");
const SECRET_URL = "postgres://pr_42:s3cr3t-pass@pr-42.db.example:6432/pr_42";

// Answers like the CLI: `stack ls --json` from $FAKE_STACKS (exit $FAKE_LS_EXIT), `stack output <name>` from the table.
const FAKE_PULUMI = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$FAKE_LOG"
case "$*" in
  "stack ls --json --non-interactive") echo "$FAKE_STACKS"; exit "\${FAKE_LS_EXIT:-0}" ;;
  "stack output --stack pr-42 name") echo "pr-42" ;;
  "stack output --stack pr-42 host") echo "pr-42.db.example" ;;
  "stack output --stack pr-42 ttlExpiresAt") echo "2026-11-30T12:00:00Z" ;;
  *--show-secrets*) echo "${SECRET_URL}" ;;
esac
exit 0
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  commands: string[];
  summary: string;
}

describe("workflow script (examples/github-workflow/scripts/preview-stack.sh)", function () {
  this.timeout(60_000);
  let tmp: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-workflow-"));
    fs.mkdirSync(path.join(tmp, "bin"));
    fs.writeFileSync(path.join(tmp, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function script(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const log = path.join(tmp, `log-${Math.random().toString(36).slice(2)}`);
    const summary = path.join(tmp, `summary-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(log, "");
    fs.writeFileSync(summary, "");
    const fullEnv = {
      PATH: `${path.join(tmp, "bin")}:${process.env.PATH}`,
      FAKE_LOG: log, FAKE_STACKS: "[]", GITHUB_STEP_SUMMARY: summary, CAPYDB_API_KEY: "capy_live_not_printed",
      ...env,
    };
    return new Promise((resolve) => {
      execFile("bash", [SCRIPT, ...args], { cwd: EXAMPLE, env: fullEnv }, (error, stdout, stderr) => resolve({
        code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr,
        commands: fs.readFileSync(log, "utf8").split("\n").filter(Boolean),
        summary: fs.readFileSync(summary, "utf8"),
      }));
    });
  }

  it("up: select or create the stack, set the project, up --refresh, then a job summary with the host and no credential", async () => {
    const run = await script(["up", "pr-42"], { CAPYDB_PROJECT_ID: "prj_123" });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.commands, [
      "stack select --create --non-interactive pr-42",
      "config set --stack pr-42 capydb:projectId prj_123",
      "up --yes --refresh --non-interactive --stack pr-42",
      "stack output --stack pr-42 name",
      "stack output --stack pr-42 host",
      "stack output --stack pr-42 ttlExpiresAt",
    ]);
    assert.match(run.summary, /### Preview database `pr-42` \(stack `pr-42`\)/);
    assert.match(run.summary, /\| `pr-42\.db\.example` \| 2026-11-30T12:00:00Z \|/);
    for (const text of [run.summary, run.stdout, run.stderr]) {
      assert.ok(!text.includes("s3cr3t-pass") && !text.includes("capy_live_not_printed"), "no credential");
    }
  });

  it("up refuses to run without the project, before any pulumi command", async () => {
    const run = await script(["up", "pr-42"]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /CAPYDB_PROJECT_ID/);
    assert.deepEqual(run.commands, []);
  });

  it("destroy of a stack that was never created (a close before any up) skips cleanly", async () => {
    const run = await script(["destroy", "pr-42"], { FAKE_STACKS: JSON.stringify([{ name: "pr-41" }, { name: "pr-420" }]) });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.commands, ["stack ls --json --non-interactive"]);
    assert.match(run.stdout, /No stack pr-42: nothing to destroy/);
    assert.match(run.summary, /No stack pr-42: nothing to destroy/);
  });

  it("destroy of an existing stack: destroy --refresh --remove (also for an org-qualified name)", async () => {
    for (const name of ["pr-42", "acme/capydb-github-previews/pr-42"]) {
      const run = await script(["destroy", "pr-42"], { FAKE_STACKS: JSON.stringify([{ name }]) });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.commands, ["stack ls --json --non-interactive", "destroy --yes --refresh --remove --non-interactive --stack pr-42"]);
      assert.match(run.summary, /Stack `pr-42` destroyed/);
    }
  });

  it("a backend problem is an error, never mistaken for a missing stack", async () => {
    const run = await script(["destroy", "pr-42"], { FAKE_STACKS: "", FAKE_LS_EXIT: "1" });
    assert.notEqual(run.code, 0);
    assert.ok(!run.commands.some((c) => c.startsWith("destroy")));
    assert.doesNotMatch(run.stdout, /nothing to destroy/);
  });

  it("the workflow runs these exact commands: each job calls the script", () => {
    const workflow = fs.readFileSync(path.join(EXAMPLE, ".github", "workflows", "preview-db.yml"), "utf8");
    const runs = [...workflow.matchAll(/^\s+run: (.*)$/gm)].map((m) => m[1]);
    assert.ok(runs.includes('bash scripts/preview-stack.sh up "$STACK"'), runs.join("\n"));
    assert.ok(runs.includes('bash scripts/preview-stack.sh destroy "$STACK"'));
    assert.ok(!/pulumi (up|destroy)/.test(runs.join("\n")), "no Pulumi command outside the script");
    assert.match(workflow, /STACK: pr-\$\{\{ github\.event\.pull_request\.number \}\}/);
  });

  it("adopting either workflow takes one edit, PROGRAM_DIR: nothing else refers to this repository outside its own checkout", () => {
    for (const file of ["preview-db.yml", "sweep-previews.yml"]) {
      const text = fs.readFileSync(path.join(EXAMPLE, ".github", "workflows", file), "utf8");
      const code = text.split("\n").filter((line) => !/^\s*#/.test(line)).join("\n");
      // The one line to edit says where the program is.
      assert.deepEqual(code.match(/^.*examples\/github-workflow.*$/gm), ["  PROGRAM_DIR: examples/github-workflow"], file);
      const adopted = code.replace("PROGRAM_DIR: examples/github-workflow", "PROGRAM_DIR: infra");
      // In a user's checkout this repository's sources are absent, so steps guarded by them are skipped.
      const steps = adopted.split(/^(?=      - )/m);
      const guarded = steps.filter((step) => step.includes("if: hashFiles('sdk/provider-shim.ts') != ''"));
      const running = steps.filter((step) => !guarded.includes(step)).join("");
      assert.ok(guarded.length > 0 && guarded.every((step) => /npm run build/.test(step)), `${file}: the build of pulumi-capydb is guarded`);
      assert.doesNotMatch(running, /npm run build|file:\.\.|examples\/github-workflow|pulumi-capydb repository/, `${file}: what runs elsewhere`);
      assert.match(running, /working-directory: \$\{\{ env\.PROGRAM_DIR \}\}/);
    }
  });
});
