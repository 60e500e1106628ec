/**
 * `pulumi import capydb:index:PreviewDatabase <name> <projectId>/<previewId>`: the engine sends Read
 * with that id and no properties. A preview is found by its project (CapyDB lists previews per
 * project) and id. Names are not accepted: CapyDB's ids are opaque, so "prj_1/pr-42" could not be
 * told from an id by its shape, and a name is reused once its preview is deleted, while the id is
 * what the stack records from then on.
 */
export interface ImportId {
  projectId: string;
  previewId: string;
}

export const IMPORT_ID_FORM = "<projectId>/<previewId>";

export function parseImportId(id: string): ImportId {
  const parts = id.split("/");
  if (parts.length !== 2 || parts.some((p) => p.trim() === "" || p === "." || p === "..")) {
    throw new Error(
      `import id ${JSON.stringify(id.slice(0, 200))} is not of the form ${IMPORT_ID_FORM} (e.g. "prj_123/pvw_456"). ` +
        "The preview's id is its `id` in CapyDB's list of the project's previews (the CapyDB console or API); a name is not accepted.",
    );
  }
  return { projectId: parts[0], previewId: parts[1] };
}
