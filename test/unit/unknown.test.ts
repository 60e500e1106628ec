import { strict as assert } from "assert";
import { containsUnknown, isUnknown, UNKNOWN } from "../../provider/unknown";
import * as pulumi from "@pulumi/pulumi";

describe("unknown sentinel", () => {
  it("is the engine's own sentinel value", () => {
    assert.equal(UNKNOWN, pulumi.runtime.unknownValue);
  });

  it("is found at the top level and at any depth", () => {
    assert.ok(isUnknown(UNKNOWN));
    assert.ok(containsUnknown(UNKNOWN));
    assert.ok(containsUnknown({ a: UNKNOWN }));
    assert.ok(containsUnknown({ a: { b: { c: UNKNOWN } } }));
    assert.ok(containsUnknown([1, [2, [UNKNOWN]]]));
    assert.ok(containsUnknown({ list: [{ x: UNKNOWN }] }));
  });

  it("is not found in known values", () => {
    for (const value of [undefined, null, 0, 24, "", "prj_1", true, [], {}, { a: [1, "x"] }, [null]]) {
      assert.equal(containsUnknown(value), false, JSON.stringify(value));
    }
    assert.equal(isUnknown({ a: UNKNOWN }), false);
  });
});
