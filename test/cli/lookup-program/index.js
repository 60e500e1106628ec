"use strict";
const pulumi = require("@pulumi/pulumi");
const capydb = require("pulumi-capydb");

const config = new pulumi.Config();
const found = capydb.getPreviewDatabase({ projectId: config.require("projectId"), name: config.require("previewName") });

module.exports = {
  previewId: found.id,
  state: found.state,
  host: found.host,
  pooledPort: found.pooledPort,
  postgresVersion: found.postgresVersion,
  region: found.region,
  pooledUrl: found.pooledUrl,
  password: found.password,
};
