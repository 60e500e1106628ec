import * as http from "http";
import { AddressInfo } from "net";

export interface ForwardTarget {
  url: string;
  apiKey: string;
}

export interface ForwardingProxy {
  url: string;
  /** The key clients present to the proxy; it never reaches the target. */
  apiKey: string;
  /** Where requests go from now on; undefined answers 503. */
  target: ForwardTarget | undefined;
  close(): Promise<void>;
}

/**
 * One stable API URL and key in front of control planes that change: a plugin process configured once
 * (the engine configures a provider once per process, with one URL and key) can then serve test cases that
 * each start their own control plane. Each request goes to the current target with the target's key in
 * place of the proxy's; everything else passes through as it is.
 */
export async function startForwardingProxy(apiKey: string): Promise<ForwardingProxy> {
  const proxy: ForwardingProxy = { url: "", apiKey, target: undefined, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const target = proxy.target;
    if (!target) {
      res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: "no control plane behind the proxy" }));
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    if (headers.authorization === `Bearer ${apiKey}`) headers.authorization = `Bearer ${target.apiKey}`;
    const upstream = http.request(new URL(req.url ?? "/", target.url), { method: req.method, headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
