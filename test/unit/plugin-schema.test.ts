// The plugin's schema is generated from the code: these fail when plugin/schema.json, the core's
// lists of inputs and outputs, and the SDK's declarations disagree.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { createProvider } from "../../provider/index";
import { INPUT_NAMES } from "../../provider/inputs";
import { PREVIEW_OUTPUT_FIELDS, SECRET_OUTPUTS } from "../../provider/outputs";
import { CONFIG_NAMES } from "../../plugin/config";
import { generateSchema, packageVersion, repoRoot, SCHEMA_FILE, schemaText } from "../../plugin/schema";
import { LOOKUP_TOKEN, RESOURCE_TOKEN } from "../../plugin/schema-tokens";
import { LOOKUP_OUTPUTS } from "../../provider/lookup";
import { startControlPlane } from "../control-plane";

type Prop = { type?: string; $ref?: string; description?: string; secret?: boolean; oneOf?: unknown[] };
type Resource = { inputProperties: Record<string, Prop>; properties: Record<string, Prop>; description: string };

function committed(): { version: string; resources: Record<string, Resource>; config: { variables: Record<string, Prop> } } {
  return JSON.parse(fs.readFileSync(path.join(repoRoot(), SCHEMA_FILE), "utf8"));
}

describe("plugin schema (plugin/schema.json)", () => {
  it("is what `npm run plugin:schema` generates from the current code (run it after changing inputs, outputs or their TSDoc)", () => {
    assert.equal(fs.readFileSync(path.join(repoRoot(), SCHEMA_FILE), "utf8"), schemaText());
  });

  it("carries the package version", () => {
    assert.equal(committed().version, packageVersion());
  });

  it("has exactly the core's inputs, each with the SDK's TSDoc as its description", () => {
    const resource = committed().resources[RESOURCE_TOKEN];
    assert.deepEqual(Object.keys(resource.inputProperties).sort(), [...INPUT_NAMES].sort());
    for (const [name, prop] of Object.entries(resource.inputProperties)) assert.ok((prop.description ?? "").length > 20, `${name} is described`);
    assert.match(resource.inputProperties.ttlHours.description!, /whole number from 1 to 168/);
    assert.deepEqual(resource.inputProperties.resetTrigger.oneOf, [{ type: "string" }, { type: "number" }]);
    assert.equal(resource.inputProperties.timeouts.$ref, "#/types/capydb:index:PreviewDatabaseTimeouts");
  });

  it("types whole numbers as integers (Go and C# get int), and keeps fractional hours numbers", () => {
    const resource = committed().resources[RESOURCE_TOKEN];
    assert.equal(resource.inputProperties.ttlHours.type, "integer");
    assert.equal(resource.properties.ttlHours.type, "integer");
    assert.equal(resource.properties.directPort.type, "integer");
    assert.equal(resource.properties.pooledPort.type, "integer");
    assert.deepEqual(resource.inputProperties.keepAlive.oneOf, [{ type: "boolean" }, { type: "number" }]);
  });

  it("publishes every output the core writes, and flags exactly the secret ones", async () => {
    const resource = committed().resources[RESOURCE_TOKEN];
    for (const [output] of PREVIEW_OUTPUT_FIELDS) assert.ok(resource.properties[output], `${output} is in the schema`);
    const secret = Object.entries(resource.properties).filter(([, p]) => p.secret).map(([k]) => k).sort();
    assert.deepEqual(secret, [...SECRET_OUTPUTS].sort());

    // What a real create returns (the core against the local control plane): every key is published.
    const cp = await startControlPlane({ backend: "memory" });
    try {
      const core = createProvider({ env: { CAPYDB_API_URL: cp.url, CAPYDB_API_KEY: cp.projectScopedKey, CAPYDB_READINESS: "job" }, sink: () => undefined });
      const { outs } = await core.create({ projectId: cp.projectId, name: "schema-check", mode: "clone", ttlHours: 24, keepAlive: true, resetTrigger: "x", adopt: false, readiness: "job", timeouts: { create: "1m" } });
      // `__` keys are the core's own plumbing, hidden from the CLI's diffs (the auto-name seed set by the SDK or
      // from the URN, CapyDB's clock offset), never a user's property.
      const written = Object.keys(outs).filter((k) => !k.startsWith("__") && k !== "autoNameSeed");
      // `source` is echoed only when set: a restore's outputs (test/unit/restore.test.ts) have it.
      assert.equal(outs.source, undefined);
      assert.deepEqual([...written, "source"].sort(), Object.keys(resource.properties).sort());
    } finally {
      await cp.close();
    }
  });

  it("declares the invoke capydb:index:getPreviewDatabase: projectId and name in, the lookup's fields out, the credentials secret", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(repoRoot(), SCHEMA_FILE), "utf8")) as {
      functions: Record<string, { inputs: { properties: Record<string, Prop>; required: string[] }; outputs: { properties: Record<string, Prop> } }>;
    };
    const fn = schema.functions[LOOKUP_TOKEN];
    assert.deepEqual(Object.keys(fn.inputs.properties), ["projectId", "name"]);
    assert.deepEqual(fn.inputs.required, ["projectId", "name"]);
    assert.deepEqual(Object.keys(fn.outputs.properties), [...LOOKUP_OUTPUTS]);
    const secret = Object.entries(fn.outputs.properties).filter(([, p]) => p.secret).map(([k]) => k).sort();
    assert.deepEqual(secret, [...SECRET_OUTPUTS].sort());
    for (const [name, prop] of Object.entries(fn.outputs.properties)) assert.ok((prop.description ?? "").length > 10, `${name} is described`);
  });

  it("declares the provider config the plugin reads, the API key secret", () => {
    const { variables } = committed().config;
    assert.deepEqual(Object.keys(variables), CONFIG_NAMES);
    assert.equal(variables.apiKey.secret, true);
    assert.equal(variables.allowInsecureHttp.type, "boolean");
  });

  it("refuses to generate when an input has no TSDoc in the SDK", () => {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "capydb-schema-"));
    try {
      const sdk = fs.readFileSync(path.join(repoRoot(), "sdk", "preview-database.ts"), "utf8");
      // Drop the declaration of keepAlive (its TSDoc and the line).
      const without = sdk.replace(/\n  \/\*\*\n   \* TTL keep-alive[\s\S]*?keepAlive\?: pulumi\.Input<boolean \| number>;/, "");
      assert.notEqual(without, sdk, "the fixture edit applied");
      const file = path.join(dir, "preview-database.ts");
      fs.writeFileSync(file, without);
      assert.throws(() => generateSchema({ version: "0.0.0", sdkFile: file }), /keepAlive is not declared in PreviewDatabaseArgs/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
