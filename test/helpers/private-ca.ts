import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface PrivateCa {
  dir: string;
  /** PEM of the CA: what NODE_EXTRA_CA_CERTS points at. */
  caFile: string;
  /** The server's key and certificate (signed by the CA, valid for `names`). */
  key: Buffer;
  cert: Buffer;
  remove(): void;
}

/**
 * A private CA and one server certificate signed by it, made with the openssl CLI at test time: what a
 * company's TLS-inspecting proxy or internal gateway presents. `names` are DNS names or IP addresses.
 */
export function createPrivateCa(names: string[]): PrivateCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-ca-"));
  const p = (f: string) => path.join(dir, f);
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=capydb test private CA"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${names[0]}`]);
  const san = names.map((n) => (/^[\d.]+$/.test(n) || n.includes(":") ? `IP:${n}` : `DNS:${n}`)).join(",");
  fs.writeFileSync(p("ext.cnf"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"]);
  return {
    dir,
    caFile: p("ca.pem"),
    key: fs.readFileSync(p("server.key")),
    cert: fs.readFileSync(p("server.pem")),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
