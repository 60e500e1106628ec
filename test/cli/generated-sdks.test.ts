// The SDKs that `npm run sdk:gen` generates from plugin/schema.json, used as users use them, through the
// real Pulumi CLI and the native plugin installed from its archive (`pulumi plugin install resource capydb
// <version> --file <archive>`), against the local control plane on real Postgres:
//   Python  a program on the generated SDK, run by the Python Automation API (inline program)
//   Go      a program on the generated SDK, run by the Go Automation API (auto.UpsertStackInlineSource)
//           (both also read their preview back with the generated getPreviewDatabase / LookupPreviewDatabase)
//   TypeScript  a program on the generated Node.js SDK: the README's lifecycle, one CLI command at a time
// .NET is generated and checked only: there is no .NET SDK on these machines.
import { strict as assert } from "assert";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { localBackendEnv, runPulumi, type PulumiCli } from "../pulumi/cli";
import { CliStack } from "./cli-stack";
import { pluginArchive } from "./native";
import { describeRequests, installedCopy, livePreviews, requirePulumiCli, writes } from "./suite";

interface SdkGen {
  sdkGen(languages?: string[]): Promise<Record<string, string>>;
  generate(language: string, opts: { source?: string; out: string; pulumiHome: string }): Promise<string>;
  LANGUAGES: string[];
  venvPython(): string;
  OUT: string;
}
const sdkGenScript = require(path.join(REPO, "scripts", "sdk-gen.js")) as SdkGen;

const SCHEMA = JSON.parse(fs.readFileSync(path.join(REPO, "plugin", "schema.json"), "utf8")) as { version: string };
const PASSPHRASE = "generated-sdks-passphrase";

/** Python 3 and Go are needed here; CI (CAPYDB_REQUIRE_PULUMI_CLI=1) fails without them instead of skipping. */
function requireTool(ctx: Mocha.Context, tool: string, args: string[]): void {
  try {
    execFileSync(tool, args, { stdio: "ignore", timeout: 30_000 });
    return;
  } catch {
    const why = `\`${tool}\` is not installed`;
    if (process.env.CAPYDB_REQUIRE_PULUMI_CLI === "1") throw new Error(`the generated SDK tests cannot run: ${why}`);
    process.stderr.write(`      [generated SDKs] SKIPPED: ${why}\n`);
    ctx.skip();
  }
}

interface ProgramResult {
  outputs?: Record<string, { value: unknown; secret: boolean }>;
  changes: Record<string, number>;
}

/** Runs an Automation API program (`<command> up|destroy`); its last stdout line is the JSON result. */
function runProgram(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ProgramResult> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { env, cwd, encoding: "utf8", timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${path.basename(file)} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last) as ProgramResult);
      } catch {
        reject(new Error(`${path.basename(file)} ${args.join(" ")} printed no JSON result:\n${stdout}\n${stderr}`));
      }
    }),
  );
}

/** The state file as the file backend stores it. */
function stateText(backendDir: string, project: string): string {
  return fs.readFileSync(path.join(backendDir, ".pulumi", "stacks", project, "dev.json"), "utf8");
}

/** Every file under `dir` with its content, by relative path. */
function filesOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = fs.readFileSync(file).toString("base64");
  }
  return files;
}

/** `pulumi plugin install resource capydb <version> --file <archive>` into the PULUMI_HOME of `env`. */
async function installPlugin(cli: PulumiCli, archive: string, env: NodeJS.ProcessEnv): Promise<void> {
  const args = ["plugin", "install", "resource", "capydb", SCHEMA.version, "--file", archive];
  const result = await runPulumi(args, { cwd: os.tmpdir(), env: { ...env, PULUMI_CLI: cli.binary } });
  assert.equal(result.code, 0, `pulumi ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  const listed = await runPulumi(["plugin", "ls", "--json"], { cwd: os.tmpdir(), env });
  const plugins = JSON.parse(listed.stdout) as { name: string; kind: string; version: string }[];
  assert.ok(plugins.some((p) => p.name === "capydb" && p.kind === "resource" && p.version === SCHEMA.version), listed.stdout);
}

describe("real Pulumi CLI: the generated SDKs with the native plugin (test/cli)", function () {
  this.timeout(600_000);
  let cli: PulumiCli;
  let cp: ControlPlane;
  let built: Record<string, string>;
  let archive: string;
  const cleanups: (() => void)[] = [];

  before(async function () {
    // On a machine whose Go cache lacks the codegen plugins and the Go program, sdk:gen compiles them (minutes).
    this.timeout(1_200_000);
    cli = requirePulumiCli(this);
    requireTool(this, "go", ["version"]);
    requireTool(this, process.env.PYTHON || "python3", ["--version"]);
    built = await sdkGenScript.sdkGen();
    archive = pluginArchive();
    cp = await startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
  });

  after(async () => {
    await cp?.close();
    for (const cleanup of cleanups) cleanup();
  });

  it("generates the .NET SDK: a project with the PreviewDatabase class and the schema's version (not built: no .NET SDK here)", () => {
    const csproj = fs.readFileSync(built.dotnet, "utf8");
    assert.match(path.basename(built.dotnet), /^CapyDB\.Pulumi\.csproj$/);
    const dir = path.dirname(built.dotnet);
    assert.equal(fs.readFileSync(path.join(dir, "version.txt"), "utf8").trim(), SCHEMA.version);
    assert.match(fs.readFileSync(path.join(dir, "PreviewDatabase.cs"), "utf8"), /\[PulumiResourceType\("capydb:index:PreviewDatabase"\)\]/);
    assert.match(fs.readFileSync(path.join(dir, "GetPreviewDatabase.cs"), "utf8"), /InvokeAsync<GetPreviewDatabaseResult>\("capydb:index:getPreviewDatabase"/);
    assert.match(csproj, /<PackageReference Include="Pulumi"/);
  });

  it("pulumi package gen-sdk capydb, from the installed plugin's schema, generates the same four SDKs as plugin/schema.json", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-sdk-from-plugin-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const env = localBackendEnv(cli, dir, PASSPHRASE);
    await installPlugin(cli, archive, env);
    for (const language of sdkGenScript.LANGUAGES) {
      const fromPlugin = await sdkGenScript.generate(language, { source: "capydb", out: path.join(dir, "from-plugin"), pulumiHome: env.PULUMI_HOME! });
      const fromSchema = await sdkGenScript.generate(language, { out: path.join(dir, "from-schema"), pulumiHome: env.PULUMI_HOME! });
      const files = filesOf(fromPlugin);
      assert.ok(Object.keys(files).length > 5, `${language}: ${Object.keys(files).join(", ")}`);
      assert.deepEqual(files, filesOf(fromSchema), `${language}: the same files, byte for byte`);
    }
  });

  /** One Automation API program (Python or Go): up then destroy on its own backend and PULUMI_HOME. */
  function automationProgram(language: "python" | "go", project: string, previewName: string, command: () => [string, string[]]) {
    describe(`${language === "python" ? "Python" : "Go"} program on the generated SDK (Automation API, inline program)`, () => {
      let backendDir: string;
      let env: NodeJS.ProcessEnv;
      let secrets: Record<string, string>;

      before(async () => {
        backendDir = fs.mkdtempSync(path.join(os.tmpdir(), `capydb-sdk-${language}-`));
        cleanups.push(() => fs.rmSync(backendDir, { recursive: true, force: true }));
        // Credentials reach the plugin only through the stack's config (capydb:apiKey secret, capydb:apiUrl).
        const base = localBackendEnv(cli, backendDir, PASSPHRASE, { CAPYDB_API_KEY: "", CAPYDB_API_URL: "" });
        await installPlugin(cli, archive, base);
        env = { ...base, CAPYDB_SDK_TEST_PROJECT_ID: cp.projectId, CAPYDB_SDK_TEST_API_KEY: cp.projectScopedKey, CAPYDB_SDK_TEST_API_URL: cp.url };
      });

      it("up creates the preview through the plugin; the URL and password are secret outputs", async () => {
        cp.clearRequests();
        const [file, args] = command();
        const result = await runProgram(file, [...args, "up"], env, backendDir);
        assert.deepEqual(result.changes, { create: 2 }, "the provider and the preview");
        const outs = result.outputs!;
        const live = livePreviews(cp).filter((p) => p.name === previewName);
        assert.equal(live.length, 1, JSON.stringify(livePreviews(cp)));
        assert.equal(outs.previewId.value, live[0].id);
        assert.deepEqual(
          { name: outs.name.value, state: outs.state.value, host: outs.host.value },
          { name: previewName, state: "ready", host: "127.0.0.1" },
        );
        for (const key of ["previewId", "name", "state", "host"]) assert.equal(outs[key].secret, false, `${key} is not secret`);
        for (const key of ["directUrl", "password"]) {
          assert.equal(outs[key].secret, true, `${key} is secret`);
          assert.equal(typeof outs[key].value, "string");
        }
        assert.match(String(outs.directUrl.value), /^postgres(ql)?:\/\//);
        // The invoke capydb:index:getPreviewDatabase through the generated SDK's function: the same preview, the URL secret.
        assert.equal(outs.lookedUpId.value, live[0].id);
        assert.equal(outs.lookedUpDirectUrl.secret, true, "the looked-up URL is secret");
        assert.equal(outs.lookedUpDirectUrl.value, outs.directUrl.value);
        secrets = { directUrl: String(outs.directUrl.value), password: String(outs.password.value) };
        assert.deepEqual(writes(cp.requests()).map((r) => r.method), ["POST"], describeRequests(cp.requests()));
      });

      it("the state holds a capydb:index:PreviewDatabase with the URL, password and key encrypted", () => {
        const state = stateText(backendDir, project);
        const types = (JSON.parse(state) as { checkpoint: { latest: { resources: { type: string }[] } } }).checkpoint.latest.resources.map((r) => r.type);
        assert.deepEqual(types, ["pulumi:pulumi:Stack", "pulumi:providers:capydb", "capydb:index:PreviewDatabase"]);
        for (const [key, value] of Object.entries(secrets)) assert.ok(!state.includes(value), `${key} is not in the state in clear`);
        assert.ok(!state.includes(cp.projectScopedKey), "the API key is not in the state in clear");
        assert.ok(state.includes('"ciphertext"'), "secret values are stored encrypted");
      });

      it("destroy deletes the preview and leaves nothing", async () => {
        cp.clearRequests();
        const [file, args] = command();
        const result = await runProgram(file, [...args, "destroy"], env, backendDir);
        assert.deepEqual(result.changes, { delete: 2 });
        assert.deepEqual(livePreviews(cp).filter((p) => p.name === previewName), []);
        assert.deepEqual(writes(cp.requests()).map((r) => r.method), ["DELETE"], describeRequests(cp.requests()));
        assert.ok(!stateText(backendDir, project).includes("capydb:index:PreviewDatabase"), "the stack holds no preview");
      });
    });
  }

  automationProgram("python", "capydb-python-sdk", "python-sdk", () => [
    sdkGenScript.venvPython(),
    [path.join(REPO, "test", "cli", "sdk-programs", "python", "program.py")],
  ]);
  automationProgram("go", "capydb-go-sdk", "go-sdk", () => [built.go, []]);

  describe("TypeScript program on the generated Node.js SDK (@capydb/pulumi): the README's lifecycle", () => {
    const PROJECT = "capydb-nodejs-sdk";
    let stack: CliStack;
    let programDir: string;
    let firstId: string;

    before(async () => {
      // The generated SDK needs @pulumi/pulumi >= 3.269 (package.json of the SDK); this is the newest on npm here.
      programDir = await installedCopy(path.join(REPO, "test", "cli", "sdk-programs", "nodejs"), {
        "@capydb/pulumi": `file:${built.nodejs}`,
        "@pulumi/pulumi": "3.270.0",
      }, { typescript: "5.9.3" });
      cleanups.push(() => fs.rmSync(programDir, { recursive: true, force: true }));
      stack = new CliStack(cli, programDir, "dev", { CAPYDB_API_KEY: "", CAPYDB_API_URL: "" });
      cleanups.push(() => stack.remove());
      await stack.ok(["plugin", "install", "resource", "capydb", SCHEMA.version, "--file", archive]);
      await stack.init();
      await stack.config(`${PROJECT}:projectId`, cp.projectId);
      await stack.config("capydb:apiKey", cp.projectScopedKey, true);
      await stack.config("capydb:apiUrl", cp.url);
    });

    afterEach(function () {
      if (this.currentTest?.state === "failed" && stack) process.stderr.write(stack.transcript.slice(-3).join("\n"));
    });

    it("preview plans a capydb:index:PreviewDatabase and calls no CapyDB API", async () => {
      cp.clearRequests();
      const { stdout } = await stack.ok(["preview", "--non-interactive"]);
      assert.match(stdout, /\+\s+capydb:index:PreviewDatabase\s+db\s+create/);
      assert.deepEqual(cp.requests(), [], describeRequests(cp.requests()));
    });

    it("up creates the preview; directUrl and password are secret", async () => {
      cp.clearRequests();
      await stack.ok(["up", "--yes", "--non-interactive"]);
      const outs = await stack.outputs();
      const live = livePreviews(cp).filter((p) => p.id === outs.previewId);
      assert.equal(live.length, 1);
      firstId = String(outs.previewId);
      assert.equal(outs.state, "ready");
      assert.equal(outs.directUrl, "[secret]");
      assert.equal(outs.password, "[secret]");
      assert.equal(outs.lookedUpDirectUrl, "[secret]", "the invoke's URL is secret");
      assert.deepEqual(writes(cp.requests()).map((r) => r.method), ["POST"], describeRequests(cp.requests()));
      const secrets = await stack.outputs(true);
      assert.equal(secrets.lookedUpId, firstId, "getPreviewDatabaseOutput read back the same preview");
      assert.equal(secrets.lookedUpDirectUrl, secrets.directUrl);
      const state = stack.stateFileText(PROJECT);
      for (const key of ["directUrl", "password"]) assert.ok(!state.includes(String(secrets[key])), `${key} is not in the state in clear`);
    });

    it("a ttlHours change is one extend, in place", async () => {
      await stack.config(`${PROJECT}:ttlHours`, "48");
      const before = (await stack.outputs()).ttlExpiresAt;
      const plan = await stack.ok(["preview", "--non-interactive", "--diff"]);
      assert.match(plan.stdout, /~ capydb:index:PreviewDatabase: \(update\)/);
      assert.match(plan.stdout, /~ ttlHours\s*: 24 => 48/);
      cp.clearRequests();
      await stack.ok(["up", "--yes", "--non-interactive"]);
      const sent = writes(cp.requests());
      assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [`POST /v1/preview-databases/${firstId}/extend`], describeRequests(sent));
      const outs = await stack.outputs();
      assert.equal(outs.previewId, firstId);
      assert.ok(Date.parse(String(outs.ttlExpiresAt)) > Date.parse(String(before)), "the expiry moved");
    });

    it("a resetTrigger change is one reset, in place, with new credentials", async () => {
      await stack.config(`${PROJECT}:resetTrigger`, "1");
      const old = await stack.outputs(true);
      cp.clearRequests();
      await stack.ok(["up", "--yes", "--non-interactive"]);
      const sent = writes(cp.requests());
      assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [`POST /v1/preview-databases/${firstId}/reset`], describeRequests(sent));
      const fresh = await stack.outputs(true);
      assert.equal(fresh.previewId, firstId);
      assert.notEqual(fresh.password, old.password, "credentials rotate on reset");
    });

    it("destroy deletes the preview and leaves nothing", async () => {
      cp.clearRequests();
      const { stdout } = await stack.ok(["destroy", "--yes", "--non-interactive"]);
      assert.match(stdout, /PreviewDatabase\s+db\s+deleted/);
      assert.deepEqual(livePreviews(cp).filter((p) => p.id === firstId), []);
      assert.deepEqual(writes(cp.requests()).map((r) => `${r.method} ${r.path}`), [`DELETE /v1/preview-databases/${firstId}`]);
    });
  });
});
