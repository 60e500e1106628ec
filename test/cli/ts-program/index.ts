// Installed with the packed pulumi-capydb tarball, as a user's TypeScript program would be.
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const config = new pulumi.Config();
const readiness = config.get("readiness");
const db = new capydb.PreviewDatabase("db", {
  projectId: config.require("projectId"),
  name: config.get("name"),
  mode: "empty",
  readiness: readiness === "job" || readiness === "login" ? readiness : undefined,
  resetTrigger: config.get("resetTrigger"),
});

export const previewId = db.id;
export const name = db.name;
export const state = db.state;
export const directUrl = db.directUrl;
export const pooledUrl = db.pooledUrl;
export const password = db.password;
