import { strict as assert } from "assert";
import * as net from "net";
import { Agent } from "undici";
import { CapyDBClient } from "../../provider/client";
import { FakeClock } from "../helpers/fake-clock";
import { apiJob, TEST_API_KEY } from "../helpers/fixtures";

/**
 * A minimal HTTP/1.1 server that, like many load balancers, keeps idle connections open and sends no
 * `Keep-Alive: timeout=` hint, so the client's own idle timeout decides. Counts TCP connections.
 */
async function quietKeepAliveServer() {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      let end: number;
      while ((end = buffered.indexOf("\r\n\r\n")) >= 0) {
        buffered = buffered.slice(end + 4); // GETs only: no body
        const body = JSON.stringify({ job: apiJob({ state: "running" }) });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe("HTTP keep-alive across poll gaps", function () {
  this.timeout(30_000);

  it("the client reuses one connection for polls 4.5 s apart, where undici's default agent opens a new one", async () => {
    const ours = await quietKeepAliveServer();
    const defaults = await quietKeepAliveServer();
    const defaultAgent = new Agent();
    try {
      const clock = new FakeClock();
      // No dispatcher given: the provider's own (dispatcher.ts).
      const client = new CapyDBClient({ apiUrl: ours.url, apiKey: TEST_API_KEY, clock });
      const control = new CapyDBClient({ apiUrl: defaults.url, apiKey: TEST_API_KEY, clock, dispatcher: defaultAgent });
      await Promise.all([client.getJob("job_1"), control.getJob("job_1")]);
      // A real gap: longer than undici's 4 s default idle timeout, far below ours.
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      await Promise.all([client.getJob("job_1"), control.getJob("job_1")]);
      assert.equal(ours.connections(), 1, "one connection for both polls");
      assert.equal(defaults.connections(), 2, "control: the default agent reconnects after its idle timeout");
    } finally {
      await defaultAgent.close();
      await Promise.all([ours.close(), defaults.close()]);
    }
  });
});
