// Empties the folders `npm pack` ships before they are rebuilt, so a module deleted from the sources
// can never reach a tarball as a stale compiled file left over from an earlier build.
const fs = require("fs");
const path = require("path");
for (const dir of ["dist/cli", "dist/provider", "dist/sdk"]) {
  fs.rmSync(path.join(__dirname, "..", dir), { recursive: true, force: true });
}
