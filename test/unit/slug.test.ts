import { strict as assert } from "assert";
import { createHash } from "crypto";
import { autoName } from "../../provider/inputs";
import { hashedPreviewName, previewNameFor, previewSlug, stackNameFor, transliterate } from "../../provider/slug";
import { previewNameForBranch, previewNameForStack, stackNameForBranch } from "../../sdk/branch";

// 0.1.0's three slug functions, copied verbatim from that release (sdk/branch.ts, provider/inputs.ts). Stacks
// store the names they produced: for ASCII input the shared module must return exactly the same, or an upgrade
// would replace databases.
const v010 = {
  previewNameForBranch(branch: string, prefix = ""): string {
    const slug = (prefix + branch).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    if (slug && slug === prefix + branch && slug.length <= 63) return slug;
    const hash = createHash("sha256").update(prefix + branch).digest("hex").slice(0, 6);
    const head = slug.slice(0, 63 - hash.length - 1).replace(/-+$/g, "");
    return head ? `${head}-${hash}` : `preview-${hash}`;
  },
  stackNameForBranch(branch: string): string {
    const slug = branch.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "");
    if (slug && slug === branch && slug.length <= 100) return slug;
    const hash = createHash("sha256").update(branch).digest("hex").slice(0, 6);
    return `${slug.slice(0, 100 - hash.length - 1).replace(/-+$/g, "") || "branch"}-${hash}`;
  },
  autoName(seed: string): string {
    const hash = createHash("sha256").update(seed).digest("hex").slice(0, 6);
    const slug = seed.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63 - hash.length - 1)
      .replace(/-+$/g, "");
    return slug ? `${slug}-${hash}` : `preview-${hash}`;
  },
  controlPlaneSlug(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "project";
  },
};

/** Deterministic ASCII strings: every printable character, separators in runs, lengths across the cut-offs. */
function asciiCorpus(count: number): string[] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const alphabet = "abcXYZ019-_./ @#~!%^&*()+=[]{}|\\:;'\",<>?`\t";
  const out = ["", "-", "---", "main", "pr-42", "PR-42", "dev-db", "feat/a", "feat-a", "a".repeat(63), "a".repeat(64),
    "b".repeat(100), "b".repeat(101), "-x-", "x".repeat(56) + "-" + "y".repeat(10), "pr-42-db"];
  for (let i = 0; i < count; i++) {
    const length = next() % 130;
    let s = "";
    for (let j = 0; j < length; j++) s += alphabet[next() % alphabet.length];
    out.push(s);
  }
  return out;
}

describe("slug module (one slug logic for provider, sdk and control plane)", () => {
  const corpus = asciiCorpus(2000);

  it("gives every ASCII input exactly the name 0.1.0 gave it (auto-names, branch and stack names)", () => {
    for (const text of corpus) {
      assert.equal(autoName(text), v010.autoName(text), `autoName(${JSON.stringify(text)})`);
      assert.equal(previewNameForBranch(text), v010.previewNameForBranch(text), `previewNameForBranch(${JSON.stringify(text)})`);
      assert.equal(previewNameForBranch(text, "app-"), v010.previewNameForBranch(text, "app-"));
      assert.equal(previewNameForStack(text, "app-"), v010.previewNameForBranch(text, "app-"), "stack helper = 0.1.0 branch helper");
      assert.equal(stackNameForBranch(text), v010.stackNameForBranch(text), `stackNameForBranch(${JSON.stringify(text)})`);
      assert.equal(previewSlug(text) || "project", v010.controlPlaneSlug(text));
    }
  });

  it("keeps a frozen table of names recorded from 0.1.0 (what existing stacks hold in state)", () => {
    const autoNames: Record<string, string> = {
      "dev-db": "dev-db-0e8246",
      "pr-42-db": "pr-42-db-87bec8",
      "Prod_Stack-My DB": "prod-stack-my-db-9fa902",
      ["dev-" + "x".repeat(70)]: "dev-" + "x".repeat(52) + "-aca110",
    };
    for (const [seed, name] of Object.entries(autoNames)) assert.equal(autoName(seed), name, seed);
    assert.equal(previewNameForBranch("feat/login"), "feat-login-d668f0");
    assert.equal(previewNameForBranch("feat/login", "app-"), "app-feat-login-3cd66d");
    assert.equal(previewNameForBranch("Feature/UPPER_case"), "feature-upper-case-25a804");
    assert.equal(previewNameForStack("main"), "main");
    assert.equal(previewNameForStack("main", "app-"), "app-main");
    assert.equal(stackNameForBranch("feat/login page"), "feat-login-page-f17c02");
    assert.equal(stackNameForBranch("release/1.2"), "release-1.2-bacdc8");
  });

  it("transliterates non-ASCII letters instead of dropping them", () => {
    assert.equal(transliterate("café"), "cafe");
    assert.equal(transliterate("Straße Ærø Łódź"), "Strasse AEro Lodz");
    assert.equal(previewSlug("café"), "cafe");
    assert.match(previewNameFor("café"), /^cafe-[0-9a-f]{6}$/, "changed text still gets a hash");
    assert.notEqual(previewNameFor("café"), previewNameFor("cafe"), "café and cafe stay apart");
    assert.equal(previewNameFor("cafe"), "cafe");
    assert.match(previewNameForBranch("feat/über-straße"), /^feat-uber-strasse-[0-9a-f]{6}$/);
    assert.match(stackNameFor("feat/café"), /^feat-cafe-[0-9a-f]{6}$/);
    assert.match(hashedPreviewName("dev-café"), /^dev-cafe-[0-9a-f]{6}$/);
    // 0.1.0 dropped the letter: "caf". That is exactly what this change fixes.
    assert.match(v010.previewNameForBranch("café"), /^caf-[0-9a-f]{6}$/);
  });

  it("drops what has no ASCII spelling, and still gives a valid name", () => {
    assert.match(previewNameFor("日本"), /^preview-[0-9a-f]{6}$/);
    assert.match(stackNameFor("日本"), /^branch-[0-9a-f]{6}$/);
    assert.match(previewNameFor("feat/日本-x"), /^feat-x-[0-9a-f]{6}$/);
    for (const text of ["é".repeat(200), "ß".repeat(80), "ﬁle", "Ω"]) {
      assert.match(previewNameFor(text), /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
      assert.ok(previewNameFor(text).length <= 63);
      assert.ok(stackNameFor(text).length <= 100);
    }
  });
});
