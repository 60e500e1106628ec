/**
 * The program the workflow in .github/workflows/preview-db.yml runs, one stack per pull request
 * (`pr-<number>`, chosen by the workflow). The preview is named after the stack, so `pr-42`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const db = new capydb.PreviewDatabase("db", {
  projectId: new pulumi.Config("capydb").require("projectId"),
  name: capydb.previewNameForStack(pulumi.getStack()),
  // Each push's `up` renews the TTL once less than half of it is left (keepAlive's default).
  ttlHours: 72,
});

// What the workflow posts to the job summary: never a credential.
export const name = db.name;
export const host = db.host;
export const ttlExpiresAt = db.ttlExpiresAt;
export const databaseUrl = pulumi.secret(db.pooledUrl);
export const databaseUrlUnpooled = pulumi.secret(db.directUrl);
