import { strict as assert } from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { CapyDBClient } from "../../provider/client";
import { FakeClock } from "../helpers/fake-clock";
import { apiPreview, TEST_API_KEY } from "../helpers/fixtures";

/**
 * A server that holds every answer until `release()` (or the oldest until `releaseOne()`), so that
 * requests overlap for sure. `numbered`: request n is answered with the one preview `pvw_answer_<n>`,
 * so a caller's answer shows which request it came from.
 */
async function gatedServer(opts: { numbered?: boolean } = {}) {
  const paths: string[] = [];
  const held: (() => void)[] = [];
  let open = false;
  const server = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    const n = paths.length;
    const previews = opts.numbered
      ? [apiPreview({ id: `pvw_answer_${n}`, name: `pr-answer-${n}` })]
      : [apiPreview({ id: "pvw_1" }), apiPreview({ id: "pvw_2", name: "pr-43" })];
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ preview_databases: previews }));
    };
    if (open) answer();
    else held.push(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    paths,
    /** Resolves once `n` requests have arrived. */
    async arrived(n: number) {
      while (paths.length < n) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    release() {
      open = true;
      for (const answer of held.splice(0)) answer();
    },
    releaseOne() {
      held.shift()?.();
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe("shared reads (identical concurrent GETs)", () => {
  it("sends one list call for 50 reads of one project that overlap it", async () => {
    const server = await gatedServer();
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const first = client.findPreview("prj_1", "pvw_1", { shareInFlight: true });
      await server.arrived(1); // the first list is on the wire
      const rest = Array.from({ length: 49 }, (_, i) => client.findPreview("prj_1", i % 2 ? "pvw_1" : "pvw_2", { shareInFlight: true }));
      server.release();
      const found = await Promise.all([first, ...rest]);
      assert.equal(server.paths.length, 1, server.paths.join("\n"));
      assert.equal(found[0]!.id, "pvw_1");
      assert.equal(found[1]!.id, "pvw_2");
      assert.ok(found.every((p) => p !== undefined));
    } finally {
      await server.close();
    }
  });

  it("does not hand an answer begun before the caller asked to callers that need a fresh one", async () => {
    const server = await gatedServer({ numbered: true });
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const first = client.listPreviews("prj_1");
      await server.arrived(1); // on the wire: a caller asking now needs an answer sent after it asked
      const second = client.listPreviews("prj_1");
      server.releaseOne(); // only the first request's answer
      assert.deepEqual((await first).map((p) => p.id), ["pvw_answer_1"]);
      // The second caller must be waiting for its own request, not holding the first one's answer.
      const settled = await Promise.race([second.then(() => "answered"), new Promise((resolve) => setImmediate(() => resolve("waiting")))]);
      assert.equal(settled, "waiting", "the second caller got the answer of a list sent before it asked");
      server.release();
      assert.deepEqual((await second).map((p) => p.id), ["pvw_answer_2"]);
      assert.equal(server.paths.length, 2);
    } finally {
      await server.close();
    }
  });

  it("shares only identical requests: another project gets its own list call", async () => {
    const server = await gatedServer();
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const calls = [client.listPreviews("prj_1"), client.listPreviews("prj_2"), client.listPreviews("prj_1")];
      await server.arrived(2);
      server.release();
      await Promise.all(calls);
      assert.deepEqual(server.paths.sort(), ["GET /v1/projects/prj_1/preview-databases", "GET /v1/projects/prj_2/preview-databases"]);
    } finally {
      await server.close();
    }
  });
});
