// Installed with the packed pulumi-capydb tarball, as a user's TypeScript program would be.
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const config = new pulumi.Config();
const readiness = config.get("readiness");
const backupKey = config.get("sourceBackupKey");
const restoreTime = config.get("sourceRestoreTime");
const db = new capydb.PreviewDatabase("db", {
  projectId: config.require("projectId"),
  name: config.get("name"),
  // A blank database unless restored: a restored preview holds its source's data.
  mode: backupKey || restoreTime ? undefined : "empty",
  readiness: readiness === "job" || readiness === "login" ? readiness : undefined,
  resetTrigger: config.get("resetTrigger"),
  source: backupKey ? { backupKey } : restoreTime ? { restoreTime } : undefined,
});

export const previewId = db.id;
export const name = db.name;
export const state = db.state;
export const sourceKind = db.sourceKind;
export const sourceBackupKey = db.sourceBackupKey;
export const sourceRestoreTime = db.sourceRestoreTime;
export const restoreTimeClamped = db.restoreTimeClamped;
export const effectiveRestoreTime = db.effectiveRestoreTime;
export const directUrl = db.directUrl;
export const pooledUrl = db.pooledUrl;
export const password = db.password;
