/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) for the Sphinx header MAC and HKDF (docs/sphinx.md §3).
 * A key's inner and outer padded states are computed once, so each MAC costs only the
 * compressions of its message and one outer block; those run in a small WebAssembly
 * function assembled at load time (core/wasm_module.ts). Where WebAssembly is unavailable the
 * same class uses `@noble/hashes` `hmac`; both give identical bytes (tested).
 *
 * @module
 */

import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  instantiateSha2,
  SHA256_VARIANT,
  sha2Addresses,
  type Sha2Engine,
} from "../../core/sha2_wasm.ts";

/** Bytes of a SHA-256 block (FIPS 180-4 §1). */
const BLOCK = 64;
/** Bytes of a digest. */
const SIZE = 32;
/** Initial hash value H(0) (FIPS 180-4 §5.3.3). */
const H0 = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];
/** Round constants K (FIPS 180-4 §4.2.2). */
const K = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
];

// Linear memory of the WebAssembly instance: state, K, schedule, then the padded message.
const { stateAt: STATE_AT, dataAt: DATA_AT } = sha2Addresses(SHA256_VARIANT);
/** Bytes of message compressed per call; longer messages go through in several chunks. */
const CHUNK = Math.floor((65536 - DATA_AT) / BLOCK - 2) * BLOCK;

type Engine = Sha2Engine;

let engine: Engine | undefined | null = null;

/** The compiled engine; undefined without WebAssembly (the JavaScript HMAC is used then). */
function wasmEngine(): Engine | undefined {
  if (engine === null) engine = instantiateSha2("sha256", SHA256_VARIANT, K);
  return engine;
}

// Hashes `parts` onto the state stored at `states[at..at + 32]` (native words), which has
// absorbed one block before, with the FIPS 180-4 §5.1.1 padding; leaves the final state at
// STATE_AT.
function absorb(e: Engine, states: Uint8Array, at: number, parts: readonly Uint8Array[]): void {
  for (let i = 0; i < SIZE; i++) e.memory[STATE_AT + i] = states[at + i]!;
  let end = DATA_AT, total = BLOCK;
  for (const part of parts) {
    for (let offset = 0; offset < part.length;) {
      const n = Math.min(part.length - offset, DATA_AT + CHUNK - end);
      e.memory.set(n === part.length ? part : part.subarray(offset, offset + n), end);
      end += n, offset += n, total += n;
      if (end === DATA_AT + CHUNK) e.compress(DATA_AT, CHUNK / BLOCK), end = DATA_AT;
    }
  }
  const blocks = Math.ceil((end - DATA_AT + 9) / BLOCK), last = DATA_AT + blocks * BLOCK;
  e.memory[end] = 0x80;
  e.memory.fill(0, end + 1, last - 4);
  e.view.setUint32(last - 4, total * 8); // bit length, big-endian (messages < 2^29 bytes)
  e.compress(DATA_AT, blocks);
}

// The state at STATE_AT as the 32 big-endian digest bytes, written at out[at..].
function digestTo(e: Engine, out: Uint8Array, at: number): void {
  for (let k = 0; k < 8; k++) {
    const word = e.view.getUint32(STATE_AT + 4 * k, true);
    out[at + 4 * k] = word >>> 24;
    out[at + 4 * k + 1] = word >>> 16;
    out[at + 4 * k + 2] = word >>> 8;
    out[at + 4 * k + 3] = word;
  }
}

// States after absorbing one block, the key XOR ipad, then XOR opad (RFC 2104 §2), stored
// one after the other in 64 bytes.
function padStates(e: Engine, key: Uint8Array): Uint8Array {
  const states = new Uint8Array(2 * SIZE);
  for (const [pad, at] of [[0x36, 0], [0x5c, SIZE]] as const) {
    const block = e.memory.subarray(DATA_AT, DATA_AT + BLOCK);
    block.fill(pad);
    for (let i = 0; i < key.length; i++) block[i]! ^= key[i]!;
    H0.forEach((h, k) => e.view.setUint32(STATE_AT + 4 * k, h, true));
    e.compress(DATA_AT, 1);
    states.set(e.memory.subarray(STATE_AT, STATE_AT + SIZE), at);
  }
  return states;
}

/**
 * HMAC-SHA256 under one key, evaluated for as many messages as needed.
 *
 * @example
 * ```ts
 * import { HmacSha256 } from "./hmac_sha256.ts";
 * const mac = new HmacSha256(new Uint8Array(32)).digest([new Uint8Array([1, 2]), new Uint8Array(3)]);
 * console.assert(mac.length === 32);
 * ```
 */
export class HmacSha256 {
  #states: Uint8Array | undefined;
  #noble: ReturnType<typeof hmac.create> | undefined;

  /**
   * Keys the MAC (RFC 2104 §2: keys longer than a block are hashed first).
   *
   * @param key the key, any length
   */
  constructor(key: Uint8Array) {
    const e = wasmEngine();
    if (e === undefined) this.#noble = hmac.create(sha256, key);
    else this.#states = padStates(e, key.length > BLOCK ? sha256(key) : key);
  }

  /**
   * The MAC of the concatenation of `parts`.
   *
   * @param parts the message, in pieces
   * @param out where to write the MAC (32 bytes; default a new array)
   * @returns `out`, holding the 32-byte HMAC-SHA256
   */
  digest(parts: readonly Uint8Array[], out: Uint8Array = new Uint8Array(SIZE)): Uint8Array {
    const e = wasmEngine();
    if (e === undefined || this.#states === undefined) {
      const h = this.#noble!.clone();
      for (const part of parts) h.update(part);
      out.set(h.digest());
      return out;
    }
    // Inner hash H((K ⊕ ipad) ‖ m), then outer hash H((K ⊕ opad) ‖ inner digest); each
    // pad block is already absorbed in the stored states.
    absorb(e, this.#states, 0, parts);
    digestTo(e, e.memory, DATA_AT);
    absorb(e, this.#states, SIZE, [e.memory.subarray(DATA_AT, DATA_AT + SIZE)]); // in place
    digestTo(e, out, 0);
    return out;
  }
}
