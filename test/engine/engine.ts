// High level: the engine's step logic and marshalling around a Plugin, with a state file of our own.
//
// Modelled on pulumi/pulumi pkg/v3.248.0: step_generator.go (create/same/update/replace decisions, the second Check
// on replace, "continue awaiting initialization", delete-before-replace from the option or the DiffResult, DIFF_UNKNOWN
// resolved by comparing inputs), step.go (SameStep keeps old outputs, RefreshStep drops a resource on an empty id,
// takes returned inputs, clears init errors and diffs the refreshed state against the old inputs), step_executor.go
// (additionalSecretOutputs applied to every new state) and provider_plugin.go (secrets stripped from every request
// because the server answers acceptSecrets=false, unknowns only to Check/Diff in preview, annotateSecrets after
// Check/Create/Update/Read, partial failures recorded with their id, properties and reasons).
//
// Not modelled, so tests must state them as rules instead of relying on the harness: dependencies between
// resources (every resource is independent; deletes run in reverse state order), ignoreChanges, replaceOnChanges,
// protect, retainOnDelete, aliases, import, customTimeouts (the Node server ignores them anyway), targets, pending
// operations left by a killed CLI, and the engine's parallelism beyond the opt-in `parallel` flag.
import {
  annotateSecrets,
  applyAdditionalSecretOutputs,
  clone,
  containsUnknowns,
  deepEqual,
  reveal,
  unknownPaths,
  type PropertyMap,
} from "./wire";
import { ProviderError, type DiffResult, type InitFailure, type Plugin } from "./plugin";

/** One resource as the program registers it. `inputs` are in the SDK's wire form (secret wrappers, unknowns). */
export interface ResourceGoal {
  name: string;
  type: string;
  inputs: PropertyMap;
  additionalSecretOutputs?: string[];
  /** The resource option; undefined means "not set", so the provider's DiffResult decides. */
  deleteBeforeReplace?: boolean;
}

/** One state-file entry. Values are in engine form: secrets wrapped, never unknown. */
export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  id: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  initErrors?: string[];
  additionalSecretOutputs?: string[];
  /** Deleted by a delete-before-replace whose create has not succeeded yet. */
  pendingReplacement?: boolean;
  /** Condemned: the old half of a create-before-delete replacement, deleted at the end of a deployment. */
  delete?: boolean;
}

export interface StateFile {
  resources: ResourceState[];
}

export type Op = "create" | "same" | "update" | "replace" | "delete" | "refresh";

export interface StepRecord {
  urn: string;
  name: string;
  type: string;
  op: Op;
  /** For refresh: what the refresh changed ("same", "update", or "delete" when Read said the object is gone). */
  result?: "same" | "update" | "delete";
  /** The provider's Diff answer, with DIFF_UNKNOWN already resolved the way the engine does. */
  diff?: DiffResult & { resolvedByEngine?: boolean };
  replaces?: string[];
  deleteBeforeReplace?: boolean;
  /** An update forced by init errors in the old state although Diff reported no change. */
  continuesInitialization?: boolean;
  /** The old half of a replacement, or a leftover from an earlier deployment, or removed from the program. */
  reason?: "replaced" | "pending-delete" | "removed" | "pending-replacement" | "destroy";
  /** Checked inputs (engine form). In preview they may contain unknowns. */
  inputs?: PropertyMap;
  /** Outputs after the step; in preview, what the engine predicts (checked inputs for create/update/replace). */
  outputs?: PropertyMap;
  id?: string;
  /** RPCs issued for this step, in order. */
  rpcs: string[];
  status: "ok" | "partial" | "failed" | "planned";
  error?: Error;
  initFailure?: InitFailure;
  checkFailures?: { property: string; reason: string }[];
}

export interface OperationResult {
  kind: "up" | "preview" | "refresh" | "destroy";
  steps: StepRecord[];
  /** The (last) step that touched a resource with this name. */
  step(name: string): StepRecord;
  /** Every step for a resource name, in order (a replacement has two when its old half is deleted at the end). */
  stepsFor(name: string): StepRecord[];
}

export class HarnessError extends Error {
  override name = "HarnessError";
}

/** The command failed, like a non-zero exit from `pulumi up`. State keeps every step completed before the failure. */
export class DeploymentError extends Error {
  override name = "DeploymentError";
  constructor(
    message: string,
    readonly result: OperationResult,
    readonly failed: StepRecord,
  ) {
    super(message);
  }
  get initFailure(): InitFailure | undefined {
    return this.failed.initFailure;
  }
  /** The underlying error (a ProviderError for RPC failures). */
  get stepError(): Error | undefined {
    return this.failed.error;
  }
}

export interface StackOptions {
  plugin: Plugin;
  project?: string;
  stack?: string;
  /** The whole stack config, `ns:key` -> string (structured values as JSON text). */
  config?: Record<string, string>;
  /** Keys of `config` that are secret (`pulumi config set --secret`). */
  secretKeys?: string[];
  state?: StateFile;
}

export interface UpOptions {
  preview?: boolean;
  /** `pulumi up --refresh`: refresh first (in a preview, refresh without persisting). */
  refresh?: boolean;
  /** Run every resource's steps concurrently, as the engine does for independent resources. */
  parallel?: boolean;
}

/** What the engine does to outputs it gets back: re-mark same-named secret inputs, then additionalSecretOutputs. */
function remarkSecrets(outputs: PropertyMap, inputs: PropertyMap, additional: string[] | undefined): void {
  annotateSecrets(outputs, inputs);
  applyAdditionalSecretOutputs(outputs, additional);
}

function makeResult(kind: OperationResult["kind"], steps: StepRecord[]): OperationResult {
  return {
    kind,
    steps,
    step(name: string) {
      const all = steps.filter((s) => s.name === name);
      if (all.length === 0) throw new HarnessError(`no step for ${name} in ${kind}`);
      const main = all.filter((s) => s.reason !== "replaced");
      return (main.length ? main : all)[(main.length ? main : all).length - 1];
    },
    stepsFor(name: string) {
      return steps.filter((s) => s.name === name);
    },
  };
}

class StepFailed extends Error {
  constructor(readonly step: StepRecord) {
    super(step.error?.message ?? "step failed");
  }
}

export class Stack {
  plugin: Plugin;
  readonly project: string;
  readonly stackName: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  private state: StateFile;

  constructor(opts: StackOptions) {
    this.plugin = opts.plugin;
    this.project = opts.project ?? opts.plugin.project;
    this.stackName = opts.stack ?? opts.plugin.stackName;
    this.config = { ...(opts.config ?? {}) };
    this.secretKeys = [...(opts.secretKeys ?? [])];
    this.state = clone(opts.state ?? { resources: [] });
  }

  /** Each CLI command runs its own plugin process; swap in a fresh one to model that (it gets Configure anew). */
  usePlugin(plugin: Plugin): void {
    this.plugin = plugin;
  }

  urn(type: string, name: string): string {
    return `urn:pulumi:${this.stackName}::${this.project}::${type}::${name}`;
  }

  /** Live resources (not condemned), in state order. */
  get resources(): ResourceState[] {
    return this.state.resources.filter((r) => !r.delete);
  }

  /** The live resource with this name, or undefined. */
  resource(name: string): ResourceState | undefined {
    const all = this.resources.filter((r) => r.name === name);
    if (all.length > 1) throw new HarnessError(`${all.length} resources named ${name}; use resourceByUrn`);
    return all[0];
  }

  resourceByUrn(urn: string): ResourceState | undefined {
    return this.resources.find((r) => r.urn === urn);
  }

  exportState(): StateFile {
    return clone(this.state);
  }

  importState(state: StateFile): void {
    this.state = clone(state);
  }

  // ---- commands ---------------------------------------------------------------------------------------------

  preview(program: ResourceGoal[], opts: Omit<UpOptions, "preview"> = {}): Promise<OperationResult> {
    return this.up(program, { ...opts, preview: true });
  }

  async up(program: ResourceGoal[], opts: UpOptions = {}): Promise<OperationResult> {
    const preview = opts.preview ?? false;
    this.validateProgram(program, preview);
    return this.operate(preview ? "preview" : "up", preview, async (store, steps) => {
      if (opts.refresh) await this.refreshInto(store, steps, preview, false);

      // Condemned resources left by an earlier failed deployment go first.
      for (const old of [...store.resources].reverse().filter((r) => r.delete)) {
        await this.deleteStep(store, old, "pending-delete", preview, steps);
      }

      const registered = new Set<string>();
      const condemnedNow: ResourceState[] = [];
      const one = async (goal: ResourceGoal) => {
        const urn = this.urn(goal.type, goal.name);
        registered.add(urn);
        await this.registerStep(store, goal, urn, preview, steps, condemnedNow);
      };
      if (opts.parallel) {
        const settled = await Promise.allSettled(program.map(one));
        const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
        if (failure) throw failure.reason;
      } else {
        for (const goal of program) await one(goal);
      }

      // Deletes run last, in reverse order: old halves of replacements and resources gone from the program.
      const toDelete = [...store.resources].reverse().filter(
        (r) => condemnedNow.includes(r) || (!r.delete && !registered.has(r.urn)),
      );
      for (const old of toDelete) {
        await this.deleteStep(store, old, condemnedNow.includes(old) ? "replaced" : "removed", preview, steps);
      }
    });
  }

  async refresh(opts: { preview?: boolean; legacyRefreshDiff?: boolean } = {}): Promise<OperationResult> {
    const preview = opts.preview ?? false;
    return this.operate("refresh", preview, (store, steps) =>
      this.refreshInto(store, steps, preview, opts.legacyRefreshDiff ?? false));
  }

  async destroy(opts: { preview?: boolean; refresh?: boolean } = {}): Promise<OperationResult> {
    const preview = opts.preview ?? false;
    return this.operate("destroy", preview, async (store, steps) => {
      if (opts.refresh) await this.refreshInto(store, steps, preview, false);
      for (const old of [...store.resources].reverse()) {
        await this.deleteStep(store, old, old.delete ? "pending-delete" : "destroy", preview, steps);
      }
    });
  }

  /**
   * One CLI command: a preview works on a copy of the state, a real run on the state itself; Configure
   * comes first; a failed step becomes a DeploymentError that still carries the steps run so far.
   */
  private async operate(kind: OperationResult["kind"], preview: boolean,
    body: (store: StateFile, steps: StepRecord[]) => Promise<void>): Promise<OperationResult> {
    const store = preview ? clone(this.state) : this.state;
    const steps: StepRecord[] = [];
    const result = makeResult(kind, steps);
    await this.ensureConfigured();
    try {
      await body(store, steps);
    } catch (e) {
      throw this.asDeploymentError(e, result);
    }
    return result;
  }

  // ---- steps ------------------------------------------------------------------------------------------------

  private async registerStep(store: StateFile, goal: ResourceGoal, urn: string, preview: boolean,
    steps: StepRecord[], condemnedNow: ResourceState[]): Promise<void> {
    const old = store.resources.find((r) => r.urn === urn && !r.delete);
    const step: StepRecord = { urn, name: goal.name, type: goal.type, op: old ? "same" : "create", rpcs: [], status: "ok" };
    steps.push(step);

    const checked = await this.checkStep(step, urn, old ? old.inputs : {}, goal.inputs, preview);

    if (!old) {
      step.op = "create";
      await this.createInto(store, step, goal, urn, checked, preview, undefined);
      return;
    }

    step.id = old.id;
    const raw = await this.rpc(step, "Diff", () =>
      this.plugin.diff(urn, old.id, this.send(old.outputs, preview), this.send(checked, preview),
        this.send(old.inputs, preview)));
    const diff: StepRecord["diff"] = { ...raw };
    if (raw.changes === "unknown") {
      diff.changes = deepEqual(old.inputs, checked) ? "none" : "some";
      diff.resolvedByEngine = true;
    }
    step.diff = diff;

    if (diff.changes === "some" || old.pendingReplacement) {
      if (diff.replaces.length > 0 || old.pendingReplacement) {
        step.op = "replace";
        step.replaces = diff.replaces;
        // The engine re-runs Check with no olds: defaults computed from the old resource no longer apply.
        const fresh = await this.checkStep(step, urn, {}, goal.inputs, preview);
        const dbr = goal.deleteBeforeReplace ?? diff.deleteBeforeReplace;
        step.deleteBeforeReplace = dbr;
        await this.replaceInto(store, step, goal, urn, old, fresh, dbr, preview, steps, condemnedNow);
        return;
      }
      step.op = "update";
      await this.updateInto(store, step, goal, urn, old, checked, preview);
      return;
    }
    if (old.initErrors && old.initErrors.length > 0) {
      step.op = "update";
      step.continuesInitialization = true;
      await this.updateInto(store, step, goal, urn, old, checked, preview);
      return;
    }

    step.op = "same";
    const outputs = clone(old.outputs);
    applyAdditionalSecretOutputs(outputs, goal.additionalSecretOutputs);
    step.inputs = checked;
    step.outputs = outputs;
    this.put(store, { ...old, inputs: checked, outputs, additionalSecretOutputs: goal.additionalSecretOutputs });
  }

  private async checkStep(step: StepRecord, urn: string, olds: PropertyMap, news: PropertyMap,
    preview: boolean): Promise<PropertyMap> {
    const res = await this.rpc(step, "Check", () =>
      this.plugin.check(urn, this.send(olds, preview), this.send(news, preview)));
    if (!preview && containsUnknowns(res.inputs)) {
      this.fail(step, new Error(`Check for ${urn} returned unknown values outside preview: ${unknownPaths(res.inputs)}`));
    }
    const inputs = res.inputs;
    annotateSecrets(inputs, news);
    step.inputs = inputs;
    if (res.failures.length > 0) {
      step.checkFailures = res.failures;
      this.fail(step, new Error(`resource ${urn} has check errors: ` +
        res.failures.map((f) => `${f.property ? f.property + ": " : ""}${f.reason}`).join("; ")));
    }
    return inputs;
  }

  private async createInto(store: StateFile, step: StepRecord, goal: ResourceGoal, urn: string,
    checked: PropertyMap, preview: boolean, replacing: ResourceState | undefined): Promise<ResourceState | undefined> {
    step.inputs = checked;
    if (preview) {
      // The Node server does not support preview, so the engine shows the checked inputs as outputs.
      const outputs = clone(checked);
      applyAdditionalSecretOutputs(outputs, goal.additionalSecretOutputs);
      step.outputs = outputs;
      step.status = "planned";
      return undefined;
    }
    const base = { urn, type: goal.type, name: goal.name, additionalSecretOutputs: goal.additionalSecretOutputs };
    try {
      const r = await this.rpc(step, "Create", () => this.plugin.create(urn, this.send(checked, false)));
      if (r.id === "") {
        this.fail(step, new Error(`plugin for package 'pulumi-nodejs' returned empty resource.ID from create '${urn}'`));
      }
      const outputs = r.properties;
      remarkSecrets(outputs, checked, goal.additionalSecretOutputs);
      const created: ResourceState = { ...base, id: r.id, inputs: checked, outputs };
      this.put(store, created, replacing);
      step.id = r.id;
      step.outputs = outputs;
      return created;
    } catch (e) {
      if (e instanceof ProviderError && e.initFailure) {
        this.recordInitFailure(store, step, e, checked, goal, { ...base, id: e.initFailure.id }, replacing);
      }
      throw e;
    }
  }

  private async updateInto(store: StateFile, step: StepRecord, goal: ResourceGoal, urn: string,
    old: ResourceState, checked: PropertyMap, preview: boolean): Promise<void> {
    step.inputs = checked;
    if (preview) {
      const outputs = clone(checked);
      applyAdditionalSecretOutputs(outputs, goal.additionalSecretOutputs);
      step.outputs = outputs;
      step.status = "planned";
      return;
    }
    try {
      const r = await this.rpc(step, "Update", () =>
        this.plugin.update(urn, old.id, this.send(old.outputs, false), this.send(checked, false),
          this.send(old.inputs, false)));
      const outputs = r.properties;
      remarkSecrets(outputs, checked, goal.additionalSecretOutputs);
      const next: ResourceState = { ...old, inputs: checked, outputs, additionalSecretOutputs: goal.additionalSecretOutputs };
      delete next.initErrors;
      this.put(store, next);
      step.outputs = outputs;
    } catch (e) {
      if (e instanceof ProviderError && e.initFailure) {
        this.recordInitFailure(store, step, e, checked, goal, { ...old, additionalSecretOutputs: goal.additionalSecretOutputs });
      }
      throw e;
    }
  }

  /**
   * A partial failure from Create or Update: the engine keeps the resource with the reported id and
   * properties as outputs (secrets re-marked) and its init errors, then fails the step.
   */
  private recordInitFailure(store: StateFile, step: StepRecord, e: ProviderError, checked: PropertyMap,
    goal: ResourceGoal, base: Omit<ResourceState, "inputs" | "outputs">, replacing?: ResourceState): never {
    const failure = e.initFailure!;
    const outputs = failure.properties;
    remarkSecrets(outputs, checked, goal.additionalSecretOutputs);
    const state: ResourceState = { ...base, inputs: checked, outputs, initErrors: failure.reasons };
    this.put(store, state, replacing);
    step.id = state.id;
    step.outputs = outputs;
    step.initFailure = failure;
    step.status = "partial";
    step.error = e;
    throw new StepFailed(step);
  }

  private async replaceInto(store: StateFile, step: StepRecord, goal: ResourceGoal, urn: string,
    old: ResourceState, fresh: PropertyMap, dbr: boolean, preview: boolean, steps: StepRecord[],
    condemnedNow: ResourceState[]): Promise<void> {
    if (preview) {
      if (dbr && !old.pendingReplacement) step.rpcs.push("(Delete old first)");
      await this.createInto(store, step, goal, urn, fresh, true, old);
      if (!dbr && !old.pendingReplacement) {
        steps.push({ urn, name: goal.name, type: goal.type, op: "delete", reason: "replaced", id: old.id,
          rpcs: [], status: "planned" });
      }
      return;
    }
    if (old.pendingReplacement) {
      // Its object was already deleted by an earlier delete-before-replace; only the create is left.
      await this.createInto(store, step, goal, urn, fresh, false, old);
      return;
    }
    if (dbr) {
      await this.rpc(step, "Delete", () =>
        this.plugin.delete(urn, old.id, this.send(old.outputs, false), this.send(old.inputs, false)));
      old.pendingReplacement = true;
      await this.createInto(store, step, goal, urn, fresh, false, old);
      return;
    }
    // Create-before-delete: the old half stays in state, condemned, until the deletes at the end.
    const idx = store.resources.indexOf(old);
    const condemned: ResourceState = { ...old, delete: true };
    store.resources[idx] = condemned;
    condemnedNow.push(condemned);
    try {
      await this.createInto(store, step, goal, urn, fresh, false, undefined);
    } catch (e) {
      if (!(e instanceof StepFailed && e.step.status === "partial")) {
        // Nothing was created: the old resource is simply still live.
        store.resources[store.resources.indexOf(condemned)] = old;
        condemnedNow.splice(condemnedNow.indexOf(condemned), 1);
      }
      throw e;
    }
  }

  private async deleteStep(store: StateFile, old: ResourceState, reason: NonNullable<StepRecord["reason"]>,
    preview: boolean, steps: StepRecord[]): Promise<void> {
    const step: StepRecord = {
      urn: old.urn, name: old.name, type: old.type, op: "delete", reason, id: old.id, rpcs: [],
      status: preview ? "planned" : "ok",
    };
    steps.push(step);
    if (old.pendingReplacement) {
      step.reason = "pending-replacement";
      if (!preview) this.remove(store, old);
      return;
    }
    if (preview) return;
    await this.rpc(step, "Delete", () =>
      this.plugin.delete(old.urn, old.id, this.send(old.outputs, false), this.send(old.inputs, false)));
    this.remove(store, old);
  }

  private async refreshInto(store: StateFile, steps: StepRecord[], preview: boolean, legacy: boolean): Promise<void> {
    for (const old of [...store.resources]) {
      const step: StepRecord = { urn: old.urn, name: old.name, type: old.type, op: "refresh", id: old.id, rpcs: [], status: "ok" };
      steps.push(step);
      if (old.pendingReplacement) {
        step.result = "same";
        continue;
      }
      const r = await this.rpc(step, "Read", () =>
        this.plugin.read(old.urn, old.id, this.send(old.outputs, false), this.send(old.inputs, false)));
      if (r.id === "") {
        step.result = "delete";
        this.remove(store, old);
        continue;
      }
      const outputs = r.properties;
      remarkSecrets(outputs, old.outputs, old.additionalSecretOutputs);
      let inputs = old.inputs;
      if (r.inputs) {
        inputs = r.inputs;
        annotateSecrets(inputs, old.inputs);
      }
      const next: ResourceState = { ...old, id: r.id || old.id, inputs, outputs };
      delete next.initErrors; // a Read without partial failure clears them (RefreshStep.Apply)
      step.id = next.id;
      step.inputs = inputs;
      step.outputs = outputs;
      if (legacy) {
        step.result = deepEqual(old.outputs, outputs) ? "same" : "update";
      } else {
        // The refresh diff: what an `up` of an unchanged program would do, with old inputs as the "new" inputs.
        const d = await this.rpc(step, "Diff", () =>
          this.plugin.diff(old.urn, next.id, this.send(outputs, preview), this.send(old.inputs, preview),
            this.send(inputs, preview)));
        const changes = d.changes === "unknown" ? (deepEqual(inputs, old.inputs) ? "none" : "some") : d.changes;
        step.diff = { ...d, changes, resolvedByEngine: d.changes === "unknown" || undefined };
        step.result = changes === "some" ? "update" : "same";
      }
      this.put(store, next, old);
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------

  private async ensureConfigured(): Promise<void> {
    if (!this.plugin.isConfigured) {
      await this.plugin.configure(this.config, this.secretKeys);
      return;
    }
    const key = JSON.stringify([Object.entries(this.config).sort(), [...this.secretKeys].sort()]);
    if (this.plugin.configurationKey !== key) {
      throw new HarnessError("plugin was configured with different stack config; start a new plugin (one per command)");
    }
  }

  private validateProgram(program: ResourceGoal[], preview: boolean): void {
    const seen = new Set<string>();
    for (const g of program) {
      const urn = this.urn(g.type, g.name);
      if (seen.has(urn)) throw new HarnessError(`duplicate resource ${urn}`);
      seen.add(urn);
      if (!preview && containsUnknowns(g.inputs)) {
        throw new HarnessError(`${g.name}: unknown inputs outside preview (${unknownPaths(g.inputs)}); ` +
          "the SDK only sends unknowns during preview");
      }
    }
  }

  /** What goes on the wire: secrets stripped; unknowns only where the engine allows them. */
  private send(v: PropertyMap, allowUnknowns: boolean): PropertyMap {
    if (!allowUnknowns && containsUnknowns(v)) {
      throw new HarnessError(`unknown value would be sent outside preview: ${unknownPaths(v)}`);
    }
    return reveal<PropertyMap>(v);
  }

  private async rpc<T>(step: StepRecord, method: string, fn: () => Promise<T>): Promise<T> {
    step.rpcs.push(method);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StepFailed || e instanceof HarnessError) throw e;
      if (e instanceof ProviderError && e.initFailure) throw e; // the caller records the partial state
      this.fail(step, e as Error);
    }
  }

  private fail(step: StepRecord, error: Error): never {
    step.status = "failed";
    step.error = error;
    throw new StepFailed(step);
  }

  private asDeploymentError(e: unknown, result: OperationResult): Error {
    if (e instanceof StepFailed) {
      const s = e.step;
      return new DeploymentError(`${result.kind} failed: ${s.op} ${s.urn}: ${s.error?.message}`, result, s);
    }
    return e as Error;
  }

  private put(store: StateFile, next: ResourceState, replacing?: ResourceState): void {
    const target = replacing ?? store.resources.find((r) => r.urn === next.urn && !r.delete);
    const idx = target ? store.resources.indexOf(target) : -1;
    if (idx >= 0) store.resources[idx] = next;
    else store.resources.push(next);
  }

  private remove(store: StateFile, r: ResourceState): void {
    const idx = store.resources.indexOf(r);
    if (idx >= 0) store.resources.splice(idx, 1);
  }
}
