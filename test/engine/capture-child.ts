// Child process for capture.ts: runs resource constructors under `pulumi.runtime.setMocks` with cwd = the program
// directory and records each RegisterResource request as the monitor receives it. Run as a separate process so the
// module that builds `__provider` is loaded from the program's node_modules, and so mocks never leak into the test
// process's global Pulumi settings.
import * as fs from "fs";
import * as path from "path";

/* eslint-disable @typescript-eslint/no-explicit-any */

interface ChildSpec {
  module: string;
  project: string;
  stack: string;
  preview: boolean;
  /** Load `module` as a Pulumi program (its top level registers resources) instead of constructing classes. */
  program?: boolean;
  config?: Record<string, string>;
  secretKeys?: string[];
  resources: { name: string; exportName: string; args: unknown; opts?: Record<string, unknown> }[];
}

const UNKNOWN_TYPE = "harness:index:UnknownSource";

async function main(specPath: string, outPath: string): Promise<void> {
  const spec = JSON.parse(fs.readFileSync(specPath, "utf8")) as ChildSpec;
  const cwd = process.cwd();
  const pulumiMain = require.resolve("@pulumi/pulumi", { paths: [cwd] });
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [cwd] }));
  const pulumi = require(pulumiMain);
  const settings = require(path.join(sdkDir, "runtime", "settings"));

  const captured: any[] = [];
  // Which files actually served the program, so packaging tests can prove nothing came from the checkout.
  const loaded = {
    module: fs.realpathSync(require.resolve(spec.module, { paths: [cwd] })),
    pulumi: fs.realpathSync(pulumiMain),
  };
  await pulumi.runtime.setMocks(
    {
      newResource(args: any) {
        if (args.type === UNKNOWN_TYPE) return { id: args.name, state: {} };
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call() {
        return {};
      },
    },
    spec.project,
    spec.stack,
    spec.preview,
  );

  // Record the request itself: MockResourceArgs.inputs are deserialized (unknowns become objects, nested secrets
  // are hoisted), whereas the engine receives this Struct verbatim.
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    if (req.getType() !== UNKNOWN_TYPE) {
      captured.push({
        name: req.getName(),
        type: req.getType(),
        custom: req.getCustom(),
        inputs: req.getObject()?.toJavaScript() ?? {},
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        retainOnDelete: req.hasRetainondelete?.() ? req.getRetainondelete() : undefined,
        protect: req.hasProtect?.() ? req.getProtect() : undefined,
      });
    }
    return original(req, cb);
  };

  if (spec.config) pulumi.runtime.setAllConfig(spec.config, spec.secretKeys ?? []);

  if (spec.program) {
    const exported = require(require.resolve(spec.module, { paths: [cwd] }));
    await settings.waitForRPCs();
    const exports: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(exported)) {
      if (pulumi.Output.isInstance(v)) {
        const o = v as any;
        const [known, secret] = await Promise.all([o.isKnown, o.isSecret]);
        exports[k] = { known, secret, value: known ? await o.promise() : null };
      } else {
        exports[k] = { known: true, secret: false, value: v };
      }
    }
    await settings.waitForRPCs();
    fs.writeFileSync(outPath, JSON.stringify({ resources: captured, exports, loaded }));
    return;
  }

  const mod = require(require.resolve(spec.module, { paths: [cwd] }));
  let unknownCount = 0;
  const materialize = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(materialize);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).length === 1 && "$secret" in o) return pulumi.secret(materialize(o.$secret));
      if (Object.keys(o).length === 1 && "$unknown" in o) {
        // An output of a resource whose mock returns no state: unknown during preview, exactly as in a real
        // program whose input comes from a resource not created yet.
        const src = new pulumi.CustomResource(UNKNOWN_TYPE, `unknown-${++unknownCount}`, { value: undefined });
        return src.value;
      }
      return Object.fromEntries(Object.entries(o).map(([k, e]) => [k, materialize(e)]));
    }
    return v;
  };

  const made: any[] = [];
  for (const r of spec.resources) {
    const Ctor = r.exportName.split(".").reduce((acc: any, k) => acc?.[k], mod);
    if (typeof Ctor !== "function") throw new Error(`${spec.module} has no export ${r.exportName}`);
    made.push(new Ctor(r.name, materialize(r.args), r.opts ?? {}));
  }
  await new Promise<void>((resolve) => pulumi.all(made.map((m) => m.urn)).apply(() => resolve()));
  // Registration callbacks may still be in flight for resources whose URN resolved from a cached path.
  await new Promise((r) => setTimeout(r, 50));
  fs.writeFileSync(outPath, JSON.stringify({ resources: captured, loaded }));
}

main(process.argv[2], process.argv[3]).then(
  () => process.exit(0),
  (e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
  },
);
