import * as http from "http";
import * as net from "net";

export interface ProxyLog {
  /** The target of each CONNECT, as the client asked for it ("host:port"). */
  connects: string[];
  /** The headers of each CONNECT request: what the proxy reads in clear. */
  connectHeaders: http.IncomingHttpHeaders[];
  /** Plain (non-tunnelled) proxy requests: "METHOD absolute-url". */
  plain: string[];
  /** Every byte the client sent through the proxy, CONNECT requests and tunnels alike. */
  bytesFromClient(): Buffer;
}

/**
 * A forward proxy like a company's: it answers CONNECT by opening a tunnel to the target, resolving
 * host names itself (`hosts` maps names the test invents, such as capydb.test, to local addresses).
 * It records what it saw, so a test can tell what went through it and what it could read. With
 * `refuseWith`, it answers every CONNECT with that status instead (407: credentials wanted).
 */
export async function startConnectProxy(hosts: Record<string, string> = {}, opts: { refuseWith?: number } = {}) {
  const chunks: Buffer[] = [];
  const log: ProxyLog = { connects: [], connectHeaders: [], plain: [], bytesFromClient: () => Buffer.concat(chunks) };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    log.plain.push(`${req.method} ${req.url}`);
    res.writeHead(502).end("this proxy only tunnels");
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Everything the client sends, before and after the CONNECT.
    socket.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? "";
    log.connects.push(target);
    log.connectHeaders.push(req.headers);
    if (opts.refuseWith) {
      client.end(`HTTP/1.1 ${opts.refuseWith} Refused\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const at = target.lastIndexOf(":");
    const host = target.slice(0, at).replace(/^\[|\]$/g, "");
    const upstream = net.connect(Number(target.slice(at + 1)), hosts[host] ?? host);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", () => {
      if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      end();
    });
    client.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
