// The TSDoc users see in their editor (the emitted declarations): every input and output of PreviewDatabase is
// documented, the outputs documented are exactly those the provider produces, and "Secret" is said of exactly the
// outputs the engine is asked to keep secret.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { pendingCreateFailure } from "../../provider/operations/pending-create";
import { PREVIEW_OUTPUT_FIELDS, SECRET_OUTPUTS } from "../../provider/outputs";
import { PROJECT_OUTPUT_FIELDS } from "../../provider/project-facts";
import { RESTORE_OUTPUT_NAMES } from "../../provider/restore-outputs";

const DECLARATIONS = path.resolve(__dirname, "..", "..", "sdk", "preview-database.d.ts");

/** The declared type text of each PreviewDatabase member, e.g. "pulumi.Output<string | null>". */
function typesOf(file: string): Map<string, string> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const types = new Map<string, string>();
  source.forEachChild((node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== "PreviewDatabase") return;
    for (const member of node.members) {
      if (ts.isPropertyDeclaration(member) && ts.isIdentifier(member.name) && member.type) types.set(member.name.text, member.type.getText());
    }
  });
  return types;
}

function docsOf(file: string): Map<string, Map<string, string>> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const docOf = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).map((d) => d.getText()).join("\n");
  const byContainer = new Map<string, Map<string, string>>();
  source.forEachChild((node) => {
    if (!(ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) || !node.name) return;
    const members = new Map<string, string>([["(itself)", docOf(node)]]);
    for (const member of node.members) {
      if ((ts.isPropertySignature(member) || ts.isPropertyDeclaration(member)) && ts.isIdentifier(member.name)) {
        members.set(member.name.text, docOf(member));
      }
    }
    byContainer.set(node.name.text, members);
  });
  return byContainer;
}

describe("TSDoc of PreviewDatabase, as shipped in the declarations", () => {
  const docs = docsOf(DECLARATIONS);
  const members = (name: string) => {
    const found = docs.get(name);
    assert.ok(found, `${name} is declared in ${DECLARATIONS}`);
    return [...found.entries()].filter(([member]) => member !== "(itself)");
  };

  it("documents every input, including each timeout", () => {
    for (const container of ["PreviewDatabaseArgs", "PreviewDatabaseTimeouts", "PreviewDatabaseSource"]) {
      const undocumented = members(container).filter(([, doc]) => doc.trim().length < 20).map(([m]) => m);
      assert.deepEqual(undocumented, [], `${container} members without TSDoc`);
    }
    assert.ok(members("PreviewDatabaseArgs").length >= 7);
  });

  it("documents exactly the outputs the provider produces, and the resource with an @example", () => {
    const produced = [...PREVIEW_OUTPUT_FIELDS.map(([output]) => output), ...PROJECT_OUTPUT_FIELDS.map(([output]) => output), "ttlHours", "lastJobId", "connectionsAsOf", ...RESTORE_OUTPUT_NAMES, ...SECRET_OUTPUTS];
    const declared = members("PreviewDatabase");
    assert.deepEqual(declared.map(([m]) => m).sort(), [...produced].sort());
    assert.deepEqual(declared.filter(([, doc]) => doc.trim().length < 20).map(([m]) => m), [], "outputs without TSDoc");
    assert.match(docs.get("PreviewDatabase")!.get("(itself)")!, /@example[\s\S]*new capydb\.PreviewDatabase\(/);
  });

  it("calls exactly the secret outputs secret", () => {
    const saysSecret = members("PreviewDatabase").filter(([, doc]) => /\*\*Secret\.\*\*/.test(doc)).map(([m]) => m);
    assert.deepEqual(saysSecret.sort(), [...SECRET_OUTPUTS].sort());
  });

  it("types as nullable exactly the outputs the provider can leave null (a create recorded as pending)", () => {
    // The outputs the provider really writes when nothing is known of the preview yet (its least-known state).
    const pending = pendingCreateFailure({ projectId: "prj_1", name: "pr-1", mode: "clone", ttlHours: 24, __provider: "p" }, "test");
    const nullable = Object.entries(pending.properties).filter(([, v]) => v === null).map(([k]) => k).sort();
    assert.ok(nullable.includes("state") && nullable.includes("password"), `pending outputs: ${JSON.stringify(pending.properties)}`);
    const types = typesOf(DECLARATIONS);
    const declaredNullable = [...types.entries()].filter(([, t]) => /\|\s*null\b/.test(t)).map(([m]) => m).sort();
    assert.deepEqual(declaredNullable, nullable, "Output<T | null> for exactly the outputs that can be null");
  });
});
