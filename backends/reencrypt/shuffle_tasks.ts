/**
 * The parallel parts of the Terelius–Wikström shuffle proof, as worker tasks over
 * byte arrays (registered statically so the compiled binary and the bundle hold them).
 * Each task handles one contiguous chunk of output positions.
 *
 * @module
 */

import { ctr } from "@noble/ciphers/aes.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../../core/bytes.ts";
import { expandSha512At } from "../../core/sha512_wasm.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { guidedRanges, registerWorkerTask, splitRange } from "../../core/worker_pool.ts";
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
  scalarsFromWide,
  unpackPoints,
  unpackScalars,
} from "./group.ts";

/** 2⁻¹ mod ℓ. */
const HALF_SCALAR = (GROUP_ORDER + 1n) / 2n;

/** Task: re-encrypt a chunk, commit to the permutation, partial t₃ and t₄ products. */
export const PROVE_PHASE1_TASK = "reencrypt/shuffle-prove-1";
/** Task: commitment chain ĉᵢ and its proof commitments t̂ᵢ for a chunk. */
export const PROVE_PHASE2_TASK = "reencrypt/shuffle-prove-2";
/** Task: a chunk's block of the chain recurrence and its shares of the response sums. */
export const PROVE_BLOCKS_TASK = "reencrypt/shuffle-prove-blocks";
/** Task: the responses ŝᵢ and s′ᵢ of a chunk. */
export const PROVE_RESPONSES_TASK = "reencrypt/shuffle-prove-responses";
/** Task: one chunk of the batched verification multi-exponentiation. */
export const VERIFY_TASK = "reencrypt/shuffle-verify";
/** Task: one chunk of the joint equation of a chain of shuffle proofs (a mix cascade). */
export const VERIFY_CHAIN_TASK = "reencrypt/shuffle-verify-chain";
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

/** Shortest chunk {@linkcode guidedChunks} cuts (shorter ones cost more per position). */
const GUIDED_MIN = 512;

/**
 * The prover's chunks: guided scheduling on workers (core `guidedRanges`: the bulk in equal
 * chunks of at most 8,192, a tail of shrinking chunks no shorter than 512, where the
 * multi-exponentiations still cost little per position), as few chunks of at most 8,192 as
 * possible in-thread. The proof does not depend on the cut.
 *
 * @param n positions
 * @param workers workers that will take them
 * @returns [lo, hi) ranges in order
 */
export function guidedChunks(n: number, workers: number): Array<[number, number]> {
  return guidedRanges(n, workers, { maxChunk: MAX_CHUNK, minChunk: GUIDED_MIN });
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
 * Where each scalar of the prover's witness comes from: list and index of the per-proof
 * stream ({@linkcode witnessScalars}). Everything is indexed by output position i, so a chunk
 * of positions draws its own randomness on its worker.
 */
export const WITNESS_LIST = {
  /** r′ᵢₖ, the re-encryption of output i, element k (index i·w + k). */
  rPrime: 0,
  /** rᵢ, the randomness of the permutation commitment c_{ψ(i)}. */
  r: 1,
  /** r̂ᵢ, the chain randomness. */
  rHat: 2,
  /** ω̂ᵢ. */
  omegaHat: 3,
  /** ω′ᵢ. */
  omegaPrime: 4,
  /** ω₁, ω₂, ω₃, ω₄ₖ (index 0..2+w). */
  omega: 5,
} as const;

/** Domain-separation label of the prover's witness stream. */
export const WITNESS_LABEL = "panoramix/reencrypt/shuffle/witness/v1";

/** Bytes of the per-proof witness seed (drawn from the caller's random source). */
export const WITNESS_SEED_BYTES = 32;

const witnessKeys = new Map<string, { bytes: Uint8Array; key?: Promise<CryptoKey> }>();

function witnessKey(seed: Uint8Array): { bytes: Uint8Array; key?: Promise<CryptoKey> } {
  if (seed.length !== WITNESS_SEED_BYTES) {
    throw new InvalidInputError(`Witness seed must be ${WITNESS_SEED_BYTES} bytes`);
  }
  const id = String.fromCharCode(...seed);
  let key = witnessKeys.get(id);
  if (key === undefined) {
    const bytes = sha512(concatBytes(new TextEncoder().encode(WITNESS_LABEL), seed)).slice(0, 32);
    key = { bytes };
    if (globalThis.crypto?.subtle !== undefined) {
      key.key = crypto.subtle.importKey("raw", bytes, "AES-CTR", false, ["encrypt"]);
    }
    if (witnessKeys.size >= 4) witnessKeys.clear();
    witnessKeys.set(id, key);
  }
  return key;
}

/**
 * Scalars `from`..`from+count−1` of one witness list of a proof.
 *
 * @param seed the proof's 32-byte witness seed
 * @param list which list ({@linkcode WITNESS_LIST})
 * @param from first index
 * @param count how many
 * @param options `portable`: compute the keystream with @noble/ciphers even where Web Crypto
 *   is available (the same bytes; for tests)
 * @returns the scalars (uniform mod ℓ)
 */
export async function witnessScalars(
  seed: Uint8Array,
  list: number,
  from: number,
  count: number,
  options: { portable?: boolean } = {},
): Promise<bigint[]> {
  // PRF "panoramix/reencrypt/shuffle/witness/v1": AES-256-CTR (NIST SP 800-38A) keyed by
  // SHA-512(label ‖ seed)[0..32], initial counter block u32be(list) ‖ 0³² ‖ u64be(4·index);
  // one 64-byte keystream block per scalar, wide-reduced mod ℓ (as RFC 9496 §4.3.4 reduces).
  const key = witnessKey(seed);
  const counter = new Uint8Array(16);
  const view = new DataView(counter.buffer);
  view.setUint32(0, list);
  view.setBigUint64(8, 4n * BigInt(from));
  const zeros = new Uint8Array(64 * count);
  const stream = key.key !== undefined && options.portable !== true
    ? new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, await key.key, zeros),
    )
    : ctr(key.bytes, counter).encrypt(zeros);
  return scalarsFromWide(stream);
}

/** The reduced challenges u′ of a chunk from their 64-byte blocks (in output order). */
function challengesOf(wide: Uint8Array, count: number): bigint[] {
  if (wide.length !== 64 * count) {
    throw new InvalidInputError("Shuffle chunk has the wrong challenges");
  }
  return scalarsFromWide(wide);
}

/**
 * Phase 1 (Haenni et al. Alg. 8.4 lines for e′, c, t₃, t₄) for output positions
 * start..start+count−1, with the chunk's witness drawn here from the proof's seed.
 * Args: header, public key, permuted inputs e_{ψ(i)} (count·64w), the witness seed (32), the
 * encodings of h_{start+1}..h_{start+count} (count·32, from the caller's cache).
 * Result: outputs (count·64w), c_{ψ(i)} in output order (count·32), Σ ω′ᵢ·hᵢ, then for each
 * element k: Σ ω′ᵢ·c1′ᵢₖ and Σ ω′ᵢ·c2′ᵢₖ (identity allowed).
 *
 * @param args see above
 * @returns see above
 */
export async function provePhase1(args: Uint8Array[]): Promise<Uint8Array[]> {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const pk = decodePoint(arg(args, 1), "public key");
  const inputs = unpackPoints(arg(args, 2), "input");
  const seed = arg(args, 3);
  const hs = unpackPoints(arg(args, 4), "generator", { offset: start + 1 });
  if (hs.length !== count || inputs.length !== 2 * w * count) {
    throw new InvalidInputError("Shuffle chunk has the wrong inputs or generators");
  }
  const [rPrime, r, omegaPrime] = await Promise.all([
    witnessScalars(seed, WITNESS_LIST.rPrime, start * w, count * w),
    witnessScalars(seed, WITNESS_LIST.r, start, count),
    witnessScalars(seed, WITNESS_LIST.omegaPrime, start, count),
  ]);
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
 * Blocks lo..hi−1 of the challenge "u" of a batch of n (64 bytes each, indexed by position):
 * SHA-512(seed ‖ u32be(j)) as `Transcript.challenge` expands it; for n = 1 the one block is
 * the seed itself.
 *
 * @param uSeed the 64-byte seed of challenge "u"
 * @param n ciphertexts in the batch
 * @param lo first block
 * @param hi end block (exclusive)
 * @returns 64·(hi − lo) bytes
 */
export function challengeBlocksAt(
  uSeed: Uint8Array,
  n: number,
  lo: number,
  hi: number,
): Uint8Array {
  if (n === 1) return uSeed.slice(0, 64);
  return expandSha512At(uSeed, Uint32Array.from({ length: hi - lo }, (_, k) => lo + k));
}

/**
 * The verifier's weights δ_lo..δ_{hi−1} (16 bytes each): the first 16 bytes of
 * SHA-512(seed ‖ u32be(i)) for a secret per-verification seed, so no list of N weights is
 * kept and each chunk's are expanded on its worker (issue 17).
 *
 * @param deltaSeed the 64-byte seed
 * @param lo first position
 * @param hi end position (exclusive)
 * @returns 16·(hi − lo) bytes
 */
export function deltasAt(deltaSeed: Uint8Array, lo: number, hi: number): Uint8Array {
  const blocks = expandSha512At(deltaSeed, Uint32Array.from({ length: hi - lo }, (_, k) => lo + k));
  const out = new Uint8Array(16 * (hi - lo));
  for (let k = 0; k < hi - lo; k++) out.set(blocks.subarray(64 * k, 64 * k + 16), 16 * k);
  return out;
}

/**
 * A verification chunk's challenge blocks and weights from their seeds: arg `u` is the seed of
 * challenge "u" then N (u32be; 68 bytes), arg `delta` the seed of the δᵢ (64 bytes).
 */
function expandChunkSeeds(
  u: Uint8Array,
  delta: Uint8Array,
  start: number,
  count: number,
): { uWide: Uint8Array; delta: Uint8Array } {
  if (u.length !== 68 || delta.length !== 64) {
    throw new InvalidInputError("Shuffle verification chunk has the wrong seeds");
  }
  const n = new DataView(u.buffer, u.byteOffset + 64, 4).getUint32(0);
  return {
    uWide: challengeBlocksAt(u.subarray(0, 64), n, start, start + count),
    delta: deltasAt(delta, start, start + count),
  };
}

/**
 * The challenges u′ᵢ = u_{ψ(i)} of a chunk (Alg. 8.4), reduced: blocks ψ(i) of the
 * transcript's challenge "u", SHA-512(seed ‖ u32be(ψ(i))), expanded here from its seed
 * (docs/transcript.md), so the caller keeps no O(N) list of them (issue 17).
 *
 * @param uSeed the 64-byte seed of challenge "u"
 * @param psiBytes ψ(i) of the chunk's positions (count u32, little-endian; empty for a batch
 *   of one, whose 64-byte challenge is the seed itself)
 * @param count positions in the chunk
 * @returns the count challenges, in output order
 */
function chunkChallenges(uSeed: Uint8Array, psiBytes: Uint8Array, count: number): bigint[] {
  if (psiBytes.length === 0 && count === 1) return challengesOf(uSeed.slice(0, 64), 1);
  if (psiBytes.length !== 4 * count) throw new InvalidInputError("Shuffle chunk has the wrong ψ");
  const psi = new DataView(psiBytes.buffer, psiBytes.byteOffset, psiBytes.byteLength);
  const indices = Array.from({ length: count }, (_, i) => psi.getUint32(4 * i, true));
  return challengesOf(expandSha512At(uSeed, indices), count);
}

/**
 * Between phases 1 and 2, per chunk: the chain Rᵢ = r̂ᵢ + u′ᵢ·Rᵢ₋₁ (Alg. 8.3), with
 * u′ᵢ = u_{ψ(i)} expanded here ({@linkcode chunkChallenges}), which is affine in the chunk's
 * starting value, R_end = A + B·R_start with B = ∏u′ᵢ (and U_end = B·U_start), so chunks
 * compute (A, B) independently and the caller chains the few blocks. The chunk's shares of
 * the response sums come with them (Alg. 8.4): Σrᵢ, Σrᵢu′ᵢ, Σr′ᵢₖu′ᵢ.
 * Args: header, witness seed, the seed of challenge "u" (64), ψ(i) of the chunk's positions
 * (count u32, little-endian; empty for a batch of one, whose 64-byte challenge is the seed).
 * Result: A, B, Σrᵢ, Σrᵢu′ᵢ, then Σr′ᵢₖu′ᵢ for each element k (packed scalars).
 *
 * @param args see above
 * @returns see above
 */
export async function proveChainBlock(args: Uint8Array[]): Promise<Uint8Array[]> {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const seed = arg(args, 1);
  const u = chunkChallenges(arg(args, 2), arg(args, 3), count);
  const [rHat, r, rPrime] = await Promise.all([
    witnessScalars(seed, WITNESS_LIST.rHat, start, count),
    witnessScalars(seed, WITNESS_LIST.r, start, count),
    witnessScalars(seed, WITNESS_LIST.rPrime, start * w, count * w),
  ]);
  let a = 0n, b = 1n, rSum = 0n, ruSum = 0n;
  const rPrimeSums: bigint[] = new Array(w).fill(0n);
  for (let i = 0; i < count; i++) {
    const ui = u[i]!;
    a = modL(rHat[i]! + ui * a);
    b = modL(ui * b);
    rSum += r[i]!;
    ruSum += r[i]! * ui;
    for (let k = 0; k < w; k++) rPrimeSums[k]! += rPrime[i * w + k]! * ui;
  }
  return [packScalars([a, b, rSum, ruSum, ...rPrimeSums])];
}

/**
 * Phase 2: ĉᵢ = g^{Rᵢ}·h^{Uᵢ} and t̂ᵢ = g^{aᵢ}·h^{bᵢ}, the closed forms of the sequential
 * chain ĉᵢ = g^{r̂ᵢ}·ĉᵢ₋₁^{u′ᵢ} and t̂ᵢ = g^{ω̂ᵢ}·ĉᵢ₋₁^{ω′ᵢ} (Alg. 8.3, 8.4), with
 * aᵢ = ω̂ᵢ + ω′ᵢRᵢ₋₁ and bᵢ = ω′ᵢUᵢ₋₁, from the chunk's starting R and U.
 * Args: header, witness seed, the seed of challenge "u" and ψ of the chunk (as
 * {@linkcode proveChainBlock}), R_{start−1} and U_{start−1} (2 scalars).
 * Result: ĉ chunk, t̂ chunk.
 *
 * @param args see above
 * @returns see above
 */
export async function provePhase2(args: Uint8Array[]): Promise<Uint8Array[]> {
  const { start, count } = readHeader(arg(args, 0));
  const seed = arg(args, 1);
  const u = chunkChallenges(arg(args, 2), arg(args, 3), count);
  const [r0, u0] = unpackScalars(arg(args, 4), "chain start") as [bigint, bigint];
  const [rHat, omegaHat, omegaPrime] = await Promise.all([
    witnessScalars(seed, WITNESS_LIST.rHat, start, count),
    witnessScalars(seed, WITNESS_LIST.omegaHat, start, count),
    witnessScalars(seed, WITNESS_LIST.omegaPrime, start, count),
  ]);
  // Rᵢ, Uᵢ and t̂ᵢ's exponents aᵢ = ω̂ᵢ + ω′ᵢRᵢ₋₁, bᵢ = ω′ᵢUᵢ₋₁ (Alg. 8.3, 8.4).
  const R: bigint[] = new Array(count), U: bigint[] = new Array(count);
  const a: bigint[] = new Array(count), b: bigint[] = new Array(count);
  let prevR = r0, prevU = u0;
  for (let i = 0; i < count; i++) {
    a[i] = modL(omegaHat[i]! + omegaPrime[i]! * prevR);
    b[i] = modL(omegaPrime[i]! * prevU);
    R[i] = prevR = modL(rHat[i]! + u[i]! * prevR);
    U[i] = prevU = modL(u[i]! * prevU);
  }
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
 * Phase 3: the responses ŝᵢ = ω̂ᵢ + c·r̂ᵢ and s′ᵢ = ω′ᵢ + c·u′ᵢ (Alg. 8.4) of a chunk.
 * Args: header, witness seed, the seed of challenge "u" and ψ of the chunk (as
 * {@linkcode proveChainBlock}), c (1 scalar).
 * Result: ŝ chunk, s′ chunk (count·32 each).
 *
 * @param args see above
 * @returns see above
 */
export async function proveResponses(args: Uint8Array[]): Promise<Uint8Array[]> {
  const { start, count } = readHeader(arg(args, 0));
  const seed = arg(args, 1);
  const u = chunkChallenges(arg(args, 2), arg(args, 3), count);
  const c = decodeScalar(arg(args, 4), "challenge");
  const [rHat, omegaHat, omegaPrime] = await Promise.all([
    witnessScalars(seed, WITNESS_LIST.rHat, start, count),
    witnessScalars(seed, WITNESS_LIST.omegaHat, start, count),
    witnessScalars(seed, WITNESS_LIST.omegaPrime, start, count),
  ]);
  const sHat: bigint[] = new Array(count), sPrime: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    sHat[i] = omegaHat[i]! + c * rHat[i]!;
    sPrime[i] = omegaPrime[i]! + c * u[i]!;
  }
  return [packScalars(sHat), packScalars(sPrime)];
}

/**
 * One chunk of the batched verification equation (see shuffle_proof.ts, Haenni et al.
 * Alg. 8.5 batched with random weights): computes the chunk's coefficients from the
 * challenges, responses and weights, decodes the chunk's inputs, outputs, cᵢ, ĉᵢ, t̂ᵢ, and
 * returns Σ coefficient·point over them and hᵢ, with the chunk's share of the global terms.
 * The coefficients are computed here, not on the calling thread (issue 17: no serial O(N)
 * scalar work there).
 * Args: header; inputs, outputs (count·64w each); c, ĉ, t̂ (count·32 each); the seed of
 * challenge "u" and N (64 + 4 bytes: the blocks uᵢ of the chunk are expanded here); s′ᵢ and
 * ŝᵢ (count·32 each); the seed of the weights δᵢ (64 bytes, {@linkcode deltasAt}); the next
 * position's s′ and δ (48 bytes; empty for the batch's last chunk); the challenge c and the weights
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

/** The coefficients of one chunk of one shuffle proof's batched equation. */
export interface ShuffleChunkCoefficients {
  /** Per input element (c1 then c2, element-major per ciphertext). */
  coefIn: bigint[];
  /** Per output element (same order). */
  coefOut: bigint[];
  /** Per permutation commitment cᵢ. */
  coefC: bigint[];
  /** Per chain commitment ĉᵢ. */
  coefChain: bigint[];
  /** Per chain proof commitment t̂ᵢ: −δᵢ. */
  coefT: bigint[];
  /** Per generator hᵢ. */
  coefH: bigint[];
  /** Σ δᵢ·ŝᵢ over the chunk (not reduced). */
  deltaSHat: bigint;
  /** ∏ uᵢ over the chunk (mod ℓ). */
  uProd: bigint;
}

/**
 * The coefficients of one chunk of the batched verification equation of a shuffle proof
 * (Haenni et al. Alg. 8.5, all equations weighted at random): see {@linkcode verifyChunk}
 * for the byte arguments.
 *
 * @param chunk width, start, count and the chunk's byte arguments
 * @returns the coefficients and the chunk's Σ δᵢ·ŝᵢ and ∏ uᵢ
 * @throws {InvalidInputError} on wrong sizes or a non-canonical response
 */
export function shuffleChunkCoefficients(chunk: {
  width: number;
  start: number;
  count: number;
  uWide: Uint8Array;
  sPrime: Uint8Array;
  sHat: Uint8Array;
  delta: Uint8Array;
  next: Uint8Array;
  globals: Uint8Array;
}): ShuffleChunkCoefficients {
  const { width: w, start, count, uWide, next } = chunk;
  const deltaBytes = chunk.delta;
  const sPrime = unpackScalars(chunk.sPrime, `permutation responses from ${start}`);
  const sHat = unpackScalars(chunk.sHat, `chain responses from ${start}`);
  const globals = unpackScalars(chunk.globals, "challenge and weights");
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
  return { coefIn, coefOut, coefC, coefChain, coefT, coefH, deltaSHat, uProd };
}

function verifyChunkTerms(args: Uint8Array[]): Uint8Array[] {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const { coefIn, coefOut, coefC, coefChain, coefT, coefH, deltaSHat, uProd } =
    shuffleChunkCoefficients({
      width: w,
      start,
      count,
      ...expandChunkSeeds(arg(args, 6), arg(args, 9), start, count),
      sPrime: arg(args, 7),
      sHat: arg(args, 8),
      next: arg(args, 10),
      globals: arg(args, 11),
    });
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

/**
 * One chunk of the joint equation of a chain of M shuffle proofs, where proof m's outputs
 * are proof m+1's inputs (a mix cascade; see shuffle_proof.ts `verifyShuffleChain`): each
 * proof's equation is weighted as in {@linkcode verifyChunk}, and all are summed, so a
 * ciphertext between two mixers is decoded once (not as one mixer's output and again as the
 * next one's input) and every generator hᵢ once for all proofs.
 * Args: header (width, start, count); M (u32be); the M+1 lists L₀..L_M of the chunk's
 * ciphertexts (count·64w each; L₀ the first proof's inputs, L_m proof m's outputs); for each
 * proof the nine arguments 3–11 of {@linkcode verifyChunk}; the encodings of
 * h_{start+1}..h_{start+count}.
 * Result: the partial sum (identity allowed), then per proof Σ δᵢ·ŝᵢ and ∏ uᵢ (scalars).
 *
 * @param args see above
 * @returns see above
 * @throws {VerificationError} when an element or a response is malformed (the caller then
 *   verifies the proofs one by one to name it)
 */
export function verifyChainChunk(args: Uint8Array[]): Uint8Array[] {
  try {
    return verifyChainChunkTerms(args);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new VerificationError(`Shuffle chain rejected: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function verifyChainChunkTerms(args: Uint8Array[]): Uint8Array[] {
  const { width: w, start, count } = readHeader(arg(args, 0));
  const stepsBytes = arg(args, 1);
  if (stepsBytes.length !== 4) throw new InvalidInputError("Shuffle chain chunk has no count");
  const steps = new DataView(stepsBytes.buffer, stepsBytes.byteOffset, 4).getUint32(0);
  if (steps < 1 || args.length !== 2 + (steps + 1) + 9 * steps + 1) {
    throw new InvalidInputError("Shuffle chain chunk has the wrong number of arguments");
  }
  const listBytes = count * 2 * w * ELEMENT_BYTES;
  const lists = Array.from({ length: steps + 1 }, (_, j) => arg(args, 2 + j));
  if (lists.some((l) => l.length !== listBytes)) {
    throw new InvalidInputError("Shuffle chain chunk has the wrong ciphertext sizes");
  }
  const generatorBytes = arg(args, args.length - 1);
  if (generatorBytes.length !== 32 * count) {
    throw new InvalidInputError("Shuffle chain chunk has the wrong generators");
  }
  const points: Uint8Array[] = [], scalars: bigint[][] = [];
  const sums: Uint8Array[] = [];
  let between: bigint[] | undefined; // proof m−1's output coefficients, to add to proof m's input ones
  let coefH: bigint[] | undefined;
  for (let m = 0; m < steps; m++) {
    const at = 2 + (steps + 1) + 9 * m;
    const [c, chain, tHat] = [arg(args, at), arg(args, at + 1), arg(args, at + 2)];
    if (c.length !== 32 * count || chain.length !== 32 * count || tHat.length !== 32 * count) {
      throw new InvalidInputError("Shuffle chain chunk has the wrong commitment sizes");
    }
    const co = shuffleChunkCoefficients({
      width: w,
      start,
      count,
      ...expandChunkSeeds(arg(args, at + 3), arg(args, at + 6), start, count),
      sPrime: arg(args, at + 4),
      sHat: arg(args, at + 5),
      next: arg(args, at + 7),
      globals: arg(args, at + 8),
    });
    // L_m is proof m−1's output and proof m's input: one point, the two coefficients summed.
    points.push(lists[m]!);
    scalars.push(between === undefined ? co.coefIn : addScalars(between, co.coefIn));
    between = co.coefOut;
    points.push(c, chain, tHat);
    scalars.push(co.coefC, co.coefChain, co.coefT);
    coefH = coefH === undefined ? co.coefH : addScalars(coefH, co.coefH);
    sums.push(encodeScalar(co.deltaSHat), encodeScalar(co.uProd));
  }
  points.push(lists[steps]!, generatorBytes);
  scalars.push(between!, coefH!);
  const pointBytes = concatBytes(...points);
  const direct = multiScalarMulEncoded(pointBytes, concatBytes(...scalars.map(packScalars)));
  if (typeof direct === "object") return [encodePoint(direct), ...sums];
  if (typeof direct === "number") {
    throw new InvalidInputError(`Shuffle chain chunk from ${start}: element ${direct} is invalid`);
  }
  // No WebAssembly: decode them all (a bad element throws).
  const decoded = unpackPoints(pointBytes, `shuffle chain elements from ${start}`);
  return [multiScalarMul(decoded, scalars.flat()).toBytes(), ...sums];
}

/** (aᵢ + bᵢ) mod ℓ. */
function addScalars(a: readonly bigint[], b: readonly bigint[]): bigint[] {
  return a.map((x, i) => modL(x + b[i]!));
}

registerWorkerTask(PROVE_PHASE1_TASK, provePhase1);
registerWorkerTask(PROVE_PHASE2_TASK, provePhase2);
registerWorkerTask(PROVE_BLOCKS_TASK, proveChainBlock);
registerWorkerTask(PROVE_RESPONSES_TASK, proveResponses);
registerWorkerTask(VERIFY_TASK, verifyChunk);
registerWorkerTask(VERIFY_CHAIN_TASK, verifyChainChunk);
registerWorkerTask(GENERATORS_TASK, (args) => {
  const { start, count } = readHeader(arg(args, 0));
  return [deriveGeneratorBytes(start + 1, count)];
});
