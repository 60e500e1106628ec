import type { RequestLogEntry } from "./types";

const MAX_ENTRIES = 10_000;

/** What clients did, for assertions on retries and call order. Holds no key values and no bodies. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];

  record(entry: RequestLogEntry): void {
    this.entries.push(entry);
    // A long `npm start` session must not grow without bound.
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}
