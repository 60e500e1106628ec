import { PREVIEW_OUTPUT_FIELDS } from "./outputs";
import { PROJECT_OUTPUT_FIELDS } from "./project-facts";
import { SECRET_OUTPUTS } from "./secret-outputs";

/**
 * The fields a lookup returns, in order: what the SDK's getPreviewDatabase gives and the native plugin's
 * invoke declares and answers. SECRET_OUTPUTS among them must be kept secret. Its own module, without
 * the API client, so that the SDK can list them when a program loads it.
 */
export const LOOKUP_OUTPUTS = [
  "id",
  ...PREVIEW_OUTPUT_FIELDS.map(([output]) => output),
  ...PROJECT_OUTPUT_FIELDS.map(([output]) => output),
  ...SECRET_OUTPUTS,
] as const;
