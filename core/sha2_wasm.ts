/**
 * The SHA-2 compression function (FIPS 180-4 §6.2.2 for SHA-256, §6.4.2 for SHA-512) as one
 * WebAssembly function, assembled at load time (./wasm_module.ts) for 32-bit or native 64-bit
 * words. The two hashes differ only in word size, rounds and rotation amounts, so one emitter
 * serves SHA-512 (./sha512_wasm.ts, Fiat–Shamir transcripts) and the Sphinx backend's
 * HMAC-SHA256.
 *
 * @module
 */

import {
  I32,
  I64,
  instantiateWasm,
  OP,
  signedLeb,
  unsignedLeb,
  type WasmFunction,
} from "./wasm_module.ts";

/** Word size, rounds and rotation amounts of a SHA-2 function (FIPS 180-4 §4.1.2, §4.1.3). */
export interface Sha2Variant {
  /** Bytes of a word: 4 (SHA-256) or 8 (SHA-512). */
  word: 4 | 8;
  /** Rounds per block: 64 or 80 (also the number of round constants K). */
  rounds: number;
  /** Σ0, Σ1 (rotations) and σ0, σ1 (two rotations and a shift). */
  bigSigma0: [number, number, number];
  bigSigma1: [number, number, number];
  smallSigma0: [number, number, number];
  smallSigma1: [number, number, number];
}

/** SHA-256's parameters (FIPS 180-4 §4.1.2). */
export const SHA256_VARIANT: Sha2Variant = {
  word: 4,
  rounds: 64,
  bigSigma0: [2, 13, 22],
  bigSigma1: [6, 11, 25],
  smallSigma0: [7, 18, 3],
  smallSigma1: [17, 19, 10],
};

/** SHA-512's parameters (FIPS 180-4 §4.1.3). */
export const SHA512_VARIANT: Sha2Variant = {
  word: 8,
  rounds: 80,
  bigSigma0: [28, 34, 39],
  bigSigma1: [14, 18, 41],
  smallSigma0: [1, 8, 7],
  smallSigma1: [19, 61, 6],
};

/** Where the compression function finds its state, round constants and schedule. */
export interface Sha2Layout {
  /** H[0..7] as native (little-endian) words. */
  stateAt: number;
  /** K[0..rounds−1] as native words (written by the caller). */
  constantsAt: number;
  /** Room for the message schedule W[0..rounds−1]. */
  scheduleAt: number;
}

/**
 * `run(block: i32, count: i32)`: compresses `count` blocks (16 big-endian words each) at address
 * `block` into the state, for the given variant and memory layout (one 64 KiB page).
 *
 * @param variant {@linkcode SHA256_VARIANT} or {@linkcode SHA512_VARIANT}
 * @param layout addresses of the state, the round constants and the schedule
 * @returns the function, for `instantiateWasm`
 * @example
 * ```ts
 * import { instantiateWasm } from "./wasm_module.ts";
 * import { SHA256_VARIANT, sha2CompressFunction } from "./sha2_wasm.ts";
 * const f = sha2CompressFunction(SHA256_VARIANT, { stateAt: 0, constantsAt: 32, scheduleAt: 288 });
 * const wasm = instantiateWasm<(block: number, count: number) => void>("example", f);
 * console.assert(wasm === undefined || typeof wasm.run === "function");
 * ```
 */
export function sha2CompressFunction(variant: Sha2Variant, layout: Sha2Layout): WasmFunction {
  const { word, rounds } = variant;
  const wide = word === 8;
  const { stateAt, constantsAt, scheduleAt } = layout;
  const op = wide
    ? {
      load: OP.i64Load,
      store: OP.i64Store,
      add: OP.i64Add,
      and: OP.i64And,
      or: OP.i64Or,
      xor: OP.i64Xor,
      rotr: OP.i64Rotr,
      shrU: OP.i64ShrU,
      shl: OP.i64Shl,
      align: 3,
    }
    : {
      load: OP.i32Load,
      store: OP.i32Store,
      add: OP.i32Add,
      and: OP.i32And,
      or: OP.i32Or,
      xor: OP.i32Xor,
      rotr: OP.i32Rotr,
      shrU: OP.i32ShrU,
      shl: OP.i32Shl,
      align: 2,
    };
  // Locals: 0 block, 1 count (parameters); 2 j (a byte index); 3 x; 4 t1; 5..12 a..h.
  const J = 2, X = 3, T1 = 4, A = 5, code: number[] = [];
  const get = (i: number) => code.push(OP.localGet, i);
  const set = (i: number) => code.push(OP.localSet, i);
  const c32 = (n: number) => code.push(OP.i32Const, ...signedLeb(n | 0));
  // A constant word.
  const cw = (n: bigint) =>
    wide
      ? code.push(OP.i64Const, ...signedLeb(BigInt.asIntN(64, n)))
      : code.push(OP.i32Const, ...signedLeb(Number(BigInt.asIntN(32, n))));
  const load = (offset: number) => code.push(op.load, op.align, ...unsignedLeb(offset));
  const rotr = (n: number) => (cw(BigInt(n)), code.push(op.rotr));
  // (x ⋙ r1) ⊕ (x ⋙ r2) ⊕ (x ≫ r3 or x ⋙ r3): the σ and Σ functions.
  const sigma = (x: () => void, [r1, r2, r3]: [number, number, number], shift: boolean) => {
    x(), rotr(r1), x(), rotr(r2), code.push(op.xor), x();
    cw(BigInt(r3)), code.push(shift ? op.shrU : op.rotr, op.xor);
  };
  // x (in local X) byte-swapped, on the stack: the block's words are big-endian. Bytes swap
  // within 16-bit halves, then halves within 32-bit words, then (64-bit) the two words.
  const swap = () => {
    const m1 = wide ? 0x00ff00ff00ff00ffn : 0x00ff00ffn;
    get(X), cw(8n), code.push(op.shrU), cw(m1), code.push(op.and);
    get(X), cw(m1), code.push(op.and), cw(8n), code.push(op.shl, op.or);
    if (wide) {
      const m2 = 0x0000ffff0000ffffn;
      code.push(OP.localTee, X);
      cw(16n), code.push(op.shrU), cw(m2), code.push(op.and);
      get(X), cw(m2), code.push(op.and), cw(16n), code.push(op.shl, op.or);
      cw(32n), code.push(op.rotr);
    } else {
      cw(16n), code.push(op.rotr);
    }
  };
  const reg = (k: number) => A + k; // a = 0, …, h = 7
  code.push(OP.loop, 0x40); // for each block
  for (let t = 0; t < 16; t++) {
    c32(scheduleAt + word * t), get(0), load(word * t), set(X), swap();
    code.push(op.store, op.align, 0);
  }
  // W[t] = σ1(W[t−2]) + W[t−7] + σ0(W[t−15]) + W[t−16] for t = 16..rounds−1; j = word·(t − 16).
  c32(0), set(J);
  code.push(OP.loop, 0x40);
  get(J), c32(scheduleAt), code.push(OP.i32Add);
  sigma(() => (get(J), load(scheduleAt + 14 * word)), variant.smallSigma1, true);
  get(J), load(scheduleAt + 9 * word), code.push(op.add);
  sigma(() => (get(J), load(scheduleAt + word)), variant.smallSigma0, true);
  code.push(op.add);
  get(J), load(scheduleAt), code.push(op.add);
  code.push(op.store, op.align, ...unsignedLeb(16 * word));
  get(J), c32(word), code.push(OP.i32Add, OP.localTee, J), c32(word * (rounds - 16));
  code.push(OP.i32LtU, OP.brIf, 0, OP.end);
  // a..h = H (step 2).
  for (let k = 0; k < 8; k++) c32(0), load(stateAt + word * k), set(reg(k));
  // The rounds, eight per loop iteration so that the variables rotate by renaming; j = word·t.
  c32(0), set(J);
  code.push(OP.loop, 0x40);
  for (let r = 0; r < 8; r++) {
    const v = (k: number) => reg((k - r + 8) % 8); // role k (a = 0 … h = 7) in round r
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t], Ch = g ⊕ (e ∧ (f ⊕ g)).
    get(v(7));
    sigma(() => get(v(4)), variant.bigSigma1, false);
    code.push(op.add);
    get(v(6)), get(v(4)), get(v(5)), get(v(6)), code.push(op.xor, op.and, op.xor);
    code.push(op.add);
    get(J), load(constantsAt + word * r), code.push(op.add), get(J), load(scheduleAt + word * r);
    code.push(op.add, OP.localTee, T1);
    // d += T1 (the next e); h = T1 + Σ0(a) + Maj(a, b, c) (the next a), Maj = (a ∧ b) ∨ (c ∧ (a ∨ b)).
    get(v(3)), code.push(op.add), set(v(3));
    get(T1);
    sigma(() => get(v(0)), variant.bigSigma0, false);
    code.push(op.add);
    get(v(0)), get(v(1)), code.push(op.and), get(v(2)), get(v(0)), get(v(1));
    code.push(op.or, op.and, op.or, op.add), set(v(7));
  }
  get(J), c32(8 * word), code.push(OP.i32Add, OP.localTee, J), c32(word * rounds);
  code.push(OP.i32LtU, OP.brIf, 0, OP.end);
  // H[k] += a..h (step 4).
  for (let k = 0; k < 8; k++) {
    c32(0), c32(0), load(stateAt + word * k), get(reg(k)), code.push(op.add);
    code.push(op.store, op.align, ...unsignedLeb(stateAt + word * k));
  }
  // Next block.
  get(0), c32(16 * word), code.push(OP.i32Add), set(0);
  get(1), c32(1), code.push(OP.i32Sub, OP.localTee, 1, OP.brIf, 0, OP.end);
  return {
    params: [I32, I32],
    locals: wide ? [[1, I32], [10, I64]] : [[11, I32]],
    code,
    pages: 1,
  };
}

/** Addresses of a SHA-2 engine's linear memory (one 64 KiB page). */
export interface Sha2Addresses extends Sha2Layout {
  /** Where blocks to compress are put (up to the end of the page). */
  dataAt: number;
}

/**
 * The memory layout of a SHA-2 engine: the state H at 0, the round constants K after it, the
 * message schedule W, then the data.
 *
 * @param variant {@linkcode SHA256_VARIANT} or {@linkcode SHA512_VARIANT}
 * @returns the addresses
 * @example
 * ```ts
 * import { SHA256_VARIANT, sha2Addresses } from "./sha2_wasm.ts";
 * console.assert(sha2Addresses(SHA256_VARIANT).dataAt === 32 + 256 + 256);
 * ```
 */
export function sha2Addresses(variant: Sha2Variant): Sha2Addresses {
  const stateAt = 0, constantsAt = 8 * variant.word;
  const scheduleAt = constantsAt + variant.word * variant.rounds;
  return { stateAt, constantsAt, scheduleAt, dataAt: scheduleAt + variant.word * variant.rounds };
}

/** A compiled SHA-2 compression function and its memory. */
export interface Sha2Engine {
  /** The linear memory (state, constants, schedule, data: {@linkcode sha2Addresses}). */
  memory: Uint8Array;
  /** A view of it. */
  view: DataView;
  /** Compresses `count` blocks at address `block` into the state. */
  compress: (block: number, count: number) => void;
}

/**
 * Compiles the compression function of a SHA-2 variant with its round constants in memory.
 *
 * @param name module name (for errors and `wasmModuleStatus`)
 * @param variant {@linkcode SHA256_VARIANT} or {@linkcode SHA512_VARIANT}
 * @param constants K[0..rounds−1] (FIPS 180-4 §4.2.2 or §4.2.3)
 * @returns the engine, or undefined where WebAssembly is unavailable
 * @example
 * ```ts
 * import { instantiateSha2, SHA256_VARIANT } from "./sha2_wasm.ts";
 * const engine = instantiateSha2("example", SHA256_VARIANT, new Array(64).fill(0));
 * console.assert(engine === undefined || engine.memory.length === 65536);
 * ```
 */
export function instantiateSha2(
  name: string,
  variant: Sha2Variant,
  constants: readonly (number | bigint)[],
): Sha2Engine | undefined {
  const layout = sha2Addresses(variant);
  const wasm = instantiateWasm<(block: number, count: number) => void>(
    name,
    sha2CompressFunction(variant, layout),
  );
  if (wasm === undefined) return undefined;
  const view = new DataView(wasm.memory.buffer);
  constants.forEach((k, t) => {
    const at = layout.constantsAt + variant.word * t;
    if (variant.word === 8) view.setBigUint64(at, BigInt(k), true);
    else view.setUint32(at, Number(k), true);
  });
  return { memory: wasm.memory, view, compress: wasm.run };
}
