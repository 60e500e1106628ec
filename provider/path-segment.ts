/**
 * Values that become one segment of a request path: project ids from inputs, preview and job ids
 * from state or from the API. Percent-encoding keeps every character inside its segment except dot
 * segments: "." and ".." are resolved by URL parsing before the request is sent, and would send the
 * call to another endpoint (DELETE /v1/preview-databases/.. is DELETE /v1/).
 */
export function pathChangingReason(value: string): string | undefined {
  if (value === "") return "it is empty";
  if (value === "." || value === "..") return `"${value}" would change the request path`;
  return undefined;
}

/**
 * The stricter rule for ids a user types (projectId): besides dot segments, nothing that a server or
 * proxy could take for path or query syntax after decoding ('/', '\\', '?', '#', '%'), and no
 * whitespace or control characters. Real ids ("prj_…") never contain them.
 */
export function unsafePathSegmentReason(value: string): string | undefined {
  const changing = pathChangingReason(value);
  if (changing) return changing;
  if (/[/\\]/.test(value)) return "it contains a path separator ('/' or '\\')";
  if (/[?#%]/.test(value)) return "it contains '?', '#' or '%'";
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return "it contains whitespace or control characters";
  return undefined;
}

export function isPathSafeId(value: string): boolean {
  return pathChangingReason(value) === undefined;
}
