/**
 * Runs ONE real Pulumi CLI command for the program in the current directory:
 *
 *   node dist/test/pulumi/program-host.js up --yes --refresh      (cwd = the program directory)
 *
 * For a CLI without the Node.js language host (`pulumi-language-nodejs`, which `npm run pulumi:cli`
 * builds beside the CLI and a Pulumi release ships): commands that run or serve the program
 * (preview, up, refresh, destroy) get it from this process instead, through the Automation API's
 * inline language server (`--client`, the way LocalWorkspace runs inline programs; refresh and destroy
 * need CLI >= 3.181). Every other command goes to the CLI unchanged. The arguments, the engine, the
 * plugins and the state are the real CLI's; only where the program runs differs.
 *
 * The CLI binary is $PULUMI_CLI, else `pulumi` on PATH. Exits with the CLI's exit code; SIGINT and
 * SIGTERM are passed on to the CLI (a second SIGINT makes Pulumi abandon the update, as in a terminal).
 */
import { spawn } from "child_process";
import { loadProgram, sdkRequire } from "./program-loader";

const PROGRAM_COMMANDS = new Set(["preview", "pre", "up", "update", "refresh", "destroy", "down"]);

interface InlineServer {
  address: string;
  finish(hasError: boolean): void;
}

async function serveProgram(programDir: string): Promise<InlineServer> {
  const sdk = sdkRequire(programDir);
  const grpc = sdk("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
  const { LanguageServer } = sdk("./automation/server") as {
    LanguageServer: new (program: () => Promise<unknown>) => { onPulumiExit(hasError: boolean): void };
  };
  const langrpc = sdk("./proto/language_grpc_pb") as { LanguageRuntimeService: import("@grpc/grpc-js").ServiceDefinition };
  const { grpcChannelOptions } = sdk("./runtime/settings") as { grpcChannelOptions: object };

  const server = new grpc.Server({ ...grpcChannelOptions });
  const languageServer = new LanguageServer(loadProgram(programDir));
  server.addService(langrpc.LanguageRuntimeService, languageServer as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    finish: (hasError) => {
      try {
        languageServer.onPulumiExit(hasError);
      } finally {
        server.forceShutdown();
      }
    },
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const cli = process.env.PULUMI_CLI || "pulumi";
  const server = PROGRAM_COMMANDS.has(args[0] ?? "") ? await serveProgram(process.cwd()) : undefined;
  const cliArgs = server ? [...args, `--client=${server.address}`, "--exec-kind", "auto.inline"] : args;

  const child = spawn(cli, cliArgs, { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (c, signal) => resolve(c ?? (signal ? 128 + 2 : 1)));
  });
  server?.finish(code !== 0);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`program-host: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
