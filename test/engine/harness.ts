// The engine contract harness (doc §6, layer 4): drive `@pulumi/pulumi/cmd/dynamic-provider` over gRPC exactly as
// the Pulumi engine does, without the CLI.
//
//   plugin.ts   startPlugin(): the plugin process and a promise-wrapped ResourceProvider client with a wire log
//   engine.ts   Stack: step logic, marshalling and a state file (up / preview / refresh / destroy)
//   capture.ts  captureProgram(): real RegisterResource inputs of SDK resources, built under setMocks
//   wire.ts     secret / unknown encodings and the engine's annotateSecrets
export * from "./wire";
export * from "./plugin";
export * from "./engine";
export * from "./capture";
