// `npm run bench` (test/bench/cli.ts): one stack of `count` previews, or with `noop: true` the same
// number of dynamic resources whose provider calls nothing (what the engine itself costs), or with
// `strategy: fixed5` the same provider code polling jobs every 5 s (the CapyDB Terraform provider's
// schedule), through a dynamic provider of its own that hands that schedule to createProvider.
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
} else if (config.get("strategy") === "fixed5") {
  // One provider per plugin process (the serialized methods run in it), as pulumi-capydb/provider has.
  const provider = () => {
    if (!global.__capydbFixed5) {
      const everyFiveSeconds = {
        plan: () => ({
          next: (_elapsedMs, polls) => ({ delayMs: polls === 0 ? 0 : 5000, priority: "speculative" }),
          priorityAt: () => "speculative",
          completed: () => undefined,
        }),
      };
      global.__capydbFixed5 = require("pulumi-capydb/provider").createProvider({ schedule: everyFiveSeconds });
    }
    return global.__capydbFixed5;
  };
  const fixed5 = {
    configure: (req) => provider().configure(req),
    check: (olds, news) => provider().check(olds, news),
    diff: (id, olds, news) => provider().diff(id, olds, news),
    create: (inputs) => provider().create(inputs),
    read: (id, props) => provider().read(id, props),
    update: (id, olds, news) => provider().update(id, olds, news),
    delete: (id, props) => provider().delete(id, props),
  };
  const projectId = config.require("projectId");
  for (let i = 0; i < count; i++) new pulumi.dynamic.Resource(fixed5, `db-${i}`, { projectId, name: `bench-${i}`, ttlHours }, {});
} else {
  const capydb = require("pulumi-capydb");
  for (let i = 0; i < count; i++) new capydb.PreviewDatabase(`db-${i}`, { projectId: config.require("projectId"), name: `bench-${i}`, ttlHours });
}
