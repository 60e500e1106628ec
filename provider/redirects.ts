/**
 * Which redirects the client follows. CapyDB's own clients (Go's net/http) follow redirects; the API
 * key rides in every request's Authorization header, so this client follows only what cannot move the
 * key or change the request:
 *  - 307 and 308, which keep the method and the body (RFC 9110 §15.4.8, §15.4.9);
 *  - to the same origin (scheme, host and port) as the request: the key is never sent anywhere else;
 *  - at most MAX_REDIRECTS in a row.
 * 301, 302 and 303 are refused: clients turn a POST into a GET after them, so a create would become a
 * list. A refused redirect is an error that names the status and where it pointed.
 */
export const MAX_REDIRECTS = 3;

export type RedirectDecision = { follow: string } | { refuse: string; target?: string };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECTS.has(status);
}

/** How a redirect target is shown: origin and path only (a query or userinfo could carry credentials). */
export function shownTarget(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** `hops`: redirects already followed for this request. */
export function decideRedirect(status: number, location: string | string[] | undefined, from: string, hops: number): RedirectDecision {
  const raw = Array.isArray(location) ? location[0] : location;
  if (!raw) return { refuse: `HTTP ${status} without a Location header` };
  let target: URL;
  try {
    target = new URL(raw, from);
  } catch {
    return { refuse: `HTTP ${status} to a Location that is not a URL` };
  }
  const shown = shownTarget(target);
  if (status !== 307 && status !== 308) {
    return { refuse: `HTTP ${status} to ${shown}: only 307 and 308 keep the method and body, so the provider does not follow it`, target: shown };
  }
  if (target.origin !== new URL(from).origin) {
    return { refuse: `HTTP ${status} to ${shown}, another origin than ${new URL(from).origin}: the API key is never sent there`, target: shown };
  }
  if (hops >= MAX_REDIRECTS) {
    return { refuse: `HTTP ${status} to ${shown} after ${MAX_REDIRECTS} redirects already followed`, target: shown };
  }
  return { follow: target.href };
}
