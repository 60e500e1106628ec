// `npm run bench` (test/bench/cli.ts): one stack of `count` previews, or with `noop: true` the same
// number of dynamic resources whose provider calls nothing (what the engine itself costs).
const pulumi = require("@pulumi/pulumi");

const config = new pulumi.Config();
const count = config.requireNumber("count");
const ttlHours = config.getNumber("ttlHours") ?? 24;

if (config.getBoolean("noop")) {
  const noop = {
    async create(inputs) { return { id: inputs.name, outs: inputs }; },
    async read(id, props) { return { id, props }; },
    async diff(_id, olds, news) { return { changes: olds.ttlHours !== news.ttlHours }; },
    async update(_id, _olds, news) { return { outs: news }; },
    async delete() {},
  };
  for (let i = 0; i < count; i++) new pulumi.dynamic.Resource(noop, `db-${i}`, { name: `bench-${i}`, ttlHours }, {});
} else {
  const capydb = require("pulumi-capydb");
  for (let i = 0; i < count; i++) new capydb.PreviewDatabase(`db-${i}`, { projectId: config.require("projectId"), name: `bench-${i}`, ttlHours });
}
