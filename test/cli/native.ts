/**
 * What the plugin's real-CLI tests share: the plugin archive built as users get it (once per test
 * process, by scripts/plugin-archive.js), installed with `pulumi plugin install … --file`, and stacks
 * whose commands go straight to the CLI binary (YAML programs need no program host: the CLI runs
 * pulumi-language-yaml from beside itself).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "../helpers/packed-program";
import { startCommand, type PulumiCli, type PulumiRun, type PulumiRunOptions, type StartedPulumi } from "../pulumi/cli";
import { CliStack } from "./cli-stack";

interface ArchiveScript {
  buildArchive(opts: { outDir: string }): string;
}
const archiveScript = require(path.join(REPO, "scripts", "plugin-archive.js")) as ArchiveScript;

export const PLUGIN_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
export const YAML_PROGRAM = path.join(REPO, "test", "cli", "yaml-program");

let archive: string | undefined;

/** The plugin archive of the current checkout, built once per process into a temp dir removed at exit. */
export function pluginArchive(): string {
  if (archive) return archive;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-plugin-archive-"));
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  archive = archiveScript.buildArchive({ outDir: dir });
  return archive;
}

/** pulumi-language-yaml beside the CLI (where `npm run pulumi:cli` builds it), or a skip that says why. */
export function requireYamlHost(ctx: Mocha.Context, cli: PulumiCli): void {
  if (fs.existsSync(path.join(path.dirname(cli.binary), "pulumi-language-yaml"))) return;
  const why = "no pulumi-language-yaml beside the CLI: run `npm run pulumi:cli`";
  if (process.env.CAPYDB_REQUIRE_PULUMI_CLI === "1") throw new Error(`the YAML tests cannot run: ${why}`);
  process.stderr.write(`      [test/cli] SKIPPED: ${why}\n`);
  ctx.skip();
}

/** A copy of a program folder in a temp dir (YAML programs install nothing). */
export function programCopy(sourceDir: string, edit?: (pulumiYaml: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `capydb-cli-${path.basename(sourceDir)}-`));
  fs.cpSync(sourceDir, dir, { recursive: true });
  if (edit) {
    const file = path.join(dir, "Pulumi.yaml");
    fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
  }
  return dir;
}

/** A stack whose every command is the CLI binary itself, with the plugin installed in its PULUMI_HOME. */
export class DirectCliStack extends CliStack {
  constructor(cli: PulumiCli, programDir: string, stack: string, env: NodeJS.ProcessEnv = {}) {
    super(cli, programDir, stack, env);
  }

  /** YAML programs need no program host: the CLI binary itself runs the command. */
  protected override launch(args: string[], opts: PulumiRunOptions): StartedPulumi {
    return startCommand(this.cli.binary, args, opts);
  }

  installPlugin(): Promise<PulumiRun> {
    return this.ok(["plugin", "install", "resource", "capydb", PLUGIN_VERSION, "--file", pluginArchive()]);
  }
}
