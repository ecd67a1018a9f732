/**
 * ChaCha20 (RFC 8439 §2.4) with a zero nonce and initial counter 0, the stream cipher of the
 * Sphinx routing stream ρ and of LIONESS (docs/sphinx.md §3); every key is used once. The
 * block function runs in a small WebAssembly function assembled at load time
 * (core/wasm_module.ts); where WebAssembly is unavailable, `@noble/ciphers` `chacha20` does the
 * same (identical bytes, tested).
 *
 * @module
 */

import { chacha20 } from "@noble/ciphers/chacha.js";
import {
  I32,
  instantiateWasm,
  OP,
  signedLeb,
  unsignedLeb,
  type WasmFunction,
} from "../../core/wasm_module.ts";

/** Bytes of a ChaCha20 block (RFC 8439 §2.3). */
const BLOCK = 64;
const ZERO_NONCE = new Uint8Array(12);

// Linear memory layout of the WebAssembly instance.
const STATE_AT = 0; // the 16-word input state (RFC 8439 §2.3)
const DATA_AT = 64; // the data, XORed in place
/** Longest data handled in WebAssembly: the LIONESS right half at the largest payload. */
const MAX_DATA = 65536 - 32;
const PAGES = Math.ceil((DATA_AT + MAX_DATA + BLOCK) / 65536);

/**
 * `run(data: i32, blocks: i32)`: XORs `blocks` keystream blocks into the data at address
 * `data`, incrementing the block counter (state word 12) after each (RFC 8439 §2.4).
 */
function xorFunction(): WasmFunction {
  // Locals: 0 data, 1 blocks (parameters); 2 round counter; 3..18 the working state x.
  const ROUND = 2, X = 3, code: number[] = [];
  const get = (i: number) => code.push(OP.localGet, i);
  const set = (i: number) => code.push(OP.localSet, i);
  const c32 = (n: number) => code.push(OP.i32Const, ...signedLeb(n));
  const load = (offset: number) => code.push(OP.i32Load, 2, ...unsignedLeb(offset));
  const store = (offset: number) => code.push(OP.i32Store, 2, ...unsignedLeb(offset));
  // Quarter round on x[a], x[b], x[c], x[d] (RFC 8439 §2.1).
  const quarter = (a: number, b: number, c: number, d: number) => {
    for (const [r1, r2] of [[16, 12], [8, 7]] as const) {
      get(X + a), get(X + b), code.push(OP.i32Add), set(X + a); // a += b
      get(X + d), get(X + a), code.push(OP.i32Xor), c32(r1), code.push(OP.i32Rotl), set(X + d);
      get(X + c), get(X + d), code.push(OP.i32Add), set(X + c); // c += d
      get(X + b), get(X + c), code.push(OP.i32Xor), c32(r2), code.push(OP.i32Rotl), set(X + b);
    }
  };
  code.push(OP.loop, 0x40); // for each block
  for (let k = 0; k < 16; k++) c32(0), load(STATE_AT + 4 * k), set(X + k);
  // 20 rounds: ten column-and-diagonal double rounds (RFC 8439 §2.3).
  c32(10), set(ROUND);
  code.push(OP.loop, 0x40);
  quarter(0, 4, 8, 12), quarter(1, 5, 9, 13), quarter(2, 6, 10, 14), quarter(3, 7, 11, 15);
  quarter(0, 5, 10, 15), quarter(1, 6, 11, 12), quarter(2, 7, 8, 13), quarter(3, 4, 9, 14);
  get(ROUND), c32(1), code.push(OP.i32Sub, OP.localTee, ROUND, OP.brIf, 0, OP.end);
  // data word k ^= x[k] + state[k] (the serialized block, little-endian).
  for (let k = 0; k < 16; k++) {
    get(0), get(0), load(4 * k), get(X + k), c32(0), load(STATE_AT + 4 * k);
    code.push(OP.i32Add, OP.i32Xor), store(4 * k);
  }
  // Block counter += 1; next block.
  c32(0), c32(0), load(STATE_AT + 48), c32(1), code.push(OP.i32Add), store(STATE_AT + 48);
  get(0), c32(BLOCK), code.push(OP.i32Add), set(0);
  get(1), c32(1), code.push(OP.i32Sub, OP.localTee, 1, OP.brIf, 0, OP.end);
  return { params: [I32, I32], locals: [[17, I32]], code, pages: PAGES };
}

interface Engine {
  memory: Uint8Array;
  view: DataView;
  xor: (data: number, blocks: number) => void;
}

let engine: Engine | undefined | null = null;

function wasmEngine(): Engine | undefined {
  if (engine === null) {
    const wasm = instantiateWasm<Engine["xor"]>("chacha20", xorFunction());
    engine = wasm && { memory: wasm.memory, view: new DataView(wasm.memory.buffer), xor: wasm.run };
  }
  return engine;
}

/**
 * XORs the ChaCha20 keystream (zero nonce, counter 0) into `data` in place.
 *
 * @param key 32-byte key, used for this stream only
 * @param data the bytes to encrypt or decrypt, modified in place
 * @example
 * ```ts
 * import { chacha20XorInPlace } from "./chacha20.ts";
 * const data = new Uint8Array(100);
 * chacha20XorInPlace(new Uint8Array(32), data);
 * chacha20XorInPlace(new Uint8Array(32), data);
 * console.assert(data.every((b) => b === 0));
 * ```
 */
export function chacha20XorInPlace(key: Uint8Array, data: Uint8Array): void {
  if (data.length === 0) return; // the block loop runs at least once
  const e = wasmEngine();
  if (e === undefined || key.length !== 32 || data.length > MAX_DATA) {
    data.set(chacha20(key, ZERO_NONCE, data));
    return;
  }
  // State: "expand 32-byte k", key, counter 0, nonce 0 (RFC 8439 §2.3).
  e.view.setUint32(STATE_AT, 0x61707865, true);
  e.view.setUint32(STATE_AT + 4, 0x3320646e, true);
  e.view.setUint32(STATE_AT + 8, 0x79622d32, true);
  e.view.setUint32(STATE_AT + 12, 0x6b206574, true);
  e.memory.set(key, STATE_AT + 16);
  e.memory.fill(0, STATE_AT + 48, STATE_AT + 64);
  e.memory.set(data, DATA_AT);
  e.xor(DATA_AT, Math.ceil(data.length / BLOCK));
  data.set(e.memory.subarray(DATA_AT, DATA_AT + data.length));
}
