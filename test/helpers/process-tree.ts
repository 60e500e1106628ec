import { readdirSync, readFileSync } from "node:fs";

/** Parent pid and state of a process from /proc, or undefined when it is gone. */
function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (children, their children, ...), from /proc. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = stat(Number(entry));
    if (!info) continue;
    children.set(info.ppid, [...(children.get(info.ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const walk = (p: number): void => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** The parent pid of a live process, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  return stat(pid)?.ppid;
}

/** Running (a zombie that only waits to be reaped does not count). */
export function isRunning(pid: number): boolean {
  const info = stat(pid);
  return info !== undefined && info.state !== "Z" && info.state !== "X";
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
