// README "What the local control plane serves", held against the control plane itself: the routes it lists are
// the routes the code declares, auth is as described, the control API needs no key, the curl example works, and
// `npm start` falls back to a free port when CAPYDB_LOCAL_PORT is taken.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startControlPlane, type ControlPlane } from "../control-plane";
import { call } from "../conformance/helpers";

const REPO = path.resolve(__dirname, "..", "..", "..");
const SOURCES = path.join(REPO, "test", "control-plane");
const START = path.join(__dirname, "..", "local", "start.js");

type Method = "GET" | "POST" | "DELETE";
interface Route {
  method: Method;
  path: string;
}

function readmeSection(title: string): string {
  const text = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const start = text.indexOf(`### ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const next = /\n#{2,3} /g;
  next.lastIndex = start + 1;
  const end = next.exec(text)?.index;
  return text.slice(start, end);
}

/** `GET /v1/jobs/{jobId}` written in the README. */
function readmeRoutes(section: string): Route[] {
  return [...section.matchAll(/`(GET|POST|DELETE) (\/[^`\s?]+)`/g)].map((m) => ({ method: m[1] as Method, path: m[2] }));
}

/** `.add("GET", "/v1/jobs/:jobId", …)` as the routers declare them. */
function declaredRoutes(): Route[] {
  return fs.readdirSync(SOURCES).filter((f) => f.endsWith("-routes.ts")).flatMap((file) => {
    const source = fs.readFileSync(path.join(SOURCES, file), "utf8");
    return [...source.matchAll(/\.add\("(GET|POST|DELETE)",\s*[`"]([^`"]+)[`"]/g)]
      .map((m) => ({ method: m[1] as Method, path: m[2].replace("${ADMIN_PREFIX}", "/_capydb_local") }));
  });
}

/** One spelling for path parameters, `:id` in code and `{id}` in the README. */
const shape = (r: Route) => `${r.method} ${r.path.replace(/:[A-Za-z]+|\{[A-Za-z]+\}/g, "{}")}`;

describe("README: what the local control plane serves", function () {
  this.timeout(90_000);
  let cp: ControlPlane;
  const section = readmeSection("What the local control plane serves");

  beforeEach(async () => {
    cp = await startControlPlane();
  });
  afterEach(() => cp.close());

  it("lists exactly the routes the control plane declares, and each one is served", async () => {
    const listed = readmeRoutes(section);
    assert.ok(listed.filter((r) => r.path.startsWith("/v1/")).length >= 10, "the API endpoints are listed");
    assert.ok(listed.filter((r) => r.path.startsWith("/_capydb_local/")).length >= 15, "the control routes are listed");
    assert.deepEqual([...new Set(listed.map(shape))].sort(), [...new Set(declaredRoutes().map(shape))].sort());
    for (const route of listed) {
      // Placeholder ids and a body that is not JSON: every route answers, none changes anything.
      const url = route.path.replace(/\{[A-Za-z]+\}/g, "placeholder");
      const res = await call(cp.url, route.method, url, { key: cp.apiKey, ...(route.method === "POST" ? { raw: "{" } : {}) });
      assert.notEqual(res.status, 405, `${route.method} ${route.path}`);
      assert.ok(!(res.status === 404 && res.body?.error === "not found"), `${route.method} ${route.path} is routed`);
    }
  });

  it("authenticates the API by Bearer or X-API-Key, and answers the control API without any key", async () => {
    assert.equal((await call(cp.url, "GET", "/v1/me")).status, 401);
    assert.equal((await call(cp.url, "GET", "/v1/me", { key: cp.projectScopedKey, via: "bearer" })).status, 200);
    assert.equal((await call(cp.url, "GET", "/v1/me", { key: cp.projectScopedKey, via: "x-api-key" })).status, 200);
    const other = await cp.createProject();
    assert.equal((await call(cp.url, "GET", `/v1/projects/${other}`, { key: cp.projectScopedKey })).status, 403);
    const info = await call(cp.url, "GET", "/_capydb_local/info");
    assert.equal(info.status, 200);
    assert.equal(info.body.project_id, cp.projectId);
  });

  it("listens on loopback only", async () => {
    const { hostname, port } = new URL(cp.url);
    assert.equal(hostname, "127.0.0.1");
    const external = Object.values(os.networkInterfaces()).flat()
      .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === "IPv4" && !a.internal).map((a) => a.address);
    for (const address of external) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = net.connect(Number(port), address);
        socket.once("connect", () => (socket.destroy(), resolve(true)));
        socket.once("error", () => resolve(false));
      });
      assert.equal(reached, false, `reachable on ${address}:${port}`);
    }
  });

  it("runs the README's curl example: the next create job fails with the given error", async () => {
    const example = /curl -X POST "\$CAPYDB_API_URL(\/_capydb_local\/[^"]+)" -d '([^']+)'/.exec(section);
    assert.ok(example, "the README has the curl example");
    assert.equal((await call(cp.url, "POST", example[1], { raw: example[2] })).status, 200);
    const created = await call(cp.url, "POST", `/v1/projects/${cp.projectId}/preview-databases`, {
      key: cp.projectScopedKey, json: { name: "pr-1" },
    });
    assert.equal(created.status, 201);
    let job = created.body.job;
    for (let i = 0; i < 20 && job.state !== "failed" && job.state !== "completed"; i++) {
      job = (await call(cp.url, "GET", `/v1/jobs/${job.id}`, { key: cp.projectScopedKey })).body.job;
    }
    assert.equal(job.state, "failed");
    assert.equal(job.error, JSON.parse(example[2]).error);
  });

  it("npm start takes a free port, and prints it, when CAPYDB_LOCAL_PORT is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    // Only Node's own directory on PATH: no `pulumi`, so start serves and waits.
    const child = spawn(process.execPath, [START], {
      env: { PATH: path.dirname(process.execPath), CAPYDB_LOCAL_PORT: String(taken), HOME: process.env.HOME ?? os.tmpdir() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 75_000;
      while (!/Serving /.test(stderr) && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(stderr, new RegExp(`port ${taken} is taken`));
      const url = /^export CAPYDB_API_URL=(\S+)$/m.exec(stdout)?.[1];
      assert.ok(url, stdout + stderr);
      assert.notEqual(new URL(url).port, String(taken));
      assert.equal((await call(url, "GET", "/_capydb_local/info")).body.url, url);
      child.kill("SIGINT");
      assert.equal(await exited, 0, stderr);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      blocker.close();
    }
  });
});
