import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CapyDBClient, DEFAULT_REQUEST_TIMEOUT_MS, MIN_REQUEST_TIMEOUT_MS } from "../../provider/client";
import { CapyDBError } from "../../provider/errors";
import { FakeClock } from "../helpers/fake-clock";
import { apiJob, apiPreview, TEST_API_KEY } from "../helpers/fixtures";
import { Handler, startScriptedServer } from "../helpers/scripted-server";
import { VirtualLatencyDispatcher } from "../helpers/virtual-latency";

async function withServer(handler: Handler, run: (client: CapyDBClient, server: Awaited<ReturnType<typeof startScriptedServer>>, clock: FakeClock) => Promise<void>) {
  const server = await startScriptedServer(handler);
  const clock = new FakeClock();
  try {
    await run(new CapyDBClient({ apiUrl: server.url + "/", apiKey: TEST_API_KEY, clock, random: () => 0.5 }), server, clock);
  } finally {
    await server.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<CapyDBError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CapyDBError, `expected CapyDBError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

describe("CapyDBClient", () => {
  it("sends bearer auth, JSON headers and encoded path segments", async () => {
    await withServer(() => ({ body: { preview_databases: [] } }), async (client, server) => {
      await client.listPreviews("prj/1 2");
      const [req] = server.requests;
      assert.equal(req.method, "GET");
      assert.equal(req.path, "/v1/projects/prj%2F1%202/preview-databases");
      assert.equal(req.headers.authorization, `Bearer ${TEST_API_KEY}`);
      assert.equal(req.headers.accept, "application/json");
      assert.equal(req.headers["content-type"], undefined, "no content-type without a body");
      const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8"));
      assert.ok(String(req.headers["user-agent"]).startsWith(`pulumi-capydb/${version} `), String(req.headers["user-agent"]));
    });
  });

  it("sends the create body as JSON and no body on reset", async () => {
    await withServer((req) => (req.path.endsWith("/reset") ? { status: 202, body: { job: apiJob({ type: "branch.reset" }) } } : { status: 201, body: { preview: apiPreview({ state: "provisioning" }), job: apiJob() } }), async (client, server) => {
      const { preview, job } = await client.createPreview("prj_1", { name: "pr-42", mode: "clone", ttl_hours: 72 });
      assert.equal(preview.state, "provisioning");
      assert.equal(job.state, "pending");
      assert.deepEqual(JSON.parse(server.requests[0].body), { name: "pr-42", mode: "clone", ttl_hours: 72 });
      assert.equal(server.requests[0].headers["content-type"], "application/json");
      await client.resetPreview("pvw_1");
      assert.equal(server.requests[1].body, "");
      assert.equal(server.requests[1].headers["content-type"], undefined);
    });
  });

  it("retries GET on 5xx at +1 s and +3 s, then fails with the server's message", async () => {
    await withServer(() => ({ status: 503, body: { error: "upstream busy" } }), async (client, server, clock) => {
      const error = await rejection(client.getJob("job_1"));
      assert.equal(server.requests.length, 3);
      assert.deepEqual(clock.sleeps, [1000, 2000]);
      assert.equal(error.status, 503);
      assert.equal(error.method, "GET");
      assert.equal(error.path, "/v1/jobs/job_1");
      assert.equal(error.serverMessage, "upstream busy");
      assert.match(error.message, /GET \/v1\/jobs\/job_1 failed with HTTP 503: upstream busy/);
    });
  });

  it("recovers when a GET retry succeeds", async () => {
    await withServer((_req, i) => (i === 0 ? { drop: true } : { body: { job: apiJob({ state: "running" }) } }), async (client, server) => {
      const job = await client.getJob("job_1");
      assert.equal(job.state, "running");
      assert.equal(server.requests.length, 2);
    });
  });

  it("never resends a POST after a 5xx or a dropped connection", async () => {
    for (const answer of [{ status: 502, body: "<html>bad gateway</html>" }, { drop: true }]) {
      await withServer(() => answer, async (client, server) => {
        const error = await rejection(client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 24 }));
        assert.equal(server.requests.length, 1);
        assert.ok(error.maybeApplied);
        if (error.kind === "http") assert.equal(error.serverMessage, "Bad Gateway", "non-JSON bodies fall back to the status");
      });
    }
  });

  it("honours Retry-After on 429, for any method", async () => {
    await withServer((_req, i) => (i < 2 ? { status: 429, body: { error: "rate limit exceeded" }, headers: { "retry-after": "7" } } : { body: { preview: apiPreview() } }), async (client, server, clock) => {
      const preview = await client.extendPreview("pvw_1", 48);
      assert.equal(preview.id, "pvw_1");
      assert.equal(server.requests.length, 3);
      // Issue 10: server-given waits now get jitter (random() = 0.5 adds a tenth of 7 s) so callers spread out.
      assert.deepEqual(clock.sleeps, [7700, 7700]);
    });
  });

  it("backs off exponentially on 429 without Retry-After, until the deadline", async () => {
    await withServer(() => ({ status: 429, body: { error: "rate limit exceeded" } }), async (client, server, clock) => {
      const error = await rejection(client.listPreviews("prj_1", { deadline: clock.now() + 20_000 }));
      assert.equal(error.status, 429);
      // random() = 0.5 → 3/4 of 1 s, 2 s, 4 s, 8 s; the next (16 s → 12 s) would cross the deadline.
      assert.deepEqual(clock.sleeps, [750, 1500, 3000, 6000]);
      assert.equal(server.requests.length, 5);
      assert.match(error.message, /rate limit exceeded/);
    });
  });

  it("explains 401 with the config key and env var, and 403 with the scope", async () => {
    await withServer((req) => (req.path.endsWith("/connections") ? { status: 403, body: { error: "forbidden" } } : { status: 401, body: { error: "invalid api key" } }), async (client, server) => {
      const unauthorized = await rejection(client.listPreviews("prj_1"));
      assert.equal(server.requests.length, 1, "401 is not retried");
      assert.ok(unauthorized.isAuth);
      assert.match(unauthorized.message, /capydb:apiKey/);
      assert.match(unauthorized.message, /CAPYDB_API_KEY/);
      const forbidden = await rejection(client.getConnections("pvw_1"));
      assert.match(forbidden.message, /credentials:read/);
    });
  });

  it("fails before any request when no key is configured", async () => {
    await withServer(() => ({ body: {} }), async (_client, server) => {
      const client = new CapyDBClient({ apiUrl: server.url });
      const error = await rejection(client.listPreviews("prj_1"));
      assert.equal(error.kind, "config");
      assert.match(error.message, /capydb:apiKey/);
      assert.equal(server.requests.length, 0);
    });
  });

  it("tolerates extra fields, explicit nulls and null lists", async () => {
    const sparse = { id: "pvw_2", project_id: "prj_1", name: "x", mode: "empty", state: "weird-new-state", ttl_expires_at: "2026-11-28T00:00:00Z", database_name: null, direct_port: null, public_host: null, brand_new_field: { a: 1 } };
    await withServer((req) => (req.path.includes("prj_empty") ? { body: { preview_databases: null } } : { body: { preview_databases: [apiPreview({ extra: true }), sparse] } }), async (client) => {
      assert.deepEqual(await client.listPreviews("prj_empty"), []);
      const [full, partial] = await client.listPreviews("prj_1");
      assert.equal(full.public_host, "pr-42.db.capydb.dev");
      assert.equal(partial.state, "weird-new-state");
      assert.equal(partial.database_name, null);
    });
  });

  it("rejects answers missing a field the API always sends", async () => {
    await withServer(() => ({ body: { preview_databases: [{ id: "pvw_1", name: "x" }] } }), async (client) => {
      const error = await rejection(client.listPreviews("prj_1"));
      assert.equal(error.kind, "schema");
      assert.match(error.message, /project_id/);
    });
  });

  it("accepts an empty 2xx body on delete", async () => {
    await withServer(() => ({ status: 204 }), async (client) => {
      assert.equal(await client.deletePreview("pvw_1"), undefined);
    });
  });

  it("never puts the API key or connection passwords in error messages", async () => {
    const leaky = `token ${TEST_API_KEY} and postgres://u:hunter2secret@h:5432/db`;
    await withServer(() => ({ status: 400, body: { error: leaky } }), async (client) => {
      const error = await rejection(client.extendPreview("pvw_1", 1));
      assert.ok(!error.message.includes(TEST_API_KEY), error.message);
      assert.ok(!error.message.includes("hunter2secret"), error.message);
      assert.ok(!String(error.serverMessage).includes(TEST_API_KEY));
    });
  });

  it("clips each request's timeout to the time left before the deadline (never under 1 s)", async () => {
    // Values, on the fake clock: the timeout each request was given (undici's headersTimeout), and the
    // virtual time a request that never answers takes with it.
    const server = await startScriptedServer(() => ({ body: { job: apiJob() } }));
    const clock = new FakeClock();
    const transport = new VirtualLatencyDispatcher(clock, () => 0);
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock, random: () => 0.5, dispatcher: transport });
      for (const leftMs of [120_000, 30_000, 5_000, 1_000, 900, 1]) await client.getJob("job_1", { deadline: clock.now() + leftMs });
      assert.deepEqual(transport.exchanges.map((e) => e.timeoutMs), [DEFAULT_REQUEST_TIMEOUT_MS, 30_000, 5_000, 1_000, MIN_REQUEST_TIMEOUT_MS, MIN_REQUEST_TIMEOUT_MS]);

      // A server that never answers: the request ends when its clipped timeout does, and is not retried.
      transport.latencyFor = () => Infinity;
      const started = clock.now();
      const error = await rejection(client.getJob("job_1", { deadline: clock.now() + 900 }));
      assert.equal(error.kind, "network");
      assert.equal(clock.now() - started, MIN_REQUEST_TIMEOUT_MS, "the 900 ms left, rounded up to the 1 s minimum");
      assert.equal(transport.exchanges.length, 7, "no retry: the next wait would cross the deadline");
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("sends nothing once the deadline has passed, and says so", async () => {
    await withServer(() => ({ body: { job: apiJob() } }), async (client, server, clock) => {
      const error = await rejection(client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 1 }, { deadline: clock.now() - 1 }));
      assert.equal(error.kind, "deadline");
      assert.equal(error.maybeApplied, false);
      assert.equal(server.requests.length, 0);
    });
  });

  it("reads a 2xx GET answer it cannot understand again, on the 5xx schedule, then reports it", async () => {
    await withServer((_req, i) => (i < 2 ? { body: {} } : { body: { preview_databases: [] } }), async (client, server, clock) => {
      assert.deepEqual(await client.listPreviews("prj_1"), []);
      assert.equal(server.requests.length, 3);
      assert.deepEqual(clock.sleeps, [1000, 2000]);
    });
    await withServer(() => ({ body: "<html>maintenance</html>" }), async (client, server) => {
      const error = await rejection(client.listPreviews("prj_1"));
      assert.equal(error.kind, "schema");
      assert.equal(server.requests.length, 3);
    });
  });

  it("never takes a list without its preview_databases key for an empty project", async () => {
    for (const body of [{}, { previews: [] }, ""]) {
      await withServer(() => ({ body }), async (client) => {
        const error = await rejection(client.listPreviews("prj_1"));
        assert.equal(error.kind, "schema");
        assert.match(error.message, /preview_databases/);
      });
    }
  });

  it("jitters GET retry waits (±25 %, never under 250 ms)", async () => {
    const server = await startScriptedServer(() => ({ status: 503, body: { error: "busy" } }));
    try {
      for (const [r, expected] of [[0, [750, 1500]], [0.999999, [1250, 2500]]] as const) {
        const clock = new FakeClock();
        const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock, random: () => r });
        await rejection(client.getJob("job_1"));
        assert.deepEqual(clock.sleeps, expected);
      }
    } finally {
      await server.close();
    }
  });

  it("keeps 2,000 characters of a long error message and says how much was cut", async () => {
    await withServer(() => ({ status: 400, body: { error: "y".repeat(50_000) } }), async (client) => {
      const error = await rejection(client.listPreviews("prj_1"));
      assert.match(error.message, /y{2000}… \[cut: 48000 more characters\]/);
      assert.ok(error.message.length < 2_500);
    });
  });

  it("refuses ids that would change the request path", async () => {
    await withServer(() => ({ body: {} }), async (client, server) => {
      for (const id of ["..", ".", ""]) {
        const error = await rejection(client.deletePreview(id));
        assert.equal(error.kind, "config");
      }
      assert.equal(server.requests.length, 0);
    });
  });

  it("a 404 proves absence only with CapyDB's own error body", async () => {
    await withServer((_req, i) => (i === 0 ? { status: 404, body: { error: "preview not found" } } : { status: 404, body: "<html>Not Found</html>" }), async (client) => {
      const own = await rejection(client.deletePreview("pvw_1"));
      assert.ok(own.isNotFound && own.provesAbsence);
      const proxy = await rejection(client.deletePreview("pvw_1"));
      assert.ok(proxy.isNotFound && !proxy.provesAbsence);
    });
  });
});
