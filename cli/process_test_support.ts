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

/**
 * What every memory probe can call: `await live()`, the bytes still held (JS heap and
 * external buffers) after the event loop has run what the last step left (a file's pending
 * close, a reader's last buffer) and two full collections.
 */
const PROBE_PRELUDE = `
const live = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  globalThis.gc(); globalThis.gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};
`;

/**
 * Runs a memory probe: a script given as source, in a child Deno with the repository's
 * configuration and V8's garbage collector exposed (`globalThis.gc`), and parses the JSON it
 * prints. The test fails with the child's stderr if it does not exit 0. The script may call
 * `await live()` for the bytes still held after a full collection.
 *
 * @param source the script (imports by absolute URL)
 * @returns the value the script printed as JSON on stdout
 * @example
 * ```ts ignore
 * const perBallot = await runMemoryProbe(`gc(); console.log(JSON.stringify(Deno.memoryUsage()))`);
 * ```
 */
export async function runMemoryProbe(source: string): Promise<unknown> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--expose-gc",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      "-",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${PROBE_PRELUDE}\n${source}`));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
