import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { findElapsedTimeAssertions } from "../helpers/elapsed-time-check";

const REPO = path.resolve(__dirname, "..", "..", "..");

function testSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? testSources(p) : e.name.endsWith(".test.ts") ? [p] : [];
  });
}

describe("no test asserts elapsed wall time (the rule in test/helpers/elapsed-time-check.ts)", () => {
  it("finds none in test/**/*.test.ts", () => {
    const found = testSources(path.join(REPO, "test")).flatMap((file) =>
      findElapsedTimeAssertions(fs.readFileSync(file, "utf8")).map((f) => `${path.relative(REPO, file)}:${f.line}: ${f.text}`));
    assert.deepEqual(found, [], "assert values on an injected clock instead; timing goals go to test/bench (BENCHMARKS.md)");
  });

  it("reports assertions on a wall-clock difference, directly or through a variable", () => {
    const flagged = [
      "const started = Date.now();\nawait work();\nassert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);",
      "const t0 = performance.now();\nawait work();\nconst took = performance.now() - t0;\nassert.ok(took >= 140);",
      "const a = Date.now();\nconst b = Date.now();\nassert(b - a < 5);",
      "const t = process.hrtime();\nawait work();\nassert.ok(process.hrtime(t)[0] < 2);",
      "let start = Date.now();\nexpect(Date.now() -\n  start).toBeLessThan(3);",
    ];
    for (const source of flagged) assert.equal(findElapsedTimeAssertions(source).length, 1, source);
  });

  it("leaves deadlines, timestamp bounds, time left and injected clocks alone", () => {
    const allowed = [
      "const deadline = Date.now() + 2_000;\nwhile (Date.now() < deadline) await sleep(10);\nassert.equal(state, 'done');",
      "const before = Date.now();\nawait up();\nassert.ok(expires >= before + 2 * HOUR - 60_000 && expires <= Date.now() + 2 * HOUR + 60_000);",
      "const leftHours = (oldExpiry - Date.now()) / HOUR;\nassert.ok(leftHours > 1);",
      "const started = clock.now();\nawait op();\nassert.equal(clock.now() - started, 1_000);",
      "const password = `p-${Date.now().toString(36)}`;\nassert.ok(!text.includes(password));",
    ];
    for (const source of allowed) assert.deepEqual(findElapsedTimeAssertions(source), [], source);
  });
});
