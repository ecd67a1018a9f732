/**
 * The JavaScript fallbacks of every WebAssembly engine: a child `deno test` where V8 refuses
 * to compile any WebAssembly module (as a strict content security policy would) must still
 * pass each backend's tests and reproduce its committed known-answer vectors — the Sphinx
 * hash and stream functions and X25519 (backends/decrypt/), and the ristretto255 arithmetic
 * (backends/reencrypt/curve_wasm.ts).
 */
import assert from "node:assert/strict";

// V8's smallest module size limit (16 bytes): every assembled module is far larger.
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

/** Runs test files of one folder with WebAssembly refused; they must all pass. */
async function passWithoutWasm(folder: string, files: readonly string[]): Promise<void> {
  const here = new URL(folder, import.meta.url);
  const run = await deno([
    "test",
    "--allow-all",
    NO_WASM,
    ...files.map((f) => new URL(f, here).pathname),
  ]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /ok \| \d+ passed \| 0 failed/);
}

Deno.test("the flag really makes WebAssembly compilation fail", async () => {
  const probe = await deno([
    "eval",
    NO_WASM,
    // A valid 44-byte module: header and one custom section "x" of 32 zero bytes.
    "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0, 34, 1, 120, ...new Array(32).fill(0)]))",
  ]);
  assert.notEqual(probe.code, 0, probe.output);
});

Deno.test("without WebAssembly the Sphinx backend gives the committed vectors", async () => {
  await passWithoutWasm("./backends/decrypt/", [
    "blake2b_test.ts",
    "hmac_sha256_test.ts",
    "chacha20_test.ts",
    "vectors_test.ts",
  ]);
});

Deno.test("without WebAssembly the re-encryption backend gives the committed vectors", async () => {
  const here = new URL("./backends/reencrypt/", import.meta.url);
  const probe = await deno([
    "eval",
    NO_WASM,
    `const { encodePoint, BASE_POINT } = await import("${new URL("group.ts", here)}");
     const { wasmModuleStatus } = await import("${new URL("../../core/wasm_module.ts", here)}");
     encodePoint(BASE_POINT);
     console.log(JSON.stringify(wasmModuleStatus()));`,
  ]);
  assert.equal(probe.code, 0, probe.output);
  assert.match(probe.output, /"ristretto255":false/); // the engine really fell back
  await passWithoutWasm("./backends/reencrypt/", [
    "group_test.ts",
    "elgamal_test.ts",
    "kat_vectors_test.ts",
    "shuffle_proof_test.ts",
    "encryption_proof_test.ts", // encryptAndProveMany's point path (issue 17)
    "scalar_bytes_test.ts", // the bigint form of the scalar arithmetic (issue 17)
  ]);
});
