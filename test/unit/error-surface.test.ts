// What the dynamic-provider host prints of an error (`${error}: ${error.stack}`, for check, diff, read and
// delete): one line for the errors the provider produces, the full stack for bugs (issue 14 item 14).
import { strict as assert } from "assert";
import { createProvider, quietErrors } from "../../provider";
import { FakeClock } from "../helpers/fake-clock";

const printed = (e: Error) => `${e}: ${e.stack}`; // exactly what the host's console.error writes

describe("the error surface the plugin host prints", () => {
  it("an error the provider produces: one line, the message not repeated, no frames", () => {
    const error = new Error('Deleting preview "pr-1" failed: HTTP 400: nope');
    quietErrors(error, "delete pr-1");
    assert.equal(printed(error), "[capydb] delete pr-1 failed: see the error reported for the resource");
    assert.equal(error.message, 'Deleting preview "pr-1" failed: HTTP 400: nope', "the engine still gets the whole message");
  });

  it("a bug keeps its stack", () => {
    const bug = new TypeError("cannot read properties of undefined");
    quietErrors(bug, "read pr-1");
    assert.match(printed(bug), /^TypeError: cannot read properties of undefined: TypeError[\s\S]*\n\s+at /);
  });

  it("read through the provider: a refused call prints no frames", async () => {
    const provider = createProvider({ clock: new FakeClock(), sink: () => undefined, env: { CAPYDB_READINESS: "job" } });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiUrl": "http://127.0.0.1:9" })[k] } });
    const error = await provider.read("pvw_1", { projectId: "prj_1", name: "pr-1" }).then(() => undefined, (e: Error) => e);
    assert.ok(error);
    assert.match(error.message, /API key/);
    assert.equal(printed(error), "[capydb] read pr-1 failed: see the error reported for the resource");
  });
});
