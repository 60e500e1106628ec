/**
 * `customTimeouts` reach a native plugin as the request's `timeout` (seconds, 0 when unset). The core
 * bounds its waits by the `timeouts` input, so the door hands it a copy of the inputs whose
 * `timeouts.<op>` is the engine's value; without one, the `timeouts` input stays in effect. The
 * outputs echo the user's own `timeouts`, never the translated one, or every next diff would see a change.
 */
import type { Props } from "./wire";

type Op = "create" | "update" | "delete";

/** The core accepts 1 s to 24 h; the engine's value is clipped into that range, rounded up to whole seconds. */
export const MIN_SECONDS = 1;
export const MAX_SECONDS = 24 * 3600;

export function engineTimeoutText(seconds: number): string | undefined {
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return `${Math.min(MAX_SECONDS, Math.max(MIN_SECONDS, Math.ceil(seconds)))}s`;
}

/** The inputs the core gets for `op`: the engine's timeout, when it sent one, in place of `timeouts.<op>`. */
export function withEngineTimeout(inputs: Props, op: Op, seconds: number): Props {
  const text = engineTimeoutText(seconds);
  if (!text) return inputs;
  const own = inputs.timeouts !== null && typeof inputs.timeouts === "object" ? (inputs.timeouts as Props) : {};
  return { ...inputs, timeouts: { ...own, [op]: text } };
}

/** Outputs (or a partial failure's properties) with the user's own `timeouts` echoed back. */
export function restoreTimeouts(props: Props, userInputs: Props): Props {
  const out = { ...props };
  if (userInputs.timeouts === undefined) delete out.timeouts;
  else out.timeouts = userInputs.timeouts;
  return out;
}
