/**
 * One stack per branch or pull request, one preview per stack. The environment chooses the stack,
 * the stack chooses the preview's name:
 *
 *   pulumi stack select --create "$(npx pulumi-capydb stack-name)"   # pr-42 in a pull-request build, else from the branch
 *   pulumi config set capydb:projectId prj_123
 *   pulumi up --yes --refresh
 *
 * The name depends on the stack alone, so a pull-request build, a push build and a laptop that
 * select the same stack (say pr-42) share one database. Each `up` renews the 72 h TTL once less
 * than half of it is left (the default `keepAlive`); a branch nobody pushes expires on its own.
 */
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const config = new pulumi.Config("capydb");

const db = new capydb.PreviewDatabase("db", {
  projectId: config.require("projectId"),
  name: capydb.previewNameForStack(pulumi.getStack()),
  mode: "clone",
  ttlHours: config.getNumber("ttlHours") ?? 72,
  // `pulumi config set capydb:resetTrigger $(date +%s)` then `pulumi up` re-clones the data.
  resetTrigger: config.get("resetTrigger"),
});

export const host = db.host;
export const ttlExpiresAt = db.ttlExpiresAt;
// Already secret through additionalSecretOutputs; pulumi.secret keeps them secret whatever reads them.
export const databaseUrl = pulumi.secret(db.pooledUrl);
export const databaseUrlUnpooled = pulumi.secret(db.directUrl);
