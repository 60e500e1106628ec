// Installed with the packed pulumi-capydb tarball. Only projectId is given: name, mode and ttlHours are the
// provider's (the stable auto-name, "clone", 24), and must still be outputs the program can use.
const pulumi = require("@pulumi/pulumi");
const capydb = require("pulumi-capydb");

const db = new capydb.PreviewDatabase("db", { projectId: new pulumi.Config().require("projectId") });

module.exports = {
  name: db.name,
  mode: db.mode,
  ttlHours: db.ttlHours,
  shoutedName: db.name.apply((name) => name.toUpperCase()),
};
