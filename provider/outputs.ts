import { ALWAYS_ALLOWED_PROPERTIES, INPUT_NAMES, PreviewDatabaseInputs } from "./inputs";
import { serverText } from "./server-text";
import type { ConnectionInfo, PreviewDatabase } from "./api-types";
import { known } from "./known";

/**
 * The one table from API fields (snake_case) to resource outputs (camelCase). Unknown or empty API
 * values become null: outputs must be plain JSON, and `undefined` breaks the gRPC Struct encoding.
 */
export const PREVIEW_OUTPUT_FIELDS = [
  ["projectId", "project_id"],
  ["name", "name"],
  ["mode", "mode"],
  ["state", "state"],
  ["host", "public_host"],
  ["directPort", "direct_port"],
  ["pooledPort", "pooled_port"],
  ["roleName", "role_name"],
  ["databaseName", "database_name"],
  ["sslMode", "ssl_mode"],
  ["ttlExpiresAt", "ttl_expires_at"],
  ["createdAt", "created_at"],
  ["lastError", "last_error"],
  ["sourceKind", "source_kind"],
  ["sourceBackupKey", "source_backup_key"],
  ["sourceRestoreTime", "source_restore_time"],
] as const satisfies ReadonlyArray<readonly [string, keyof PreviewDatabase]>;

export { SECRET_OUTPUTS } from "./secret-outputs";

export type Outputs = Record<string, unknown>;

export function previewOutputs(preview: PreviewDatabase): Outputs {
  const out: Outputs = {};
  for (const [output, field] of PREVIEW_OUTPUT_FIELDS) out[output] = known(preview[field]) ?? null;
  // The one free-text field the API fills: a non-secret output, so whatever the server put in it
  // (a failed clone's connection string, say) is masked, cut and made inert like an error message.
  if (typeof out.lastError === "string") out.lastError = serverText(out.lastError);
  // Provenance is server text too: shown, so made inert the same way.
  for (const key of ["sourceKind", "sourceBackupKey", "sourceRestoreTime"]) {
    if (typeof out[key] === "string") out[key] = serverText(out[key] as string, { max: 200 });
  }
  return out;
}

export function connectionOutputs(info: ConnectionInfo | undefined): Outputs {
  return {
    directUrl: known(info?.direct_url) ?? null,
    pooledUrl: known(info?.pooled_url) ?? null,
    password: passwordOf(info?.direct_url) ?? passwordOf(info?.pooled_url) ?? null,
  };
}

/** The API has no password field (§3.1): it is the userinfo password of the connection URLs. */
export function passwordOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** Inputs echoed into outputs unchanged: diff compares against old outputs, and delete only sees outputs. */
const ECHOED_INPUTS: readonly string[] = [...INPUT_NAMES, ...ALWAYS_ALLOWED_PROPERTIES.filter((k) => k !== "__provider")];

export function echoInputs(inputs: Partial<PreviewDatabaseInputs> & Record<string, unknown>): Outputs {
  const out: Outputs = {};
  for (const key of ECHOED_INPUTS) if (inputs[key] !== undefined) out[key] = inputs[key];
  return out;
}

/**
 * Complete outputs: echoed inputs, then what the API says, then the secret connection outputs.
 * The API's projectId/name/mode win over the echo only where it knows them.
 */
export function buildOutputs(
  inputs: Partial<PreviewDatabaseInputs> & Record<string, unknown>,
  preview: PreviewDatabase | undefined,
  connections: Outputs,
  extra: Outputs = {},
): Outputs {
  const out: Outputs = { ...echoInputs(inputs) };
  if (preview) {
    for (const [key, value] of Object.entries(previewOutputs(preview))) {
      if (value !== null || !(key in out)) out[key] = value;
    }
  }
  return { ...out, ...connections, ...extra };
}
