import { startTcpProxy } from "../control-plane/tcp-proxy";

export interface CountingProxy {
  url: string;
  /** TCP connections clients opened through the proxy so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * The control plane's TCP pass-through in front of its API, counting the connections a client opens:
 * one proxy per simulated process, so each process's connection reuse is measured on its own.
 */
export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  return { url: `http://127.0.0.1:${proxy.port}`, connections: proxy.connections, close: proxy.close };
}
