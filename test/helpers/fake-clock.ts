import { Clock } from "../../provider/clock";

/** A clock whose sleeps return at once and move time forward, recording each wait. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private time = Date.UTC(2026, 10, 27, 12, 0, 0)) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
    await new Promise((resolve) => setImmediate(resolve));
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
