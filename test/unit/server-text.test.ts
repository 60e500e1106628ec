import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { CapyDBError } from "../../provider/errors";
import { createLogger } from "../../provider/log";
import { previewOutputs } from "../../provider/outputs";
import { registerSecret } from "../../provider/redact";
import { inert, serverText } from "../../provider/server-text";
import { describeJobFailure } from "../../provider/wait";
import { FakeClock } from "../helpers/fake-clock";
import { apiPreview, TEST_API_KEY } from "../helpers/fixtures";
import { startScriptedServer } from "../helpers/scripted-server";

/** Every fragment of `secret` this long or longer: what must not show up anywhere. */
function fragments(secret: string, min = 6): string[] {
  const out: string[] = [];
  for (let i = 0; i + min <= secret.length; i++) out.push(secret.slice(i, i + min));
  return out;
}

function assertNoFragment(text: string, secret: string): void {
  for (const f of fragments(secret)) assert.ok(!text.includes(f), `fragment "${f}" of the secret leaked:\n${text.slice(-300)}`);
}

/** Text that tries to take over a terminal: clear the screen, set the title, overwrite the line, forge a progress line. */
const HOSTILE = "boom\x1b[2J\x1b]0;owned\x07\rfaked\u202e\x9b31m\n[capydb] create pr-1: preview pvw_9 ready in 1.0s\r\n[capydb] done";

function assertInert(text: string): void {
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/.test(text), `raw control characters in ${JSON.stringify(text)}`);
  const lines = text.split("\n");
  for (const line of lines.slice(1)) assert.ok(!line.startsWith("[capydb]"), `a forged progress line: ${JSON.stringify(line)}`);
}

describe("server text: redacted whole, then cut, then made inert (issues 14.7, 18.1)", () => {
  const password = "straddle-Pa55word-7f3e9c1d";
  before(() => registerSecret(password));

  it("a registered password across the 2,000-character cut of an error body leaks no fragment", async () => {
    const body = { error: `${"x".repeat(1_990)}${password} and more` };
    const server = await startScriptedServer(() => ({ status: 400, body }));
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const error = await client.listPreviews("prj_1").then(() => assert.fail("expected a 400"), (e: unknown) => e);
      assert.ok(error instanceof CapyDBError);
      assertNoFragment(error.message, password);
      assertNoFragment(String(error.serverMessage), password);
      assert.match(error.message, /x{1990}\*\*\*/);
    } finally {
      await server.close();
    }
  });

  it("an unregistered URL password across the cut leaks no fragment", () => {
    const url = "postgres://app:Unregistered-S3cret-77@10.0.0.7:5432/app";
    const text = serverText(`${"y".repeat(1_985)}${url} refused`);
    assertNoFragment(text, "Unregistered-S3cret-77");
  });

  it("lastError and a failed job's error and stderr tail: no fragment across their cuts", () => {
    const outs = previewOutputs(apiPreview({ last_error: `${"z".repeat(1_995)}${password}` }) as never);
    assertNoFragment(String(outs.lastError), password);
    const message = describeJobFailure({
      id: "job_1",
      type: "branch.create",
      state: "failed",
      error: `${"e".repeat(1_995)}${password}`,
      // The tail keeps the last 2,000 characters: the password starts just before them.
      last_stderr: `${password}${"s".repeat(1_990)}`,
    });
    assertNoFragment(message, password);
  });

  it("escape sequences, carriage returns and forged progress lines in an error body are shown inert", async () => {
    const server = await startScriptedServer(() => ({ status: 400, body: { error: HOSTILE } }));
    try {
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock: new FakeClock() });
      const error = await client.listPreviews("prj_1").then(() => assert.fail("expected a 400"), (e: unknown) => e);
      assert.ok(error instanceof CapyDBError);
      assertInert(error.message);
      assert.match(error.message, /boom\\x1b\[2J\\x1b\]0;owned\\x07\\rfaked\\u202e\\x9b31m\n {4}\[capydb\] create pr-1/);
    } finally {
      await server.close();
    }
  });

  it("a failed job's error, id and stderr, lastError, and log lines quoting them are inert", () => {
    const message = describeJobFailure({ id: "job_\x1b[1m", type: "branch.create", state: "failed", error: HOSTILE, last_stderr: `${HOSTILE}\nlast` });
    assertInert(message);
    assertInert(String(previewOutputs(apiPreview({ last_error: HOSTILE }) as never).lastError));
    const lines: string[] = [];
    createLogger((l) => lines.push(l)).info(`create pr-1: could not read job (${HOSTILE}); trying again`);
    assert.equal(lines.length, 1);
    assertInert(lines[0]);
    assert.ok(lines[0].startsWith("[capydb] create pr-1"));
  });

  it("inert keeps ordinary text, tabs and unicode as they are", () => {
    assert.equal(inert("disk full\tat /var/lib — ünïcode ✓"), "disk full\tat /var/lib — ünïcode ✓");
  });
});
