/**
 * One stack per branch, one preview per stack:
 *
 *   pulumi stack select --create "$(node -e 'console.log(require("pulumi-capydb").stackNameForBranch(process.argv[1]))' "$BRANCH")"
 *   pulumi config set capydb:projectId prj_123
 *   pulumi up --yes --refresh
 *
 * The preview is named `pr-<number>` in pull-request builds (the name the CapyDB GitHub Action uses)
 * and after the branch otherwise, so every push of a branch lands on the same database.
 */
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const config = new pulumi.Config("capydb");

const db = new capydb.PreviewDatabase("db", {
  projectId: config.require("projectId"),
  name: capydb.previewNameFromEnvironment() ?? capydb.previewNameForBranch(pulumi.getStack()),
  mode: "clone",
  // Each `up` of the branch restarts the clock at 72 h; a forgotten branch cleans itself up.
  ttlHours: config.getNumber("ttlHours") ?? 72,
  // `pulumi config set capydb:resetTrigger $(date +%s)` then `pulumi up` re-clones the data.
  resetTrigger: config.get("resetTrigger"),
});

export const host = db.host;
export const ttlExpiresAt = db.ttlExpiresAt;
// Already secret through additionalSecretOutputs; pulumi.secret keeps them secret whatever reads them.
export const databaseUrl = pulumi.secret(db.pooledUrl);
export const databaseUrlUnpooled = pulumi.secret(db.directUrl);
