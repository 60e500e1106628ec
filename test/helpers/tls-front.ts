import * as net from "net";
import * as tls from "tls";

/**
 * A TLS endpoint in front of a plain-HTTP server (the local control plane): what an https CapyDB, or a
 * gateway with a private CA, looks like to the client. Bytes are passed through unchanged.
 */
export async function startTlsFront(opts: { key: Buffer; cert: Buffer; target: { host: string; port: number }; host?: string }) {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: opts.key, cert: opts.cert }, (client) => {
    const upstream = net.connect(opts.target.port, opts.target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  // Handshakes the client refuses end here; they are what some tests provoke.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
