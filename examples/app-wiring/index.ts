/**
 * Wiring a preview into an application. The pooled URL is for the app at runtime (PgBouncer,
 * transaction pooling); the direct URL is for migrations, advisory locks and LISTEN/NOTIFY. Both
 * are secret outputs, and stay secret through `pulumi.all` / `apply`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as capydb from "pulumi-capydb";

const config = new pulumi.Config("capydb");
const stack = pulumi.getStack();

const db = new capydb.PreviewDatabase("app-db", {
  projectId: config.require("projectId"),
  name: capydb.previewNameForStack(stack, "app-"),
  mode: "clone",
  ttlHours: 48,
  timeouts: { create: "10m", delete: "10m" },
});

/** The environment an app expects, named as the CapyDB Vercel/Netlify integrations name it. */
export const appEnvironment = pulumi.secret(
  pulumi.all([db.pooledUrl, db.directUrl]).apply(([pooled, direct]) => ({
    DATABASE_URL: pooled,
    DATABASE_URL_UNPOOLED: direct,
  })),
);

// Hand these to any other resource: a Kubernetes Secret, a Vercel env var, a Lambda's environment…
export const migrateCommand = pulumi.secret(pulumi.interpolate`DATABASE_URL='${db.directUrl}' npm run migrate`);
export const previewHost = db.host;
