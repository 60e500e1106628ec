import { readdirSync, readFileSync } from "node:fs";

export interface Postmaster {
  pid: number;
  dataDir: string;
}

/** Finds the postmaster serving `port` from /proc, so other Postgres servers on the machine do not matter. */
export function postmasterOn(port: number): Postmaster | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // the process ended while we looked
    }
    if (!argv[0]?.endsWith("/postgres")) continue;
    const portArg = argv[argv.indexOf("-p") + 1];
    const dataDir = argv[argv.indexOf("-D") + 1];
    if (portArg === String(port) && dataDir) return { pid: Number(entry), dataDir };
  }
  return undefined;
}
