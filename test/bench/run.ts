/**
 * Benchmarks (`npm run bench`): timing goals live here, never in tests. Prints one line per measure.
 *
 *  - create latency over the job's own duration: what our poll schedule adds on top of CapyDB's work
 *    (the Terraform provider's fixed 5 s poll adds up to 5 s);
 *  - a full create → extend → delete cycle against the local control plane;
 *  - serializing the provider shim (paid once per program run).
 */
import * as pulumi from "@pulumi/pulumi";
import { createProvider } from "../../provider";
import { previewDatabaseProvider } from "../../sdk";
import { startControlPlane } from "../control-plane";

const JOB_MS = [1_000, 3_000, 13_000];

async function main() {
  const results: string[] = [];
  for (const jobMs of JOB_MS) {
    const cp = await startControlPlane({ jobProgression: "time", jobDurationsMs: { create: jobMs, reset: jobMs, delete: jobMs } });
    const provider = createProvider({ sink: () => undefined, env: {} });
    await provider.configure({ config: { get: (k: string) => ({ "capydb:apiKey": cp.apiKey, "capydb:apiUrl": cp.url })[k] } });
    const { inputs } = await provider.check({}, { projectId: cp.projectId, name: `bench-${jobMs}`, __provider: "x" });
    const t0 = Date.now();
    const { id, outs } = await provider.create(inputs);
    const createMs = Date.now() - t0;
    const t1 = Date.now();
    await provider.update(id, outs, { ...inputs, ttlHours: 48 });
    const extendMs = Date.now() - t1;
    const t2 = Date.now();
    await provider.delete(id, outs);
    const deleteMs = Date.now() - t2;
    results.push(
      `job ${jobMs} ms: create ${createMs} ms (+${createMs - jobMs} ms over the job), extend ${extendMs} ms, delete ${deleteMs} ms (+${deleteMs - jobMs} ms), requests ${cp.requests().length}`,
    );
    await cp.close();
  }
  const s0 = Date.now();
  const shim = previewDatabaseProvider; // serialized as pulumi.dynamic.Resource does: a closure over a local
  const sf = await pulumi.runtime.serializeFunction(() => shim, { allowSecrets: true });
  results.push(`serialize provider shim: ${Date.now() - s0} ms, ${sf.text.length} bytes`);
  for (const line of results) console.log(line);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
