// Proxies and private CAs through the real dynamic-provider plugin (issue 14.2): the plugin is a child
// process started with HTTPS_PROXY and NODE_EXTRA_CA_CERTS in its environment, as `pulumi up` starts it
// in a shell that sets them; CapyDB is the local control plane behind TLS with a private CA's certificate.
import * as assert from "assert/strict";
import * as path from "path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { startConnectProxy } from "../helpers/connect-proxy";
import { createPrivateCa, type PrivateCa } from "../helpers/private-ca";
import { startTlsFront } from "../helpers/tls-front";
import { captureRegistrations, Stack, startPlugin, type CapturedResource, type Plugin } from "./harness";

const REPO = path.resolve(__dirname, "..", "..", "..");
const PROJECT = "capydb-proxy";
const STACK = "dev";
/** Every proxy variable unset in the child, so that only what a test sets counts. */
const NO_PROXY_ENV = { HTTPS_PROXY: undefined, https_proxy: undefined, HTTP_PROXY: undefined, http_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined };

describe("proxies and a private CA through the dynamic-provider plugin", function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let ca: PrivateCa;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  const fronts: Array<Awaited<ReturnType<typeof startTlsFront>>> = [];
  const plugins: Plugin[] = [];
  let reg: CapturedResource;

  before(async () => {
    cp = await startControlPlane();
    ca = createPrivateCa(["capydb.test", "127.0.0.2"]);
    const target = { host: "127.0.0.1", port: Number(new URL(cp.url).port) };
    fronts.push(await startTlsFront({ key: ca.key, cert: ca.cert, target }), await startTlsFront({ key: ca.key, cert: ca.cert, target, host: "127.0.0.2" }));
    // capydb.test exists only for the proxy: the plugin cannot resolve it itself.
    proxy = await startConnectProxy({ "capydb.test": "127.0.0.1" });
    [reg] = await captureRegistrations({ programDir: REPO, module: "pulumi-capydb", project: PROJECT, stack: STACK, resources: [
      { name: "db", exportName: "PreviewDatabase", args: { projectId: cp.projectId, name: "pv-proxy" } },
    ] });
  });

  after(async () => {
    for (const p of plugins) await p.close();
    await proxy?.close();
    for (const f of fronts) await f.close();
    await cp?.close();
    ca?.remove();
  });

  const stackWith = async (env: Record<string, string | undefined>, apiUrl: string) => {
    const plugin = await startPlugin({ programDir: REPO, project: PROJECT, stack: STACK, env: { ...NO_PROXY_ENV, ...env } });
    plugins.push(plugin);
    return new Stack({ plugin, project: PROJECT, stack: STACK, config: { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": apiUrl }, secretKeys: ["capydb:apiKey"] });
  };
  const goal = () => ({ name: reg.name, type: reg.type, inputs: reg.inputs, additionalSecretOutputs: reg.additionalSecretOutputs });

  it("HTTPS_PROXY: up and destroy go through the proxy's CONNECT tunnel; the proxy never sees the key; the private CA is trusted via NODE_EXTRA_CA_CERTS", async () => {
    const apiUrl = `https://capydb.test:${fronts[0].port}`;
    const stack = await stackWith({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: ca.caFile }, apiUrl);
    await stack.up([goal()]);
    assert.equal(stack.resource("db")!.outputs.state, "ready");
    await stack.destroy();
    assert.deepEqual(cp.previews.live(cp.projectId), []);

    assert.ok(proxy.log.connects.length >= 1, "the plugin went through the proxy");
    assert.deepEqual([...new Set(proxy.log.connects)], [`capydb.test:${fronts[0].port}`], "CONNECT to CapyDB's host and port, nothing else");
    assert.deepEqual(proxy.log.plain, [], "no request in clear");
    const seen = proxy.log.bytesFromClient();
    assert.ok(seen.length > 1000, "the tunnel carried the requests");
    for (const needle of [cp.projectScopedKey, "Bearer", "authorization", "/v1/projects"]) {
      assert.ok(!seen.includes(needle), `the proxy could read "${needle}"`);
    }
    for (const headers of proxy.log.connectHeaders) assert.equal(headers.authorization, undefined);
  });

  it("NO_PROXY: an exempt host is reached directly, the proxy sees nothing", async () => {
    const before = proxy.log.connects.length;
    const stack = await stackWith({ HTTPS_PROXY: proxy.url, NO_PROXY: "example.com,127.0.0.2", NODE_EXTRA_CA_CERTS: ca.caFile }, `https://127.0.0.2:${fronts[1].port}`);
    await stack.up([goal()]);
    assert.equal(stack.resource("db")!.outputs.state, "ready");
    await stack.destroy();
    assert.equal(proxy.log.connects.length, before, "not one CONNECT");
  });

  it("without NODE_EXTRA_CA_CERTS the private CA's certificate is refused before the key is sent, and the error says how to trust it", async () => {
    const stack = await stackWith({ HTTPS_PROXY: proxy.url }, `https://capydb.test:${fronts[0].port}`);
    cp.clearRequests();
    const error = await stack.up([goal()]).then(() => undefined, (e: Error) => e);
    assert.ok(error, "up must fail");
    assert.match(error.message, /TLS certificate of capydb\.test:\d+ was not accepted[\s\S]*NODE_EXTRA_CA_CERTS/);
    assert.ok(!error.message.includes("pending-create"));
    assert.deepEqual(cp.requests(), [], "nothing reached CapyDB");
    assert.deepEqual(cp.previews.live(cp.projectId), []);
  });
});
