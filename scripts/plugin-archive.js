#!/usr/bin/env node
// `npm run plugin:archive [-- --out <dir>] [-- --os linux --arch amd64]`: the plugin archive
// pulumi-resource-capydb-v<version>-<os>-<arch>.tar.gz, which
//   pulumi plugin install resource capydb <version> --file <archive>
// installs. Inside: the launcher (a shell script that runs `node`), the plugin bundled by esbuild
// into one JavaScript file (its dependencies included, so nothing is installed beside it), the
// schema, and the license. The JavaScript is the same on every platform; the name says which one
// the launcher is for (a POSIX shell script: Linux and macOS).
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const REPO = path.resolve(__dirname, "..");
const PLUGIN = "pulumi-resource-capydb";

function pulumiOs(platform = process.platform) {
  if (platform === "linux" || platform === "darwin") return platform;
  throw new Error(`the plugin's launcher is a POSIX shell script: no archive for ${platform}`);
}

function pulumiArch(arch = process.arch) {
  return { x64: "amd64", arm64: "arm64" }[arch] ?? arch;
}

function option(args, name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

function archiveName(version, osName, arch) {
  return `${PLUGIN}-v${version}-${osName}-${arch}.tar.gz`;
}

/** Builds the archive into outDir and returns its path. */
function buildArchive({ outDir, osName = pulumiOs(), arch = pulumiArch() } = {}) {
  const version = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version;
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "capydb-plugin-stage-"));
  try {
    const esbuild = require("esbuild");
    esbuild.buildSync({
      entryPoints: [path.join(REPO, "plugin", "main.ts")],
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      minify: true,
      legalComments: "external",
      outfile: path.join(stage, `${PLUGIN}.js`),
      logLevel: "warning",
    });
    // A stable schema version: the archive serves exactly what plugin/schema.json says.
    fs.copyFileSync(path.join(REPO, "plugin", "schema.json"), path.join(stage, "schema.json"));
    fs.copyFileSync(path.join(REPO, "plugin", "bin", PLUGIN), path.join(stage, PLUGIN));
    fs.chmodSync(path.join(stage, PLUGIN), 0o755);
    fs.copyFileSync(path.join(REPO, "LICENSE"), path.join(stage, "LICENSE"));
    const files = fs.readdirSync(stage).sort();
    fs.mkdirSync(outDir, { recursive: true });
    const archive = path.join(outDir, archiveName(version, osName, arch));
    execFileSync("tar", ["-czf", archive, "-C", stage, ...files]);
    return archive;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

module.exports = { buildArchive, archiveName, pulumiOs, pulumiArch, PLUGIN };

if (require.main === module) {
  const args = process.argv.slice(2);
  const archive = buildArchive({
    outDir: path.resolve(option(args, "out", path.join(REPO, "dist", "plugin-archive"))),
    osName: option(args, "os", undefined) ?? pulumiOs(),
    arch: option(args, "arch", undefined) ?? pulumiArch(),
  });
  const kb = Math.round(fs.statSync(archive).size / 1024);
  process.stderr.write(`wrote ${archive} (${kb} KiB)\n`);
}
