// Installed with the generated Node.js SDK's tarball (`npm run sdk:gen`), as a user's program would be.
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "@capydb/pulumi";

const config = new pulumi.Config();
const db = new capydb.PreviewDatabase("db", {
  projectId: config.require("projectId"),
  name: config.get("name"),
  ttlHours: config.getNumber("ttlHours"),
  resetTrigger: config.get("resetTrigger"),
});

export const previewId = db.id;
export const name = db.name;
export const state = db.state;
export const host = db.host;
export const ttlExpiresAt = db.ttlExpiresAt;
// Secret: the schema flags them, so the SDK asks the engine to keep them secret.
export const directUrl = db.directUrl;
export const password = db.password;
// The plugin's invoke, reading back the preview just made (after it exists: the name is its output).
const found = capydb.getPreviewDatabaseOutput({ projectId: db.projectId, name: db.name });
export const lookedUpId = found.id;
export const lookedUpDirectUrl = found.directUrl;
