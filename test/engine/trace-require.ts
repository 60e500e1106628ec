// Preloaded into a plugin process (NODE_OPTIONS=--require) to record where `pulumi-capydb` specifiers resolve.
// Proves which installed copy of the implementation a stored `__provider` text actually runs, without touching
// the package under test.
import * as fs from "fs";
import Module = require("module");

const logFile = process.env.TRACE_REQUIRE_LOG;
const pattern = new RegExp(process.env.TRACE_REQUIRE_PATTERN ?? "^pulumi-capydb(/|$)");
const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = mod._resolveFilename;
if (logFile) {
  mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
    const resolved = original.call(this, request, ...rest);
    if (pattern.test(request)) fs.appendFileSync(logFile, JSON.stringify({ request, resolved }) + "\n");
    return resolved;
  };
}
