// A pass-through HTTP proxy between the plugin and the local control plane that keeps request bodies, which the
// control plane's own request log deliberately does not. Lets contract tests assert what the provider sent
// (e.g. the absolute ttl_hours of an extend) without any hook inside the provider.
import * as http from "http";
import type { AddressInfo } from "net";

export interface ProxiedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  body: string;
  status: number;
  /** Wall clock when the request arrived, to order calls across methods. */
  at: number;
}

export interface RecordingProxy {
  url: string;
  requests(): ProxiedRequest[];
  clear(): void;
  /** Parsed JSON bodies of the requests matching method and path pattern. */
  bodies(method: string, path: RegExp): unknown[];
  close(): Promise<void>;
}

export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  let entries: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const at = Date.now();
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const [path, query = ""] = (req.url ?? "/").split("?");
      const entry: ProxiedRequest = { method: req.method ?? "GET", path, query, body: body.toString("utf8"), status: 0, at };
      entries.push(entry);
      const headers = { ...req.headers, host: target.host };
      const upstream = http.request({
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
      }, (up) => {
        entry.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => {
        // Mirror a dropped connection: the provider must see what it would see from the real server.
        res.destroy();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => entries.map((e) => ({ ...e })),
    clear: () => {
      entries = [];
    },
    bodies: (method, path) =>
      entries.filter((e) => e.method === method && path.test(e.path)).map((e) => (e.body ? JSON.parse(e.body) : undefined)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
