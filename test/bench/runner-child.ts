/**
 * One CI runner of the many-runners benchmark, in its own process: the real provider with the real
 * clock, request budget and poll schedule, as one `pulumi up` (or destroy) of a one-preview stack
 * would run it. Forked with IPC: loads, says "ready", waits for "go", then creates (or deletes) and
 * reports its own time.
 */
import { createProvider } from "../../provider";

interface Go {
  op: "create" | "delete";
  apiUrl: string;
  apiKey: string;
  projectId: string;
  name: string;
  id?: string;
  outs?: Record<string, unknown>;
}

const provider = createProvider({ sink: () => undefined, env: { CAPYDB_READINESS: "job" } });
// Loaded before "ready": on separate CI machines the runners' start-up does not compete for one CPU
// as it does here, and this benchmark measures what they do to the API.
require("../../provider/client");
require("../../provider/schemas");

process.on("message", (message: Go) => {
  void (async () => {
    const started = Date.now();
    try {
      await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": message.apiKey, "capydb:apiUrl": message.apiUrl })[k] } });
      if (message.op === "create") {
        const { inputs } = await provider.check({}, { projectId: message.projectId, name: message.name, __provider: "bench" });
        const { id, outs } = await provider.create(inputs);
        process.send!({ ok: true, ms: Date.now() - started, id, outs });
      } else {
        await provider.delete(message.id!, message.outs ?? {});
        process.send!({ ok: true, ms: Date.now() - started });
      }
    } catch (error) {
      process.send!({ ok: false, ms: Date.now() - started, error: error instanceof Error ? error.message.slice(0, 300) : String(error) });
    }
  })();
});
process.send!({ ready: true });
