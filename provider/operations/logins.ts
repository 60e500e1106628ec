import { OperationContext } from "../context";
import { LoginNotProvenError, proveLogins, readinessOf } from "../login-proof";
import type { Outputs } from "../outputs";
import { partialFailure } from "./partial-failure";

/**
 * Recorded in the outputs while a preview's logins are unproven (a create or reset whose URLs never
 * logged in before its deadline): the next `pulumi up` tries the logins again before it succeeds.
 */
export const LOGIN_PENDING = "loginPending";

/**
 * With `readiness: "login"`, returns only once both URLs log in. A login that never works is a partial
 * failure: the preview exists and is ready as far as CapyDB knows, so Pulumi keeps tracking it, with
 * its URLs, and the next `up` tries again.
 */
export async function requireLogins(
  ctx: OperationContext,
  inputs: Record<string, unknown>,
  previewId: string,
  outs: Outputs,
  deadline: number,
  label: string,
): Promise<Outputs> {
  if (readinessOf(ctx, inputs) !== "login") return outs;
  try {
    await proveLogins(ctx, outs, deadline, label);
    return outs;
  } catch (error) {
    if (!(error instanceof LoginNotProvenError)) throw error;
    throw partialFailure(
      `Preview "${String(inputs.name)}" (${previewId}) is ready in CapyDB, but ${error.message}\n` +
        "Pulumi keeps tracking it: run `pulumi up` again to try the logins again, raise the operation's `timeouts`, " +
        "or `pulumi destroy` to delete it.",
      previewId,
      { ...outs, [LOGIN_PENDING]: true },
      inputs,
    );
  }
}
