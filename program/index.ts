/**
 * The root Pulumi program: one preview database for the current stack, named after the stack alone
 * (`pr-42` stays `pr-42`), or `capydb:previewName`. Choose the stack per branch or pull request:
 * `pulumi stack select --create "$(npx pulumi-capydb stack-name)"`.
 *
 *   pulumi config set capydb:projectId prj_123          # or export CAPYDB_PROJECT_ID
 *   pulumi config set --secret capydb:apiKey capy_live_…  # or export CAPYDB_API_KEY
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { PreviewDatabase, previewNameForStack } from "pulumi-capydb";

const config = new pulumi.Config("capydb");
const projectId = config.get("projectId") || process.env.CAPYDB_PROJECT_ID;
if (!projectId) {
  throw new Error("Set the CapyDB project: `pulumi config set capydb:projectId prj_…` or export CAPYDB_PROJECT_ID.");
}

const db = new PreviewDatabase("db", {
  projectId,
  name: config.get("previewName") || previewNameForStack(pulumi.getStack()),
  mode: (config.get("mode") as "clone" | "empty" | undefined) ?? "clone",
  ttlHours: config.getNumber("ttlHours") ?? 24,
  resetTrigger: config.get("resetTrigger"),
});

export const previewId = db.id;
export const name = db.name;
export const mode = db.mode;
export const state = db.state;
export const host = db.host;
export const directPort = db.directPort;
export const pooledPort = db.pooledPort;
export const roleName = db.roleName;
export const databaseName = db.databaseName;
export const sslMode = db.sslMode;
export const ttlHours = db.ttlHours;
export const ttlExpiresAt = db.ttlExpiresAt;
export const createdAt = db.createdAt;
// Secret outputs: `pulumi stack output pooledUrl --show-secrets`.
export const directUrl = pulumi.secret(db.directUrl);
export const pooledUrl = pulumi.secret(db.pooledUrl);
export const password = pulumi.secret(db.password);
