/**
 * The project's rule: no test asserts elapsed wall time (timing goals belong in `npm run bench`; tests
 * assert values on an injected clock). This finds assertions that do, statically and precisely enough to
 * leave legitimate uses of the wall clock alone:
 *
 *   - a "mark" is a variable assigned a wall-clock reading: `const started = Date.now()` (also
 *     `performance.now()`, `process.hrtime()`, `process.hrtime.bigint()`, `new Date().getTime()`);
 *   - an "elapsed" expression is a wall-clock reading or a mark minus a mark (`Date.now() - started`),
 *     or `process.hrtime(mark)`; a variable assigned an expression containing one is elapsed too;
 *   - an assertion (`assert(…)`, `assert.ok(…)`, … or `expect(…)`, up to its closing parenthesis) that
 *     contains an elapsed expression or an elapsed variable is reported.
 *
 * Left alone: polling deadlines (`const deadline = Date.now() + ms; while (Date.now() < deadline)`),
 * bounds on timestamps a real-clock server computed (`expires <= Date.now() + 2 * HOUR`), time left
 * (`expiry - Date.now()`), and any difference on an injected clock (`clock.now() - started`).
 */
const WALL_READ = String.raw`(?:Date\.now\(\)|performance\.now\(\)|process\.hrtime(?:\.bigint)?\(\)|new Date\(\)\.getTime\(\))`;

export interface ElapsedTimeFinding {
  line: number;
  text: string;
}

function assertionCalls(source: string): { index: number; text: string }[] {
  const out: { index: number; text: string }[] = [];
  const start = /\b(?:assert(?:\.\w+)?|expect)\s*\(/g;
  for (let m = start.exec(source); m; m = start.exec(source)) {
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < source.length; end++) {
      if (source[end] === "(") depth++;
      else if (source[end] === ")" && --depth === 0) break;
    }
    out.push({ index: m.index, text: source.slice(m.index, end + 1) });
  }
  return out;
}

export function findElapsedTimeAssertions(source: string): ElapsedTimeFinding[] {
  const marks = new Set<string>();
  for (const m of source.matchAll(new RegExp(String.raw`\b(?:const|let|var)\s+(\w+)\s*=\s*${WALL_READ}\s*[;,\n]`, "g"))) marks.add(m[1]);
  const mark = marks.size ? `(?:${[...marks].join("|")})\\b` : "(?!)";
  const elapsedExpr = String.raw`(?:(?:${WALL_READ}|\b${mark})\s*-\s*\(?\s*${mark}|process\.hrtime(?:\.bigint)?\(\s*${mark}\s*\))`;
  const elapsedVars = new Set<string>();
  for (const m of source.matchAll(new RegExp(String.raw`\b(?:const|let|var)\s+(\w+)\s*=\s*([^;\n]*)`, "g"))) {
    if (new RegExp(elapsedExpr).test(m[2])) elapsedVars.add(m[1]);
  }
  const elapsed = new RegExp(elapsedVars.size ? `${elapsedExpr}|\\b(?:${[...elapsedVars].join("|")})\\b` : elapsedExpr);
  return assertionCalls(source)
    .filter((call) => elapsed.test(call.text))
    .map((call) => ({ line: source.slice(0, call.index).split("\n").length, text: call.text.split("\n")[0] }));
}
