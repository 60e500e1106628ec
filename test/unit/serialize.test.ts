import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { previewDatabaseProvider } from "../../sdk";
import { TEST_API_KEY } from "../helpers/fixtures";

// Layer 2: the provider object as Pulumi serializes it into every resource's state.
const GOLDEN = path.join(__dirname, "..", "..", "..", "test", "golden", "provider-shim.js.txt");

describe("serialized provider (__provider text)", function () {
  this.timeout(30_000);
  let text: string;

  before(async () => {
    // A key in the environment must not be captured even if present when the program runs.
    process.env.CAPYDB_API_KEY = TEST_API_KEY;
    try {
      // Exactly what pulumi.dynamic.Resource serializes: a closure over a local named `provider`.
      const provider = previewDatabaseProvider;
      const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
      assert.equal(sf.containsSecrets, false);
      text = sf.text;
    } finally {
      delete process.env.CAPYDB_API_KEY;
    }
  });

  it("is a small stub that requires only the stable provider subpath", () => {
    assert.ok(text.length < 4_000, `shim text is ${text.length} bytes`);
    const requires = new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    assert.deepEqual([...requires], ["pulumi-capydb/provider"]);
    for (const method of ["configure", "check", "diff", "create", "read", "update", "delete"]) {
      assert.ok(text.includes(`.${method}(`), `delegates ${method}`);
    }
  });

  it("holds no credential", () => {
    assert.ok(!text.includes(TEST_API_KEY));
    assert.ok(!/capy_live_/.test(text));
  });

  it("matches the committed golden copy (changing it is a state-compatibility event)", () => {
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(GOLDEN, text);
    assert.equal(text, fs.readFileSync(GOLDEN, "utf8"));
  });

  it("reloads and runs the installed implementation", async () => {
    const provider = require("require-from-string")(text).handler();
    await provider.configure({ config: { get: () => undefined } });
    const checked = await provider.check({}, { projectId: "prj_1", autoNameSeed: "dev-db", ttlHours: 72 });
    assert.deepEqual(checked.failures, undefined);
    assert.equal(checked.inputs.ttlHours, 72);
    const bad = await provider.check({}, { projectId: "prj_1", autoNameSeed: "dev-db", ttlHours: 0 });
    assert.equal(bad.failures[0].property, "ttlHours");
    const diff = await provider.diff("pvw_1", { projectId: "prj_1", name: "a", mode: "clone", ttlHours: 24 }, { projectId: "prj_1", name: "a", mode: "clone", ttlHours: 48 });
    assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
  });
});
