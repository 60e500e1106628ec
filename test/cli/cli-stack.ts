/**
 * One stack of a program on a local (file://) backend, driven by the real Pulumi CLI: each method is
 * one CLI command, as a user or a CI job types it.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { localBackendEnv, startPulumi, type PulumiCli, type PulumiRun, type PulumiRunOptions, type PulumiVia, type StartedPulumi } from "../pulumi/cli";

export class CliStack {
  readonly backendDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Every command run so far with its output, printed when a test fails. */
  readonly transcript: string[] = [];

  constructor(
    readonly cli: PulumiCli,
    readonly programDir: string,
    readonly stack: string,
    env: NodeJS.ProcessEnv = {},
    /** Plain `pulumi` (its Node.js language host runs the program) or through program-host.js. */
    readonly via: PulumiVia = "program-host",
  ) {
    this.backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-cli-backend-"));
    this.env = localBackendEnv(cli, this.backendDir, "cli-suite-passphrase", env);
  }

  /** Runs `pulumi <args>` in the program directory (with extra environment); never throws on a non-zero exit. */
  async run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<PulumiRun> {
    const result = await this.launch(args, { cwd: this.programDir, env: { ...this.env, ...extraEnv } }).done;
    this.transcript.push(`$ pulumi ${args.join(" ")}  (exit ${result.code})\n${result.stdout}${result.stderr}`);
    return result;
  }

  /** Runs `pulumi <args>` and asserts it succeeded. */
  async ok(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<PulumiRun> {
    const result = await this.run(args, extraEnv);
    assert.equal(result.code, 0, `pulumi ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  /** Starts a command in its own process group, so that the whole tree can be killed at once. */
  start(args: string[]): StartedPulumi {
    return this.launch(args, { cwd: this.programDir, env: this.env, detached: true });
  }

  /** How a command reaches the CLI: plain, or through the program host that serves the TypeScript program (`via`). */
  protected launch(args: string[], opts: PulumiRunOptions): StartedPulumi {
    return startPulumi(args, { ...opts, via: this.via });
  }

  init(): Promise<PulumiRun> {
    return this.ok(["stack", "init", this.stack]);
  }

  config(key: string, value: string, secret = false): Promise<PulumiRun> {
    return this.ok(["config", "set", ...(secret ? ["--secret"] : []), key, value, "--stack", this.stack]);
  }

  async outputs(showSecrets = false): Promise<Record<string, unknown>> {
    const { stdout } = await this.ok(["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : []), "--stack", this.stack]);
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  /** The checkpoint as the backend stores it on disk (what anyone with the bucket can read). */
  stateFileText(project: string): string {
    const dir = path.join(this.backendDir, ".pulumi", "stacks", project);
    const file = fs.readdirSync(dir).find((f) => f === `${this.stack}.json` || f === `${this.stack}.json.gz`);
    assert.ok(file, `no state file for ${this.stack} in ${dir}`);
    assert.ok(file.endsWith(".json"), "the state file is plain JSON");
    return fs.readFileSync(path.join(dir, file), "utf8");
  }

  async exportState(): Promise<{ resources?: { urn: string; id?: string; type: string; outputs?: Record<string, unknown> }[]; pending_operations?: { type: string; resource: { urn: string } }[] }> {
    const { stdout } = await this.ok(["stack", "export", "--stack", this.stack]);
    return (JSON.parse(stdout) as { deployment: never }).deployment;
  }

  remove(): void {
    fs.rmSync(this.backendDir, { recursive: true, force: true });
  }
}
