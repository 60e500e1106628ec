// Layer 3 -> layer 4 bridge: the real RegisterResource inputs (including the exact `__provider` text) for resources
// built by an SDK module, ready to hand to Stack.up().
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ResourceGoal } from "./engine";
import type { PropertyMap } from "./wire";

export interface CaptureResource {
  name: string;
  /** Export path of the resource class in `module`, e.g. "PreviewDatabase". */
  exportName: string;
  /**
   * Constructor args as JSON, with two markers the SDK turns into real values:
   * `{"$secret": v}` -> pulumi.secret(v); `{"$unknown": true}` -> an Output unknown during preview.
   */
  args: unknown;
  /** JSON-safe resource options (deleteBeforeReplace, protect, ...). */
  opts?: Record<string, unknown>;
}

export interface CaptureSpec {
  /** cwd of the child: `module` and `@pulumi/pulumi` resolve from here, as in a user's program. */
  programDir: string;
  /** A package specifier ("pulumi-capydb") or an absolute path to a compiled module. */
  module: string;
  project?: string;
  stack?: string;
  preview?: boolean;
  resources: CaptureResource[];
  env?: Record<string, string>;
  /** Stack config for the program (what `pulumi config` holds), `ns:key` -> string. */
  config?: Record<string, string>;
  secretKeys?: string[];
}

/** A stack export as the program produced it under mocks. */
export interface CapturedExport {
  known: boolean;
  secret: boolean;
  value: unknown;
}

export interface CapturedResource extends ResourceGoal {
  custom: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  retainOnDelete?: boolean;
  protect?: boolean;
}

const CHILD = path.join(__dirname, "capture-child.js");

export async function captureRegistrations(spec: CaptureSpec): Promise<CapturedResource[]> {
  return (await runCapture(spec, false)).resources;
}

/** Like captureRegistrations, plus the real paths of the module and of @pulumi/pulumi that the child loaded. */
export async function captureWithOrigin(spec: CaptureSpec):
  Promise<{ resources: CapturedResource[]; loaded: { module: string; pulumi: string } }> {
  const out = await runCapture(spec, false);
  return { resources: out.resources, loaded: out.loaded! };
}

/** Runs `spec.module` as a whole Pulumi program under mocks: its registrations and its stack exports. */
export async function captureStack(spec: Omit<CaptureSpec, "resources">):
  Promise<{ resources: CapturedResource[]; exports: Record<string, CapturedExport> }> {
  const out = await runCapture({ ...spec, resources: [] }, true);
  return { resources: out.resources, exports: out.exports ?? {} };
}

async function runCapture(spec: CaptureSpec, program: boolean): Promise<{
  resources: CapturedResource[];
  exports?: Record<string, CapturedExport>;
  loaded?: { module: string; pulumi: string };
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-capture-"));
  try {
    // Run a copy of the child from outside this package: Node resolves a package's own name from files inside it
    // (self-reference), so a child living in this checkout would load the checkout's SDK even when cwd is a
    // fixture program with the package installed.
    const child = path.join(dir, "capture-child.js");
    fs.copyFileSync(CHILD, child);
    const specPath = path.join(dir, "spec.json");
    const outPath = path.join(dir, "out.json");
    fs.writeFileSync(specPath, JSON.stringify({
      module: spec.module,
      project: spec.project ?? "project",
      stack: spec.stack ?? "dev",
      preview: spec.preview ?? false,
      program,
      config: spec.config,
      secretKeys: spec.secretKeys,
      resources: spec.resources,
    }));
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [child, specPath, outPath], {
        cwd: spec.programDir,
        env: { ...process.env, ...(spec.env ?? {}) },
        maxBuffer: 64 * 1024 * 1024,
      }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`capture failed: ${err.message}\n${stderr}`));
        else resolve();
      });
    });
    const out = JSON.parse(fs.readFileSync(outPath, "utf8")) as {
      resources: CapturedResource[];
      exports?: Record<string, CapturedExport>;
      loaded?: { module: string; pulumi: string };
    };
    const resources = out.resources.map((r) => ({
      ...r,
      inputs: r.inputs as PropertyMap,
      additionalSecretOutputs: r.additionalSecretOutputs?.length ? r.additionalSecretOutputs : undefined,
      deleteBeforeReplace: r.deleteBeforeReplace ?? undefined,
    }));
    return { resources, exports: out.exports, loaded: out.loaded };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Just the program for Stack.up(): the custom resources, in registration order. */
export async function captureProgram(spec: CaptureSpec): Promise<ResourceGoal[]> {
  const all = await captureRegistrations(spec);
  return all.filter((r) => r.custom).map((r) => ({
    name: r.name,
    type: r.type,
    inputs: r.inputs,
    additionalSecretOutputs: r.additionalSecretOutputs,
    deleteBeforeReplace: r.deleteBeforeReplace,
  }));
}
