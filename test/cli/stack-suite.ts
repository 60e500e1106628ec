/**
 * The hooks every real-CLI suite would otherwise repeat: the suite's control plane, stacks set up as a
 * user sets them up (`stack init`, the program's projectId, the key as secret config), the last commands
 * of every stack printed when a test fails, and everything the suite opened closed or removed after it,
 * newest first (a proxy before the control plane behind it).
 */
import * as fs from "fs";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "../control-plane";
import type { CliStack } from "./cli-stack";

export interface StackSetup {
  /** The program's Pulumi project name: sets `<project>:projectId` to the control plane's project. */
  project?: string;
  /** An API key to set as secret stack config `capydb:apiKey` (as a user does with `--secret`). */
  key?: string;
}

export class StackSuite {
  private controlPlane?: ControlPlane;
  private readonly stacks: CliStack[] = [];
  private readonly closers: (() => unknown)[] = [];

  private constructor(private readonly transcriptLines: number) {}

  /**
   * Registers the suite's hooks in the current `describe`: `open` runs in its `before` (with the mocha
   * context, for skips), failures print transcripts, and `after` closes everything.
   */
  static use(open: (ctx: Mocha.Context, suite: StackSuite) => Promise<void>, transcriptLines = 3): StackSuite {
    const suite = new StackSuite(transcriptLines);
    before(async function () {
      await open(this, suite);
    });
    afterEach(function () {
      if (this.currentTest?.state === "failed") suite.printTranscripts();
    });
    after(() => suite.close());
    return suite;
  }

  /** The suite's control plane (started by `startControlPlane` in `open`). */
  get cp(): ControlPlane {
    if (!this.controlPlane) throw new Error("the suite started no control plane");
    return this.controlPlane;
  }

  async startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
    this.controlPlane = await startControlPlane(opts);
    const cp = this.controlPlane;
    this.onClose(() => cp.close());
    return cp;
  }

  /** A directory the suite made (a program copy, a TMPDIR): removed after the suite. */
  dir(dir: string): string {
    this.onClose(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  onClose(close: () => unknown): void {
    this.closers.push(close);
  }

  /** Adopts a stack (its transcript is printed on failure, its backend removed after) without setting it up. */
  adopt<S extends CliStack>(stack: S): S {
    this.stacks.push(stack);
    this.onClose(() => stack.remove());
    return stack;
  }

  /** Adopts a stack and sets it up: `stack init`, then the project id and the key as the setup says. */
  async stack<S extends CliStack>(stack: S, setup: StackSetup = {}): Promise<S> {
    this.adopt(stack);
    await stack.init();
    if (setup.project) await stack.config(`${setup.project}:projectId`, this.cp.projectId);
    if (setup.key) await stack.config("capydb:apiKey", setup.key, true);
    return stack;
  }

  printTranscripts(): void {
    for (const stack of this.stacks) process.stderr.write(stack.transcript.slice(-this.transcriptLines).join("\n"));
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await close();
  }
}
