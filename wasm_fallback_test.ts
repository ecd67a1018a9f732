/**
 * The bigint fallbacks of the re-encryption backend's WebAssembly engine
 * (backends/reencrypt/curve_wasm.ts): a child `deno test` where V8 refuses to compile any
 * WebAssembly module (as a strict content security policy would) must still pass the
 * group, ElGamal and shuffle tests and reproduce the committed known-answer vectors.
 */
import assert from "node:assert/strict";

// V8's smallest module size limit (16 bytes): every assembled module is far larger.
const NO_WASM = "--v8-flags=--wasm-max-module-size=16";

Deno.test("without WebAssembly the re-encryption backend gives the committed vectors", async () => {
  const here = new URL("./backends/reencrypt/", import.meta.url);
  const files = [
    "group_test.ts",
    "elgamal_test.ts",
    "kat_vectors_test.ts",
    "shuffle_proof_test.ts",
  ];
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", NO_WASM, ...files.map((f) => new URL(f, here).pathname)],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, output);
  assert.match(output, /ok \| \d+ passed \| 0 failed/);
});
