/**
 * Batched decryption shares: trustee j publishes dᵢₖ = c1ᵢₖ^{xⱼ} for every element k of
 * every ciphertext i of a batch and ONE Chaum–Pedersen proof for all of them. Small
 * exponents ρᵢₖ (128 bits) derived by Fiat–Shamir from the whole statement fold the batch
 * into C = Σ ρᵢₖ·c1ᵢₖ and D = Σ ρᵢₖ·dᵢₖ (small-exponent batching, Bellare–Garay–Rabin 1998,
 * "Fast batch verification for modular exponentiation and digital signatures", §3.2); the
 * proof shows log_g(yⱼ) = log_C(D) (Chaum–Pedersen 1992, §3.2). A wrong share survives with
 * probability ≤ 2⁻¹²⁸ over ρ.
 *
 * Transcript "panoramix/reencrypt/decryption-share-batch/v1": group, trustee, verification
 * key, width, count, ciphertexts, shares → challenge `rho` (16 bytes per element); then C,
 * D, A = g^ω, B = C^ω → challenge `e` (strong Fiat–Shamir: e hashes the whole statement).
 * The proof is (e, z) with z = ω + e·xⱼ.
 *
 * @module
 */

import { joinBytes } from "../../core/bytes.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import { Transcript } from "../../core/transcript.ts";
import { runWorkerJobs, workerCount } from "../../core/worker_pool.ts";
import type { SecretShare } from "./decryption.ts";
import {
  chunkHeader,
  SHARE_BATCH_COMBINE_TASK,
  SHARE_BATCH_CREATE_TASK,
} from "./decryption_batch_tasks.ts";
import type { Ciphertext } from "./elgamal.ts";
import { guidedChunks } from "./shuffle_tasks.ts";
import {
  BASE_POINT,
  ELEMENT_BYTES,
  encodeScalar,
  fixedBase,
  GROUP_LABEL,
  IDENTITY,
  modL,
  packPoints,
  type Point,
  randomScalar,
  scalarFromWide,
  unpackPoints,
} from "./group.ts";

/** Protocol label of batched decryption share proofs. */
export const DECRYPTION_SHARE_BATCH_LABEL = "panoramix/reencrypt/decryption-share-batch/v2";

/** One trustee's decryption shares of a batch of ciphertexts with one proof. */
export interface DecryptionShareBatch {
  /** Trustee index, 1..n. */
  index: number;
  /** `shares[i][k]` = c1ᵢₖ^{xⱼ}, per ciphertext, per element. */
  shares: Point[][];
  /** The Chaum–Pedersen proof of log_g(yⱼ) = log_C(D). */
  proof: { challenge: bigint; response: bigint };
}

/**
 * The same batch with the shares as canonical bytes: `shares` is d₁₁..d₁w … d_N1..d_Nw
 * (32·N·w bytes), so callers that store or ship bytes skip re-encoding.
 */
export interface PackedDecryptionShareBatch {
  /** Trustee index, 1..n. */
  index: number;
  /** Ciphertext width w. */
  width: number;
  /** The packed shares, ciphertext-major. */
  shares: Uint8Array;
  /** The Chaum–Pedersen proof of log_g(yⱼ) = log_C(D). */
  proof: { challenge: bigint; response: bigint };
}

/** Options of the batch functions that split work over workers. */
export interface ShareBatchWorkerOptions {
  /** Workers (default the shared pool size; 1 = this thread). */
  workers?: number;
  /**
   * Bytes the proof binds to (e.g. an election fingerprint; default empty); the verifier must
   * give the same bytes.
   */
  context?: Uint8Array;
  /**
   * Progress: called as chunks finish with the ciphertexts done and the total (the share
   * multiplications when creating, the multi-scalar multiplications when verifying).
   */
  onChunk?: (done: number, total: number) => void;
}

/** Maps jobs done to ciphertexts done for a progress callback. */
function jobProgress(
  n: number,
  onChunk: ((done: number, total: number) => void) | undefined,
): { onJobDone?: (done: number, total: number) => void } {
  if (onChunk === undefined) return {};
  return { onJobDone: (done, total) => onChunk(Math.round((n * done) / total), n) };
}

function batchWidth(ciphertexts: readonly Ciphertext[]): number {
  const w = ciphertexts[0]?.width;
  if (w === undefined) throw new InvalidInputError("Decryption share batch has no ciphertexts");
  ciphertexts.forEach((ct, i) => {
    if (ct.width !== w) {
      throw new InvalidInputError(
        `Ciphertext '${i}' has width ${ct.width}, the batch ${w}`,
      );
    }
  });
  return w;
}

/** The statement transcript up to and including the ρ challenge. */
function statement(
  index: number,
  options: {
    verificationKey: Point;
    width: number;
    ciphertexts: Uint8Array;
    shares: Uint8Array;
    context: Uint8Array | undefined;
  },
): { transcript: Transcript; rho: Uint8Array } {
  const t = new Transcript(DECRYPTION_SHARE_BATCH_LABEL);
  const count = options.ciphertexts.length / (2 * ELEMENT_BYTES * options.width);
  t.append("group", new TextEncoder().encode(GROUP_LABEL));
  t.append("context", options.context ?? new Uint8Array(0));
  t.appendNumber("trustee", index);
  t.append("verification-key", options.verificationKey.toBytes());
  t.appendNumber("width", options.width);
  t.appendNumber("count", count);
  t.append("ciphertexts", options.ciphertexts);
  t.append("shares", options.shares);
  // ρᵢₖ: 128-bit small exponents from the whole statement (Bellare–Garay–Rabin 1998, §3.2).
  // Kept as bytes (16 little-endian bytes each): the workers read them, no O(N) list of
  // integers on this thread (issue 17).
  return { transcript: t, rho: t.challenge("rho", 16 * count * options.width) };
}

/** 16-byte little-endian ρ values as 32-byte scalars (zero high halves), for the workers. */
function widenRho(rho: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 * rho.length);
  for (let e = 0; e < rho.length; e += 16) out.set(rho.subarray(e, e + 16), 2 * e);
  return out;
}

/** Σ ρ·c1 and (when shares are given) Σ ρ·d, split over workers. */
async function foldBatch(
  options: {
    width: number;
    ciphertexts: Uint8Array;
    shares: Uint8Array | undefined;
    rho: Uint8Array;
    workers: number;
    onChunk?: (done: number, total: number) => void;
  },
): Promise<{ c: Point; d: Point }> {
  const { width, ciphertexts, shares, rho } = options;
  const n = rho.length / (16 * width);
  const ctSize = 2 * ELEMENT_BYTES * width, shSize = ELEMENT_BYTES * width;
  const parts = guidedChunks(n, options.workers);
  // Each chunk's arguments are built when it starts (issue 17).
  const argsOf = (p: number) => {
    const [lo, hi] = parts[p]!;
    return [
      // Copies: the pool transfers (detaches) argument buffers.
      chunkHeader(width, lo, hi - lo),
      ciphertexts.slice(lo * ctSize, hi * ctSize),
      shares === undefined ? new Uint8Array(0) : shares.slice(lo * shSize, hi * shSize),
      widenRho(rho.subarray(16 * lo * width, 16 * hi * width)),
    ];
  };
  const partials = await runWorkerJobs(SHARE_BATCH_COMBINE_TASK, {
    count: parts.length,
    args: argsOf,
  }, {
    workers: options.workers,
    ...jobProgress(n, options.onChunk),
  });
  let c = IDENTITY, d = IDENTITY;
  for (const [cBytes, dBytes] of partials) {
    c = c.add(unpackPoints(cBytes!, "partial C", { allowIdentity: true })[0]!);
    if (shares !== undefined) {
      d = d.add(unpackPoints(dBytes!, "partial D", { allowIdentity: true })[0]!);
    }
  }
  return { c, d };
}

function proofChallenge(
  t: Transcript,
  points: { c: Point; d: Point; a: Point; b: Point },
): bigint {
  t.append("combined-c1", points.c.toBytes());
  t.append("combined-shares", points.d.toBytes());
  t.append("commitment-g", points.a.toBytes());
  t.append("commitment-c", points.b.toBytes());
  return scalarFromWide(t.challenge("e", 64));
}

/**
 * Creates a trustee's decryption shares of a batch of ciphertexts (all of one width) with
 * one batched Chaum–Pedersen proof, the shares as canonical bytes.
 *
 * @param share the trustee's secret share
 * @param ciphertexts the batch (at least one ciphertext)
 * @param options `random` for the proof nonce; `workers` (default the shared pool size)
 * @returns the packed shares and the proof
 * @throws {InvalidInputError} on an empty batch, mixed widths or a zero secret
 * @example
 * ```ts
 * import { createPackedDecryptionShareBatch, verifyPackedDecryptionShareBatch } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ciphertexts = [encrypt(keys.publicKey, [encodeInteger(4)])];
 * const batch = await createPackedDecryptionShareBatch({ index: 1, secret: keys.secretKey }, ciphertexts, { workers: 1 });
 * await verifyPackedDecryptionShareBatch(batch, { ciphertexts, verificationKey: keys.publicKey, workers: 1 });
 * ```
 */
export async function createPackedDecryptionShareBatch(
  share: SecretShare,
  ciphertexts: readonly Ciphertext[],
  options: ShareBatchWorkerOptions & { random?: RandomSource } = {},
): Promise<PackedDecryptionShareBatch> {
  const width = batchWidth(ciphertexts);
  const x = modL(share.secret);
  if (x === 0n) throw new InvalidInputError("Secret share 'secret' must not be zero");
  const workers = options.workers ?? workerCount();
  const n = ciphertexts.length;
  const ctBytes = joinBytes(ciphertexts.map((ct) => ct.bytes));
  const ctSize = 2 * ELEMENT_BYTES * width;
  const secret = encodeScalar(x);
  // dᵢₖ = c1ᵢₖ^{xⱼ} on workers (constant-time multiply of the secret scalar).
  const ranges = guidedChunks(n, workers);
  const parts = await runWorkerJobs(SHARE_BATCH_CREATE_TASK, {
    count: ranges.length,
    // Built when the chunk starts (issue 17); copies, as the pool transfers argument buffers.
    args: (p) => {
      const [lo, hi] = ranges[p]!;
      return [
        chunkHeader(width, lo, hi - lo),
        secret.slice(),
        ctBytes.slice(lo * ctSize, hi * ctSize),
      ];
    },
  }, { workers, ...jobProgress(n, options.onChunk) });
  const shareBytes = joinBytes(parts.map((p) => p[0]!));
  const vk = fixedBase(BASE_POINT).multiply(x); // yⱼ = g^{xⱼ}
  const { transcript, rho } = statement(share.index, {
    verificationKey: vk,
    width,
    ciphertexts: ctBytes,
    shares: shareBytes,
    context: options.context,
  });
  // C = Σ ρ·c1 (MSM); D = Σ ρ·d = xⱼ·C for an honest prover.
  const { c } = await foldBatch({ width, ciphertexts: ctBytes, shares: undefined, rho, workers });
  const d = c.multiply(x);
  const omega = randomScalar(options.random);
  const a = fixedBase(BASE_POINT).multiply(omega); // A = g^ω
  const b = c.multiply(omega); // B = C^ω
  const e = proofChallenge(transcript, { c, d, a, b });
  return {
    index: share.index,
    width,
    shares: shareBytes,
    proof: { challenge: e, response: modL(omega + e * x) }, // z = ω + e·xⱼ
  };
}

/**
 * Creates a trustee's decryption shares of a batch of ciphertexts (all of one width) with
 * one batched Chaum–Pedersen proof.
 *
 * @param share the trustee's secret share
 * @param ciphertexts the batch (at least one ciphertext)
 * @param options `random` for the proof nonce; `workers` (default the shared pool size)
 * @returns the shares and the proof
 * @throws {InvalidInputError} on an empty batch, mixed widths or a zero secret
 * @example
 * ```ts
 * import { createDecryptionShareBatch, verifyDecryptionShareBatch } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ciphertexts = [1, 2].map((v) => encrypt(keys.publicKey, [encodeInteger(v)]));
 * const batch = await createDecryptionShareBatch({ index: 1, secret: keys.secretKey }, ciphertexts, { workers: 1 });
 * await verifyDecryptionShareBatch(batch, { ciphertexts, verificationKey: keys.publicKey, workers: 1 });
 * ```
 */
export async function createDecryptionShareBatch(
  share: SecretShare,
  ciphertexts: readonly Ciphertext[],
  options: ShareBatchWorkerOptions & { random?: RandomSource } = {},
): Promise<DecryptionShareBatch> {
  const packed = await createPackedDecryptionShareBatch(share, ciphertexts, options);
  const flat = unpackPoints(packed.shares, "share");
  const shares: Point[][] = [];
  for (let i = 0; i < ciphertexts.length; i++) {
    shares.push(flat.slice(i * packed.width, (i + 1) * packed.width));
  }
  return { index: packed.index, shares, proof: packed.proof };
}

/**
 * Checks a trustee's batch of decryption shares against its verification key: two
 * multi-scalar multiplications over the batch plus a constant number of multiplications.
 *
 * @param batch the shares and proof
 * @param options the ciphertexts, the trustee's verification key yⱼ, `workers`
 * @throws {VerificationError} "Decryption share batch of trustee j is invalid" (or names
 *   the shape mismatch)
 * @example
 * ```ts
 * import { createDecryptionShareBatch, verifyDecryptionShareBatch } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ciphertexts = [encrypt(keys.publicKey, [encodeInteger(3)])];
 * const batch = await createDecryptionShareBatch({ index: 1, secret: keys.secretKey }, ciphertexts, { workers: 1 });
 * await verifyDecryptionShareBatch(batch, { ciphertexts, verificationKey: keys.publicKey, workers: 1 });
 * ```
 */
export async function verifyDecryptionShareBatch(
  batch: DecryptionShareBatch,
  options: ShareBatchWorkerOptions & {
    ciphertexts: readonly Ciphertext[];
    verificationKey: Point;
  },
): Promise<void> {
  const { ciphertexts } = options;
  const who = `trustee ${batch.index}`;
  if (ciphertexts.length === 0 || batch.shares.length !== ciphertexts.length) {
    throw new VerificationError(
      `Decryption share batch of ${who} has ${batch.shares.length} shares for ${ciphertexts.length} ciphertexts`,
    );
  }
  const width = ciphertexts[0]!.width;
  batch.shares.forEach((s, i) => {
    if (s.length !== width) {
      throw new VerificationError(
        `Decryption share batch of ${who}: share ${i} has ${s.length} elements, the batch width is ${width}`,
      );
    }
  });
  await verifyPackedDecryptionShareBatch({
    index: batch.index,
    width,
    shares: joinBytes(batch.shares.map((s) => packPoints(s))),
    proof: batch.proof,
  }, options);
}

/**
 * Checks a trustee's packed batch of decryption shares against its verification key (the
 * shares are decoded and validated on the workers).
 *
 * @param batch the packed shares and proof
 * @param options the ciphertexts, the trustee's verification key yⱼ, `workers`
 * @throws {VerificationError} "Decryption share batch of trustee j is invalid" (or names
 *   the shape mismatch or the invalid element)
 * @example
 * ```ts
 * import { createPackedDecryptionShareBatch, verifyPackedDecryptionShareBatch } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ciphertexts = [encrypt(keys.publicKey, [encodeInteger(3)])];
 * const batch = await createPackedDecryptionShareBatch({ index: 1, secret: keys.secretKey }, ciphertexts, { workers: 1 });
 * await verifyPackedDecryptionShareBatch(batch, { ciphertexts, verificationKey: keys.publicKey, workers: 1 });
 * ```
 */
export async function verifyPackedDecryptionShareBatch(
  batch: PackedDecryptionShareBatch,
  options: ShareBatchWorkerOptions & {
    ciphertexts: readonly Ciphertext[];
    verificationKey: Point;
  },
): Promise<void> {
  const { ciphertexts, verificationKey } = options;
  const who = `trustee ${batch.index}`;
  const width = batch.width;
  const n = ciphertexts.length;
  if (n === 0 || batch.shares.length !== n * width * ELEMENT_BYTES) {
    throw new VerificationError(
      `Decryption share batch of ${who} has ${batch.shares.length} bytes of shares for ${n} ciphertexts of width ${width}`,
    );
  }
  ciphertexts.forEach((ct, i) => {
    if (ct.width !== width) {
      throw new VerificationError(
        `Decryption share batch of ${who}: ciphertext ${i} has width ${ct.width}, the batch ${width}`,
      );
    }
  });
  const workers = options.workers ?? workerCount();
  const ctBytes = joinBytes(ciphertexts.map((ct) => ct.bytes));
  const { transcript, rho } = statement(batch.index, {
    verificationKey,
    width,
    ciphertexts: ctBytes,
    shares: batch.shares,
    context: options.context,
  });
  let folded: { c: Point; d: Point };
  try {
    // C = Σ ρ·c1, D = Σ ρ·d (two MSMs, Bellare–Garay–Rabin small-exponent test).
    folded = await foldBatch({
      width,
      ciphertexts: ctBytes,
      shares: batch.shares,
      rho,
      workers,
      ...(options.onChunk === undefined ? {} : { onChunk: options.onChunk }),
    });
  } catch (error) {
    if (error instanceof VerificationError) {
      throw new VerificationError(`Decryption share batch of ${who} is invalid: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  const { c, d } = folded;
  const { challenge: e, response: z } = batch.proof;
  // Recompute A = g^z·yⱼ^{−e} and B = C^z·D^{−e} (Chaum–Pedersen verification).
  const minusE = modL(-e);
  const a = fixedBase(BASE_POINT).multiply(modL(z)).add(verificationKey.multiplyUnsafe(minusE));
  const b = c.multiplyUnsafe(modL(z)).add(d.multiplyUnsafe(minusE));
  if (proofChallenge(transcript, { c, d, a, b }) !== e) {
    throw new VerificationError(`Decryption share batch of ${who} is invalid`);
  }
}
