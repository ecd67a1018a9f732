/**
 * Runs `panoramix` as a separate process from a folder, as a user at a shell would.
 * Test support only.
 *
 * @module
 */

import assert from "node:assert/strict";

const ENTRY = new URL("./main.ts", import.meta.url).pathname;

/** What a `panoramix` process left. */
export interface PanoramixRun {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/**
 * Runs `panoramix ARGS` in a folder, as a separate process.
 *
 * @param cwd the folder
 * @param args the arguments
 * @returns exit code and output
 * @example
 * ```ts ignore
 * const r = await panoramix("/tmp/x", "--version");
 * ```
 */
export async function panoramix(cwd: string, ...args: string[]): Promise<PanoramixRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ENTRY, ...args],
    cwd,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Runs `panoramix ARGS` and asserts it succeeded.
 *
 * @param cwd the folder
 * @param args the arguments
 * @returns exit code and output
 * @example
 * ```ts ignore
 * await ok("/tmp/x", "vote", "init", "--id", "demo", "--out", "election.json");
 * ```
 */
export async function ok(cwd: string, ...args: string[]): Promise<PanoramixRun> {
  const r = await panoramix(cwd, ...args);
  assert.equal(r.code, 0, `panoramix ${args.join(" ")} (in ${cwd}):\n${r.stderr}${r.stdout}`);
  return r;
}
