/**
 * What the real-CLI restore suites (restore-ts.test.ts, restore-yaml.test.ts) share: rows written to the
 * project's source database around a backup and around a point in time, the rows a preview shows, and
 * the Postgres servers this test process runs (a restore must leave none of its own behind).
 */
import * as fs from "fs";
import { Client } from "pg";
import type { ControlPlane } from "../control-plane";

/** Rows of the seeded `customers` table that the timeline writes, in the order it writes them. */
export const MARKS = ["mark-1-before-backup", "mark-2-after-backup", "mark-3-before-time", "mark-4-after-time"] as const;

/**
 * Spacing around the chosen time, well beyond the emulator's precision (it keeps `restore_time` to the
 * millisecond), so that no row is written within it. Not a measured duration: no assertion is about time.
 */
const GAP_MS = 200;

export interface Timeline {
  /** Key of a backup taken after MARKS[0] and before MARKS[1]. */
  backupKey: string;
  /** RFC 3339: after MARKS[2], before MARKS[3] (the control plane's clock, this machine's). */
  restoreTime: string;
  /** The marks a preview restored from the backup must show, and from the time. */
  atBackup: string[];
  atTime: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mark(cp: ControlPlane, label: string): Promise<void> {
  await cp.sources.query(`INSERT INTO customers (name, email) VALUES ('${label}', '${label}@example.com')`);
}

/** Writes the marks into the source, with a backup and a chosen time between them. */
export async function writeTimeline(cp: ControlPlane): Promise<Timeline> {
  await mark(cp, MARKS[0]);
  const backup = await cp.backups.take();
  await mark(cp, MARKS[1]);
  await mark(cp, MARKS[2]);
  await sleep(GAP_MS);
  const restoreTime = new Date().toISOString();
  await sleep(GAP_MS);
  await mark(cp, MARKS[3]);
  return { backupKey: backup.key, restoreTime, atBackup: [MARKS[0]], atTime: [MARKS[0], MARKS[1], MARKS[2]] };
}

/** The marks a database shows through `url` (the preview's direct URL), sorted. */
export async function marksThrough(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>("SELECT name FROM customers WHERE name LIKE 'mark-%' ORDER BY name");
    return rows.map((r) => r.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Postgres servers (postmasters: a `postgres` whose parent is not one) that descend from this process:
 * the control plane's own, and any a restore starts. Other processes' servers on the machine do not count.
 */
export function postmastersOfThisProcess(): number[] {
  const parent = new Map<number, number>();
  const name = new Map<number, string>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(")");
      name.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...name.entries()]
    .filter(([pid, comm]) => comm === "postgres" && name.get(parent.get(pid) ?? 0) !== "postgres" && descends(pid))
    .map(([pid]) => pid)
    .sort((a, b) => a - b);
}
