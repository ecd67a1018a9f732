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
import { deriveGeneratorBytes, generator } from "./generators.ts";
import {
  BASE_POINT,
  bytesToNumberLE,
  decodePoint,
  decodeScalar,
  doubleAndEncodeBatch,
  ELEMENT_BYTES,
  encodePoint,
  encodeScalar,
  fixedBase,
  GROUP_ORDER,
  modL,
  multiScalarMul,
  multiScalarMulEncoded,
  packPoints,
  packScalars,
  type Point,
  scalarFromWide,
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
/** Task: encodings of the generators hᵢ of a range of positions. */
export const GENERATORS_TASK = "reencrypt/shuffle-generators";

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
 * permutation-commitment scalars r_{ψ(i)} (count), ω′ᵢ (count), the encodings of
 * h_{start+1}..h_{start+count} (count·32, from the caller's cache).
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
  const hs = unpackPoints(arg(args, 6), "generator", { offset: start + 1 });
  if (hs.length !== count) throw new InvalidInputError("Shuffle chunk has the wrong generators");
  const g = fixedBase(BASE_POINT);
  const y = fixedBase(pk, arg(args, 1));
  const outputPoints: Point[] = [], commitmentPoints: Point[] = [];
  const c1s: Point[][] = Array.from({ length: w }, () => []);
  const c2s: Point[][] = Array.from({ length: w }, () => []);
  const [gr, yr, gc] = [g.multiplyMany(rPrime), y.multiplyMany(rPrime), g.multiplyMany(r)];
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < w; k++) {
      // Re-encryption e′ᵢ = ReEnc(e_{ψ(i)}, r′) (Haenni et al. Alg. 8.1).
      const c1 = inputs[2 * (i * w + k)]!.add(gr[i * w + k]!);
      const c2 = inputs[2 * (i * w + k) + 1]!.add(yr[i * w + k]!);
      outputPoints.push(c1, c2);
      c1s[k]!.push(c1);
      c2s[k]!.push(c2);
    }
    // Permutation commitment c_{ψ(i)} = g^{r_{ψ(i)}}·hᵢ (Alg. 8.2).
    const h = hs[i]!;
    commitmentPoints.push(gc[i]!.add(h));
  }
  // Encoded two at a time (packPoints).
  const result = [
    packPoints(outputPoints),
    packPoints(commitmentPoints),
    multiScalarMul(hs, omegaPrime).toBytes(),
  ];
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
  const half = (xs: bigint[]) => xs.map((x) => x * HALF_SCALAR);
  const [gR, hU] = [g.multiplyMany(half(R)), h.multiplyMany(half(U))];
  const [ga, hb] = [g.multiplyMany(half(a)), h.multiplyMany(half(b))];
  for (let i = 0; i < R.length; i++) halves.push(gR[i]!.add(hU[i]!));
  for (let i = 0; i < R.length; i++) halves.push(ga[i]!.add(hb[i]!));
  const encoded = doubleAndEncodeBatch(halves);
  const chain = encoded.slice(0, R.length * ELEMENT_BYTES);
  const tHat = encoded.slice(R.length * ELEMENT_BYTES);
  return [chain, tHat];
}

/**
 * One chunk of the batched verification equation (see shuffle_proof.ts, Haenni et al.
 * Alg. 8.5 batched with random weights): computes the chunk's coefficients from the
 * challenges, responses and weights, decodes the chunk's inputs, outputs, cᵢ, ĉᵢ, t̂ᵢ, and
 * returns Σ coefficient·point over them and hᵢ, with the chunk's share of the global terms.
 * The coefficients are computed here, not on the calling thread (issue 17: no serial O(N)
 * scalar work there).
 * Args: header; inputs, outputs (count·64w each); c, ĉ, t̂ (count·32 each); the challenge
 * blocks uᵢ (count·64, wide); s′ᵢ and ŝᵢ (count·32 each); δᵢ (count·16); the next position's
 * s′ and δ (48 bytes; empty for the batch's last chunk); the challenge c and the weights
 * λ₁, λ₂, λ₃, μₖ, νₖ (32 each); the encodings of h_{start+1}..h_{start+count} (count·32, from
 * the caller's cache).
 * Result: the partial sum (identity allowed), Σ δᵢ·ŝᵢ and ∏ uᵢ over the chunk (scalars).
 *
 * @param args see above
 * @returns see above
 * @throws {VerificationError} when an element or a response is malformed
 */
export function verifyChunk(args: Uint8Array[]): Uint8Array[] {
  try {
    return verifyChunkTerms(args);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new VerificationError(`Shuffle proof rejected: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function verifyChunkTerms(args: Uint8Array[]): Uint8Array[] {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const uWide = arg(args, 6), deltaBytes = arg(args, 9), next = arg(args, 10);
  const sPrime = unpackScalars(arg(args, 7), `permutation responses from ${start}`);
  const sHat = unpackScalars(arg(args, 8), `chain responses from ${start}`);
  const globals = unpackScalars(arg(args, 11), "challenge and weights");
  if (
    sPrime.length !== count || sHat.length !== count || uWide.length !== 64 * count ||
    deltaBytes.length !== 16 * count || globals.length !== 4 + 2 * w ||
    (next.length !== 0 && next.length !== 48)
  ) {
    throw new InvalidInputError("Shuffle verification chunk has the wrong sizes");
  }
  const [c, lam0, lam1, lam2] = globals as [bigint, bigint, bigint, bigint];
  const mu = globals.slice(4, 4 + w), nu = globals.slice(4 + w);
  const delta = (i: number) => bytesToNumberLE(deltaBytes.subarray(16 * i, 16 * i + 16));
  const coefC: bigint[] = [], coefH: bigint[] = [], coefIn: bigint[] = [], coefOut: bigint[] = [];
  const coefChain: bigint[] = [], coefT: bigint[] = [];
  let deltaSHat = 0n, uProd = 1n;
  let di = delta(0);
  for (let i = 0; i < count; i++) {
    const ui = scalarFromWide(uWide.subarray(64 * i, 64 * i + 64));
    const si = sPrime[i]!;
    uProd = modL(uProd * ui);
    deltaSHat += di * sHat[i]!;
    // E1, E3: c̄^{−c}, c̃^{−c} and ∏hᵢ^{s′ᵢ} (Alg. 8.5).
    coefC.push(modL(-c * lam0 - c * lam2 * ui));
    coefH.push(modL(c * lam0 + lam2 * si));
    for (let k = 0; k < w; k++) {
      // E4: (∏eᵢ^{uᵢ})^{−c} and ∏e′ᵢ^{s′ᵢ}, element k, c1 then c2.
      coefIn.push(modL(-c * mu[k]! * ui), modL(-c * nu[k]! * ui));
      coefOut.push(modL(mu[k]! * si), modL(nu[k]! * si));
    }
    // Ê: t̂ᵢ = ĉᵢ^{−c}·g^{ŝᵢ}·ĉᵢ₋₁^{s′ᵢ}; ĉᵢ also appears as ĉᵢ₋₁ of i+1, ĉ_N in E2.
    let following: bigint;
    let dNext = 0n;
    if (i + 1 < count) {
      dNext = delta(i + 1);
      following = dNext * sPrime[i + 1]!;
    } else if (next.length === 48) {
      following = bytesToNumberLE(next.subarray(32, 48)) *
        decodeScalar(next.subarray(0, 32), `permutation responses[${start + count}]`);
    } else {
      following = -c * lam1;
    }
    coefChain.push(modL(-c * di + following));
    coefT.push(modL(-di));
    di = dNext;
  }
  const generatorBytes = arg(args, 12);
  if (generatorBytes.length !== 32 * count) {
    throw new InvalidInputError("Shuffle verification chunk has the wrong generators");
  }
  const sums = [encodeScalar(deltaSHat), encodeScalar(uProd)];
  // Fast path: one multi-exponentiation straight from the encodings, the generators included.
  const encoded = [1, 2, 3, 4, 5, 12].map((i) => arg(args, i));
  const packed = [coefIn, coefOut, coefC, coefChain, coefT, coefH].map(packScalars);
  const direct = multiScalarMulEncoded(concatBytes(...encoded), concatBytes(...packed));
  if (typeof direct === "object") return [encodePoint(direct), ...sums];
  const generators = unpackPoints(generatorBytes, "generator", { offset: start + 1 });
  // No WebAssembly, or a bad element: decode one by one, naming the bad element.
  const points: Point[] = [
    ...unpackCiphertexts(encoded[0]!, "input", { width: w, start }),
    ...unpackCiphertexts(encoded[1]!, "output", { width: w, start }),
    ...unpackPoints(encoded[2]!, "permutation commitment", { offset: start }),
    ...unpackPoints(encoded[3]!, "chain commitment", { offset: start }),
    ...unpackPoints(encoded[4]!, "chain proof commitment", { offset: start }),
    ...generators,
  ];
  const scalars = [...coefIn, ...coefOut, ...coefC, ...coefChain, ...coefT, ...coefH];
  return [multiScalarMul(points, scalars).toBytes(), ...sums];
}

registerWorkerTask(PROVE_PHASE1_TASK, provePhase1);
registerWorkerTask(PROVE_PHASE2_TASK, provePhase2);
registerWorkerTask(VERIFY_TASK, verifyChunk);
registerWorkerTask(GENERATORS_TASK, (args) => {
  const { start, count } = readHeader(arg(args, 0));
  return [deriveGeneratorBytes(start + 1, count)];
});
