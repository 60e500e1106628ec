/**
 * `pulumi-resource-capydb <engine address>`: serves the plugin and prints its port on the first
 * stdout line, which is how the engine finds it. Runs bundled (the plugin archive: schema.json sits
 * beside the bundle) or from dist/plugin in a checkout (schema.json in plugin/).
 */
import * as fs from "fs";
import * as path from "path";
import { CapyDBPluginService, serve } from "./server";

/** How often the plugin checks that the CLI that started it still runs. */
const PARENT_CHECK_MS = 1_000;

export function schemaPath(dir: string = __dirname): string {
  const candidates = [path.join(dir, "schema.json"), path.join(dir, "..", "..", "plugin", "schema.json")];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`pulumi-resource-capydb: schema.json not found (looked in ${candidates.join(", ")})`);
  return found;
}

/** undici 7 needs it; the launcher runs whatever `node` is first on PATH. */
export const MIN_NODE = [20, 18, 1] as const;

export function nodeTooOld(version: string = process.versions.node): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (parts[i] !== MIN_NODE[i]) return (parts[i] ?? 0) < MIN_NODE[i];
  return false;
}

async function main(): Promise<void> {
  if (nodeTooOld()) throw new Error(`needs Node.js >= ${MIN_NODE.join(".")} on PATH, found ${process.versions.node} (${process.execPath})`);
  const service = new CapyDBPluginService({ schemaText: fs.readFileSync(schemaPath(), "utf8"), engineAddress: process.argv[2] });
  const { server } = await serve(service).then(({ server, port }) => {
    process.stdout.write(`${port}\n`);
    return { server };
  });
  // The CLI stops its plugins when it ends; killed outright it cannot, and the plugin would serve on
  // forever: once its parent is gone, it stops the waits and exits when no call is left.
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    service.clock.cancel();
    if (service.inFlight === 0) {
      clearInterval(timer);
      server.forceShutdown();
      process.exit(0);
    }
  }, PARENT_CHECK_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`pulumi-resource-capydb: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
