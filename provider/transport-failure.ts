/**
 * What a failed exchange without an HTTP answer means. Most such failures leave the request's fate
 * unknown (a reset connection, a timeout after the bytes left), but some happen before anything of the
 * request left this machine: nothing was applied, so a create must not be reconciled for minutes as if
 * its answer had been lost, and the message can say exactly what to fix.
 */

export interface TransportFailure {
  /** Nothing of the request reached the server: it was certainly not applied. */
  notSent: boolean;
  /** Sending the same request again may work (a GET is retried on its usual schedule); false: it cannot. */
  retryable: boolean;
  /** What happened, in words, with the error code. */
  message: string;
  /** What the user can change. */
  hint: string;
}

/** Certificate checks that failed during the TLS handshake, before any HTTP byte was sent. */
const TLS_VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"]);

export const PRIVATE_CA_HINT =
  "if CapyDB (or a proxy in front of it) uses a certificate from a private CA, trust that CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem " +
  "in the environment of `pulumi` (Node.js reads it at start); never turn certificate checks off.";

/**
 * The error code undici or Node put on the error or on its causes (fetch-style wrapping; undici wraps a
 * proxy's TLS failure in its own error): the first one this module knows, else the outermost.
 */
export function errorCode(error: unknown): string | undefined {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") codes.push(code);
  }
  return codes.find((c) => c === "ECONNREFUSED" || DNS_CODES.has(c) || isTlsCode(c)) ?? codes[0];
}

function isTlsCode(code: string): boolean {
  return TLS_VERIFY_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_");
}

const NODE_UNSENDABLE_HEADER = new Set(["ERR_INVALID_CHAR", "ERR_HTTP_INVALID_HEADER_VALUE", "ERR_INVALID_HTTP_TOKEN"]);

/** How undici reports a proxy that answered CONNECT with anything but 200. */
const TUNNEL_REFUSED = /Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/;

/**
 * `target` names where the request was going (host and port, never the path's credentials); `apiUrlSource`
 * is how the user sets it, for the hints.
 */
export function describeTransportFailure(error: unknown, target: string, apiUrlSource: string): TransportFailure {
  const code = errorCode(error) ?? "";
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "ECONNREFUSED") {
    // Node names the address it dialled: CapyDB's, or the proxy's when one is set.
    const { address, port } = error as { address?: string; port?: number };
    const dialled = address ? `${address.includes(":") ? `[${address}]` : address}:${port}` : target;
    return {
      notSent: true,
      retryable: true,
      message: `connection refused by ${dialled} (ECONNREFUSED): nothing listens there`,
      hint: `check ${apiUrlSource} and that the service (or the proxy in HTTPS_PROXY) is running.`,
    };
  }
  if (DNS_CODES.has(code)) {
    return {
      notSent: true,
      retryable: true,
      message: `the host of ${target} could not be resolved (DNS ${code})`,
      hint: `check the host name in ${apiUrlSource} and this machine's DNS (behind a proxy, set HTTPS_PROXY).`,
    };
  }
  if (isTlsCode(code)) {
    return {
      notSent: true,
      retryable: false,
      message: `the TLS certificate of ${target} was not accepted (${code}: ${detail}); the API key did not leave this machine`,
      hint: PRIVATE_CA_HINT,
    };
  }
  const tunnel = TUNNEL_REFUSED.exec(detail);
  if (tunnel) {
    const status = Number(tunnel[1]);
    return {
      notSent: true,
      // A proxy's 5xx (its upstream unreachable) may pass; a 403 or 407 will not.
      retryable: status >= 500,
      message: `the proxy refused to open a tunnel to ${target} (HTTP ${status})`,
      hint:
        status === 407
          ? "the proxy wants credentials: put them in its URL in HTTPS_PROXY, as user:password@ before its host (the password is masked in messages)."
          : "check HTTPS_PROXY / HTTP_PROXY, and NO_PROXY for hosts that must be reached directly.",
    };
  }
  // undici's and Node's words for a header value that cannot be sent (Node's http checks it before connecting).
  if (code === "UND_ERR_INVALID_ARG" || NODE_UNSENDABLE_HEADER.has(code) || (error instanceof Error && error.name === "InvalidArgumentError")) {
    return {
      notSent: true,
      retryable: false,
      message: `the request could not be built (${detail})`,
      hint: "an API key or header value with a line break or control character cannot be sent; set the key again without them (`capydb:apiKey` or CAPYDB_API_KEY).",
    };
  }
  return {
    notSent: false,
    retryable: true,
    message: code ? `${code}: ${detail}` : detail,
    hint: `check that ${target} is reachable (${apiUrlSource}).`,
  };
}
