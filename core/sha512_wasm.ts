/**
 * SHA-512 (FIPS 180-4 §6.4) with its compression function in WebAssembly, assembled at load
 * time (./wasm_module.ts) with native 64-bit words: about five times the throughput of the
 * JavaScript implementation, which emulates them with 32-bit halves. The Fiat–Shamir
 * transcripts (./transcript.ts) hash whole statements with it (every ciphertext of a shuffle,
 * 128 bytes each at the verifier's main thread). Where WebAssembly is unavailable the same
 * functions use `@noble/hashes`; both give identical bytes (tested).
 *
 * @module
 */

import { sha512 } from "@noble/hashes/sha2.js";
import { instantiateSha2, sha2Addresses, type Sha2Engine, SHA512_VARIANT } from "./sha2_wasm.ts";

/** Bytes of a SHA-512 block (FIPS 180-4 §1). */
const BLOCK = 128;
/** Bytes of a digest. */
const SIZE = 64;
/** Initial hash value H(0) (FIPS 180-4 §5.3.5). */
const H0 = [
  0x6a09e667f3bcc908n,
  0xbb67ae8584caa73bn,
  0x3c6ef372fe94f82bn,
  0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n,
  0x9b05688c2b3e6c1fn,
  0x1f83d9abfb41bd6bn,
  0x5be0cd19137e2179n,
];
/** Round constants K (FIPS 180-4 §4.2.3). */
const K = [
  0x428a2f98d728ae22n,
  0x7137449123ef65cdn,
  0xb5c0fbcfec4d3b2fn,
  0xe9b5dba58189dbbcn,
  0x3956c25bf348b538n,
  0x59f111f1b605d019n,
  0x923f82a4af194f9bn,
  0xab1c5ed5da6d8118n,
  0xd807aa98a3030242n,
  0x12835b0145706fben,
  0x243185be4ee4b28cn,
  0x550c7dc3d5ffb4e2n,
  0x72be5d74f27b896fn,
  0x80deb1fe3b1696b1n,
  0x9bdc06a725c71235n,
  0xc19bf174cf692694n,
  0xe49b69c19ef14ad2n,
  0xefbe4786384f25e3n,
  0x0fc19dc68b8cd5b5n,
  0x240ca1cc77ac9c65n,
  0x2de92c6f592b0275n,
  0x4a7484aa6ea6e483n,
  0x5cb0a9dcbd41fbd4n,
  0x76f988da831153b5n,
  0x983e5152ee66dfabn,
  0xa831c66d2db43210n,
  0xb00327c898fb213fn,
  0xbf597fc7beef0ee4n,
  0xc6e00bf33da88fc2n,
  0xd5a79147930aa725n,
  0x06ca6351e003826fn,
  0x142929670a0e6e70n,
  0x27b70a8546d22ffcn,
  0x2e1b21385c26c926n,
  0x4d2c6dfc5ac42aedn,
  0x53380d139d95b3dfn,
  0x650a73548baf63den,
  0x766a0abb3c77b2a8n,
  0x81c2c92e47edaee6n,
  0x92722c851482353bn,
  0xa2bfe8a14cf10364n,
  0xa81a664bbc423001n,
  0xc24b8b70d0f89791n,
  0xc76c51a30654be30n,
  0xd192e819d6ef5218n,
  0xd69906245565a910n,
  0xf40e35855771202an,
  0x106aa07032bbd1b8n,
  0x19a4c116b8d2d0c8n,
  0x1e376c085141ab53n,
  0x2748774cdf8eeb99n,
  0x34b0bcb5e19b48a8n,
  0x391c0cb3c5c95a63n,
  0x4ed8aa4ae3418acbn,
  0x5b9cca4f7763e373n,
  0x682e6ff3d6b2b8a3n,
  0x748f82ee5defb2fcn,
  0x78a5636f43172f60n,
  0x84c87814a1f0ab72n,
  0x8cc702081a6439ecn,
  0x90befffa23631e28n,
  0xa4506cebde82bde9n,
  0xbef9a3f7b2c67915n,
  0xc67178f2e372532bn,
  0xca273eceea26619cn,
  0xd186b8c721c0c207n,
  0xeada7dd6cde0eb1en,
  0xf57d4f7fee6ed178n,
  0x06f067aa72176fban,
  0x0a637dc5a2c898a6n,
  0x113f9804bef90daen,
  0x1b710b35131c471bn,
  0x28db77f523047d84n,
  0x32caab7b40c72493n,
  0x3c9ebe0a15c9bebcn,
  0x431d67c49c100d4cn,
  0x4cc5d4becb3e42b6n,
  0x597f299cfc657e2an,
  0x5fcb6fab3ad6faecn,
  0x6c44198c4a475817n,
];

// Linear memory of the WebAssembly instance: state, K, schedule, then the blocks to compress.
const { stateAt: STATE_AT, dataAt: DATA_AT } = sha2Addresses(SHA512_VARIANT);
/** Bytes of message compressed per call; longer messages go through in several chunks. */
const CHUNK = Math.floor((65536 - DATA_AT) / BLOCK) * BLOCK;

type Engine = Sha2Engine;

let engine: Engine | undefined | null = null;

/** The compiled engine; undefined without WebAssembly (the JavaScript SHA-512 is used then). */
function wasmEngine(): Engine | undefined {
  if (engine === null) engine = instantiateSha2("sha512", SHA512_VARIANT, K);
  return engine;
}

/**
 * Copies n bytes from src[from..] to dest[at..]: byte by byte when short (no view made),
 * by `set` over a view when long (its cost shared by many bytes).
 */
function copyBytes(dest: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  if (n > 256) return dest.set(src.subarray(from, from + n), at);
  for (let i = 0; i < n; i++) dest[at + i] = src[from + i]!;
}

/** Writes the state at STATE_AT (native words) as the 64 big-endian digest bytes at out[at..]. */
function digestTo(e: Engine, out: Uint8Array, at: number): void {
  const mem = e.memory;
  for (let k = 0; k < 8; k++) {
    for (let b = 0; b < 8; b++) out[at + 8 * k + b] = mem[STATE_AT + 8 * k + 7 - b]!;
  }
}

const INITIAL_STATE = (() => {
  const out = new Uint8Array(SIZE);
  const view = new DataView(out.buffer);
  H0.forEach((h, k) => view.setBigUint64(8 * k, h, true));
  return out;
})();

/** The running state of one SHA-512 computation (the operations the transcripts use). */
export interface Sha512Hash {
  /** Absorbs bytes; returns this hash. */
  update(data: Uint8Array): Sha512Hash;
  /** Absorbs data[from..to) without a view of it; absent where not supported. */
  updateRange?(data: Uint8Array, from: number, to: number): Sha512Hash;
  /** An independent copy of the state. */
  clone(): Sha512Hash;
  /**
   * Copies this state into `target`, a hash of the same kind (its storage reused): true, or
   * false (nothing done) when the target is of another kind; absent where not supported.
   */
  copyInto?(target: Sha512Hash): boolean;
  /** The 64-byte digest of everything absorbed (the state is spent). */
  digest(): Uint8Array;
}

class WasmSha512 implements Sha512Hash {
  readonly #engine: Engine;
  /** The state then the partial block, in one array (one allocation per clone). */
  readonly #bytes: Uint8Array;
  readonly #state: Uint8Array;
  #pos = 0;
  #length = 0;

  constructor(engine: Engine, bytes?: Uint8Array) {
    this.#engine = engine;
    if (bytes === undefined) {
      bytes = new Uint8Array(SIZE + BLOCK);
      bytes.set(INITIAL_STATE);
    }
    this.#bytes = bytes;
    this.#state = bytes.subarray(0, SIZE);
  }

  update(data: Uint8Array): this {
    return this.updateRange(data, 0, data.length);
  }

  /**
   * Absorbs data[from..to) with no view of it: short ranges are copied byte by byte, so a
   * transcript frame makes no typed array per update (issue 17: a few per proof's challenge).
   */
  updateRange(data: Uint8Array, from: number, to: number): this {
    const e = this.#engine, bytes = this.#bytes;
    const n = to - from;
    this.#length += n;
    if (this.#pos + n < BLOCK) {
      copyBytes(bytes, SIZE + this.#pos, data, from, n);
      this.#pos += n;
      return this;
    }
    const mem = e.memory;
    mem.set(this.#state, STATE_AT);
    let offset = from;
    if (this.#pos > 0) {
      const fill = BLOCK - this.#pos;
      copyBytes(mem, DATA_AT, bytes, SIZE, this.#pos);
      copyBytes(mem, DATA_AT + this.#pos, data, from, fill);
      e.compress(DATA_AT, 1);
      offset += fill;
      this.#pos = 0;
    }
    while (to - offset >= BLOCK) {
      const m = Math.min(CHUNK, Math.floor((to - offset) / BLOCK) * BLOCK);
      copyBytes(mem, DATA_AT, data, offset, m);
      e.compress(DATA_AT, m / BLOCK);
      offset += m;
    }
    copyBytes(bytes, 0, mem, STATE_AT, SIZE);
    copyBytes(bytes, SIZE, data, offset, to - offset);
    this.#pos = to - offset;
    return this;
  }

  clone(): WasmSha512 {
    // One copy of state and partial block (transcripts clone once or twice per proof).
    const copy = new WasmSha512(this.#engine, this.#bytes.slice());
    copy.#pos = this.#pos;
    copy.#length = this.#length;
    return copy;
  }

  copyInto(target: Sha512Hash): boolean {
    if (!(target instanceof WasmSha512) || target.#engine !== this.#engine) return false;
    target.#bytes.set(this.#bytes);
    target.#pos = this.#pos;
    target.#length = this.#length;
    return true;
  }

  digest(): Uint8Array {
    const e = this.#engine;
    // Padding (FIPS 180-4 §5.1.2): 0x80, zeros, the 128-bit big-endian bit length.
    const blocks = this.#pos + 17 > BLOCK ? 2 : 1;
    const end = DATA_AT + blocks * BLOCK;
    e.memory.set(this.#state, STATE_AT);
    copyBytes(e.memory, DATA_AT, this.#bytes, SIZE, this.#pos);
    e.memory[DATA_AT + this.#pos] = 0x80;
    e.memory.fill(0, DATA_AT + this.#pos + 1, end);
    e.view.setUint32(end - 8, Math.floor(this.#length / 2 ** 29));
    e.view.setUint32(end - 4, (this.#length * 8) >>> 0);
    e.compress(DATA_AT, blocks);
    const out = new Uint8Array(SIZE);
    digestTo(e, out, 0);
    return out;
  }
}

/**
 * Starts a SHA-512 computation (in WebAssembly where available).
 *
 * @returns the running hash
 * @example
 * ```ts
 * import { createSha512 } from "./sha512_wasm.ts";
 * const d = createSha512().update(new TextEncoder().encode("abc")).digest();
 * console.assert(d[0] === 0xdd && d.length === 64); // FIPS 180-2 example: ddaf35a1…
 * ```
 */
export function createSha512(): Sha512Hash {
  const e = wasmEngine();
  return e === undefined ? sha512.create() : new WasmSha512(e);
}

/**
 * SHA-512(seed ‖ u32be(i)) for i = 0, 1, … concatenated and cut to `length` bytes: the
 * expansion of a transcript challenge longer than one digest (./transcript.ts).
 *
 * @param seed the 64-byte seed
 * @param length bytes wanted
 * @returns the expansion
 * @example
 * ```ts
 * import { expandSha512 } from "./sha512_wasm.ts";
 * console.assert(expandSha512(new Uint8Array(64), 100).length === 100);
 * ```
 */
export function expandSha512(seed: Uint8Array, length: number): Uint8Array {
  const blocks = expandSha512At(
    seed,
    Uint32Array.from({ length: Math.ceil(length / SIZE) }, (_, i) => i),
  );
  return blocks.length === length ? blocks : blocks.slice(0, length);
}

/**
 * The blocks SHA-512(seed ‖ u32be(i)) of a challenge expansion at chosen indices i, 64 bytes
 * each, in the order given (e.g. the blocks of a long challenge a worker needs).
 *
 * @param seed the seed (64 bytes on the WebAssembly path; any length otherwise)
 * @param indices block indices, each below 2^32
 * @returns 64·indices.length bytes
 * @example
 * ```ts
 * import { expandSha512, expandSha512At } from "./sha512_wasm.ts";
 * const seed = new Uint8Array(64);
 * console.assert(expandSha512At(seed, [1]).join() === expandSha512(seed, 128).subarray(64).join());
 * ```
 */
export function expandSha512At(seed: Uint8Array, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(SIZE * indices.length);
  const e = wasmEngine();
  if (e === undefined || seed.length !== SIZE) {
    const counter = new Uint8Array(4), view = new DataView(counter.buffer);
    const base = sha512.create().update(seed);
    for (let k = 0; k < indices.length; k++) {
      view.setUint32(0, indices[k]!);
      out.set(base.clone().update(counter).digest(), SIZE * k);
    }
    return out;
  }
  // One block per counter: seed (64 bytes), u32be(i), 0x80, zeros, bit length 544.
  e.memory.set(seed, DATA_AT);
  e.memory[DATA_AT + 68] = 0x80;
  e.memory.fill(0, DATA_AT + 69, DATA_AT + BLOCK);
  e.view.setUint32(DATA_AT + BLOCK - 4, 68 * 8);
  for (let k = 0; k < indices.length; k++) {
    e.view.setUint32(DATA_AT + 64, indices[k]!);
    e.memory.set(INITIAL_STATE, STATE_AT);
    e.compress(DATA_AT, 1);
    digestTo(e, out, SIZE * k);
  }
  return out;
}
