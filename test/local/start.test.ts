// `npm start` as a user runs it: prints the exports, serves the API, and Ctrl-C leaves nothing behind.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import { existsSync } from "fs";
import * as path from "path";
import { request } from "undici";
import { postmasterOn } from "../helpers/postmaster";

const START = path.join(__dirname, "start.js");

describe("npm start (local CapyDB on embedded Postgres, no Pulumi CLI)", function () {
  this.timeout(60_000);

  it("prints the exports, serves the API, says how to install Pulumi, and stops cleanly on Ctrl-C", async () => {
    // Only Node's own directory on PATH: no `pulumi`, whatever the machine has installed.
    const child = spawn(process.execPath, [START], {
      env: { PATH: path.dirname(process.execPath), CAPYDB_LOCAL_PORT: "0", HOME: process.env.HOME ?? "/tmp" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      while (!/Serving /.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const exports = Object.fromEntries([...stdout.matchAll(/^export (CAPYDB_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
      assert.deepEqual(Object.keys(exports).sort(), ["CAPYDB_API_KEY", "CAPYDB_API_URL", "CAPYDB_PROJECT_ID"], stdout + stderr);
      assert.match(stderr, /Pulumi CLI is not installed/);
      assert.match(stderr, /get\.pulumi\.com/);

      const project = await request(`${exports.CAPYDB_API_URL}/v1/projects/${exports.CAPYDB_PROJECT_ID}`, {
        headers: { authorization: `Bearer ${exports.CAPYDB_API_KEY}` },
      });
      assert.equal(project.statusCode, 200);
      const port = ((await project.body.json()) as { project: { direct_port: number } }).project.direct_port;
      const postmaster = postmasterOn(port);
      assert.ok(postmaster, `a postgres serves port ${port}`);

      child.kill("SIGINT");
      assert.equal(await exited, 0, stderr);
      assert.equal(existsSync(`/proc/${postmaster.pid}`), false, "the postmaster process is gone");
      assert.equal(existsSync(postmaster.dataDir), false, "the data directory is removed");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
