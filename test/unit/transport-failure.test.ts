import { strict as assert } from "assert";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import { Agent, request } from "undici";
import { CapyDBClient } from "../../provider/client";
import { describeTransportFailure } from "../../provider/transport-failure";
import { closedPort } from "../helpers/closed-port";
import { FakeClock } from "../helpers/fake-clock";
import { rejection } from "../helpers/rejection";
import { TEST_API_KEY } from "../helpers/fixtures";
import { createPrivateCa, PrivateCa } from "../helpers/private-ca";
import { startScriptedServer } from "../helpers/scripted-server";

const createBody = { name: "pr-1", mode: "clone", ttl_hours: 24 };

describe("errors before the request leaves the machine (issue 14.1)", function () {
  this.timeout(30_000);

  it("connection refused: a create is not 'maybe applied', fails at once and says refused", async () => {
    const clock = new FakeClock();
    const client = new CapyDBClient({ apiUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: TEST_API_KEY, clock, random: () => 0.5 });
    const error = await rejection(client.createPreview("prj_1", createBody));
    assert.equal(error.kind, "network");
    assert.equal(error.notSent, true);
    assert.equal(error.maybeApplied, false);
    assert.match(error.message, /POST \/v1\/projects\/prj_1\/preview-databases was not sent: connection refused by 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.match(error.message, /capydb:apiUrl/);
    assert.deepEqual(clock.sleeps, [], "no wait before failing");
  });

  it("connection refused on a GET: retried on the GET schedule, then reported as refused", async () => {
    const clock = new FakeClock();
    const client = new CapyDBClient({ apiUrl: `http://127.0.0.1:${await closedPort()}`, apiKey: TEST_API_KEY, clock, random: () => 0.5 });
    const error = await rejection(client.listPreviews("prj_1"));
    assert.deepEqual(clock.sleeps, [1000, 2000]);
    assert.equal(error.notSent, true);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it("an unresolvable host (.invalid): DNS failure, not sent", async () => {
    const clock = new FakeClock();
    const client = new CapyDBClient({ apiUrl: "http://capydb.invalid", apiKey: TEST_API_KEY, clock });
    const error = await rejection(client.createPreview("prj_1", createBody));
    assert.equal(error.maybeApplied, false);
    assert.match(error.message, /capydb\.invalid could not be resolved \(DNS (ENOTFOUND|EAI_AGAIN)\)/);
  });

  describe("a certificate that does not verify", () => {
    let ca: PrivateCa;
    let server: https.Server;
    let seen = 0;
    before(async () => {
      ca = createPrivateCa(["capydb.test"]);
      server = https.createServer({ key: ca.key, cert: ca.cert }, (_req, res) => {
        seen++;
        res.end("{}");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ca.remove();
    });

    it("a private CA this process does not trust: not sent, no retry even for a GET, hint NODE_EXTRA_CA_CERTS", async () => {
      const clock = new FakeClock();
      const port = (server.address() as net.AddressInfo).port;
      const client = new CapyDBClient({ apiUrl: `https://127.0.0.1:${port}`, apiKey: TEST_API_KEY, clock });
      const created = await rejection(client.createPreview("prj_1", createBody));
      assert.equal(created.maybeApplied, false);
      assert.match(created.message, /TLS certificate of 127\.0\.0\.1:\d+ was not accepted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)/);
      assert.match(created.message, /NODE_EXTRA_CA_CERTS/);
      const listed = await rejection(client.listPreviews("prj_1"));
      assert.equal(listed.notSent, true);
      assert.deepEqual(clock.sleeps, [], "retrying cannot make a certificate verify");
      assert.equal(seen, 0, "no request reached the server");
    });

    it("the wrong host name on the certificate: ERR_TLS_CERT_ALTNAME_INVALID, not sent", async () => {
      const port = (server.address() as net.AddressInfo).port;
      // The CA is trusted here, but the certificate names capydb.test, not 127.0.0.1.
      const dispatcher = new Agent({ connect: { ca: fs.readFileSync(ca.caFile) } });
      try {
        const client = new CapyDBClient({ apiUrl: `https://127.0.0.1:${port}`, apiKey: TEST_API_KEY, clock: new FakeClock(), dispatcher });
        const error = await rejection(client.deletePreview("pvw_1"));
        assert.equal(error.maybeApplied, false);
        assert.match(error.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
        assert.equal(seen, 0);
      } finally {
        await dispatcher.close();
      }
    });
  });

  it("an API key with a line break inside: a config error naming both sources, before any request", async () => {
    const server = await startScriptedServer(() => ({ body: {} }));
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: `${TEST_API_KEY.slice(0, 10)}\n${TEST_API_KEY.slice(10)}`, clock: new FakeClock() });
      const error = await rejection(client.createPreview("prj_1", createBody));
      assert.equal(error.kind, "config");
      assert.equal(error.maybeApplied, false);
      assert.match(error.message, /a line break at character 11/);
      assert.match(error.message, /capydb:apiKey/);
      assert.match(error.message, /CAPYDB_API_KEY/);
      assert.ok(!error.message.includes(TEST_API_KEY.slice(10)), "the key is not shown");
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  it("undici's refusal of a header value with a line break is classed 'not sent'", async () => {
    const server = await startScriptedServer(() => ({ body: {} }));
    try {
      const error = await request(server.url, { headers: { authorization: "Bearer a\nb" } }).then(
        () => assert.fail("undici sent a header with a line break"),
        (e: unknown) => e,
      );
      const failure = describeTransportFailure(error, "127.0.0.1", "capydb:apiUrl");
      assert.equal(failure.notSent, true);
      assert.equal(failure.retryable, false);
      assert.match(failure.message, /could not be built/);
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  it("a connection reset after the request was sent stays 'maybe applied'", async () => {
    const server = await startScriptedServer(() => ({ drop: true }));
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const error = await rejection(client.createPreview("prj_1", createBody));
      assert.equal(server.requests.length, 1);
      assert.equal(error.notSent, false);
      assert.equal(error.maybeApplied, true);
    } finally {
      await server.close();
    }
  });
});
