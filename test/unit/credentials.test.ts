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

  it("refuses a query or a fragment without showing it", () => {
    for (const apiUrl of ["https://capydb.dev/api?token=s3cr3t-token-value", "https://capydb.dev/api#s3cr3t-token-value", "https://capydb.dev/api?"]) {
      const error = refusal({ apiUrl });
      assert.match(error.message, /query or a fragment/);
      assert.match(error.message, /capydb:apiUrl/);
      assert.ok(!error.message.includes("s3cr3t-token-value"), error.message);
    }
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
      assert.match(String(error?.message), /query or a fragment.*capydb:apiUrl/s);
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
