// Installed with the packed pulumi-capydb tarball, as a user's program would be (test/cli/*.test.ts).
const pulumi = require("@pulumi/pulumi");
const capydb = require("pulumi-capydb");

const config = new pulumi.Config();
const db = new capydb.PreviewDatabase("db", {
  projectId: config.require("projectId"),
  name: config.get("name"),
  ttlHours: config.getNumber("ttlHours"),
  resetTrigger: config.get("resetTrigger"),
  timeouts: config.get("createTimeout") ? { create: config.get("createTimeout") } : undefined,
});

module.exports = {
  previewId: db.id,
  name: db.name,
  state: db.state,
  host: db.host,
  directPort: db.directPort,
  pooledPort: db.pooledPort,
  roleName: db.roleName,
  databaseName: db.databaseName,
  ttlExpiresAt: db.ttlExpiresAt,
  // Secret through the resource's additionalSecretOutputs; exported as they are.
  directUrl: db.directUrl,
  pooledUrl: db.pooledUrl,
  password: db.password,
};
