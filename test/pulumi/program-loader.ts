/**
 * Loads a Pulumi program directory the way the Node.js language host's runner does
 * (@pulumi/pulumi/cmd/run): the entry point from Pulumi.yaml `main`, else package.json, and TypeScript
 * through ts-node with the program's own `typescript` unless `runtime.options.typescript` is false.
 * Everything is resolved from the program directory, so the program and the runtime serving it share
 * one copy of @pulumi/pulumi (runtime settings are module state).
 */
import { existsSync, readFileSync } from "fs";
import { createRequire } from "module";
import * as path from "path";

export interface ProgramProject {
  name: string;
  main?: string;
  typescript: boolean;
}

/** require() as if called from a file in the program directory. */
export function programRequire(programDir: string): NodeRequire {
  return createRequire(path.join(programDir, "__program__.js"));
}

/** The @pulumi/pulumi installed for the program: its subpaths (automation/server, proto/...) by relative path. */
export function sdkRequire(programDir: string): NodeRequire {
  const sdkPackage = programRequire(programDir).resolve("@pulumi/pulumi/package.json");
  return createRequire(sdkPackage);
}

export function readProject(programDir: string): ProgramProject {
  const yaml = sdkRequire(programDir)("js-yaml") as { load(text: string): unknown };
  const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(programDir, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`${programDir} has no Pulumi.yaml`);
  const project = (yaml.load(readFileSync(file, "utf8")) ?? {}) as {
    name?: string;
    main?: string;
    runtime?: string | { name?: string; options?: { typescript?: boolean } };
  };
  const runtime = typeof project.runtime === "string" ? { name: project.runtime } : project.runtime ?? {};
  if (runtime.name !== "nodejs") throw new Error(`${file}: runtime is ${runtime.name ?? "missing"}, not nodejs`);
  return { name: String(project.name), main: project.main, typescript: runtime.options?.typescript !== false };
}

/** The module to require: Pulumi.yaml `main`, else package.json `main`, else the directory itself. */
function entryPoint(programDir: string, project: ProgramProject): string {
  if (project.main) return path.resolve(programDir, project.main);
  const pkgFile = path.join(programDir, "package.json");
  const main = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, "utf8")) as { main?: string }).main : undefined;
  return main ? path.resolve(programDir, main) : programDir + path.sep;
}

/** As cmd/run registers ts-node: the program's typescript (or the SDK's vendored one), its tsconfig.json if any. */
function registerTypeScript(programDir: string): void {
  const sdk = sdkRequire(programDir);
  const tsutils = sdk("./tsutils") as { typeScriptRequireStrings(): { tsnodeRequire: string; typescriptRequire: string } };
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const ts = sdk(typescriptRequire) as { version: string };
  const modern = Number(ts.version.split(".")[0]) >= 5 || /^4\.(?:[7-9]|\d\d)/.test(ts.version);
  const tsconfig = path.join(programDir, "tsconfig.json");
  (sdk(tsnodeRequire) as { register(options: object): void }).register({
    compiler: typescriptRequire,
    project: tsconfig,
    skipProject: !existsSync(tsconfig),
    compilerOptions: {
      target: "ES2020",
      module: modern ? "nodenext" : "commonjs",
      moduleResolution: modern ? "nodenext" : "node",
    },
  });
}

/**
 * The program's own modules (not its node_modules) leave the require cache, so that the next run
 * executes them again. `up` runs the program twice in one CLI command (preview, then update), and
 * each run must register its resources anew, as each run of the language host is a new process.
 */
function forgetProgramModules(programDir: string): void {
  const root = path.resolve(programDir) + path.sep;
  const dependencies = path.join(root, "node_modules") + path.sep;
  for (const file of Object.keys(require.cache)) {
    if (file.startsWith(root) && !file.startsWith(dependencies)) delete require.cache[file];
  }
}

/**
 * The inline program for the Automation API: requires the entry point afresh on every run (its exports
 * become the stack outputs; an exported function is called, as cmd/run does).
 */
export function loadProgram(programDir: string): () => Promise<unknown> {
  const project = readProject(programDir);
  let typeScriptReady = false;
  return async () => {
    if (project.typescript && !typeScriptReady) {
      registerTypeScript(programDir);
      typeScriptReady = true;
    }
    forgetProgramModules(programDir);
    const exported = programRequire(programDir)(entryPoint(programDir, project)) as unknown;
    return typeof exported === "function" ? await (exported as () => unknown)() : exported;
  };
}
