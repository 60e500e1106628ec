// The native plugin's invoke `capydb:index:getPreviewDatabase` over gRPC, as the engine calls it: the
// plugin built in dist/ started as its own process, Configure with the key as a secret, then Invoke,
// against the local control plane (memory) holding a preview made straight through the API.
import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { fromStruct, SECRET_SIG, SIG_KEY, toStruct } from "../../plugin/wire";
import { LOOKUP_OUTPUTS, lookupPreviewDatabase } from "../../provider/lookup";
import { SECRET_OUTPUTS } from "../../provider/outputs";
import { startControlPlane, type ControlPlane } from "../control-plane";

const TOKEN = "capydb:index:getPreviewDatabase";
const MAIN = path.resolve(__dirname, "..", "..", "plugin", "main.js");

interface Started {
  child: ChildProcess;
  client: ResourceProviderClient;
  stderr: () => string;
}

/** `pulumi-resource-capydb` as the engine starts it: its first stdout line is the port. */
async function startPlugin(env: NodeJS.ProcessEnv): Promise<Started> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CAPYDB|PULUMI)_/.test(k)) clean[k] = v;
  const child = spawn(process.execPath, [MAIN, "127.0.0.1:1"], { env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n");
      if (line.length > 1) resolve(Number(line[0]));
    });
    child.once("exit", (code) => reject(new Error(`the plugin exited (${code}) before it printed its port: ${stderr}`)));
  });
  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return { child, client, stderr: () => stderr };
}

function call<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}

describe("native plugin: the invoke capydb:index:getPreviewDatabase over gRPC", function () {
  this.timeout(60_000);
  let cp: ControlPlane;
  let plugin: Started;
  let previewId: string;

  const invoke = (tok: string, args: Record<string, unknown>) =>
    call<pb.InvokeRequest, pb.InvokeResponse>(plugin.client.invoke.bind(plugin.client), new pb.InvokeRequest().setTok(tok).setArgs(toStruct(args)));

  before(async () => {
    cp = await startControlPlane({ backend: "memory", jobProgression: "time", jobDurationsMs: { create: 50, reset: 50, delete: 50 } });
    // Made the way the CapyDB CLI or GitHub Action would: straight through the API.
    const res = await fetch(`${cp.url}/v1/projects/${cp.projectId}/preview-databases`, {
      method: "POST",
      headers: { authorization: `Bearer ${cp.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "made-elsewhere", mode: "empty", ttl_hours: 24 }),
    });
    assert.ok(res.ok, await res.text());
    for (let i = 0; i < 200 && cp.previews.live().find((p) => p.name === "made-elsewhere")?.state !== "ready"; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    previewId = cp.previews.live().find((p) => p.name === "made-elsewhere")!.id;
    // No key in the plugin's environment: it reaches the lookup only through Configure, as secret config.
    plugin = await startPlugin({ CAPYDB_API_URL: cp.url });
    const configure = new pb.ConfigureRequest().setArgs(toStruct({ apiKey: { [SIG_KEY]: SECRET_SIG, value: cp.projectScopedKey } }));
    await call(plugin.client.configure.bind(plugin.client), configure);
  });

  after(async () => {
    plugin?.client.close();
    plugin?.child.kill();
    await cp?.close();
  });

  it("answers the preview's outputs, exactly the schema's, with the URLs and password marked secret and nothing else", async () => {
    const res = await invoke(TOKEN, { projectId: cp.projectId, name: "MADE-elsewhere" });
    assert.deepEqual(res.getFailuresList(), []);
    const raw = res.getReturn()!.toJavaScript() as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw).sort(), [...LOOKUP_OUTPUTS].sort());
    const secret = Object.keys(raw).filter((k) => (raw[k] as Record<string, unknown> | null)?.[SIG_KEY] === SECRET_SIG).sort();
    assert.deepEqual(secret, [...SECRET_OUTPUTS].sort());
    const outs = fromStruct(res.getReturn());
    assert.equal(outs.id, previewId);
    assert.equal(outs.name, "made-elsewhere");
    assert.equal(outs.state, "ready");
    assert.equal(outs.region, "local");
    assert.match(String(outs.directUrl), /^postgres(ql)?:\/\//);
    assert.ok(String(outs.directUrl).includes(`:${String(outs.password)}@`), "the password is the URL's");
    // The same function as the TypeScript SDK's lookup: the same answer, field for field.
    const direct = await lookupPreviewDatabase({ projectId: cp.projectId, name: "made-elsewhere" }, { apiKey: cp.projectScopedKey, apiUrl: cp.url }, {});
    for (const key of LOOKUP_OUTPUTS) assert.deepEqual(outs[key], direct[key] ?? null, key);
  });

  it("creates, changes and deletes nothing", async () => {
    cp.clearRequests();
    await invoke(TOKEN, { projectId: cp.projectId, name: "made-elsewhere" });
    assert.deepEqual(cp.requests().filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`), []);
    assert.ok(cp.requests().length > 0 && cp.requests().every((r) => r.auth !== "none"), "the key from Configure reached the API");
  });

  it("a missing preview is an error naming the project and the name, never the key", async () => {
    const err = (await invoke(TOKEN, { projectId: cp.projectId, name: "no-such-preview" }).then(() => undefined, (e: grpc.ServiceError) => e))!;
    assert.ok(err, "the invoke failed");
    assert.match(err.details, new RegExp(`No live preview named "no-such-preview" in CapyDB project "${cp.projectId}"`));
    assert.ok(!err.details.includes(cp.projectScopedKey));
    assert.ok(!plugin.stderr().includes(cp.projectScopedKey), "nor in the plugin's stderr");
  });

  it("missing arguments are check failures naming the field, before any request", async () => {
    cp.clearRequests();
    const res = await invoke(TOKEN, { projectId: "", name: 42 });
    assert.deepEqual(res.getFailuresList().map((f) => f.getProperty()), ["projectId", "name"]);
    assert.match(res.getFailuresList()[1].getReason(), /name is required/);
    assert.deepEqual(cp.requests(), []);
  });

  it("another token is refused, naming the one function it serves", async () => {
    const err = (await invoke("capydb:index:getSomethingElse", {}).then(() => undefined, (e: grpc.ServiceError) => e))!;
    assert.match(err.details, /serves only the function capydb:index:getPreviewDatabase, not capydb:index:getSomethingElse/);
  });
});
