// Low level: the dynamic-provider plugin process and a promise-shaped gRPC client that speaks to it exactly like
// the engine's `provider_plugin.go` does. No step logic lives here; see engine.ts.
import { spawn, type ChildProcess } from "child_process";
import * as path from "path";
import { assertJson, clone, secret, type Json, type PropertyMap } from "./wire";

/* eslint-disable @typescript-eslint/no-explicit-any */

const MAX_MESSAGE = 400 * 1024 * 1024; // the engine's grpc.max_receive_message_length

/**
 * The proto and gRPC modules, loaded from one `@pulumi/pulumi` install so the generated classes, google-protobuf
 * and grpc-js all match the plugin's versions. Cached per directory because generated protobuf code registers its
 * classes on a global namespace; loading a second copy would silently swap classes under the first.
 */
interface Protos {
  grpc: any;
  providerPb: any;
  providerGrpc: any;
  statusPb: any;
  structPb: any;
  emptyPb: any;
  version: string;
}
const protoCache = new Map<string, Protos>();

export function sdkDirFrom(fromDir: string): string {
  return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [fromDir] }));
}

export function loadProtos(sdkDir: string = sdkDirFrom(__dirname)): Protos {
  const cached = protoCache.get(sdkDir);
  if (cached) return cached;
  const fromSdk = (id: string) => require(require.resolve(id, { paths: [sdkDir] }));
  const p: Protos = {
    grpc: fromSdk("@grpc/grpc-js"),
    providerPb: require(path.join(sdkDir, "proto", "provider_pb")),
    providerGrpc: require(path.join(sdkDir, "proto", "provider_grpc_pb")),
    statusPb: require(path.join(sdkDir, "proto", "status_pb")),
    structPb: fromSdk("google-protobuf/google/protobuf/struct_pb"),
    emptyPb: fromSdk("google-protobuf/google/protobuf/empty_pb"),
    version: require(path.join(sdkDir, "package.json")).version,
  };
  protoCache.set(sdkDir, p);
  return p;
}

export interface StartPluginOptions {
  /** The Pulumi program directory: the plugin's cwd, and where its script and every `require` in a text resolve. */
  programDir: string;
  /** Extra environment. The child starts from this process's env minus PULUMI_* and CAPYDB_* (see below). */
  env?: Record<string, string | undefined>;
  /** Sent as PULUMI_NODEJS_PROJECT, which CLI >= 3.139 sets for this plugin; default "project" like the SDK. */
  project?: string;
  /** Only used to build URNs by callers; the real CLI does not pass the stack name to this plugin. */
  stack?: string;
  /** Which @pulumi/pulumi install provides the protos for the client side (default: the one next to this file). */
  sdkDir?: string;
  startTimeoutMs?: number;
}

export interface InitFailure {
  id: string;
  properties: PropertyMap;
  reasons: string[];
  inputs?: PropertyMap;
}

/** A failed RPC, decoded the way `rpcerror.Convert` + `parseError` do in the engine. */
export class ProviderError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
    readonly initFailure?: InitFailure,
  ) {
    super(`${method}: ${details} (gRPC code ${code})`);
    this.name = "ProviderError";
  }
  get isPartialFailure(): boolean {
    return this.initFailure !== undefined;
  }
}

export interface WireEntry {
  seq: number;
  method: string;
  /** What the request carried, as plain JSON (Structs decoded). */
  request: Record<string, unknown>;
  /** The exact protobuf bytes sent: the ground truth for "this string never crossed the wire". */
  requestBytes: Buffer;
  response?: Record<string, unknown>;
  responseBytes?: Buffer;
  error?: { code: number; details: string; initFailure?: InitFailure };
  /** Raw `grpc-status-details-bin` trailer, if any. */
  errorBytes?: Buffer;
  ms?: number;
}

export type DiffChanges = "unknown" | "none" | "some";

export interface CheckResult {
  inputs: PropertyMap;
  failures: { property: string; reason: string }[];
}
export interface DiffResult {
  changes: DiffChanges;
  replaces: string[];
  stables: string[];
  diffs: string[];
  deleteBeforeReplace: boolean;
}
export interface CreateResult {
  id: string;
  properties: PropertyMap;
}
export interface ReadResult {
  id: string;
  properties: PropertyMap;
  inputs?: PropertyMap;
}

/** Splits `urn:pulumi:<stack>::<project>::<type>::<name>` the way `URN.Name()` / `URN.Type()` do. */
export function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } {
  const m = /^urn:pulumi:([^:]*)::([^:]*)::(.*)::([^:]*)$/.exec(urn);
  if (!m) throw new Error(`bad URN ${urn}`);
  const qualified = m[3];
  const type = qualified.split("$").pop() as string;
  return { stack: m[1], project: m[2], type, name: m[4] };
}

export class Plugin {
  readonly log: WireEntry[] = [];
  private seq = 0;
  private stdoutBuf = "";
  private stderrBuf = "";
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private configuredWith: string | undefined;
  private closed = false;

  private constructor(
    /** The dynamic-provider script that was started, resolved from the program directory. */
    readonly script: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly programDir: string,
    readonly project: string,
    readonly stackName: string,
    private readonly protos: Protos,
    private readonly client: any,
    stdoutRest: string,
    stderrSoFar: string,
  ) {
    this.stdoutBuf = stdoutRest;
    this.stderrBuf = stderrSoFar;
    child.stdout?.on("data", (d: Buffer) => (this.stdoutBuf += d.toString("utf8")));
    child.stderr?.on("data", (d: Buffer) => (this.stderrBuf += d.toString("utf8")));
    child.on("exit", (code, signal) => (this.exited = { code, signal }));
  }

  /** Provider output written after the port line. */
  get stdout(): string {
    return this.stdoutBuf;
  }
  get stderr(): string {
    return this.stderrBuf;
  }

  /**
   * Waits (bounded) until the stream, from offset `from`, matches. Output is a pipe: a line written
   * during an RPC may arrive just after its answer. Returns what matched against, for assertions.
   */
  async outputMatching(stream: "stdout" | "stderr", pattern: RegExp, from = 0, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this[stream].slice(from)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this[stream].slice(from);
  }
  get pid(): number {
    return this.child.pid as number;
  }
  get exitStatus() {
    return this.exited;
  }
  get isConfigured(): boolean {
    return this.configuredWith !== undefined;
  }
  get configurationKey(): string | undefined {
    return this.configuredWith;
  }

  static async start(opts: StartPluginOptions): Promise<Plugin> {
    const programDir = path.resolve(opts.programDir);
    const project = opts.project ?? "project";
    const script = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [programDir] });
    // The child must not see this machine's Pulumi or CapyDB settings unless a test passes them on purpose:
    // credentials picked up from the developer's shell would make configure/env-fallback tests meaningless.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith("PULUMI_") && !k.startsWith("CAPYDB_")) env[k] = v;
    }
    env.PULUMI_NODEJS_PROJECT = project;
    // The memory control plane these tests run against has no database to log in to (readiness "job").
    env.CAPYDB_READINESS = "job";
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    // One argument, the engine address: required by the script and never dialled.
    const child = spawn(process.execPath, [script, "127.0.0.1:1"], {
      cwd: programDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    trackChild(child);

    const { port, rest, stderr } = await new Promise<{ port: number; rest: string; stderr: string }>(
      (resolve, reject) => {
        let out = "";
        let err = "";
        const timer = setTimeout(() => {
          fail(new Error(`plugin did not print its port within ${opts.startTimeoutMs ?? 30000} ms\n${err}`));
        }, opts.startTimeoutMs ?? 30000);
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout?.off("data", onOut);
          child.stderr?.off("data", onErr);
          child.off("exit", onExit);
          child.off("error", fail);
        };
        const fail = (e: Error) => {
          cleanup();
          killChild(child);
          reject(e);
        };
        const onOut = (d: Buffer) => {
          out += d.toString("utf8");
          const nl = out.indexOf("\n");
          if (nl < 0) return;
          const first = out.slice(0, nl).trim();
          const port = Number(first);
          if (!Number.isInteger(port) || port <= 0) return fail(new Error(`plugin's first line is not a port: ${first}`));
          cleanup();
          resolve({ port, rest: out.slice(nl + 1), stderr: err });
        };
        const onErr = (d: Buffer) => (err += d.toString("utf8"));
        const onExit = (code: number | null) => fail(new Error(`plugin exited (${code}) before printing a port\n${err}`));
        child.stdout?.on("data", onOut);
        child.stderr?.on("data", onErr);
        child.on("exit", onExit);
        child.on("error", fail);
      },
    );

    const protos = loadProtos(opts.sdkDir);
    const client = new protos.providerGrpc.ResourceProviderClient(
      `127.0.0.1:${port}`,
      protos.grpc.credentials.createInsecure(),
      { "grpc.max_receive_message_length": MAX_MESSAGE },
    );
    return new Plugin(script, child, port, programDir, project, opts.stack ?? "dev", protos, client, rest, stderr);
  }

  urn(type: string, name: string, stack = this.stackName, project = this.project): string {
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
  }

  /** Every byte sent or received, as JSON plus raw protobuf, for leak assertions. */
  wireContains(needle: string, filter: (e: WireEntry) => boolean = () => true): WireEntry[] {
    const bytes = Buffer.from(needle, "utf8");
    return this.log.filter(
      (e) =>
        filter(e) &&
        (JSON.stringify([e.request, e.response, e.error]).includes(needle) ||
          e.requestBytes.includes(bytes) ||
          (e.responseBytes?.includes(bytes) ?? false) ||
          (e.errorBytes?.includes(bytes) ?? false)),
    );
  }

  methods(): string[] {
    return this.log.map((e) => e.method);
  }

  // ---- RPCs -------------------------------------------------------------------------------------------------

  /**
   * Configure, as CLI >= 3.139 sends it for the `pulumi-nodejs` provider: `args` holds the whole stack config as
   * `ns:key` -> string with secret values wrapped, plus the old-style `variables` map (plaintext) that the Node
   * server ignores. Sent at most once per process: the server caches a configured provider per text.
   */
  async configure(config: Record<string, string>, secretKeys: readonly string[] = []): Promise<{
    acceptSecrets: boolean;
    supportsPreview: boolean;
    acceptResources: boolean;
  }> {
    const key = JSON.stringify([Object.entries(config).sort(), [...secretKeys].sort()]);
    if (this.configuredWith !== undefined) {
      throw new Error("harness: Configure already sent to this plugin; start a new plugin for different config");
    }
    const { providerPb, structPb } = this.protos;
    const args: PropertyMap = {};
    for (const [k, v] of Object.entries(config)) {
      if (typeof v !== "string") throw new TypeError(`config ${k} must be a string (structured config is JSON text)`);
      args[k] = secretKeys.includes(k) ? secret(v) : v;
    }
    const req = new providerPb.ConfigureRequest();
    req.setArgs(structPb.Struct.fromJavaScript(args));
    const vars = req.getVariablesMap();
    for (const [k, v] of Object.entries(config)) vars.set(`pulumi-nodejs:config:${k}`, v);
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    const out = await this.call("Configure", "configure", req, {
      args,
      variables: Object.fromEntries(Object.entries(config).map(([k, v]) => [`pulumi-nodejs:config:${k}`, v])),
      acceptSecrets: true,
      acceptResources: true,
    }, (resp) => ({
      acceptSecrets: resp.getAcceptsecrets() as boolean,
      supportsPreview: resp.getSupportspreview() as boolean,
      acceptResources: resp.getAcceptresources() as boolean,
    }));
    this.configuredWith = key;
    return out;
  }

  /** A resource request addressed as the engine addresses it: URN, and the name and type parsed from it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private addressed(request: string, urn: string, id?: string): any {
    const req = new this.protos.providerPb[request]();
    const { name, type } = parseUrn(urn);
    if (id !== undefined) req.setId(id);
    req.setUrn(urn);
    req.setName(name);
    req.setType(type);
    return req;
  }

  async check(urn: string, olds: PropertyMap, news: PropertyMap, randomSeed?: Buffer): Promise<CheckResult> {
    const req = this.addressed("CheckRequest", urn);
    req.setOlds(this.struct(olds));
    req.setNews(this.struct(news));
    if (randomSeed) req.setRandomseed(randomSeed);
    return this.call("Check", "check", req, { urn, olds, news }, (resp): CheckResult => ({
      inputs: this.js(resp.getInputs()),
      failures: resp.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
    }));
  }

  async diff(urn: string, id: string, olds: PropertyMap, news: PropertyMap, oldInputs: PropertyMap,
    ignoreChanges: string[] = []): Promise<DiffResult> {
    const req = this.addressed("DiffRequest", urn, id);
    req.setOlds(this.struct(olds));
    req.setNews(this.struct(news));
    req.setOldInputs(this.struct(oldInputs));
    req.setIgnorechangesList(ignoreChanges);
    const C = this.protos.providerPb.DiffResponse.DiffChanges;
    return this.call("Diff", "diff", req, { urn, id, olds, news, oldInputs, ignoreChanges }, (resp): DiffResult => {
      const raw = resp.getChanges();
      return {
        changes: raw === C.DIFF_SOME ? "some" : raw === C.DIFF_NONE ? "none" : "unknown",
        replaces: resp.getReplacesList(),
        stables: resp.getStablesList(),
        diffs: resp.getDiffsList(),
        deleteBeforeReplace: resp.getDeletebeforereplace(),
      };
    });
  }

  async create(urn: string, properties: PropertyMap, opts: { preview?: boolean; timeout?: number } = {}):
    Promise<CreateResult> {
    const req = this.addressed("CreateRequest", urn);
    req.setProperties(this.struct(properties));
    req.setTimeout(opts.timeout ?? 0);
    req.setPreview(opts.preview ?? false);
    return this.call("Create", "create", req, { urn, properties, ...opts }, (resp): CreateResult => ({
      id: resp.getId(),
      properties: this.js(resp.getProperties()),
    }));
  }

  async read(urn: string, id: string, properties: PropertyMap, inputs?: PropertyMap): Promise<ReadResult> {
    const req = this.addressed("ReadRequest", urn, id);
    req.setProperties(this.struct(properties));
    if (inputs) req.setInputs(this.struct(inputs));
    return this.call("Read", "read", req, { urn, id, properties, inputs }, (resp): ReadResult => ({
      id: resp.getId(),
      properties: this.js(resp.getProperties()),
      inputs: resp.hasInputs() ? this.js(resp.getInputs()) : undefined,
    }));
  }

  async update(urn: string, id: string, olds: PropertyMap, news: PropertyMap, oldInputs: PropertyMap,
    opts: { preview?: boolean; timeout?: number; ignoreChanges?: string[] } = {}): Promise<{ properties: PropertyMap }> {
    const req = this.addressed("UpdateRequest", urn, id);
    req.setOlds(this.struct(olds));
    req.setNews(this.struct(news));
    req.setOldInputs(this.struct(oldInputs));
    req.setTimeout(opts.timeout ?? 0);
    req.setPreview(opts.preview ?? false);
    req.setIgnorechangesList(opts.ignoreChanges ?? []);
    return this.call("Update", "update", req, { urn, id, olds, news, oldInputs, ...opts }, (resp) => ({
      properties: this.js(resp.getProperties()),
    }));
  }

  async delete(urn: string, id: string, properties: PropertyMap, oldInputs: PropertyMap,
    opts: { timeout?: number } = {}): Promise<void> {
    const req = this.addressed("DeleteRequest", urn, id);
    req.setProperties(this.struct(properties));
    req.setOldInputs(this.struct(oldInputs));
    req.setTimeout(opts.timeout ?? 0);
    await this.call("Delete", "delete", req, { urn, id, properties, oldInputs, ...opts }, () => ({}));
  }

  async getPluginInfo(): Promise<{ version: string }> {
    const req = new this.protos.emptyPb.Empty();
    return this.call("GetPluginInfo", "getPluginInfo", req, {}, (resp) => ({ version: resp.getVersion() as string }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.client.close();
    } catch {
      // already closed
    }
    await killChild(this.child);
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------

  private struct(v: PropertyMap): any {
    assertJson(v);
    return this.protos.structPb.Struct.fromJavaScript(v);
  }

  private js(s: any): PropertyMap {
    return s ? (s.toJavaScript() as PropertyMap) : {};
  }

  /** One RPC. The log gets deep copies: callers (the engine) go on to mutate what they sent and received. */
  private call<T>(method: string, fn: string, req: any, plain: Record<string, unknown>,
    decode: (resp: any) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error("harness: plugin closed"));
    if (this.exited) {
      return Promise.reject(new Error(`harness: plugin exited (${JSON.stringify(this.exited)})\n${this.stderr}`));
    }
    const entry: WireEntry = {
      seq: ++this.seq,
      method,
      request: clone(plain),
      requestBytes: Buffer.from(req.serializeBinary()),
    };
    this.log.push(entry);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      this.client[fn](req, (err: any, resp: any) => {
        entry.ms = Date.now() - started;
        if (err) {
          const decoded = this.decodeError(method, err);
          entry.error = { code: decoded.code, details: decoded.details, initFailure: decoded.initFailure };
          const bin = err.metadata?.get?.("grpc-status-details-bin")?.[0];
          if (bin) entry.errorBytes = Buffer.from(bin);
          reject(decoded);
          return;
        }
        entry.responseBytes = Buffer.from(resp.serializeBinary());
        let decoded: T;
        try {
          decoded = decode(resp);
        } catch (e) {
          reject(e);
          return;
        }
        entry.response = clone(decoded) as unknown as Record<string, unknown>;
        resolve(decoded);
      });
    });
  }

  private decodeError(method: string, err: any): ProviderError {
    const { statusPb, providerPb, structPb } = this.protos;
    let initFailure: InitFailure | undefined;
    const bins: unknown[] = err.metadata?.get?.("grpc-status-details-bin") ?? [];
    for (const bin of bins) {
      const status = statusPb.Status.deserializeBinary(new Uint8Array(bin as Buffer));
      for (const any of status.getDetailsList()) {
        if (any.getTypeName() !== "pulumirpc.ErrorResourceInitFailed") continue;
        const d = providerPb.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
        initFailure = {
          id: d.getId(),
          properties: d.hasProperties() ? (d.getProperties().toJavaScript() as PropertyMap) : {},
          reasons: d.getReasonsList(),
          inputs: d.hasInputs() ? (d.getInputs().toJavaScript() as PropertyMap) : undefined,
        };
      }
    }
    void structPb;
    return new ProviderError(method, err.code ?? -1, err.details ?? String(err.message ?? err), initFailure);
  }
}

export function startPlugin(opts: StartPluginOptions): Promise<Plugin> {
  return Plugin.start(opts);
}

// Children are killed by pid only, and also when this process exits, so a crashed test run leaves no plugin behind.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.on("exit", () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const c of liveChildren) {
        try {
          if (c.pid) process.kill(c.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    });
  }
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid as number, "SIGKILL");
      } catch {
        // gone
      }
    }, 3000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(child.pid as number, "SIGTERM");
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export type { Json };
