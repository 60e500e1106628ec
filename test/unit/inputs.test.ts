import { strict as assert } from "assert";
import { autoName, checkInputs, INPUT_NAMES, resolveTimeoutMs } from "../../provider/inputs";
import { echoInputs } from "../../provider/outputs";
import { parseDuration } from "../../provider/duration";
import { diffPreview } from "../../provider/diff";
import { UNKNOWN } from "../../provider/unknown";

const base = { projectId: "prj_1", autoNameSeed: "dev-db" };

describe("check", () => {
  it("fills defaults and a stable auto-name", () => {
    const { inputs, failures } = checkInputs({}, base);
    assert.deepEqual(failures, []);
    assert.equal(inputs.mode, "clone");
    assert.equal(inputs.ttlHours, 24);
    assert.match(String(inputs.name), /^dev-db-[0-9a-f]{6}$/);
    assert.equal(checkInputs({}, base).inputs.name, inputs.name, "auto-name is deterministic");
    assert.notEqual(checkInputs({}, { ...base, autoNameSeed: "prod-db" }).inputs.name, inputs.name);
  });

  it("takes the seed under this SDK's hidden key `__autoNameSeed` and 0.1.0's `autoNameSeed` alike", () => {
    const now = checkInputs({}, { projectId: "prj_1", __autoNameSeed: "dev-db" });
    assert.deepEqual(now.failures, []);
    assert.equal(now.inputs.name, checkInputs({}, base).inputs.name, "the same name: no replacement after the upgrade");
  });

  it("keeps the current name when an explicit name is removed", () => {
    const { inputs } = checkInputs({ ...base, name: "pr-42" }, base);
    assert.equal(inputs.name, "pr-42");
  });

  it("auto-names are valid preview names even for odd seeds", () => {
    for (const seed of ["feature/ÜBER_long" + "x".repeat(100), "---", "A.B", "pr-42-db"]) {
      const name = autoName(seed);
      assert.match(name, /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, name);
      assert.ok(name.length <= 63, name);
    }
    assert.notEqual(autoName("feat/a"), autoName("feat-a"));
  });

  it("reports one failure per bad field, naming the field and the fix", () => {
    const { failures } = checkInputs({}, {
      name: "My_DB",
      mode: "copy",
      ttlHours: 200,
      timeouts: { create: "soon", destroy: "1m" },
      resetTrigger: { a: 1 },
      adopt: "yes",
    });
    const byField = Object.fromEntries(failures.map((f) => [f.property, f.reason]));
    assert.deepEqual(Object.keys(byField).sort(), ["adopt", "mode", "name", "projectId", "resetTrigger", "timeouts.create", "timeouts.destroy", "ttlHours"]);
    assert.match(byField.projectId, /required/);
    assert.match(byField.name, /lowercase/);
    assert.match(byField.mode, /"clone".*"empty"/);
    assert.match(byField.ttlHours, /1 to 168/);
    assert.match(byField["timeouts.create"], /"20m"/);
  });

  it("rejects fractional, zero and string ttlHours", () => {
    for (const ttlHours of [0, 1.5, "24", -1, 169]) {
      const { failures } = checkInputs({}, { ...base, ttlHours });
      assert.equal(failures.length, 1, String(ttlHours));
      assert.equal(failures[0].property, "ttlHours");
    }
  });

  it("needs a name when no SDK seed is present", () => {
    const { failures } = checkInputs({}, { projectId: "prj_1" });
    assert.deepEqual(failures.map((f) => f.property), ["name"]);
  });

  it("passes unknown values through untouched, at the top level and nested", () => {
    const news = {
      projectId: UNKNOWN,
      name: UNKNOWN,
      mode: UNKNOWN,
      ttlHours: UNKNOWN,
      timeouts: { create: UNKNOWN },
      resetTrigger: UNKNOWN,
      adopt: UNKNOWN,
      autoNameSeed: "dev-db",
    };
    const { inputs, failures } = checkInputs({}, news);
    assert.deepEqual(failures, []);
    assert.deepEqual(inputs, news);
    const whole = checkInputs({}, { projectId: "prj_1", timeouts: UNKNOWN, autoNameSeed: UNKNOWN });
    assert.deepEqual(whole.failures, []);
    assert.equal(whole.inputs.timeouts, UNKNOWN);
    assert.equal(whole.inputs.name, UNKNOWN);
  });

  it("stringifies numeric reset triggers", () => {
    assert.equal(checkInputs({}, { ...base, resetTrigger: 3 }).inputs.resetTrigger, "3");
  });

  it("parses Go-style durations", () => {
    assert.equal(parseDuration("20m"), 1_200_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("1.5h"), 5_400_000);
    assert.equal(parseDuration("20"), undefined);
    assert.equal(parseDuration("m"), undefined);
    assert.equal(resolveTimeoutMs(undefined, "create"), 1_200_000);
    assert.equal(resolveTimeoutMs({ delete: "5m" }, "delete"), 300_000);
  });
});

describe("diff", () => {
  const olds = { projectId: "prj_1", name: "pr-42", mode: "clone", ttlHours: 24, state: "ready", host: "h" };
  const news = { projectId: "prj_1", name: "pr-42", mode: "clone", ttlHours: 24 };

  it("reports no change when inputs match the old outputs", () => {
    assert.deepEqual(diffPreview(olds, news), { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("updates ttlHours, resetTrigger and timeouts in place", () => {
    for (const change of [{ ttlHours: 72 }, { resetTrigger: "1" }, { timeouts: { create: "5m" } }]) {
      assert.deepEqual(diffPreview(olds, { ...news, ...change }), { changes: true, replaces: [], deleteBeforeReplace: false });
    }
  });

  it("replaces on projectId, name or mode, deleting first when the name is kept", () => {
    assert.deepEqual(diffPreview(olds, { ...news, projectId: "prj_2" }), { changes: true, replaces: ["projectId"], deleteBeforeReplace: true });
    assert.deepEqual(diffPreview(olds, { ...news, mode: "empty" }), { changes: true, replaces: ["mode"], deleteBeforeReplace: true });
    assert.deepEqual(diffPreview(olds, { ...news, name: "pr-43" }), { changes: true, replaces: ["name"], deleteBeforeReplace: true });
  });

  it("treats absent mode and ttlHours in old state as their defaults", () => {
    const oldShape = { projectId: "prj_1", name: "pr-42" };
    assert.equal(diffPreview(oldShape, news).changes, false);
  });

  it("treats unknowns as changes, and as replacements for replace keys", () => {
    assert.deepEqual(diffPreview(olds, { ...news, ttlHours: UNKNOWN }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(diffPreview(olds, { ...news, projectId: UNKNOWN }), { changes: true, replaces: ["projectId"], deleteBeforeReplace: true });
    assert.deepEqual(diffPreview(olds, { ...news, name: UNKNOWN }), { changes: true, replaces: ["name"], deleteBeforeReplace: true });
    assert.equal(diffPreview(olds, { ...news, timeouts: { delete: UNKNOWN } }).changes, true);
  });

  it("ignores output-only fields and __provider", () => {
    assert.equal(diffPreview({ ...olds, __provider: "a", state: "ready" }, { ...news, __provider: "b" }).changes, false);
  });
});

describe("check: input hygiene", () => {
  it("refuses unknown property names, naming the property and the input it most likely meant", () => {
    const { failures } = checkInputs({}, { ...base, ttlHour: 48, Mode: "empty", colour: "red" });
    const byField = Object.fromEntries(failures.map((f) => [f.property, f.reason]));
    assert.deepEqual(Object.keys(byField).sort(), ["Mode", "colour", "ttlHour"]);
    assert.match(byField.ttlHour, /"ttlHour" is not an input of PreviewDatabase; did you mean "ttlHours"\?/);
    assert.match(byField.Mode, /did you mean "mode"\?/);
    assert.match(byField.colour, /not an input.*Valid inputs: projectId, name, mode, ttlHours, timeouts, resetTrigger, adopt, keepAlive, readiness, source\./);
    assert.doesNotMatch(byField.colour, /did you mean/);
  });

  it("always allows __provider and autoNameSeed, and refuses an unknown name even when its value is unknown", () => {
    assert.deepEqual(checkInputs({}, { ...base, __provider: "shim" }).failures, []);
    assert.deepEqual(checkInputs({}, { ...base, ttlHourz: UNKNOWN }).failures.map((f) => f.property), ["ttlHourz"]);
  });

  it("the valid names are one list, which is also what outputs echo", () => {
    assert.deepEqual([...INPUT_NAMES], ["projectId", "name", "mode", "ttlHours", "timeouts", "resetTrigger", "adopt", "keepAlive", "readiness", "source"]);
    const all = Object.fromEntries(INPUT_NAMES.map((k) => [k, `v-${k}`]));
    assert.deepEqual(
      Object.keys(echoInputs({ ...all, __autoNameSeed: "s", autoNameSeed: "s", __provider: "p", other: 1 })).sort(),
      [...INPUT_NAMES, "__autoNameSeed", "autoNameSeed"].sort(),
    );
  });

  it("refuses projectId values that would change the request path, naming projectId", () => {
    for (const projectId of [".", "..", "prj/1", "../prj_1", "prj\\1", "prj?x=1", "prj#a", "%2e%2e", "prj 1", "prj\n1"]) {
      const { failures } = checkInputs({}, { ...base, projectId });
      assert.deepEqual(failures.map((f) => f.property), ["projectId"], JSON.stringify(projectId));
      assert.match(failures[0].reason, /projectId must be a CapyDB project id such as "prj_123"/);
    }
    for (const projectId of ["prj_1", "prj-abc.def", "0f8e2c1a-uuid", "prj:1"]) {
      assert.deepEqual(checkInputs({}, { ...base, projectId }).failures, [], projectId);
    }
  });
});
