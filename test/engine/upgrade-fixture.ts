// Layer 6 state fixtures: what a release wrote into stacks, kept so that later releases prove they still refresh,
// update and destroy it. Recorded from a real run (SDK registration -> plugin -> local control plane), then every
// value that belongs to that one control-plane instance is replaced by a `{{outputs.key}}` / `{{inputs.key}}`
// placeholder; the test fills them from a live preview of its own. Everything else — the key set, nulls, secret
// wrappers, literals such as mode and ttlHours, and above all the `__provider` text — is kept byte for byte.
//
// Record a new fixture at release time:
//   npx tsc -p tsconfig.json && node dist/test/engine/upgrade-fixture.js test/fixtures/upgrade/v<version>.json
import * as fs from "fs";
import * as path from "path";
import { startControlPlane } from "../control-plane";
import { captureRegistrations } from "./capture";
import { DeploymentError, Stack, type ResourceState } from "./engine";
import { startPlugin } from "./plugin";
import { clone, isPlainObject, isSecret, secret, type Json, type PropertyMap } from "./wire";

export interface UpgradeFixture {
  release: string;
  pulumiSdk: string;
  recordedWith: string;
  type: string;
  providerText: string;
  /** Keyed by scenario: "ready" (a completed create) and "partial" (a create that timed out). */
  resources: Record<string, FixtureResource>;
}

export interface FixtureResource {
  name: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  initErrors?: string[];
  additionalSecretOutputs?: string[];
}

/** Values that are the same for every control plane and so are kept literally. */
const LITERAL_OUTPUTS = new Set(["__provider", "name", "mode", "ttlHours", "timeouts", "autoNameSeed", "resetTrigger",
  "adopt", "keepAlive", "sslMode", "state", "lastError"]);
const TEMPLATED_INPUTS = new Set(["projectId"]);

function templateValue(v: Json, placeholder: string): Json {
  if (isSecret(v)) return secret(templateValue(v.value, placeholder));
  if (v === null || isPlainObject(v) || Array.isArray(v)) return v;
  return placeholder;
}

export function templateState(r: ResourceState): FixtureResource {
  const outputs: PropertyMap = {};
  for (const [k, v] of Object.entries(r.outputs)) {
    outputs[k] = LITERAL_OUTPUTS.has(k) ? v : templateValue(v, `{{outputs.${k}}}`);
  }
  const inputs: PropertyMap = {};
  for (const [k, v] of Object.entries(r.inputs)) {
    inputs[k] = TEMPLATED_INPUTS.has(k) ? templateValue(v, `{{inputs.${k}}}`) : v;
  }
  return { name: r.name, inputs, outputs, initErrors: r.initErrors, additionalSecretOutputs: r.additionalSecretOutputs };
}

/** Fills placeholders from a live resource; placeholders the live state cannot fill become null. */
export function instantiate(fixture: PropertyMap, live: ResourceState): PropertyMap {
  const fill = (v: Json): Json => {
    if (isSecret(v)) return secret(fill(v.value));
    if (Array.isArray(v)) return v.map(fill);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fill(e)]));
    if (typeof v === "string") {
      const m = /^\{\{(inputs|outputs)\.([^}]+)\}\}$/.exec(v);
      if (m) {
        const source = m[1] === "inputs" ? live.inputs : live.outputs;
        const value = source[m[2]];
        const plain = isSecret(value) ? value.value : value;
        return plain === undefined ? null : clone(plain);
      }
    }
    return v;
  };
  return fill(clone(fixture)) as PropertyMap;
}

export async function recordUpgradeFixture(repo: string): Promise<UpgradeFixture> {
  const cp = await startControlPlane();
  const project = "capydb-upgrade";
  const plugin = await startPlugin({ programDir: repo, project });
  try {
    const regs = await captureRegistrations({ programDir: repo, module: "pulumi-capydb", project, resources: [
      { name: "ready", exportName: "PreviewDatabase",
        args: { projectId: cp.projectId, name: "pv-upgrade-ready", ttlHours: 6, timeouts: { delete: "5m" } } },
      { name: "partial", exportName: "PreviewDatabase",
        args: { projectId: cp.projectId, name: "pv-upgrade-partial", timeouts: { create: "2s" } } },
    ] });
    const byName = Object.fromEntries(regs.map((r) => [r.name, r]));
    const stack = new Stack({ plugin, config: { "capydb:apiKey": cp.projectScopedKey, "capydb:apiUrl": cp.url },
      secretKeys: ["capydb:apiKey"] });
    await stack.up([byName.ready]);
    cp.jobs.stallNext("create");
    await stack.up([byName.ready, byName.partial]).catch((e) => {
      if (!(e instanceof DeploymentError && e.initFailure)) throw e;
    });
    cp.jobs.releaseStalled();
    const ready = stack.resource("ready")!;
    const partial = stack.resource("partial")!;
    if (!partial.initErrors) throw new Error("the partial scenario did not produce a partial failure");
    const fixture: UpgradeFixture = {
      release: JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")).version,
      pulumiSdk: JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json", { paths: [repo] }), "utf8")).version,
      recordedWith: "test/engine/upgrade-fixture.ts",
      type: ready.type,
      providerText: ready.outputs.__provider as string,
      resources: { ready: templateState(ready), partial: templateState(partial) },
    };
    await stack.destroy();
    return fixture;
  } finally {
    await plugin.close();
    await cp.close();
  }
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: node dist/test/engine/upgrade-fixture.js <out.json>");
    process.exit(2);
  }
  const repo = path.resolve(__dirname, "..", "..", "..");
  recordUpgradeFixture(repo).then(
    (f) => {
      fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(f, null, 2) + "\n");
      console.log(`wrote ${out}`);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
