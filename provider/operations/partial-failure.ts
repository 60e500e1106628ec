/**
 * The shape the dynamic-provider server turns into ErrorResourceInitFailed: the engine records the
 * resource with `id` and `properties` as its outputs, and runs update on the next `up`. `__provider`
 * is not added by the server for errors, so it is copied from the inputs or later reads crash.
 */
export interface PartialFailure extends Error {
  id: string;
  properties: Record<string, unknown>;
  reasons: string[];
}

export function partialFailure(
  message: string,
  id: string,
  properties: Record<string, unknown>,
  inputs: Record<string, unknown>,
): PartialFailure {
  const error = new Error(message) as PartialFailure;
  error.id = id;
  error.properties = { ...properties, __provider: inputs.__provider };
  error.reasons = [message];
  return error;
}
