/**
 * The JavaScript fallbacks of ./blake2b.ts, ./hmac_sha256.ts and ./chacha20.ts: a child
 * `deno test` where V8 refuses to compile any WebAssembly module (as a strict content
 * security policy would) must still pass the primitive tests and the committed vectors.
 */
import assert from "node:assert/strict";

// V8's smallest module size limit (16 bytes): every module of this backend is far larger.
const NO_WASM = "--v8-flags=--wasm-max-module-size=16";

async function deno(args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

Deno.test("without WebAssembly the JavaScript fallbacks give the committed vectors", async () => {
  const probe = await deno([
    "eval",
    NO_WASM,
    // A valid 44-byte module: header and one custom section "x" of 32 zero bytes.
    "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0, 34, 1, 120, ...new Array(32).fill(0)]))",
  ]);
  assert.notEqual(probe.code, 0, "the flag must make WebAssembly compilation fail");
  const here = new URL(".", import.meta.url);
  const files = ["blake2b_test.ts", "hmac_sha256_test.ts", "chacha20_test.ts", "vectors_test.ts"];
  const run = await deno([
    "test",
    "--allow-all",
    NO_WASM,
    ...files.map((f) => new URL(f, here).pathname),
  ]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /ok \| \d+ passed \| 0 failed/);
});
