import { strict as assert } from "assert";
import { CapyDBClient } from "../../provider/client";
import { operationContext, OperationContext } from "../../provider/context";
import { CapyDBError } from "../../provider/errors";
import { finishReady, PreviewGoneError } from "../../provider/operations/create";
import { MAX_SENDS, sendReconciled } from "../../provider/operations/send-reconciled";
import { FakeClock } from "../helpers/fake-clock";
import { apiPreview, TEST_API_KEY } from "../helpers/fixtures";
import { startScriptedServer } from "../helpers/scripted-server";

// The one "send, reconcile if the answer may have landed, resend" loop (issue 18 item 11), and the
// connection-URL wait that must end with its operation (issue 18 item 10).

const lost = () => new CapyDBError({ kind: "http", method: "POST", path: "/v1/x", status: 502 });
const refused = () => new CapyDBError({ kind: "http", method: "POST", path: "/v1/x", status: 400, serverMessage: "bad", wellFormedBody: true });

function context(random: () => number): { ctx: OperationContext; clock: FakeClock; lines: string[] } {
  const clock = new FakeClock();
  const lines: string[] = [];
  const client = new CapyDBClient({ apiUrl: "http://127.0.0.1:9", apiKey: TEST_API_KEY, clock });
  return { ctx: operationContext({ client, clock, sink: (l) => lines.push(l), random }), clock, lines };
}

describe("sendReconciled", () => {
  it("sends at most MAX_SENDS times while answers are lost and nothing landed, waiting the injected jitter between", async () => {
    const { ctx, clock } = context(() => 0);
    let sends = 0;
    let reconciled = 0;
    const error = await sendReconciled(ctx, {
      what: "thing",
      label: "t",
      deadline: clock.now() + 600_000,
      send: async () => {
        sends++;
        throw lost();
      },
      reconcile: async () => {
        reconciled++;
        return undefined;
      },
      unknown: () => new Error("still unknown"),
    }).then(() => undefined, (e) => e);
    assert.equal(error?.message, "still unknown");
    assert.equal(sends, MAX_SENDS);
    assert.equal(reconciled, MAX_SENDS);
    // random() = 0: the failure schedule 1 s, 2 s, each at -25 %.
    assert.deepEqual(clock.sleeps, [750, 1500]);
  });

  it("returns what reconciling found instead of sending again", async () => {
    const { ctx, clock } = context(() => 0.5);
    let sends = 0;
    const result = await sendReconciled(ctx, {
      what: "thing",
      label: "t",
      deadline: clock.now() + 600_000,
      send: async () => {
        sends++;
        throw lost();
      },
      reconcile: async (_f, history) => `landed (first lost at ${history.firstLostAt === clock.now() ? "this send" : "?"})`,
      unknown: () => new Error("unknown"),
    });
    assert.equal(result, "landed (first lost at this send)");
    assert.equal(sends, 1);
  });

  it("rethrows a refusal when nothing sent before may have landed, and reports the outcome unknown when something may have", async () => {
    const { ctx, clock } = context(() => 0.5);
    const first = await sendReconciled(ctx, {
      what: "thing",
      label: "t",
      deadline: clock.now() + 600_000,
      send: async () => {
        throw refused();
      },
      reconcile: async () => assert.fail("nothing to reconcile"),
      unknown: () => new Error("unknown"),
    }).then(() => undefined, (e) => e);
    assert.ok(first instanceof CapyDBError && first.status === 400, String(first));

    const answers = [lost(), refused()];
    const second = await sendReconciled(ctx, {
      what: "thing",
      label: "t",
      deadline: clock.now() + 600_000,
      send: async () => {
        throw answers.shift();
      },
      reconcile: async () => undefined,
      unknown: (failure) => new Error(`unknown after ${failure.status}`),
    }).then(() => undefined, (e) => e);
    assert.equal(second?.message, "unknown after 400");
  });

  it("does not wait past the deadline to resend", async () => {
    const { ctx, clock } = context(() => 0.5);
    let sends = 0;
    const error = await sendReconciled(ctx, {
      what: "thing",
      label: "t",
      deadline: clock.now() + 500,
      send: async () => {
        sends++;
        throw lost();
      },
      reconcile: async () => undefined,
      unknown: () => new Error("unknown"),
    }).then(() => undefined, (e) => e);
    assert.equal(error?.message, "unknown");
    assert.equal(sends, 1);
    assert.deepEqual(clock.sleeps, []);
  });
});

describe("the connection-URL wait ends with its operation", () => {
  it("no connection poll is sent after finishReady failed (the preview is gone while the URLs are missing)", async () => {
    const server = await startScriptedServer((req) =>
      req.path.endsWith("/connections") ? { body: { connections: { username: "u" } } } : { body: { preview_databases: [apiPreview({ id: "pvw_other" })] } },
    );
    try {
      const clock = new FakeClock();
      const client = new CapyDBClient({ apiUrl: server.url, apiKey: TEST_API_KEY, clock });
      const ctx = operationContext({ client, clock, sink: () => undefined });
      const polls = () => server.requests.filter((r) => r.path.endsWith("/connections")).length;
      const error = await finishReady(ctx, {}, "prj_1", "pvw_1", clock.now() + 20 * 60_000, "create pr-42", null).then(() => undefined, (e) => e);
      assert.ok(error instanceof PreviewGoneError, String(error));
      // A poll already on the wire when the operation failed may still arrive; none may start after.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const atFailure = polls();
      // The fake clock lets a wait that is still running poll every "2 s" at once: give it real time to show itself.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(polls(), atFailure, `connection polls went on after the operation failed (${atFailure} → ${polls()})`);
      assert.ok(atFailure <= 2, `${atFailure} polls`);
    } finally {
      await server.close();
    }
  });
});
