// Issue 17.4 through the native plugin and the real Pulumi CLI: a Pulumi YAML program reads, with
// `fn::invoke` of capydb:index:getPreviewDatabase, a preview created outside Pulumi (straight through
// the API), without managing it. The plugin is installed from its archive; the key is secret config.
import { strict as assert } from "assert";
import * as path from "path";
import type { ControlPlane } from "../control-plane";
import { REPO } from "../helpers/packed-program";
import { DirectCliStack, programCopy, requireYamlHost } from "./native";
import { StackSuite } from "./stack-suite";
import { assertMissingLookupFails, createOutsidePulumi, describeRequests, requirePulumiCli, writes } from "./suite";

const PROJECT = "capydb-yaml-lookup-suite";
const PROGRAM = path.join(REPO, "test", "cli", "yaml-lookup-program");

describe("real Pulumi CLI: a YAML program reads a preview made outside Pulumi with fn::invoke getPreviewDatabase (test/cli)", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let stack: DirectCliStack;
  let programDir: string;
  let previewId: string;
  /** What CapyDB itself answers for the preview (E3) and its connections (E8), read straight from the API. */
  let listed: { public_host: string; direct_port: number };
  let connections: { direct_url: string };

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    requireYamlHost(ctx, cli);
    programDir = suite.dir(programCopy(PROGRAM));
    cp = await suite.startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 200, reset: 200, delete: 200 } });
    previewId = await createOutsidePulumi(cp, "made-elsewhere");
    const headers = { authorization: `Bearer ${cp.apiKey}` };
    const conn = await fetch(`${cp.url}/v1/preview-databases/${previewId}/connections`, { headers });
    assert.ok(conn.ok);
    connections = ((await conn.json()) as { connections: typeof connections }).connections;
    const list = await fetch(`${cp.url}/v1/projects/${cp.projectId}/preview-databases`, { headers });
    const body = (await list.json()) as { preview_databases?: (typeof listed & { id: string })[] } | (typeof listed & { id: string })[];
    listed = (Array.isArray(body) ? body : body.preview_databases ?? []).find((p) => p.id === previewId)!;
    assert.ok(listed, "the preview is listed");
    // Only the URL comes from the environment: the key travels as secret stack config through Configure.
    const direct = new DirectCliStack(cli, programDir, "dev", { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: "" });
    await direct.installPlugin();
    stack = await suite.stack(direct, { project: PROJECT, key: cp.projectScopedKey });
    await stack.config(`${PROJECT}:previewName`, "made-elsewhere");
  });

  it("up exports the preview's name and host; the URL and password stay secret; nothing is managed or written", async () => {
    cp.clearRequests();
    const up = await stack.ok(["up", "--yes", "--non-interactive"]);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
    const shown = await stack.outputs();
    // pulumi-yaml makes a whole fn::invoke result secret when any field of it is (README, "Lookups").
    assert.deepEqual(shown, { previewId: "[secret]", name: "[secret]", host: "[secret]", directPort: "[secret]", directUrl: "[secret]", password: "[secret]" });
    const secrets = await stack.outputs(true);
    assert.equal(secrets.previewId, previewId);
    assert.equal(secrets.name, "made-elsewhere");
    assert.equal(secrets.host, listed.public_host);
    assert.equal(secrets.directPort, listed.direct_port);
    assert.equal(secrets.directUrl, connections.direct_url, "the URL CapyDB gives for the preview");
    assert.ok(connections.direct_url.includes(`:${String(secrets.password)}@`), "the password is the URL's");
    for (const text of [up.stdout + up.stderr, JSON.stringify(shown), stack.stateFileText(PROJECT)]) {
      assert.ok(!text.includes(connections.direct_url) && !text.includes(String(secrets.password)), "no URL or password in clear");
      assert.ok(!text.includes(cp.projectScopedKey), "never the API key");
    }
    const state = await stack.exportState();
    assert.ok(!(state.resources ?? []).some((r) => r.type === "capydb:index:PreviewDatabase"), "no PreviewDatabase resource in the stack");
  });

  it("a missing preview fails the program naming the project and the name", async () => {
    await assertMissingLookupFails(stack, cp, PROJECT, "made-elsewhere");
  });

  it("destroy leaves the preview alone", async () => {
    cp.clearRequests();
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(cp.previews.live().map((p) => p.id), [previewId]);
    assert.deepEqual(writes(cp.requests()), [], describeRequests(cp.requests()));
  });
});
