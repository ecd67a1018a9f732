import assert from "node:assert/strict";
import { keyedBlake2b256 } from "./blake2b.ts";
import { chacha20XorInPlace } from "./chacha20.ts";
import { HmacSha256 } from "./hmac_sha256.ts";
import { signedLeb, unsignedLeb, wasmModuleStatus } from "./wasm_module.ts";

Deno.test("LEB128 encodings match the WebAssembly specification's examples", () => {
  assert.deepEqual(unsignedLeb(0), [0]);
  assert.deepEqual(unsignedLeb(127), [0x7f]);
  assert.deepEqual(unsignedLeb(128), [0x80, 0x01]);
  assert.deepEqual(unsignedLeb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(signedLeb(63), [0x3f]);
  assert.deepEqual(signedLeb(64), [0xc0, 0x00]); // bit 6 would read as a sign
  assert.deepEqual(signedLeb(-1), [0x7f]);
  assert.deepEqual(signedLeb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(signedLeb(-(2n ** 63n)), [
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x7f,
  ]);
});

Deno.test("the three assembled modules compile and run in WebAssembly under Deno", () => {
  keyedBlake2b256(new Uint8Array(32), new Uint8Array(1));
  new HmacSha256(new Uint8Array(32)).digest([new Uint8Array(1)]);
  chacha20XorInPlace(new Uint8Array(32), new Uint8Array(1));
  assert.deepEqual(wasmModuleStatus(), { blake2b: true, sha256: true, chacha20: true });
});
