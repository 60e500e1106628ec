// The README's first commands say what they do: `npm run test:all` is the whole suite as CI runs it, and
// `npm test` without a Pulumi CLI reports test/cli as pending (the README says so), never as passed.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..", "..");
const read = (file: string) => fs.readFileSync(path.join(REPO, file), "utf8");

describe("README: the first commands", () => {
  const top = read("README.md").split("\n").slice(0, 30).join("\n");
  const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;

  it("calls the whole suite only what runs all of it: test:all builds the CLI and requires test/cli", () => {
    const wholeSuite = top.split("\n").filter((line) => /whole test suite/.test(line));
    assert.ok(wholeSuite.length > 0, top);
    for (const line of wholeSuite) assert.match(line, /npm run test:all/, line);
    assert.match(scripts["test:all"], /npm run pulumi:cli/);
    assert.match(scripts["test:all"], /CAPYDB_REQUIRE_PULUMI_CLI=1 npm test/);
    // CI runs the same two steps (.ci/run).
    const ci = read(".ci/run");
    assert.match(ci, /npm run pulumi:cli/);
    assert.match(ci, /CAPYDB_REQUIRE_PULUMI_CLI=1 npm test/);
  });

  it("says what `npm test` skips without a CLI, as test/cli/suite.ts does", () => {
    assert.match(top, /`npm test` alone[\s\S]*`test\/cli`[\s\S]*pending/);
    const suite = read("test/cli/suite.ts");
    assert.match(suite, /CAPYDB_REQUIRE_PULUMI_CLI === "1"\) throw/, "with the variable, a missing CLI fails");
    assert.match(suite, /ctx\.skip\(\)/, "without it, the suite is skipped (mocha: pending)");
  });
});
