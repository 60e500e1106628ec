import * as http from "http";
import { AddressInfo } from "net";

/**
 * A server that answers every request with `status` and a body of `totalBytes` (JSON-looking, never
 * ending early on its own), written as fast as the client reads it. It counts what it managed to hand
 * to the socket and whether the client hung up before the end: how much a client reads of a runaway
 * answer, measured from outside.
 */
export async function startFloodServer(status: number, totalBytes: number) {
  const stats = { written: 0, closedEarly: false, finished: false };
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(status, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    res.write(status < 300 ? '{"preview_databases":[],"pad":"' : '{"error":"');
    res.on("close", () => {
      if (!stats.finished) stats.closedEarly = true;
    });
    const pump = () => {
      while (stats.written < totalBytes && !res.destroyed) {
        stats.written += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (!res.destroyed) {
        stats.finished = true;
        res.end('"}');
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
