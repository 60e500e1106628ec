import { strict as assert } from "assert";
import { createProvider } from "../../provider";
import { isLoopbackHost, resolveCredentials } from "../../provider/credentials";
import { CapyDBError } from "../../provider/errors";
import { ControlPlane, startControlPlane } from "../control-plane";
import { FakeClock } from "../helpers/fake-clock";

const KEY = "capy_live_credentials_test_0123456789";

function refusal(config: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}): CapyDBError {
  try {
    resolveCredentials(config, env);
  } catch (error) {
    assert.ok(error instanceof CapyDBError, String(error));
    assert.equal(error.kind, "config");
    return error;
  }
  assert.fail(`expected ${JSON.stringify(config)} ${JSON.stringify(env)} to be refused`);
}

describe("API URL rules (the key is sent with every request)", () => {
  it("accepts https anywhere, and plain http only to this machine", () => {
    for (const apiUrl of ["https://capydb.dev/api/capydb", "https://10.0.0.5:8443", "http://127.0.0.1:8765", "http://127.9.8.7", "http://localhost:3000/api", "http://[::1]:8080", "http://LOCALHOST"]) {
      assert.equal(resolveCredentials({ apiKey: KEY, apiUrl }, {}).apiUrl, apiUrl, apiUrl);
    }
    assert.deepEqual(["127.0.0.1", "127.255.0.1", "localhost", "[::1]"].map(isLoopbackHost), [true, true, true, true]);
    assert.deepEqual(["128.0.0.1", "10.0.0.1", "localhost.example.com", "[::2]", "example.com"].map(isLoopbackHost), [false, false, false, false, false]);
  });

  it("refuses plain http to another host, naming the key, the env var and the opt-out", () => {
    for (const apiUrl of ["http://capydb.dev/api/capydb", "http://10.0.0.5:8080", "http://localhost.example.com"]) {
      const error = refusal({ apiKey: KEY, apiUrl });
      assert.match(error.message, /capydb:apiUrl/);
      assert.match(error.message, /CAPYDB_API_URL/);
      assert.match(error.message, /https:\/\//);
      assert.match(error.message, /capydb:allowInsecureHttp true/);
      assert.match(error.message, /CAPYDB_ALLOW_INSECURE_HTTP=true/);
    }
    refusal({}, { CAPYDB_API_URL: "http://capydb.dev", CAPYDB_API_KEY: KEY });
  });

  it("the opt-out (stack config or environment) lets a trusted local proxy through", () => {
    assert.equal(resolveCredentials({ apiUrl: "http://proxy.internal:8080", allowInsecureHttp: "true" }, {}).apiUrl, "http://proxy.internal:8080");
    assert.equal(resolveCredentials({}, { CAPYDB_API_URL: "http://proxy.internal", CAPYDB_ALLOW_INSECURE_HTTP: "1" }).apiUrl, "http://proxy.internal");
    refusal({ apiUrl: "http://proxy.internal", allowInsecureHttp: "false" });
    const bad = refusal({ apiUrl: "http://proxy.internal", allowInsecureHttp: "sure" });
    assert.match(bad.message, /allowInsecureHttp.*must be true or false/);
  });

  it("refuses a query or a fragment, showing the URL as written with only its credentials masked", () => {
    const cases: [string, string][] = [
      ["https://capydb.dev/api?debug=1&region=eu", 'the API URL "https://capydb.dev/api?debug=1&region=eu" has a query'],
      ["https://capydb.dev/api?token=s3cr3t-token-value&debug=1", 'the API URL "https://capydb.dev/api?token=***&debug=1" has a query'],
      ["https://capydb.dev/api?api_key=s3cr3t-token-value", 'the API URL "https://capydb.dev/api?api_key=***" has a query'],
      ["https://capydb.dev/api#section", 'the API URL "https://capydb.dev/api#section" has a fragment'],
      ["https://capydb.dev/api?", 'the API URL "https://capydb.dev/api?" has a query'],
    ];
    for (const [apiUrl, said] of cases) {
      const error = refusal({ apiUrl });
      assert.ok(error.message.includes(said), error.message);
      assert.match(error.message, /capydb:apiUrl/);
      assert.ok(!error.message.includes("s3cr3t-token-value"), error.message);
    }
    const withUser = refusal({ apiUrl: "https://me:s3cr3t-token-value@capydb.dev/api" });
    assert.ok(withUser.message.includes('"https://***@capydb.dev/api"'), withUser.message);
  });

  it("a URL the key must not go to fails check, so `pulumi preview` refuses it, with no request", async () => {
    for (const [apiUrl, why] of [["http://capydb.example.com/api", /plain http to a host that is not this machine/], ["https://capydb.dev/api?x=1", /has a query/]] as const) {
      const provider = createProvider({ clock: new FakeClock(), sink: () => undefined, env: {} });
      await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": KEY, "capydb:apiUrl": apiUrl })[k] } });
      const error = await provider.check({}, { projectId: "prj_1", name: "pr-1" }).then(() => undefined, (e: Error) => e);
      assert.match(String(error?.message), why);
      assert.equal(String(error), "[capydb] check pr-1 failed", "the plugin host prints one line, not the stack");
    }
    const fine = createProvider({ clock: new FakeClock(), sink: () => undefined, env: { CAPYDB_API_URL: "http://127.0.0.1:1" } });
    await fine.configure({ config: { get: () => undefined } });
    assert.equal((await fine.check({}, { projectId: "prj_1", name: "pr-1" })).failures, undefined);
  });

  describe("through the provider: refused before any request", function () {
    this.timeout(20_000);
    let cp: ControlPlane;
    beforeEach(async () => {
      cp = await startControlPlane({ now: () => new FakeClock().now() });
    });
    afterEach(() => cp.close());

    it("a query on the local control plane's URL sends nothing", async () => {
      const provider = createProvider({ clock: new FakeClock(), sink: () => undefined, env: { CAPYDB_READINESS: "job" } });
      await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": `${cp.url}?debug=1` })[k] } });
      const error = await provider.read("pvw_1", { projectId: cp.projectId, name: "x" }).then(() => undefined, (e) => e);
      assert.match(String(error?.message), /"http:\/\/127\.0\.0\.1:\d+\/\?debug=1" has a query.*capydb:apiUrl/s);
      assert.deepEqual(cp.requests(), []);
    });

    it("the local control plane (http://127.0.0.1) keeps working without the opt-out", async () => {
      const provider = createProvider({ clock: new FakeClock(), sink: () => undefined, env: { CAPYDB_READINESS: "job" } });
      await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url })[k] } });
      assert.ok(cp.url.startsWith("http://127.0.0.1:"));
      assert.deepEqual(await provider.read("pvw_1", { projectId: cp.projectId, name: "x" }), { id: "", props: {} });
      assert.equal(cp.requests().length, 1);
    });
  });
});
