import { strict as assert } from "assert";
import { CapyDBClient, MAX_ERROR_BODY_BYTES, MAX_SUCCESS_BODY_BYTES } from "../../provider/client";
import { FakeClock } from "../helpers/fake-clock";
import { rejection } from "../helpers/rejection";
import { TEST_API_KEY } from "../helpers/fixtures";
import { startFloodServer } from "../helpers/flood-server";

const MB = 1024 * 1024;
const FLOOD = 200 * MB;
/**
 * What the server may hand to a loopback socket beyond what the client read: the kernel's send and
 * receive buffers and undici's own high-water mark, a few MiB. Far below the 200 MB it would write.
 */
const SOCKET_SLACK = 24 * MB;

/** Waits (a little, on the real clock) until the server sees the connection closed. */
async function closed(stats: { closedEarly: boolean }): Promise<boolean> {
  for (let i = 0; i < 100 && !stats.closedEarly; i++) await new Promise((r) => setTimeout(r, 20));
  return stats.closedEarly;
}

describe("bounded answer bodies (issues 14.8, 18.5)", function () {
  this.timeout(60_000);

  it("a 200 MB 2xx answer: reading stops after 8 MiB, the connection is closed, no retry even for a GET", async () => {
    const server = await startFloodServer(200, FLOOD);
    try {
      const clock = new FakeClock();
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock });
      const error = await rejection(client.listPreviews("prj_1"));
      assert.equal(error.kind, "schema");
      assert.match(error.message, /over 8 MiB and was not read further/);
      assert.deepEqual(clock.sleeps, [], "no retry");
      assert.ok(await closed(server.stats), "the client hung up before the end");
      assert.ok(!server.stats.finished);
      assert.ok(server.stats.written < MAX_SUCCESS_BODY_BYTES + SOCKET_SLACK, `the server wrote ${(server.stats.written / MB).toFixed(1)} MiB`);
    } finally {
      await server.close();
    }
  });

  it("a 200 MB 2xx answer to a POST is 'maybe applied' (it was applied; the caller reconciles)", async () => {
    const server = await startFloodServer(201, FLOOD);
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const error = await rejection(client.createPreview("prj_1", { name: "a", mode: "clone", ttl_hours: 1 }));
      assert.equal(error.maybeApplied, true);
      assert.ok(await closed(server.stats));
    } finally {
      await server.close();
    }
  });

  it("a 200 MB error body: at most 64 KiB is read, the connection is closed", async () => {
    const server = await startFloodServer(400, FLOOD);
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const error = await rejection(client.listPreviews("prj_1"));
      assert.equal(error.status, 400);
      assert.match(error.message, /over 64 KiB and was cut unread/);
      assert.ok(await closed(server.stats), "the client hung up before the end");
      assert.ok(server.stats.written < MAX_ERROR_BODY_BYTES + SOCKET_SLACK, `the server wrote ${(server.stats.written / MB).toFixed(1)} MiB`);
    } finally {
      await server.close();
    }
  });
});
