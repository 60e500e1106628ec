/**
 * The native door: Pulumi's ResourceProvider gRPC service for `capydb:index:PreviewDatabase`, each
 * RPC translated to one method of the unchanged provider core (createProvider), and the invoke
 * `capydb:index:getPreviewDatabase` to the lookup the SDK's getPreviewDatabase runs. It translates
 * (Structs, secrets, config, the engine's timeouts, Cancel, import ids) and decides nothing about CapyDB.
 */
import * as grpc from "@grpc/grpc-js";
import { Any } from "google-protobuf/google/protobuf/any_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as plugin from "@pulumi/pulumi/proto/plugin_pb";
import * as pb from "@pulumi/pulumi/proto/provider_pb";
import { ResourceProviderService } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";
import { systemClock, type Clock } from "../provider/clock";
import { REPLACE_KEYS, UPDATE_KEYS, diffPreview } from "../provider/diff";
import type { CredentialSource } from "../provider/credentials";
import { createProvider, type CapyDBProvider, type ProviderDeps } from "../provider/index";
import { INPUT_NAMES } from "../provider/inputs";
import { reportedSource } from "../provider/source";
import { SECRET_OUTPUTS } from "../provider/outputs";
import { UNKNOWN } from "../provider/unknown";
import { VERSION } from "../provider/version";
import { stderrSink } from "../provider/log";
import { cancellableClock, type CancellableClock } from "./cancel";
import { configFromRequest, CONFIG_NAMES } from "./config";
import { EngineLog } from "./engine-log";
import { IMPORT_ID_FORM, parseImportId } from "./import-id";
import { LOOKUP_TOKEN, RESOURCE_TOKEN } from "./schema-tokens";
import { restoreTimeouts, withEngineTimeout } from "./timeouts";
import { fromStruct, toStruct, wrapSecrets, type Props } from "./wire";

type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;
type Done<Res> = grpc.sendUnaryData<Res>;

export interface PluginDeps extends Omit<ProviderDeps, "clock"> {
  clock?: Clock;
  /** The schema served by GetSchema (plugin/schema.json). */
  schemaText: string;
  /** The engine's address (the plugin's first argument): progress lines go to its Log RPC as well as to `sink`. */
  engineAddress?: string;
}

/** What every RPC handler shares: the core, the clock Cancel stops, the schema, in-flight count. */
export class CapyDBPluginService {
  readonly clock: CancellableClock;
  readonly core: CapyDBProvider;
  readonly log: EngineLog;
  readonly outputNames: string[];
  /** What the invoke answers: the outputs the schema declares for it. */
  readonly lookupOutputNames: string[];
  inFlight = 0;
  /** The provider's config as Configure gave it: the lookup's credentials, as the core's are the resource's. */
  private credentials: CredentialSource = {};

  constructor(private readonly deps: PluginDeps) {
    this.clock = cancellableClock(deps.clock ?? systemClock);
    this.log = new EngineLog(deps.engineAddress, deps.sink ?? stderrSink);
    this.core = createProvider({ ...deps, clock: this.clock, sink: this.log.sink });
    const schema = JSON.parse(deps.schemaText) as {
      resources: Record<string, { properties: Record<string, unknown> }>;
      functions: Record<string, { outputs: { properties: Record<string, unknown> } }>;
    };
    this.outputNames = Object.keys(schema.resources[RESOURCE_TOKEN].properties);
    this.lookupOutputNames = Object.keys(schema.functions[LOOKUP_TOKEN].outputs.properties);
  }

  /** The gRPC implementation object (method name → handler). */
  handlers(): grpc.UntypedServiceImplementation {
    const unary = <Req, Res>(name: string, run: (req: Req) => Promise<Res>) =>
      (call: Call<Req>, done: Done<Res>) => {
        this.inFlight++;
        const urn = (call.request as { getUrn?: () => string }).getUrn?.() ?? "";
        this.log.within(urn, () => run(call.request)).then(
          (res) => done(null, res),
          (error: unknown) => done(grpcError(error), null),
        ).finally(() => this.inFlight--);
      };
    return {
      getPluginInfo: unary("GetPluginInfo", async () => new plugin.PluginInfo().setVersion(VERSION)),
      getSchema: unary("GetSchema", async (req: pb.GetSchemaRequest) => {
        if (req.getVersion() > 0 && req.getVersion() !== 1) throw new Error(`schema version ${req.getVersion()} is not supported`);
        return new pb.GetSchemaResponse().setSchema(this.deps.schemaText);
      }),
      checkConfig: unary("CheckConfig", async (req: pb.CheckRequest) => this.checkConfig(req)),
      diffConfig: unary("DiffConfig", async (req: pb.DiffRequest) => this.diffConfig(req)),
      configure: unary("Configure", async (req: pb.ConfigureRequest) => this.configure(req)),
      check: unary("Check", async (req: pb.CheckRequest) => this.check(req)),
      diff: unary("Diff", async (req: pb.DiffRequest) => this.diff(req)),
      create: unary("Create", async (req: pb.CreateRequest) => this.create(req)),
      read: unary("Read", async (req: pb.ReadRequest) => this.read(req)),
      update: unary("Update", async (req: pb.UpdateRequest) => this.update(req)),
      delete: unary("Delete", async (req: pb.DeleteRequest) => this.delete(req)),
      invoke: unary("Invoke", async (req: pb.InvokeRequest) => this.invoke(req)),
      cancel: unary("Cancel", async () => {
        this.clock.cancel();
        return new Empty();
      }),
    };
  }

  async checkConfig(req: pb.CheckRequest): Promise<pb.CheckResponse> {
    const news = fromStruct(req.getNews());
    const failures: pb.CheckFailure[] = [];
    const flag = news.allowInsecureHttp;
    if (flag !== undefined && flag !== null && typeof flag !== "boolean" && !/^(true|false)$/i.test(String(flag))) {
      failures.push(new pb.CheckFailure().setProperty("allowInsecureHttp").setReason(
        `capydb:allowInsecureHttp must be true or false, got ${JSON.stringify(String(flag).slice(0, 20))}; set it to true only for a trusted local proxy.`,
      ));
    }
    // The engine stores what is returned as the provider's inputs: the secret key stays marked secret.
    const checked = wrapSecrets(news, CONFIG_NAMES.filter((k) => k === "apiKey"));
    return new pb.CheckResponse().setInputs(toStruct(checked)).setFailuresList(failures);
  }

  async diffConfig(req: pb.DiffRequest): Promise<pb.DiffResponse> {
    const olds = fromStruct(req.getOldInputs() ?? req.getOlds());
    const news = fromStruct(req.getNews());
    // A new key or URL changes nothing that exists: the provider is updated in place, never replaced.
    const changed = CONFIG_NAMES.filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
    return new pb.DiffResponse()
      .setChanges(changed.length ? pb.DiffResponse.DiffChanges.DIFF_SOME : pb.DiffResponse.DiffChanges.DIFF_NONE)
      .setDiffsList(changed);
  }

  async configure(req: pb.ConfigureRequest): Promise<pb.ConfigureResponse> {
    const args = fromStruct(req.getArgs());
    const variables = new Map(req.getVariablesMap().toArray() as [string, string][]);
    const config = configFromRequest(args, variables);
    this.credentials = {
      apiKey: config.get("capydb:apiKey"),
      apiUrl: config.get("capydb:apiUrl"),
      allowInsecureHttp: config.get("capydb:allowInsecureHttp"),
    };
    await this.core.configure({ config: { get: (key: string) => config.get(key) } });
    return new pb.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(true).setAcceptresources(false);
  }

  async check(req: pb.CheckRequest): Promise<pb.CheckResponse> {
    assertType(req.getUrn());
    const olds = fromStruct(req.getOlds());
    const news = fromStruct(req.getNews());
    // The dynamic door's SDK seeds the stable auto-name with "<stack>-<resource name>"; here the URN says both.
    if (news.autoNameSeed === undefined) news.autoNameSeed = autoNameSeed(req.getUrn(), req.getName());
    const { inputs, failures } = await this.core.check(olds, news);
    return new pb.CheckResponse()
      .setInputs(toStruct(inputs))
      .setFailuresList((failures ?? []).map((f) => new pb.CheckFailure().setProperty(f.property).setReason(f.reason)));
  }

  async diff(req: pb.DiffRequest): Promise<pb.DiffResponse> {
    assertType(req.getUrn());
    const olds = fromStruct(req.getOlds());
    const news = fromStruct(req.getNews());
    const result = await this.core.diff(req.getId(), olds, news);
    const ignored = new Set(req.getIgnorechangesList());
    const replaces = result.replaces.filter((k) => !ignored.has(k));
    const detailed = new Map<string, pb.PropertyDiff>();
    const K = pb.PropertyDiff.Kind;
    for (const key of [...REPLACE_KEYS, ...UPDATE_KEYS]) {
      if (ignored.has(key)) continue;
      // The core's own comparison, one key at a time (defaults and unknowns included).
      if (!diffPreview({ [key]: olds[key] }, { [key]: news[key] }).changes) continue;
      const replace = replaces.includes(key);
      const kind = olds[key] === undefined ? (replace ? K.ADD_REPLACE : K.ADD) : news[key] === undefined ? (replace ? K.DELETE_REPLACE : K.DELETE) : replace ? K.UPDATE_REPLACE : K.UPDATE;
      detailed.set(key, new pb.PropertyDiff().setKind(kind).setInputdiff(true));
    }
    // No input changed, yet the core plans an update: a TTL keep-alive renewal, which moves the expiry.
    const renewal = result.changes && result.replaces.length === 0 && detailed.size === 0;
    if (renewal) detailed.set("ttlExpiresAt", new pb.PropertyDiff().setKind(K.UPDATE).setInputdiff(false));
    const changes = detailed.size > 0;
    const response = new pb.DiffResponse()
      .setChanges(changes ? pb.DiffResponse.DiffChanges.DIFF_SOME : pb.DiffResponse.DiffChanges.DIFF_NONE)
      .setReplacesList(replaces)
      .setDeletebeforereplace(replaces.length > 0 && result.deleteBeforeReplace)
      .setDiffsList([...detailed.keys()])
      .setHasdetaileddiff(true);
    for (const [key, diff] of detailed) response.getDetaileddiffMap().set(key, diff);
    return response;
  }

  async create(req: pb.CreateRequest): Promise<pb.CreateResponse> {
    assertType(req.getUrn());
    const inputs = fromStruct(req.getProperties());
    if (req.getPreview()) return new pb.CreateResponse().setId("").setProperties(toStruct(this.previewOutputs(inputs, {})));
    try {
      const { id, outs } = await this.core.create(withEngineTimeout(inputs, "create", req.getTimeout()));
      return new pb.CreateResponse().setId(id).setProperties(toStruct(this.outputs(outs, inputs)));
    } catch (error) {
      throw this.trackedFailure(error, inputs);
    }
  }

  async delete(req: pb.DeleteRequest): Promise<Empty> {
    assertType(req.getUrn());
    const props = fromStruct(req.getProperties());
    await this.core.delete(req.getId(), withEngineTimeout(props, "delete", req.getTimeout()));
    return new Empty();
  }

  async read(req: pb.ReadRequest): Promise<pb.ReadResponse> {
    assertType(req.getUrn());
    const props = fromStruct(req.getProperties());
    const oldInputs = fromStruct(req.getInputs());
    const imported = Object.keys(props).length === 0 && Object.keys(oldInputs).length === 0;
    if (imported) {
      const { projectId, previewId } = parseImportId(req.getId());
      const { id, props: outs } = await this.core.read(previewId, { projectId });
      if (!id) {
        throw new Error(
          `import: no preview with the id ${previewId} is listed in project ${projectId}: it does not exist, expired, or the API key ` +
            `cannot see it. The import id is ${IMPORT_ID_FORM} with the preview's id (e.g. "pvw_…"), not its name.`,
        );
      }
      // The inputs a program declaring this preview would have: what CapyDB reports of them.
      const inputs: Props = {};
      for (const key of INPUT_NAMES) if (outs[key] !== undefined && outs[key] !== null) inputs[key] = outs[key];
      // A restored preview: a program declaring it names its source, else the next up would plan a replacement.
      // As a create echoes it, the state's outputs carry it too.
      const source = reportedSource(outs);
      if (source) inputs.source = outs.source = source;
      return new pb.ReadResponse().setId(id).setProperties(toStruct(this.outputs(outs, inputs))).setInputs(toStruct(inputs));
    }
    const { id, props: outs } = await this.core.read(req.getId(), props);
    const response = new pb.ReadResponse().setId(id);
    // An empty id is "gone": the engine drops the resource.
    if (!id) return response;
    return response.setProperties(toStruct(this.outputs(outs, oldInputs))).setInputs(toStruct(oldInputs));
  }

  async update(req: pb.UpdateRequest): Promise<pb.UpdateResponse> {
    assertType(req.getUrn());
    const olds = fromStruct(req.getOlds());
    const news = fromStruct(req.getNews());
    if (req.getPreview()) return new pb.UpdateResponse().setProperties(toStruct(this.previewOutputs(news, olds)));
    try {
      const { outs } = await this.core.update(req.getId(), olds, withEngineTimeout(news, "update", req.getTimeout()));
      return new pb.UpdateResponse().setProperties(toStruct(this.outputs(outs, news)));
    } catch (error) {
      throw this.trackedFailure(error, news);
    }
  }

  /**
   * `capydb:index:getPreviewDatabase`: the same lookup as the SDK's function, with the provider's config as
   * credentials. The URLs and password go back marked secret, so every consumer (YAML, the generated SDKs)
   * receives them as secrets.
   */
  async invoke(req: pb.InvokeRequest): Promise<pb.InvokeResponse> {
    if (req.getTok() !== LOOKUP_TOKEN) throw new Error(`the capydb plugin serves only the function ${LOOKUP_TOKEN}, not ${req.getTok()}`);
    const args = fromStruct(req.getArgs());
    const failures = (["projectId", "name"] as const)
      .filter((key) => typeof args[key] !== "string" || args[key] === "")
      .map((key) => new pb.CheckFailure().setProperty(key).setReason(
        `${LOOKUP_TOKEN}: ${key} is required, a non-empty string (${key === "projectId" ? 'the CapyDB project id, e.g. "prj_123"' : 'the preview\'s name, e.g. "pr-42"'}).`,
      ));
    if (failures.length) return new pb.InvokeResponse().setFailuresList(failures);
    // Loaded on the first lookup: the API client it brings is not needed to start or to plan.
    const { lookupPreviewDatabase } = require("../provider/lookup") as typeof import("../provider/lookup");
    const found = await lookupPreviewDatabase({ projectId: String(args.projectId), name: String(args.name) }, this.credentials, this.deps.env ?? process.env);
    const result: Props = {};
    for (const name of this.lookupOutputNames) result[name] = found[name] ?? null;
    return new pb.InvokeResponse().setReturn(toStruct(wrapSecrets(result, SECRET_OUTPUTS)));
  }

  /** Outputs as the engine stores them: the user's own `timeouts`, the credentials marked secret. */
  private outputs(outs: Props, userInputs: Props): Props {
    return wrapSecrets(restoreTimeouts(outs, userInputs), SECRET_OUTPUTS);
  }

  /** During preview: the inputs as they will be echoed; every other output unknown until CapyDB answers. */
  private previewOutputs(inputs: Props, olds: Props): Props {
    const out: Props = { ...olds };
    for (const name of this.outputNames) {
      if (!(INPUT_NAMES as readonly string[]).includes(name)) out[name] = UNKNOWN;
    }
    for (const [key, value] of Object.entries(inputs)) out[key] = value;
    return out;
  }

  /** A core partial failure (the preview exists: it carries the id) keeps the resource in the stack. */
  private trackedFailure(error: unknown, inputs: Props): unknown {
    const partial = error as Error & { id?: string; properties?: Props; reasons?: string[] };
    if (!(error instanceof Error) || !partial.id) return error;
    const failure = new Error(error.message) as Error & { initFailed?: pb.ErrorResourceInitFailed };
    failure.initFailed = new pb.ErrorResourceInitFailed()
      .setId(partial.id)
      .setProperties(toStruct(this.outputs(partial.properties ?? {}, inputs)))
      .setReasonsList(partial.reasons ?? [error.message])
      .setInputs(toStruct(inputs));
    return failure;
  }
}

/** "<stack>-<name>" from "urn:pulumi:<stack>::<project>::<type>::<name>". */
export function autoNameSeed(urn: string, name: string): string {
  const stack = urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] : "";
  const resourceName = name || urn.split("::").pop() || "";
  return `${stack}-${resourceName}`;
}

function assertType(urn: string): void {
  const type = urn.split("::")[2]?.split("$").pop();
  if (type !== undefined && type !== RESOURCE_TOKEN) {
    throw new Error(`the capydb plugin serves only ${RESOURCE_TOKEN}, not ${type}`);
  }
}

/**
 * A thrown error as the engine reads it: the message, and for a partial failure the
 * ErrorResourceInitFailed detail in `grpc-status-details-bin`, so the engine records the id.
 */
function grpcError(error: unknown): grpc.ServiceError {
  const message = error instanceof Error ? error.message : String(error);
  const metadata = new grpc.Metadata();
  const initFailed = (error as { initFailed?: pb.ErrorResourceInitFailed }).initFailed;
  if (initFailed) {
    const status = new Status().setCode(grpc.status.UNKNOWN).setMessage(message);
    const detail = new Any();
    detail.pack(initFailed.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
    status.addDetails(detail);
    metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
  }
  return Object.assign(new Error(message), { code: grpc.status.UNKNOWN, details: message, metadata });
}

/** Serves the plugin on 127.0.0.1 and resolves with the port the engine is told about. */
export async function serve(service: CapyDBPluginService): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(ResourceProviderService, service.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}
