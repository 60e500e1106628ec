// The native plugin through the real Pulumi CLI: the plugin archive installed with `pulumi plugin
// install`, a Pulumi YAML program run by pulumi-language-yaml, the local control plane on real
// Postgres. Each `it` is the next command a user types on the same stack, so they run in order.
import { strict as assert } from "assert";
import type { ControlPlane } from "../control-plane";
import { StackSuite } from "./stack-suite";
import { DirectCliStack, programCopy, requireYamlHost, YAML_PROGRAM } from "./native";
import { describeRequests, livePreviews, psql, psqlPath, requirePulumiCli, writes } from "./suite";

const PROJECT = "capydb-yaml-suite";

describe("real Pulumi CLI: the capydb plugin runs a Pulumi YAML program (test/cli)", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let stack: DirectCliStack;
  let programDir: string;
  let firstId: string;
  /** Every secret value the stack has held: none may appear in what a command printed. */
  const secretsSeen = new Set<string>();

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    requireYamlHost(ctx, cli);
    programDir = suite.dir(programCopy(YAML_PROGRAM));
    cp = await suite.startControlPlane({ backend: "postgres", jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    // Only the URL comes from the environment: the key travels as secret stack config through Configure.
    const direct = new DirectCliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: "" });
    await direct.installPlugin();
    stack = await suite.stack(direct, { project: PROJECT, key: cp.projectScopedKey });
  });

  it("preview plans a create of capydb:index:PreviewDatabase and sends no request", async () => {
    cp.clearRequests();
    const { stdout } = await stack.ok(["preview", "--non-interactive"]);
    assert.match(stdout, /\+\s+capydb:index:PreviewDatabase\s+db\s+create/);
    assert.deepEqual(cp.requests(), [], describeRequests(cp.requests()));
  });

  it("up creates the preview with the key from secret config; the credentials are secret outputs", async () => {
    cp.clearRequests();
    const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.match(stdout, /capydb:index:PreviewDatabase\s+db\s+created/);
    const outs = await stack.outputs();
    const [live] = livePreviews(cp);
    firstId = String(outs.previewId);
    assert.equal(firstId, live.id);
    assert.equal(outs.state, "ready");
    assert.equal(outs.host, "127.0.0.1");
    assert.equal(outs.directUrl, "[secret]");
    assert.equal(outs.password, "[secret]");
    assert.ok(cp.requests().every((r) => r.auth !== "none"), "every request carried the key");
    assert.deepEqual(writes(cp.requests()).map((r) => r.method), ["POST"], describeRequests(cp.requests()));
  });

  it("psql logs in with the secret URL", async function () {
    if (!psqlPath()) this.skip();
    const { directUrl } = await stack.outputs(true);
    assert.ok(Number(await psql(String(directUrl), "select count(*) from customers")) > 0);
  });

  it("stack export shows no URL, password or key in clear", async () => {
    const secrets = await stack.outputs(true);
    const { stdout } = await stack.ok(["stack", "export", "--stack", "dev"]);
    for (const key of ["directUrl", "password"]) {
      assert.equal(typeof secrets[key], "string");
      assert.ok(!stdout.includes(String(secrets[key])), `${key} is not in the export in clear`);
    }
    assert.ok(!stdout.includes("postgres://"), "no connection URL in clear");
    assert.ok(!stdout.includes(cp.projectScopedKey), "the API key is not in the export in clear");
    const state = stack.stateFileText(PROJECT);
    assert.ok(!state.includes("postgres://") && !state.includes(cp.projectScopedKey));
    assert.match(state, /"ciphertext"/);
  });

  it("a second up changes nothing and sends no write", async () => {
    cp.clearRequests();
    const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.doesNotMatch(stdout, /PreviewDatabase\s+db\s+(updated|created|replaced|deleted)/);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
  });

  it("a ttlHours change shows the property diff and sends one extend", async () => {
    await stack.config(`${PROJECT}:ttlHours`, "48");
    const plan = await stack.ok(["preview", "--non-interactive", "--diff"]);
    assert.match(plan.stdout, /~ capydb:index:PreviewDatabase: \(update\)/);
    assert.match(plan.stdout, /~ ttlHours\s*: 24 => 48/);
    cp.clearRequests();
    await stack.ok(["up", "--yes", "--non-interactive"]);
    const sent = writes(cp.requests());
    assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [`POST /v1/preview-databases/${firstId}/extend`], describeRequests(sent));
    assert.equal((await stack.outputs()).previewId, firstId);
  });

  it("a resetTrigger change sends one reset and rotates the password", async () => {
    const old = await stack.outputs(true);
    await stack.config(`${PROJECT}:resetTrigger`, "again");
    cp.clearRequests();
    await stack.ok(["up", "--yes", "--non-interactive"]);
    const sent = writes(cp.requests());
    assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [`POST /v1/preview-databases/${firstId}/reset`], describeRequests(sent));
    const fresh = await stack.outputs(true);
    assert.equal(fresh.previewId, firstId);
    assert.notEqual(fresh.password, old.password);
    for (const o of [old, fresh]) for (const key of ["directUrl", "password"]) secretsSeen.add(String(o[key]));
  });

  it("refresh after an out-of-band delete drops the preview, and up recreates it", async () => {
    cp.previews.remove(firstId);
    const refresh = await stack.ok(["refresh", "--yes", "--non-interactive"]);
    assert.match(refresh.stdout, /PreviewDatabase\s+db\s+deleted/);
    const state = await stack.exportState();
    assert.ok(!(state.resources ?? []).some((r) => r.type === "capydb:index:PreviewDatabase"), "refresh dropped it");
    const { stdout } = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.match(stdout, /capydb:index:PreviewDatabase\s+db\s+created/);
    const outs = await stack.outputs();
    assert.notEqual(outs.previewId, firstId);
    assert.deepEqual(livePreviews(cp).map((p) => p.id), [outs.previewId]);
    const recreated = await stack.outputs(true);
    for (const key of ["directUrl", "password"]) secretsSeen.add(String(recreated[key]));
  });

  it("no command printed the API key, a connection URL or a password", async () => {
    secretsSeen.add(cp.projectScopedKey);
    for (const [i, text] of stack.transcript.entries()) {
      // The first line is the command itself (`config set --secret capydb:apiKey …` carries the key).
      const [command, ...printed] = text.split("\n");
      if (command.includes("--show-secrets")) continue;
      const entry = printed.join("\n");
      for (const value of secretsSeen) assert.ok(!entry.includes(value), `command ${i} printed a secret`);
      assert.ok(!entry.includes("postgres://"), `command ${i} printed a connection URL`);
    }
    assert.ok(secretsSeen.size >= 5, "the passwords and URLs of both previews were collected");
  });

  it("destroy deletes the preview and leaves nothing", async () => {
    const { stdout } = await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.match(stdout, /capydb:index:PreviewDatabase\s+db\s+deleted/);
    assert.deepEqual(livePreviews(cp), []);
    const state = await stack.exportState();
    assert.deepEqual(state.resources ?? [], []);
  });
});
