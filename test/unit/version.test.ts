// One version everywhere it is written: two different tarballs must never share a file name.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { USER_AGENT, VERSION } from "../../provider/version";

const REPO = path.resolve(__dirname, "..", "..", "..");
const read = (file: string) => fs.readFileSync(path.join(REPO, file), "utf8");

describe("the version", () => {
  const { version } = JSON.parse(read("package.json")) as { version: string };

  it("is the same in package.json, package-lock.json and the User-Agent", () => {
    const lock = JSON.parse(read("package-lock.json")) as { version: string; packages: Record<string, { version?: string }> };
    assert.equal(lock.version, version);
    assert.equal(lock.packages[""].version, version);
    assert.equal(VERSION, version);
    assert.ok(USER_AGENT.startsWith(`pulumi-capydb/${version} `));
  });

  it("is the newest release CHANGELOG.md describes, and the tarball name the README installs", () => {
    const newest = /^## \[?(\d+\.\d+\.\d+)\]?/m.exec(read("CHANGELOG.md"));
    assert.equal(newest?.[1], version, "CHANGELOG's first heading");
    const tarballs = [...read("README.md").matchAll(/pulumi-capydb-(\d+\.\d+\.\d+)\.tgz/g)].map((m) => m[1]);
    assert.ok(tarballs.length > 0, "the README names the tarball");
    assert.deepEqual([...new Set(tarballs)], [version]);
  });
});
