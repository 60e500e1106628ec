import { strict as assert } from "assert";
import { CapyDBError } from "../../provider/errors";

/** The CapyDBError a call fails with; fails the test if it succeeds or fails with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<CapyDBError> {
  const error = await promise.then(() => assert.fail("expected the call to fail"), (e: unknown) => e);
  assert.ok(error instanceof CapyDBError, `expected CapyDBError, got ${error}`);
  return error;
}
