import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as path from "path";

// What loading `pulumi-capydb/provider` costs every plugin launch (issue 16): which packages it pulls
// in, in a fresh process. Times are measured by `npm run bench`, not here.
const PROVIDER = path.resolve(__dirname, "..", "..", "provider", "index.js");

function packagesLoadedAfter(script: string, env: NodeJS.ProcessEnv = {}): string[] {
  const probe = `
    const provider = require(${JSON.stringify(PROVIDER)});
    (async () => {
      ${script}
      const names = new Set();
      for (const file of Object.keys(require.cache)) {
        const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(file);
        if (m) names.add(m[1].replace(/\\\\/g, "/"));
      }
      process.stdout.write(JSON.stringify([...names].sort()));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", probe], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } }));
}

describe("load cost of pulumi-capydb/provider", function () {
  this.timeout(30_000);

  it("loading it, configure, check and diff (all of `pulumi preview`) load neither undici nor zod", () => {
    const loaded = packagesLoadedAfter(`
      await provider.configure({ config: { get: () => undefined } });
      const { inputs, failures } = await provider.check({}, { projectId: "prj_1", name: "pr-1", ttlHours: 24, timeouts: { create: "5m" }, keepAlive: 12 });
      if (failures) throw new Error(JSON.stringify(failures));
      await provider.diff("pvw_1", { ...inputs, state: "ready" }, inputs);
    `);
    assert.deepEqual(loaded, []);
  });

  const firstCall = `
      await provider.configure({ config: { get: (k) => ({ "capydb:apiKey": "k", "capydb:apiUrl": "http://127.0.0.1:9" })[k] } });
      await provider.read("pvw_1", { projectId: "prj_1", name: "pr-1" }).catch(() => undefined);
    `;

  it("the first API call loads zod, and Node's own http rather than undici (whose WebAssembly parser cost ~35 MB)", () => {
    assert.deepEqual(packagesLoadedAfter(firstCall), ["zod"]);
  });

  it("with a proxy variable set, the first API call loads undici too (its EnvHttpProxyAgent knows proxies)", () => {
    assert.deepEqual(packagesLoadedAfter(firstCall, { HTTPS_PROXY: "http://127.0.0.1:9" }), ["undici", "zod"]);
  });
});
