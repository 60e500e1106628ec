#!/usr/bin/env node
/**
 * The package's command (`npx pulumi-capydb …`): `sweep` deletes forgotten pull-request previews,
 * `stack-name` prints the stack this CI run or checkout should select. No Pulumi runtime here.
 */
import { CapyDBClient } from "../provider/client";
import { systemClock } from "../provider/clock";
import { resolveCredentials } from "../provider/credentials";
import { CapyDBError } from "../provider/errors";
import { stderrSink } from "../provider/log";
import { redact } from "../provider/redact";
import { VERSION } from "../provider/version";
import { stackNameFromEnvironment } from "../sdk/branch";
import { parseSweepArgs, runSweep, SWEEP_USAGE, UsageError } from "./sweep";

const USAGE = `Usage: pulumi-capydb <command>

Commands:
  sweep        delete pull-request previews whose stacks are gone (dry run by default)
  stack-name   print the stack for this CI run or checkout: pr-<number> in pull-request builds,
               else a stack name made from the branch

${SWEEP_USAGE}`;

/** Exit codes: 0 done, 1 some deletes failed or the API refused, 2 bad usage or configuration. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "sweep": {
        if (rest.includes("--help") || rest.includes("-h")) {
          out(SWEEP_USAGE);
          return 0;
        }
        const opts = parseSweepArgs(rest, env);
        const { apiKey, apiUrl } = resolveCredentials({}, env);
        if (!apiKey) throw new UsageError("CAPYDB_API_KEY is not set: export a CapyDB API key with projects:read, projects:write and jobs:read.");
        const client = new CapyDBClient({ apiKey, apiUrl, clock: systemClock });
        const summary = await runSweep(opts, { client, clock: systemClock, out, sink: stderrSink });
        return summary.failed > 0 ? 1 : 0;
      }
      case "stack-name": {
        const stack = stackNameFromEnvironment(env);
        if (!stack) {
          err("pulumi-capydb stack-name: no pull request number and no branch found (not a CI run, and git has no current branch).");
          return 1;
        }
        out(stack);
        return 0;
      }
      case "--version":
      case "version":
        out(VERSION);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command ${JSON.stringify(command)}.`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`pulumi-capydb: ${error.message}\nRun \`pulumi-capydb --help\` for usage.`);
      return 2;
    }
    if (error instanceof CapyDBError && error.kind === "config") {
      err(`pulumi-capydb: ${error.message}`);
      return 2;
    }
    err(redact(`pulumi-capydb: ${error instanceof Error ? error.message : String(error)}`));
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, (l) => process.stdout.write(l + "\n"), (l) => process.stderr.write(l + "\n")).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(redact(String(error)) + "\n");
      process.exitCode = 1;
    },
  );
}
