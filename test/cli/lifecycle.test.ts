// The README's promises, shown by the real Pulumi CLI: a program installed from the packed tarball,
// a file:// backend, the local CapyDB control plane on real Postgres. Each `it` is the next command a
// user types on the same stack, so they run in order.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { buildScript, type PulumiVia } from "../pulumi/cli";
import { CLI_PROGRAM, describeRequests, installedCopy, livePreviews, psql, psqlPath, requirePulumiCliFor, writes } from "./suite";

const PROJECT = "capydb-cli-suite";

// Plain `pulumi`, as users run it (the CLI's Node.js language host runs the program), and through
// program-host.js, the way for a CLI without that host (test/pulumi/program-host.ts).
const VIA_TITLE: Record<PulumiVia, string> = { cli: "plain pulumi", "program-host": "through program-host.js" };

for (const via of ["cli", "program-host"] as const) {
  describe(`real Pulumi CLI: lifecycle of a preview database (test/cli, ${VIA_TITLE[via]})`, function () {
    this.timeout(180_000);
    let cp: ControlPlane;
    let stack: CliStack;
    let programDir: string;
    let firstId: string;
    let tmp: string;

    StackSuite.use(async (ctx, suite) => {
      const cli = requirePulumiCliFor(ctx, via);
      programDir = suite.dir(await installedCopy(CLI_PROGRAM));
      cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
      // A TMPDIR of its own, to see what the program's runs leave there.
      tmp = suite.dir(fs.mkdtempSync(path.join(os.tmpdir(), "capydb-cli-tmp-")));
      stack = await suite.stack(new CliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url, TMPDIR: tmp }, via), { project: PROJECT, key: cp.projectScopedKey });
    });

    it("keeps the API key encrypted in the stack's config file", () => {
      const configFile = fs.readFileSync(path.join(programDir, "Pulumi.dev.yaml"), "utf8");
      assert.match(configFile, /capydb:apiKey:\s*\n\s*secure:/);
      assert.ok(!configFile.includes(cp.projectScopedKey), "the key is not in the config file in plain text");
    });

    if (via === "cli") {
      it("the CLI runs the program through the Node.js language host built beside it", async () => {
        const { stdout } = await stack.ok(["about", "--json"]);
        const about = JSON.parse(stdout) as { plugins?: { name: string; version: string; kind: string }[] };
        const language = about.plugins?.find((p) => p.kind === "language");
        assert.deepEqual(language, { name: "nodejs", version: buildScript.nodejsHostPinnedVersion(), kind: "language" }, stdout);
      });
    }

    it("preview of a new stack plans a create and calls no CapyDB API", async () => {
      cp.clearRequests();
      const { stdout } = await stack.ok(["preview", "--non-interactive"]);
      assert.match(stdout, /\+\s+pulumi-nodejs:dynamic\/capydb:PreviewDatabase\s+db\s+create/);
      assert.deepEqual(cp.requests(), [], "preview sent no request");
    });

    it("up creates the preview, waits for it, and exports host, ports and role", async () => {
      cp.clearRequests();
      const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
      assert.match(stdout, /PreviewDatabase\s+db\s+created/);
      const outs = await stack.outputs();
      const [live] = livePreviews(cp);
      firstId = String(outs.previewId);
      assert.equal(firstId, live.id);
      assert.equal(outs.state, "ready");
      assert.equal(outs.host, "127.0.0.1");
      assert.ok(Number(outs.directPort) > 0 && Number(outs.pooledPort) > 0 && outs.directPort !== outs.pooledPort);
      assert.equal(typeof outs.roleName, "string");
      assert.equal(outs.directUrl, "[secret]");
      assert.equal(outs.password, "[secret]");
      assert.deepEqual(writes(cp.requests()).map((r) => r.method), ["POST"], describeRequests(cp.requests()));
    });

    it("stores no password, URL or key in plain text in the state file", async () => {
      const secrets = await stack.outputs(true);
      const state = stack.stateFileText(PROJECT);
      for (const key of ["directUrl", "pooledUrl", "password"]) {
        assert.equal(typeof secrets[key], "string");
        assert.ok(!state.includes(String(secrets[key])), `${key} is not in the state file in plain text`);
      }
      assert.ok(!state.includes(cp.projectScopedKey), "the API key is not in the state file");
      assert.match(state, /"ciphertext"/, "secret outputs are stored encrypted");
    });

    it("psql logs in with the secret output and sees the cloned data", async function () {
      if (!psqlPath()) this.skip();
      const { directUrl, pooledUrl } = await stack.outputs(true);
      assert.ok(Number(await psql(String(directUrl), "select count(*) from customers")) > 0);
      assert.equal(await psql(String(pooledUrl), "select current_user"), (await stack.outputs()).roleName);
    });

    it("a second up changes nothing and sends no write", async () => {
      cp.clearRequests();
      const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
      assert.doesNotMatch(stdout, /PreviewDatabase\s+db\s+(updated|created|replaced|deleted)/);
      assert.match(stdout, /2 unchanged/);
      assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
    });

    it("a ttlHours change is planned as an update and done with one extend, in place", async () => {
      await stack.config(`${PROJECT}:ttlHours`, "48");
      const before = (await stack.outputs()).ttlExpiresAt;
      const plan = await stack.ok(["preview", "--non-interactive", "--diff"]);
      assert.match(plan.stdout, /~ pulumi-nodejs:dynamic\/capydb:PreviewDatabase: \(update\)/);
      assert.match(plan.stdout, /~ ttlHours\s*: 24 => 48/);
      cp.clearRequests();
      await stack.ok(["up", "--yes", "--non-interactive"]);
      const sent = writes(cp.requests());
      assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [`POST /v1/preview-databases/${firstId}/extend`], describeRequests(sent));
      const outs = await stack.outputs();
      assert.equal(outs.previewId, firstId, "same preview");
      assert.ok(Date.parse(String(outs.ttlExpiresAt)) > Date.parse(String(before)), "the expiry moved");
    });

    it("a resetTrigger change resets in place: new credentials that log in", async function () {
      await stack.config(`${PROJECT}:resetTrigger`, "1");
      const old = await stack.outputs(true);
      const plan = await stack.ok(["preview", "--non-interactive", "--diff"]);
      assert.match(plan.stdout, /~ pulumi-nodejs:dynamic\/capydb:PreviewDatabase: \(update\)/);
      cp.clearRequests();
      await stack.ok(["up", "--yes", "--non-interactive"]);
      const sent = writes(cp.requests());
      assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [`POST /v1/preview-databases/${firstId}/reset`], describeRequests(sent));
      const fresh = await stack.outputs(true);
      assert.equal(fresh.previewId, firstId);
      assert.notEqual(fresh.password, old.password, "credentials rotate on reset");
      if (psqlPath()) assert.ok(Number(await psql(String(fresh.directUrl), "select count(*) from customers")) > 0);
    });

    it("a name change replaces the preview, deleting the old one first, as the plan said", async () => {
      await stack.config(`${PROJECT}:name`, "cli-renamed");
      const plan = await stack.ok(["preview", "--non-interactive"]);
      assert.match(plan.stdout, /\+-\s+pulumi-nodejs:dynamic\/capydb:PreviewDatabase\s+db\s+replace/);
      assert.match(plan.stdout, /\[diff: ~name\]/);
      cp.clearRequests();
      const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
      assert.match(stdout, /deleting original/);
      const sent = writes(cp.requests()).map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(sent, [`DELETE /v1/preview-databases/${firstId}`, `POST /v1/projects/${cp.projectId}/preview-databases`], sent.join("\n"));
      const outs = await stack.outputs();
      assert.equal(outs.name, "cli-renamed");
      assert.deepEqual(livePreviews(cp).map((p) => p.name), ["cli-renamed"]);
    });

    it("up --refresh recreates a preview that was deleted out of band", async () => {
      const gone = String((await stack.outputs()).previewId);
      cp.previews.remove(gone);
      const { stdout } = await stack.ok(["up", "--refresh", "--yes", "--non-interactive"]);
      assert.match(stdout, /PreviewDatabase\s+db\s+created/);
      const outs = await stack.outputs();
      assert.notEqual(outs.previewId, gone);
      assert.deepEqual(livePreviews(cp).map((p) => p.id), [outs.previewId]);
    });

    it("ran the program as the JavaScript it is (runtime option typescript: false): no ts-node cache in TMPDIR", () => {
      assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith("ts-node")), []);
    });

    it("destroy deletes the preview and waits; stack rm then succeeds", async () => {
      const { stdout } = await stack.ok(["destroy", "--yes", "--non-interactive"]);
      assert.match(stdout, /PreviewDatabase\s+db\s+deleted/);
      assert.deepEqual(livePreviews(cp), [], "the control plane holds no preview");
      await stack.ok(["stack", "rm", "--yes", "dev"]);
      const listing = await stack.run(["stack", "ls", "--json"]);
      assert.deepEqual(JSON.parse(listing.stdout), []);
    });
  });
}
