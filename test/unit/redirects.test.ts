import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { MAX_REDIRECTS } from "../../provider/redirects";
import { FakeClock } from "../helpers/fake-clock";
import { rejection } from "../helpers/rejection";
import { apiJob, apiPreview, TEST_API_KEY } from "../helpers/fixtures";
import { Handler, startScriptedServer } from "../helpers/scripted-server";

type Server = Awaited<ReturnType<typeof startScriptedServer>>;

async function withServers(handler: (other: string) => Handler, run: (client: CapyDBClient, server: Server, other: Server) => Promise<void>) {
  const other = await startScriptedServer(() => ({ body: { preview_databases: [] } }));
  const server = await startScriptedServer(handler(other.url));
  try {
    await run(new CapyDBClient({ apiUrl: `${server.url}/api`, apiKey: TEST_API_KEY, clock: new FakeClock() }), server, other);
  } finally {
    await server.close();
    await other.close();
  }
}

const created = { status: 201, body: { preview: apiPreview({ state: "provisioning" }), job: apiJob() } };

describe("redirects (issue 14.5)", () => {
  it("a same-origin 307 is followed with the method, the body and the key", async () => {
    await withServers(() => (req) => (req.path.startsWith("/api/") ? { status: 307, headers: { location: `/moved${req.path}` } } : created), async (client, server) => {
      const { preview } = await client.createPreview("prj_1", { name: "pr-42", mode: "clone", ttl_hours: 24 });
      assert.equal(preview.id, "pvw_1");
      assert.deepEqual(server.requests.map((r) => `${r.method} ${r.path}`), ["POST /api/v1/projects/prj_1/preview-databases", "POST /moved/api/v1/projects/prj_1/preview-databases"]);
      assert.equal(server.requests[1].body, server.requests[0].body);
      assert.equal(server.requests[1].headers.authorization, `Bearer ${TEST_API_KEY}`);
    });
  });

  it("a same-origin 308 on a GET is followed", async () => {
    await withServers(() => (req) => (req.path.startsWith("/api/") ? { status: 308, headers: { location: req.path.replace("/api/", "/v2/") } } : { body: { preview_databases: [] } }), async (client, server) => {
      assert.deepEqual(await client.listPreviews("prj_1"), []);
      assert.equal(server.requests.length, 2);
    });
  });

  it("a 307 to another origin is refused, naming the status and the target without its query; the key is not sent there", async () => {
    await withServers((other) => () => ({ status: 307, headers: { location: `${other}/elsewhere/v1?token=leak-me-123` } }), async (client, server, other) => {
      const error = await rejection(client.createPreview("prj_1", { name: "pr-42", mode: "clone", ttl_hours: 24 }));
      assert.equal(other.requests.length, 0, "nothing was sent to the other origin");
      assert.equal(server.requests.length, 1);
      assert.equal(error.status, 307);
      assert.equal(error.maybeApplied, false);
      assert.match(error.message, new RegExp(`HTTP 307 to ${other.url.replace(/\./g, "\\.")}/elsewhere/v1, another origin`));
      assert.ok(!error.message.includes("leak-me-123"), error.message);
      assert.match(error.message, /capydb:apiUrl/);
    });
  });

  for (const status of [301, 302, 303]) {
    it(`a ${status} is refused even to the same origin: it would turn a POST into a GET`, async () => {
      await withServers(() => () => ({ status, headers: { location: "/somewhere/else" } }), async (client, server) => {
        const error = await rejection(client.deletePreview("pvw_1"));
        assert.equal(server.requests.length, 1);
        assert.equal(error.status, status);
        assert.match(error.message, new RegExp(`HTTP ${status} to http://127\\.0\\.0\\.1:\\d+/somewhere/else: only 307 and 308`));
      });
    });
  }

  it(`a redirect loop ends after ${MAX_REDIRECTS} hops`, async () => {
    await withServers(() => (req) => ({ status: 307, headers: { location: req.path } }), async (client, server) => {
      const error = await rejection(client.getJob("job_1"));
      assert.equal(server.requests.length, MAX_REDIRECTS + 1);
      assert.match(error.message, /after 3 redirects already followed/);
    });
  });

  it("a Location with credentials is shown without them", async () => {
    await withServers(() => () => ({ status: 308, headers: { location: "https://user:hunter2-pass@evil.example/x?y=1" } }), async (client) => {
      const error = await rejection(client.getJob("job_1"));
      assert.match(error.message, /HTTP 308 to https:\/\/evil\.example\/x, another origin/);
      assert.ok(!error.message.includes("hunter2-pass"));
    });
  });
});
