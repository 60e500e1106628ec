/**
 * Generates the Pulumi package schema of `capydb` from the code: the property lists come from the
 * provider core (INPUT_NAMES, PREVIEW_OUTPUT_FIELDS, SECRET_OUTPUTS) and the plugin's CONFIG_KEYS;
 * types and descriptions come from the TSDoc of the SDK's declarations (sdk/preview-database.ts),
 * read with the TypeScript compiler. Build-time only (`npm run plugin:schema` writes plugin/schema.json);
 * the plugin serves that file, so the compiler never ships in it.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { INPUT_NAMES } from "../provider/inputs";
import { LOOKUP_OUTPUTS } from "../provider/lookup-outputs";
import { PREVIEW_OUTPUT_FIELDS, SECRET_OUTPUTS } from "../provider/outputs";
import { CONFIG_KEYS, CONFIG_NAMES } from "./config";

import { SDK_LANGUAGES } from "./schema-languages";
import { LOOKUP_TOKEN, PACKAGE_NAME, RESOURCE_TOKEN, SOURCE_TOKEN, TIMEOUTS_TOKEN } from "./schema-tokens";

type TypeSpec = { type?: string; $ref?: string; oneOf?: TypeSpec[]; enum?: unknown };
type PropertySpec = TypeSpec & { description: string; secret?: boolean };

interface Declared {
  doc: string;
  members: Map<string, { doc: string; typeText: string }>;
}

/** The TSDoc and type text of each interface or class of the SDK file, by name. */
function readDeclarations(sourceFile: string): Map<string, Declared> {
  // One file, nothing resolved: the TSDoc and the type text are all it needs (and this keeps it fast).
  const program = ts.createProgram([sourceFile], { noResolve: true, noLib: true, types: [], noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(sourceFile);
  if (!source) throw new Error(`schema: cannot read ${sourceFile}`);
  const docOf = (node: ts.Node & { name?: ts.Node }): string => {
    const symbol = node.name ? checker.getSymbolAtLocation(node.name) : undefined;
    return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).replace(/\{@link (\w+)\}/g, "$1").trim() : "";
  };
  const found = new Map<string, Declared>();
  ts.forEachChild(source, (node) => {
    if (!(ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) || !node.name) return;
    const members = new Map<string, { doc: string; typeText: string }>();
    for (const member of node.members) {
      if (!(ts.isPropertySignature(member) || ts.isPropertyDeclaration(member)) || !member.type) continue;
      members.set(member.name.getText(source), { doc: docOf(member), typeText: member.type.getText(source) });
    }
    found.set(node.name.text, { doc: docOf(node), members });
  });
  return found;
}

/**
 * Properties whose numbers are whole: TypeScript has one `number`, but CapyDB takes `ttl_hours` as an
 * integer and ports are integers, and typed `number` the Go and C# SDKs would make users write
 * `pulumi.Float64(24)` and read ports as floats.
 */
const WHOLE_NUMBERS = new Set(["ttlHours", "directPort", "pooledPort"]);

/** `pulumi.Input<string | number>` → the schema type; SDK type names become references. */
function typeSpec(typeText: string, where: string): TypeSpec {
  const whole = WHOLE_NUMBERS.has(where.split(".").pop()!);
  const inner = typeText.replace(/^pulumi\.(Input|Output)<(.*)>$/s, "$2");
  const parts = inner.split("|").map((p) => p.trim()).filter((p) => p !== "null" && p !== "undefined");
  const one = (part: string): TypeSpec => {
    if (part === "string" || /^"[^"]*"$/.test(part)) return { type: "string" };
    if (part === "number") return { type: whole ? "integer" : "number" };
    if (part === "boolean") return { type: "boolean" };
    if (part === "PreviewDatabaseTimeouts") return { $ref: `#/types/${TIMEOUTS_TOKEN}` };
    if (part === "PreviewDatabaseSource") return { $ref: `#/types/${SOURCE_TOKEN}` };
    throw new Error(`schema: ${where} has the type ${typeText}, which the schema generator does not map; add it to typeSpec()`);
  };
  const specs = parts.map(one);
  const distinct = specs.filter((s, i) => specs.findIndex((t) => JSON.stringify(t) === JSON.stringify(s)) === i);
  return distinct.length === 1 ? distinct[0] : { type: distinct[0].type, oneOf: distinct };
}

function property(members: Map<string, { doc: string; typeText: string }>, name: string, where: string, secret = false, file = "sdk/preview-database.ts"): PropertySpec {
  const member = members.get(name);
  if (!member) throw new Error(`schema: ${name} is not declared in ${where} (${file}); document it there`);
  if (!member.doc) throw new Error(`schema: ${where}.${name} has no TSDoc in ${file}`);
  return { ...typeSpec(member.typeText, `${where}.${name}`), description: member.doc, ...(secret ? { secret: true } : {}) };
}

export interface SchemaOptions {
  version: string;
  /** The SDK file whose TSDoc gives the descriptions; default sdk/preview-database.ts of this checkout. */
  sdkFile?: string;
  /** The SDK file of the lookup (its args and result types); default sdk/get-preview-database.ts. */
  lookupSdkFile?: string;
}

/**
 * The invoke's own description: the SDK function's TSDoc speaks of the TypeScript program (where it runs, its
 * example); through the plugin the lookup runs in the plugin, with the provider's credentials.
 */
const LOOKUP_DESCRIPTION =
  "Reads a live preview database that something else manages (the CapyDB GitHub Action, another stack, the CLI) " +
  "without managing it: nothing is created, changed or deleted, and `pulumi destroy` leaves it alone. The capydb " +
  "plugin runs the lookup with the provider's credentials (`capydb:apiKey`, `capydb:apiUrl`, else CAPYDB_API_KEY / " +
  "CAPYDB_API_URL in its environment) on every run, `pulumi preview` included, and records nothing in state. " +
  "`directUrl`, `pooledUrl` and `password` are secret. A preview that does not exist (or has expired) fails with an " +
  "error naming the project and the name.";

/** Outputs a live preview always has; the rest may be null (not ready yet, no facts). */
const LOOKUP_REQUIRED = ["id", "projectId", "name", "mode", "state", "ttlExpiresAt"];

/** `functions` of the schema: the lookup, its inputs and outputs described by the SDK's TSDoc. */
function lookupFunction(file: string): Record<string, unknown> {
  const decls = readDeclarations(file);
  const get = (name: string) => {
    const d = decls.get(name);
    if (!d) throw new Error(`schema: ${name} is not declared in ${file}`);
    return d;
  };
  const args = get("GetPreviewDatabaseArgs");
  const result = get("GetPreviewDatabaseResult");
  const where = "sdk/get-preview-database.ts";
  const inputs: Record<string, PropertySpec> = {};
  for (const name of args.members.keys()) inputs[name] = property(args.members, name, "GetPreviewDatabaseArgs", false, where);
  const secret = new Set<string>(SECRET_OUTPUTS);
  const outputs: Record<string, PropertySpec> = {};
  for (const name of LOOKUP_OUTPUTS) outputs[name] = property(result.members, name, "GetPreviewDatabaseResult", secret.has(name), where);
  return {
    [LOOKUP_TOKEN]: {
      description: LOOKUP_DESCRIPTION,
      inputs: { properties: inputs, required: ["projectId", "name"] },
      outputs: { properties: outputs, required: LOOKUP_REQUIRED },
    },
  };
}

export function generateSchema(opts: SchemaOptions): Record<string, unknown> {
  const sdkFile = opts.sdkFile ?? path.join(repoRoot(), "sdk", "preview-database.ts");
  const decls = readDeclarations(sdkFile);
  const get = (name: string) => {
    const d = decls.get(name);
    if (!d) throw new Error(`schema: ${name} is not declared in ${sdkFile}`);
    return d;
  };
  const args = get("PreviewDatabaseArgs");
  const resource = get("PreviewDatabase");
  const timeouts = get("PreviewDatabaseTimeouts");
  const source = get("PreviewDatabaseSource");

  const inputProperties: Record<string, PropertySpec> = {};
  for (const name of INPUT_NAMES) inputProperties[name] = property(args.members, name, "PreviewDatabaseArgs");

  // Outputs: every input (echoed by the core), the API fields, the secret connection outputs, and
  // what else the SDK class declares (lastJobId). A core output missing from the class fails here.
  const secret = new Set<string>(SECRET_OUTPUTS);
  const outputNames = [
    ...PREVIEW_OUTPUT_FIELDS.map(([output]) => output as string),
    ...SECRET_OUTPUTS,
    ...resource.members.keys(),
  ];
  const properties: Record<string, PropertySpec> = {};
  for (const name of outputNames) {
    if (properties[name]) continue;
    properties[name] = property(resource.members, name, "PreviewDatabase", secret.has(name));
  }
  for (const name of INPUT_NAMES) properties[name] ??= inputProperties[name];

  const timeoutProperties: Record<string, PropertySpec> = {};
  for (const name of timeouts.members.keys()) timeoutProperties[name] = property(timeouts.members, name, "PreviewDatabaseTimeouts");
  const sourceProperties: Record<string, PropertySpec> = {};
  for (const name of source.members.keys()) sourceProperties[name] = property(source.members, name, "PreviewDatabaseSource");

  const configVariables: Record<string, PropertySpec> = {};
  for (const name of CONFIG_NAMES) {
    const { type, secret: isSecret, description } = CONFIG_KEYS[name];
    configVariables[name] = { type, description, ...(isSecret ? { secret: true } : {}) };
  }

  return {
    name: PACKAGE_NAME,
    displayName: "CapyDB",
    version: opts.version,
    description: "Disposable CapyDB Postgres preview databases, one per branch or pull request.",
    keywords: ["pulumi", "capydb", "postgres", "preview-database", "category/database", "kind/native"],
    homepage: "https://github.com/capydb/pulumi-capydb#readme",
    repository: "https://github.com/capydb/pulumi-capydb",
    license: "Apache-2.0",
    publisher: "CapyDB",
    meta: { moduleFormat: "(.*)" },
    config: { variables: configVariables },
    provider: {
      description: "The capydb provider: credentials and API URL for the CapyDB API.",
      inputProperties: configVariables,
    },
    types: {
      [TIMEOUTS_TOKEN]: { type: "object", description: timeouts.doc, properties: timeoutProperties },
      [SOURCE_TOKEN]: { type: "object", description: source.doc, properties: sourceProperties },
    },
    functions: lookupFunction(opts.lookupSdkFile ?? path.join(repoRoot(), "sdk", "get-preview-database.ts")),
    resources: {
      [RESOURCE_TOKEN]: {
        description: resource.doc,
        inputProperties,
        requiredInputs: ["projectId"],
        properties,
        required: ["projectId", "name", "mode", "ttlHours"],
      },
    },
    language: SDK_LANGUAGES,
  };
}

export function repoRoot(): string {
  // The nearest package.json up from here: plugin/ in the checkout, dist/plugin/ once compiled.
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
}

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8")) as { version: string }).version;
}

export const SCHEMA_FILE = "plugin/schema.json";

export function schemaText(): string {
  return `${JSON.stringify(generateSchema({ version: packageVersion() }), null, 2)}\n`;
}

if (require.main === module) {
  const target = path.join(repoRoot(), SCHEMA_FILE);
  fs.writeFileSync(target, schemaText());
  process.stderr.write(`wrote ${target}\n`);
}
