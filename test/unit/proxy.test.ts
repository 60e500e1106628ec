import { strict as assert } from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { Dispatcher } from "undici";
import { CapyDBClient } from "../../provider/client";
import { createKeepAliveDispatcher, noProxyList } from "../../provider/dispatcher";
import { redact } from "../../provider/redact";
import { FakeClock } from "../helpers/fake-clock";
import { apiJob, TEST_API_KEY } from "../helpers/fixtures";
import { startConnectProxy } from "../helpers/connect-proxy";

/** A job endpoint on `host` (any loopback address), counting what reached it. */
async function jobServer(host: string) {
  let seen = 0;
  const server = http.createServer((_req, res) => {
    seen++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ job: apiJob({ state: "running" }) }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen: () => seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe("proxies from the environment (issue 14.2)", function () {
  this.timeout(30_000);
  let dispatchers: Dispatcher[] = [];
  const clientFor = (apiUrl: string, env: NodeJS.ProcessEnv) => {
    const dispatcher = createKeepAliveDispatcher(env);
    dispatchers.push(dispatcher);
    return new CapyDBClient({ apiUrl, apiKey: TEST_API_KEY, clock: new FakeClock(), dispatcher });
  };
  afterEach(async () => {
    for (const d of dispatchers) await d.close();
    dispatchers = [];
  });

  it("HTTP_PROXY: requests go through the proxy, which resolves the host", async () => {
    const target = await jobServer("127.0.0.1");
    const proxy = await startConnectProxy({ "capydb.test": "127.0.0.1" });
    try {
      const client = clientFor(`http://capydb.test:${target.port}`, { HTTP_PROXY: proxy.url });
      assert.equal((await client.getJob("job_1")).state, "running");
      assert.deepEqual(proxy.log.connects, [`capydb.test:${target.port}`]);
      assert.equal(target.seen(), 1);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  it("lowercase https_proxy wins over HTTPS_PROXY, and applies to https targets", async () => {
    const proxy = await startConnectProxy();
    const unused = await startConnectProxy();
    try {
      const client = clientFor("https://capydb.test:8443", { https_proxy: proxy.url, HTTPS_PROXY: unused.url });
      // The proxy cannot reach capydb.test: the point is only where the client went.
      await client.getJob("job_1").catch(() => undefined);
      assert.deepEqual(proxy.log.connects.slice(0, 1), ["capydb.test:8443"]);
      assert.deepEqual(unused.log.connects, []);
    } finally {
      await proxy.close();
      await unused.close();
    }
  });

  it("NO_PROXY exempts a host: it is reached directly and the proxy sees nothing", async () => {
    const target = await jobServer("127.0.0.2");
    const proxy = await startConnectProxy();
    try {
      const proxied = clientFor(`http://127.0.0.2:${target.port}`, { HTTP_PROXY: proxy.url });
      await proxied.getJob("job_1");
      assert.deepEqual(proxy.log.connects, [`127.0.0.2:${target.port}`], "without NO_PROXY it goes through the proxy");
      const direct = clientFor(`http://127.0.0.2:${target.port}`, { HTTP_PROXY: proxy.url, NO_PROXY: "example.com, 127.0.0.2" });
      await direct.getJob("job_1");
      assert.equal(proxy.log.connects.length, 1, "the proxy saw nothing more");
      assert.equal(target.seen(), 2);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  it("HTTP_PROXY alone applies to https targets too", async () => {
    const proxy = await startConnectProxy();
    try {
      await clientFor("https://capydb.test:8443", { HTTP_PROXY: proxy.url }).getJob("job_1").catch(() => undefined);
      assert.deepEqual(proxy.log.connects.slice(0, 1), ["capydb.test:8443"]);
    } finally {
      await proxy.close();
    }
  });

  it("NO_PROXY matches domain suffixes, host:port and *; another port is still proxied", async () => {
    const proxy = await startConnectProxy();
    try {
      for (const noProxy of [".test", "capydb.test:8080", "*"]) {
        const error = await clientFor("http://capydb.test:8080", { HTTP_PROXY: proxy.url, NO_PROXY: noProxy }).getJob("job_1").then(() => undefined, (e: Error) => e);
        // Direct: the client resolves capydb.test itself, and cannot.
        assert.match(String(error?.message), /could not be resolved/, noProxy);
      }
      assert.deepEqual(proxy.log.connects, []);
      await clientFor("http://capydb.test:8080", { HTTP_PROXY: proxy.url, NO_PROXY: "capydb.test:9090" }).getJob("job_1").catch(() => undefined);
      assert.deepEqual(proxy.log.connects.slice(0, 1), ["capydb.test:8080"]);
    } finally {
      await proxy.close();
    }
  });

  it("a proxy's own password is masked like the key", () => {
    void createKeepAliveDispatcher({ HTTPS_PROXY: "http://corp-user:Proxy-Pa55-word@127.0.0.1:3128" }).close();
    assert.equal(redact("auth as corp-user with Proxy-Pa55-word failed"), "auth as corp-user with *** failed");
  });

  it("this machine (localhost, 127.0.0.1, ::1) is always reached directly", async () => {
    const target = await jobServer("127.0.0.1");
    const proxy = await startConnectProxy();
    try {
      await clientFor(`http://127.0.0.1:${target.port}`, { HTTP_PROXY: proxy.url, NO_PROXY: "example.com" }).getJob("job_1");
      await clientFor(`http://localhost:${target.port}`, { HTTP_PROXY: proxy.url }).getJob("job_1").catch(() => undefined);
      assert.deepEqual(proxy.log.connects, []);
      assert.deepEqual(noProxyList({}), "localhost,127.0.0.1,[::1]");
      assert.deepEqual(noProxyList({ no_proxy: "*" }), "*");
      assert.deepEqual(noProxyList({ NO_PROXY: ".corp.example" }), ".corp.example,localhost,127.0.0.1,[::1]");
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  it("a proxy that refuses the tunnel (407): not sent, no retry, the message says how to give it credentials", async () => {
    const proxy = await startConnectProxy({}, { refuseWith: 407 });
    try {
      const clock = new FakeClock();
      const dispatcher = createKeepAliveDispatcher({ HTTPS_PROXY: proxy.url });
      dispatchers.push(dispatcher);
      const client = new CapyDBClient({ apiUrl: "https://capydb.test", apiKey: TEST_API_KEY, clock, dispatcher });
      const error = await client.listPreviews("prj_1").then(() => assert.fail("expected a failure"), (e) => e);
      assert.equal(error.notSent, true);
      assert.match(error.message, /was not sent: the proxy refused to open a tunnel to capydb\.test \(HTTP 407\)[\s\S]*in HTTPS_PROXY, as user:password@ before its host/);
      assert.deepEqual(clock.sleeps, [], "no retry");
      assert.equal(proxy.log.connects.length, 1);
    } finally {
      await proxy.close();
    }
  });

  it("a proxy that refuses connections: the request was not sent, and the message says refused", async () => {
    const proxy = await startConnectProxy();
    const url = proxy.url;
    await proxy.close();
    const client = clientFor("https://capydb.test", { HTTPS_PROXY: url });
    const error = await client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 1 }).then(() => assert.fail("expected a failure"), (e) => e);
    assert.equal(error.maybeApplied, false);
    assert.match(error.message, new RegExp(`connection refused by ${new URL(url).host.replace(/\./g, "\\.")} \\(ECONNREFUSED\\)`), "names the proxy's address");
  });
});
