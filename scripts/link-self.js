// Makes `require("pulumi-capydb/provider")` resolve from the repository root, as it does in a
// user's program: the dynamic-provider plugin resolves the shim's require from its working
// directory (the program directory), and the root Pulumi program and the in-repo contract tests
// run with the repository as that directory.
const fs = require("fs");
const path = require("path");
// The package's command, runnable from the checkout as `npx pulumi-capydb …` (npm sets this bit on install).
const bin = path.join(__dirname, "..", "dist", "cli", "main.js");
if (fs.existsSync(bin)) fs.chmodSync(bin, 0o755);

const link = path.join(__dirname, "..", "node_modules", "pulumi-capydb");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  const st = fs.lstatSync(link);
  if (st.isSymbolicLink() && fs.readlinkSync(link) === "..") process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {}
fs.symlinkSync("..", link, "dir");
