import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

// The stack is `pr-<number>` (see the workflow), so the preview is named after the pull request.
const db = new capydb.PreviewDatabase("db", {
  projectId: new pulumi.Config("capydb").require("projectId"),
  name: capydb.previewNameForBranch(pulumi.getStack()),
  ttlHours: 72,
});

export const databaseUrl = pulumi.secret(db.pooledUrl);
export const databaseUrlUnpooled = pulumi.secret(db.directUrl);
