/**
 * Keyed BLAKE2b-256 (RFC 7693) with a 32-byte key, the hash of the LIONESS rounds
 * (docs/sphinx.md §3). The compression function F (RFC 7693 §3.2) runs as a small
 * WebAssembly function assembled at load time (core/wasm_module.ts): WebAssembly has
 * native 64-bit add, xor and rotate, which makes it about ten times faster than BLAKE2b in
 * JavaScript, where every 64-bit word is two 32-bit halves. Where WebAssembly is missing
 * or refuses to compile (e.g. a page whose content security policy forbids it), the same
 * function falls back to `@noble/hashes` `blake2b`; both give identical bytes (tested).
 *
 * @module
 */

import { blake2b } from "@noble/hashes/blake2.js";
import {
  I32,
  I64,
  instantiateWasm,
  OP,
  signedLeb,
  unsignedLeb,
  type WasmFunction,
} from "../../core/wasm_module.ts";

/** Bytes of the key and of the digest. */
const SIZE = 32;
/** Bytes of a BLAKE2b block (RFC 7693 §2.1: bb = 128). */
const BLOCK = 128;
/** BLAKE2b initialisation vector (RFC 7693 §2.6), the SHA-512 IV. */
const IV = [
  0x6a09e667f3bcc908n,
  0xbb67ae8584caa73bn,
  0x3c6ef372fe94f82bn,
  0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n,
  0x9b05688c2b3e6c1fn,
  0x1f83d9abfb41bd6bn,
  0x5be0cd19137e2179n,
];
/** Message schedule σ (RFC 7693 §2.7); rounds 10 and 11 reuse rows 0 and 1. */
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

// Linear memory layout of the WebAssembly instance.
const STATE_AT = 0; // h[0..7], 64 bytes
const SIGMA_AT = 64; // σ, 12 rows of 16 bytes
const DATA_AT = SIGMA_AT + SIGMA.length * 16; // key block, then the message
/** Longest message hashed here: LIONESS's right half at the largest payload (65,536 − 32). */
const MAX_MESSAGE = 65536 - SIZE;
const PAGES = Math.ceil((DATA_AT + BLOCK + MAX_MESSAGE + BLOCK) / 65536);

/**
 * `run(block: i32, t: i32, last: i32)`: the compression F(h, m, t, f) of RFC 7693 §3.2 on
 * the state at STATE_AT and the 128-byte block at address `block`, with t < 2^32 bytes.
 */
function compressFunction(): WasmFunction {
  // Locals: 0 block, 1 t, 2 last (parameters); 3 σ row address; 4..19 the work vector v.
  const SIG = 3, V = 4, code: number[] = [];
  const get = (i: number) => code.push(OP.localGet, i);
  const set = (i: number) => code.push(OP.localSet, i);
  const i64Mem = (op: number, offset: number) => code.push(op, 3, ...unsignedLeb(offset));
  // Message word m[σ[r][k]]: load σ byte k of the current row, scale by 8, add the block address.
  const message = (k: number) => {
    get(0);
    get(SIG);
    code.push(OP.i32Load8U, 0, k, OP.i32Const, 3, OP.i32Shl, OP.i32Add);
    i64Mem(OP.i64Load, 0);
  };
  // G mixing function (RFC 7693 §3.1) with rotations R1..R4 = 32, 24, 16, 63.
  const mix = (a: number, b: number, c: number, d: number, x: number, y: number) => {
    for (const [word, r1, r2] of [[x, 32, 24], [y, 16, 63]] as const) {
      get(V + a), get(V + b), code.push(OP.i64Add), message(word), code.push(OP.i64Add), set(V + a);
      get(V + d), get(V + a), code.push(OP.i64Xor, OP.i64Const, r1, OP.i64Rotr), set(V + d);
      get(V + c), get(V + d), code.push(OP.i64Add), set(V + c);
      get(V + b), get(V + c), code.push(OP.i64Xor, OP.i64Const, r2, OP.i64Rotr), set(V + b);
    }
  };
  // v[0..7] = h, v[8..15] = IV (RFC 7693 §3.2).
  for (let i = 0; i < 8; i++) {
    code.push(OP.i32Const, 0), i64Mem(OP.i64Load, STATE_AT + 8 * i), set(V + i);
  }
  for (let i = 0; i < 8; i++) {
    code.push(OP.i64Const, ...signedLeb(BigInt.asIntN(64, IV[i]!))), set(V + 8 + i);
  }
  // v[12] ^= t (low word of the counter); v[14] ^= 0xFF..FF when this is the last block.
  get(V + 12), get(1), code.push(OP.i64ExtendI32U, OP.i64Xor), set(V + 12);
  get(V + 14), code.push(OP.i64Const, 0), get(2), code.push(OP.i64ExtendI32U, OP.i64Sub, OP.i64Xor);
  set(V + 14);
  // Twelve rounds: loop over the σ rows in memory.
  code.push(OP.i32Const, ...signedLeb(SIGMA_AT)), set(SIG);
  code.push(OP.loop, 0x40);
  mix(0, 4, 8, 12, 0, 1), mix(1, 5, 9, 13, 2, 3), mix(2, 6, 10, 14, 4, 5), mix(3, 7, 11, 15, 6, 7);
  mix(0, 5, 10, 15, 8, 9), mix(1, 6, 11, 12, 10, 11), mix(2, 7, 8, 13, 12, 13);
  mix(3, 4, 9, 14, 14, 15);
  get(SIG), code.push(OP.i32Const, 16, OP.i32Add, OP.localTee, SIG);
  code.push(OP.i32Const, ...signedLeb(DATA_AT), OP.i32LtU, OP.brIf, 0, OP.end);
  // h[i] ^= v[i] ^ v[i + 8].
  for (let i = 0; i < 8; i++) {
    code.push(OP.i32Const, 0, OP.i32Const, 0), i64Mem(OP.i64Load, STATE_AT + 8 * i);
    get(V + i), code.push(OP.i64Xor), get(V + 8 + i), code.push(OP.i64Xor);
    i64Mem(OP.i64Store, STATE_AT + 8 * i);
  }
  return { params: [I32, I32, I32], locals: [[1, I32], [16, I64]], code, pages: PAGES };
}

type Compress = (block: number, t: number, last: number) => void;

interface Engine {
  memory: Uint8Array;
  compress: Compress;
  initialState: Uint8Array;
}

function instantiate(): Engine | undefined {
  const wasm = instantiateWasm<Compress>("blake2b", compressFunction());
  if (wasm === undefined) return undefined; // no WebAssembly here: use the JavaScript hash
  SIGMA.forEach((row, r) => wasm.memory.set(row, SIGMA_AT + 16 * r));
  // h = IV with h[0] ^= 0x0101kknn: key length 32, digest length 32 (RFC 7693 §3.3).
  const initialState = new Uint8Array(64);
  const view = new DataView(initialState.buffer);
  IV.forEach((word, i) => view.setBigUint64(8 * i, word, true));
  view.setUint32(0, view.getUint32(0, true) ^ (0x01010000 | (SIZE << 8) | SIZE), true);
  return { memory: wasm.memory, compress: wasm.run, initialState };
}

let engine: Engine | undefined | null = null;

/**
 * Keyed BLAKE2b with a 32-byte key and a 32-byte digest (RFC 7693), the LIONESS hash.
 *
 * @param key 32-byte key
 * @param message message, at most 65,504 bytes
 * @returns the 32-byte digest, equal to `blake2b(message, { key, dkLen: 32 })` of `@noble/hashes`
 * @example
 * ```ts
 * import { keyedBlake2b256 } from "./blake2b.ts";
 * console.assert(keyedBlake2b256(new Uint8Array(32), new Uint8Array(100)).length === 32);
 * ```
 */
export function keyedBlake2b256(key: Uint8Array, message: Uint8Array): Uint8Array {
  if (engine === null) engine = instantiate();
  if (engine === undefined || key.length !== SIZE || message.length > MAX_MESSAGE) {
    return blake2b(message, { key, dkLen: SIZE });
  }
  const { memory, compress } = engine;
  memory.set(engine.initialState, STATE_AT);
  // The key padded to a block is the first block (RFC 7693 §3.3), then the message,
  // zero-padded to whole blocks.
  const blocks = 1 + Math.ceil(message.length / BLOCK);
  memory.set(key, DATA_AT);
  memory.fill(0, DATA_AT + SIZE, DATA_AT + BLOCK);
  memory.set(message, DATA_AT + BLOCK);
  memory.fill(0, DATA_AT + BLOCK + message.length, DATA_AT + blocks * BLOCK);
  // t counts the bytes fed so far, key block included (RFC 7693 §3.3: t = ll + bb for a keyed hash).
  const total = BLOCK + message.length;
  for (let i = 0; i < blocks - 1; i++) compress(DATA_AT + i * BLOCK, (i + 1) * BLOCK, 0);
  compress(DATA_AT + (blocks - 1) * BLOCK, total, 1);
  return memory.slice(STATE_AT, STATE_AT + SIZE);
}
