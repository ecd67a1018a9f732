#!/usr/bin/env node
// The `panoramix` command of the npm package: runs the CLI (cli/main.ts) on the pinned Deno
// (the npm package `deno`, a peer dependency) in the caller's working directory. It prints
// nothing of its own on stdout, so `panoramix gen … > items.ndjson` holds only data.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

/** The Deno binary: $PANORAMIX_DENO, the pinned npm package `deno`, else `deno` on PATH. */
function denoBinary() {
  if (process.env.PANORAMIX_DENO) return process.env.PANORAMIX_DENO;
  const exe = process.platform === "win32" ? "deno.exe" : "deno";
  try {
    const dir = path.dirname(require.resolve("deno/package.json", { paths: [root] }));
    if (fs.existsSync(path.join(dir, exe))) return path.join(dir, exe);
    return require(path.join(dir, "install_api.cjs")).runInstall();
  } catch {
    return "deno";
  }
}

const args = [
  "run",
  "--quiet",
  "--no-prompt",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
  "--config",
  path.join(root, "deno.json"),
  path.join(root, "cli", "main.ts"),
  ...process.argv.slice(2),
];

const child = spawn(denoBinary(), args, { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  process.stderr.write(
    `panoramix: error: cannot start Deno (${error.message}); run 'npm install' in ${root} ` +
      "or set PANORAMIX_DENO to a Deno 2.9 binary\n",
  );
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
