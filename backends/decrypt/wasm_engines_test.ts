import assert from "node:assert/strict";
import { keyedBlake2b256 } from "./blake2b.ts";
import { chacha20XorInPlace } from "./chacha20.ts";
import { HmacSha256 } from "./hmac_sha256.ts";
import { wasmModuleStatus } from "../../core/wasm_module.ts";

Deno.test("the three assembled modules compile and run in WebAssembly under Deno", () => {
  keyedBlake2b256(new Uint8Array(32), new Uint8Array(1));
  new HmacSha256(new Uint8Array(32)).digest([new Uint8Array(1)]);
  chacha20XorInPlace(new Uint8Array(32), new Uint8Array(1));
  const status = wasmModuleStatus();
  assert.deepEqual([status.blake2b, status.sha256, status.chacha20], [true, true, true]);
});
