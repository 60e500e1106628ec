import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { CapyDBClient } from "../../provider/client";
import { proxyConfigured } from "../../provider/transport";
import { startConnectProxy } from "../helpers/connect-proxy";
import { FakeClock } from "../helpers/fake-clock";
import { apiJob, TEST_API_KEY } from "../helpers/fixtures";
import { rejection } from "../helpers/rejection";
import { startScriptedServer } from "../helpers/scripted-server";

const CLIENT = path.join(__dirname, "..", "..", "provider", "client.js");

/**
 * One GET of a job by a fresh process's default client (as in a plugin launch), with `env` as its whole
 * environment: whether the call worked, and whether undici was loaded for it.
 */
function freshProcessCall(apiUrl: string, env: NodeJS.ProcessEnv): Promise<{ state?: string; error?: string; undiciLoaded: boolean }> {
  const script = `
    const { CapyDBClient } = require(${JSON.stringify(CLIENT)});
    const client = new CapyDBClient({ apiUrl: ${JSON.stringify(apiUrl)}, apiKey: ${JSON.stringify(TEST_API_KEY)} });
    const undiciLoaded = () => Object.keys(require.cache).some((f) => f.includes("/node_modules/undici/"));
    client.getJob("job_1", { deadline: Date.now() + 5000 }).then(
      (job) => process.stdout.write(JSON.stringify({ state: job.state, undiciLoaded: undiciLoaded() })),
      (error) => process.stdout.write(JSON.stringify({ error: error.message, undiciLoaded: undiciLoaded() })),
    ).finally(() => process.exit(0));`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ["-e", script], { env: { PATH: process.env.PATH ?? "", ...env } }, (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout)))),
  );
}

/** A server that answers the headers and half a body, then nothing more. */
async function stallingServer() {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"job": {');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe("the HTTP transport (issue 16: the plugin's fixed cost)", function () {
  this.timeout(30_000);

  it("without a proxy variable, a fresh process's first API call does not load undici (its WebAssembly parser cost the plugin ~35 MB)", async () => {
    const server = await startScriptedServer(() => ({ body: { job: apiJob({ state: "running" }) } }));
    try {
      const result = await freshProcessCall(server.url, {});
      assert.deepEqual(result, { state: "running", undiciLoaded: false });
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  it("with HTTP_PROXY in the environment, the default client goes through the proxy, with undici's EnvHttpProxyAgent", async () => {
    const server = await startScriptedServer(() => ({ body: { job: apiJob({ state: "running" }) } }));
    const proxy = await startConnectProxy({ "capydb.test": "127.0.0.1" });
    try {
      const port = new URL(server.url).port;
      const result = await freshProcessCall(`http://capydb.test:${port}`, { HTTP_PROXY: proxy.url });
      assert.deepEqual(result, { state: "running", undiciLoaded: true });
      assert.deepEqual(proxy.log.connects, [`capydb.test:${port}`]);
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  it("reads the proxy variables in either case, and an empty one as unset", () => {
    assert.equal(proxyConfigured({}), false);
    assert.equal(proxyConfigured({ HTTPS_PROXY: "", http_proxy: " " }), false);
    for (const name of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"]) assert.equal(proxyConfigured({ [name]: "http://proxy:3128" }), true, name);
    assert.equal(proxyConfigured({ NO_PROXY: "*" }), false, "NO_PROXY alone names no proxy");
  });

  it("a server that never answers: the request fails at its timeout, and a POST is 'maybe applied'", async () => {
    const server = await startScriptedServer(() => ({ hang: true }));
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock(), requestTimeoutMs: 300 });
      const error = await rejection(client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 1 }));
      assert.equal(error.kind, "network");
      assert.equal(error.maybeApplied, true);
      assert.match(error.message, /no complete answer within 0\.3s/);
      assert.equal(server.requests.length, 1, "a POST is not sent again");
    } finally {
      await server.close();
    }
  });

  it("an answer whose body stops half-way: the same timeout ends the reading", async () => {
    const server = await stallingServer();
    try {
      const clock = new FakeClock();
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock, requestTimeoutMs: 300, random: () => 0.5 });
      const error = await rejection(client.getJob("job_1"));
      assert.equal(error.kind, "network");
      assert.match(error.message, /no complete answer within 0\.3s/);
      assert.deepEqual(clock.sleeps, [1000, 2000], "a GET is tried three times, on its usual schedule");
    } finally {
      await server.close();
    }
  });
});
