// Proxies and a private CA through the real Pulumi CLI (issue 14.2): `pulumi up` and `pulumi destroy` in a
// shell with HTTPS_PROXY and NODE_EXTRA_CA_CERTS set, CapyDB being the local control plane behind TLS with
// a private CA's certificate, at a host name only the proxy can resolve.
import { strict as assert } from "assert";
import type { ControlPlane } from "../control-plane";
import { startConnectProxy } from "../helpers/connect-proxy";
import { createPrivateCa, type PrivateCa } from "../helpers/private-ca";
import { startTlsFront } from "../helpers/tls-front";
import { CliStack } from "./cli-stack";
import { StackSuite } from "./stack-suite";
import { CLI_PROGRAM, describeRequests, installedCopy, livePreviews, requirePulumiCli, writes } from "./suite";

const PROJECT = "capydb-cli-suite";

describe("real Pulumi CLI: through an HTTPS proxy to CapyDB with a private CA (test/cli)", function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let ca: PrivateCa;
  let front: Awaited<ReturnType<typeof startTlsFront>>;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  let stack: CliStack;
  let programDir: string;
  let target: string;

  StackSuite.use(async (ctx, suite) => {
    const cli = requirePulumiCli(ctx);
    programDir = suite.dir(await installedCopy(CLI_PROGRAM));
    cp = await suite.startControlPlane({ jobProgression: "time", jobDurationsMs: { create: 300, reset: 300, delete: 200 } });
    ca = createPrivateCa(["capydb.test"]);
    suite.onClose(() => ca.remove());
    front = await startTlsFront({ key: ca.key, cert: ca.cert, target: { host: "127.0.0.1", port: Number(new URL(cp.url).port) } });
    suite.onClose(() => front.close());
    proxy = await startConnectProxy({ "capydb.test": "127.0.0.1" });
    suite.onClose(() => proxy.close());
    target = `capydb.test:${front.port}`;
    const proxied = new CliStack(cli, programDir, "proxied", {
      CAPYDB_API_URL: `https://${target}`,
      CAPYDB_READINESS: "job",
      HTTPS_PROXY: proxy.url,
      https_proxy: undefined,
      NO_PROXY: undefined,
      no_proxy: undefined,
      NODE_EXTRA_CA_CERTS: ca.caFile,
    });
    stack = await suite.stack(proxied, { project: PROJECT, key: cp.projectScopedKey });
  });

  it("up creates the preview through the proxy's CONNECT tunnel; the proxy never reads the key", async () => {
    await stack.ok(["up", "--yes", "--non-interactive"]);
    const outs = await stack.outputs();
    assert.equal(outs.state, "ready");
    assert.deepEqual(livePreviews(cp).map((p) => p.id), [outs.previewId]);
    assert.deepEqual(writes(cp.requests()).map((r) => r.method), ["POST"], describeRequests(cp.requests()));
    assert.ok(proxy.log.connects.includes(target), `CONNECTs seen: ${proxy.log.connects.join(", ")}`);
    assert.deepEqual(proxy.log.plain, [], "no request in clear");
    const seen = proxy.log.bytesFromClient();
    for (const needle of [cp.projectScopedKey, "Bearer", "/v1/projects"]) assert.ok(!seen.includes(needle), `the proxy could read "${needle}"`);
  });

  it("destroy goes the same way and deletes it", async () => {
    const before = proxy.log.connects.filter((c) => c === target).length;
    await stack.ok(["destroy", "--yes", "--non-interactive"]);
    assert.deepEqual(livePreviews(cp), []);
    assert.ok(proxy.log.connects.filter((c) => c === target).length > before, "destroy went through the proxy");
    assert.ok(!proxy.log.bytesFromClient().includes(cp.projectScopedKey));
  });
});
