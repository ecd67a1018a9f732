/**
 * The parallel parts of the Terelius–Wikström shuffle proof, as worker tasks over
 * byte arrays (registered statically so the compiled binary and the bundle hold them).
 * Each task handles one contiguous chunk of output positions.
 *
 * @module
 */

import { concatBytes } from "../../core/bytes.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { registerWorkerTask, splitRange } from "../../core/worker_pool.ts";
import { generator } from "./generators.ts";
import {
  BASE_POINT,
  decodePoint,
  doubleAndEncodeBatch,
  ELEMENT_BYTES,
  encodePoint,
  fixedBase,
  GROUP_ORDER,
  multiScalarMul,
  multiScalarMulEncoded,
  type Point,
  unpackPoints,
  unpackScalars,
} from "./group.ts";

/** 2⁻¹ mod ℓ. */
const HALF_SCALAR = (GROUP_ORDER + 1n) / 2n;

/** Task: re-encrypt a chunk, commit to the permutation, partial t₃ and t₄ products. */
export const PROVE_PHASE1_TASK = "reencrypt/shuffle-prove-1";
/** Task: commitment chain ĉᵢ and its proof commitments t̂ᵢ for a chunk. */
export const PROVE_PHASE2_TASK = "reencrypt/shuffle-prove-2";
/** Task: one chunk of the batched verification multi-exponentiation. */
export const VERIFY_TASK = "reencrypt/shuffle-verify";

/** Chunks of at most this many positions, so progress is reported during long runs. */
const MAX_CHUNK = 8192;

/**
 * The chunks a batch of n positions is cut into for proofs and share batches: two per worker
 * (one when in-thread), and none longer than 8,192 positions.
 *
 * @param n positions
 * @param workers workers that will take them
 * @returns [lo, hi) ranges in order
 */
export function chunks(n: number, workers: number): Array<[number, number]> {
  return splitRange(n, Math.max(workers <= 1 ? 1 : workers * 2, Math.ceil(n / MAX_CHUNK)));
}

/**
 * Header of a chunk: width w, first output position (0-based) and chunk length.
 *
 * @param width ciphertext width
 * @param start first position
 * @param count positions in the chunk
 * @returns 12 bytes
 */
export function chunkHeader(width: number, start: number, count: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, width);
  view.setUint32(4, start);
  view.setUint32(8, count);
  return out;
}

function readHeader(bytes: Uint8Array): { width: number; start: number; count: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(0), start: view.getUint32(4), count: view.getUint32(8) };
}

/** Decodes a chunk of ciphertexts, naming errors "input 7.c2[0]" with global indices. */
function unpackCiphertexts(
  bytes: Uint8Array,
  what: string,
  options: { width: number; start: number },
): Point[] {
  const out: Point[] = [];
  const per = 2 * options.width;
  for (let e = 0; e < bytes.length / ELEMENT_BYTES; e++) {
    const i = options.start + Math.floor(e / per);
    const k = (e % per) >> 1;
    const part = e % 2 === 0 ? "c1" : "c2";
    out.push(
      decodePoint(
        bytes.subarray(e * ELEMENT_BYTES, (e + 1) * ELEMENT_BYTES),
        `${what} ${i}.${part}[${k}]`,
      ),
    );
  }
  return out;
}

function arg(args: Uint8Array[], i: number): Uint8Array {
  const a = args[i];
  if (a === undefined) throw new InvalidInputError(`Worker task argument ${i} is missing`);
  return a;
}

/**
 * Phase 1 (Haenni et al. Alg. 8.4 lines for e′, c, t₃, t₄) for output positions
 * start..start+count−1.
 * Args: header, public key, permuted inputs (count·64w), re-encryption scalars (count·w),
 * permutation-commitment scalars r_{ψ(i)} (count), ω′ᵢ (count).
 * Result: outputs (count·64w), c_{ψ(i)} in output order (count·32), Σ ω′ᵢ·hᵢ, then for each
 * element k: Σ ω′ᵢ·c1′ᵢₖ and Σ ω′ᵢ·c2′ᵢₖ (identity allowed).
 *
 * @param args see above
 * @returns see above
 */
export function provePhase1(args: Uint8Array[]): Uint8Array[] {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const pk = decodePoint(arg(args, 1), "public key");
  const inputs = unpackPoints(arg(args, 2), "input");
  const rPrime = unpackScalars(arg(args, 3), "re-encryption randomness");
  const r = unpackScalars(arg(args, 4), "commitment randomness");
  const omegaPrime = unpackScalars(arg(args, 5), "omega'");
  const g = fixedBase(BASE_POINT);
  const y = fixedBase(pk, arg(args, 1));
  const outputs = new Uint8Array(count * 2 * w * ELEMENT_BYTES);
  const commitments = new Uint8Array(count * ELEMENT_BYTES);
  const hs: Point[] = [];
  const c1s: Point[][] = Array.from({ length: w }, () => []);
  const c2s: Point[][] = Array.from({ length: w }, () => []);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < w; k++) {
      const rk = rPrime[i * w + k]!;
      // Re-encryption e′ᵢ = ReEnc(e_{ψ(i)}, r′) (Haenni et al. Alg. 8.1).
      const c1 = inputs[2 * (i * w + k)]!.add(g.multiply(rk));
      const c2 = inputs[2 * (i * w + k) + 1]!.add(y.multiply(rk));
      outputs.set(encodePoint(c1), (2 * (i * w + k)) * ELEMENT_BYTES);
      outputs.set(encodePoint(c2), (2 * (i * w + k) + 1) * ELEMENT_BYTES);
      c1s[k]!.push(c1);
      c2s[k]!.push(c2);
    }
    // Permutation commitment c_{ψ(i)} = g^{r_{ψ(i)}}·hᵢ (Alg. 8.2).
    const h = generator(start + i + 1);
    hs.push(h);
    commitments.set(encodePoint(g.multiply(r[i]!).add(h)), i * ELEMENT_BYTES);
  }
  const result = [outputs, commitments, multiScalarMul(hs, omegaPrime).toBytes()];
  for (let k = 0; k < w; k++) {
    // t₄ products ∏ e′ᵢ^{ω′ᵢ} (Alg. 8.4), per element of the ciphertext.
    result.push(multiScalarMul(c1s[k]!, omegaPrime).toBytes());
    result.push(multiScalarMul(c2s[k]!, omegaPrime).toBytes());
  }
  return result;
}

/**
 * Phase 2: ĉᵢ = g^{Rᵢ}·h^{Uᵢ} and t̂ᵢ = g^{aᵢ}·h^{bᵢ}, the closed forms of the sequential
 * chain ĉᵢ = g^{r̂ᵢ}·ĉᵢ₋₁^{u′ᵢ} and t̂ᵢ = g^{ω̂ᵢ}·ĉᵢ₋₁^{ω′ᵢ} (Alg. 8.3, 8.4), so chunks
 * are independent. Args: Rᵢ, Uᵢ, aᵢ, bᵢ (count scalars each). Result: ĉ chunk, t̂ chunk.
 *
 * @param args see above
 * @returns see above
 */
export function provePhase2(args: Uint8Array[]): Uint8Array[] {
  const R = unpackScalars(arg(args, 0), "R");
  const U = unpackScalars(arg(args, 1), "U");
  const a = unpackScalars(arg(args, 2), "a");
  const b = unpackScalars(arg(args, 3), "b");
  const g = fixedBase(BASE_POINT);
  const h = fixedBase(generator(0));
  // Compute the halves Q = g^{x/2}·h^{y/2} and encode 2Q in one batch (one inversion).
  const halves: Point[] = [];
  for (let i = 0; i < R.length; i++) {
    halves.push(g.multiply(R[i]! * HALF_SCALAR).add(h.multiply(U[i]! * HALF_SCALAR)));
  }
  for (let i = 0; i < R.length; i++) {
    halves.push(g.multiply(a[i]! * HALF_SCALAR).add(h.multiply(b[i]! * HALF_SCALAR)));
  }
  const encoded = doubleAndEncodeBatch(halves);
  const chain = encoded.slice(0, R.length * ELEMENT_BYTES);
  const tHat = encoded.slice(R.length * ELEMENT_BYTES);
  return [chain, tHat];
}

/**
 * One chunk of the batched verification equation (see shuffle_proof.ts): decodes the
 * chunk's inputs, outputs, cᵢ, ĉᵢ, t̂ᵢ and returns Σ coefficient·point over them and hᵢ.
 * Args: header, inputs (count·64w), outputs (count·64w), c, ĉ, t̂ (count·32 each), and the
 * coefficients of c, h, inputs (count·2w), outputs (count·2w), ĉ, t̂.
 * Result: the partial sum (identity allowed).
 *
 * @param args see above
 * @returns see above
 * @throws {VerificationError} when an element is not a valid non-identity group element
 */
export function verifyChunk(args: Uint8Array[]): Uint8Array[] {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const generators: Point[] = [];
  for (let i = 0; i < count; i++) generators.push(generator(start + i + 1));
  const hCoefficients = unpackScalars(arg(args, 7), "h coefficients");
  // Fast path: one multi-exponentiation straight from the encodings.
  const encoded = [1, 2, 3, 4, 5].map((i) => arg(args, i));
  const coefficients = [8, 9, 6, 10, 11].map((i) => arg(args, i));
  const direct = multiScalarMulEncoded(concatBytes(...encoded), concatBytes(...coefficients));
  if (typeof direct === "object") {
    return [encodePoint(direct.add(multiScalarMul(generators, hCoefficients)))];
  }
  // No WebAssembly, or a bad element: decode one by one, naming the bad element.
  try {
    const points: Point[] = [
      ...unpackCiphertexts(encoded[0]!, "input", { width: w, start }),
      ...unpackCiphertexts(encoded[1]!, "output", { width: w, start }),
      ...unpackPoints(encoded[2]!, "permutation commitment", { offset: start }),
      ...unpackPoints(encoded[3]!, "chain commitment", { offset: start }),
      ...unpackPoints(encoded[4]!, "chain proof commitment", { offset: start }),
      ...generators,
    ];
    const scalars: bigint[] = [
      ...unpackScalars(coefficients[0]!, "input coefficients"),
      ...unpackScalars(coefficients[1]!, "output coefficients"),
      ...unpackScalars(coefficients[2]!, "c coefficients"),
      ...unpackScalars(coefficients[3]!, "chain coefficients"),
      ...unpackScalars(coefficients[4]!, "t-hat coefficients"),
      ...hCoefficients,
    ];
    return [multiScalarMul(points, scalars).toBytes()];
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new VerificationError(`Shuffle proof rejected: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

registerWorkerTask(PROVE_PHASE1_TASK, provePhase1);
registerWorkerTask(PROVE_PHASE2_TASK, provePhase2);
registerWorkerTask(VERIFY_TASK, verifyChunk);
