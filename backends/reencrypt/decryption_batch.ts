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
 * The record versions (`…Records`, issue 17) are the implementation: ciphertexts and shares
 * are record lists read a chunk at a time (statement hashing, ρ expansion and the worker
 * jobs), so memory holds the chunks in flight; the array functions wrap them.
 *
 * @module
 */

import { joinBytes } from "../../core/bytes.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  allRecords,
  memoryRecords,
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import { expandSha512At } from "../../core/sha512_wasm.ts";
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

/** Records hashed per read when the statement is framed into the transcript. */
const HASH_CHUNK = 4096;

/**
 * One trustee's decryption shares of a batch with one proof, the shares as a record list
 * (32·w-byte records, one per ciphertext, in order).
 */
export interface PackedDecryptionShareBatchRecords {
  /** Trustee index, 1..n. */
  index: number;
  /** Ciphertext width w. */
  width: number;
  /** The shares dᵢ₁..dᵢw of ciphertext i as record i. */
  shares: RecordSource;
  /** The Chaum–Pedersen proof of log_g(yⱼ) = log_C(D). */
  proof: { challenge: bigint; response: bigint };
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

/** Ciphertexts of one width as 64·w-byte records (one copy into one buffer). */
function ciphertextList(ciphertexts: readonly Ciphertext[], width: number): RecordSource {
  return memoryRecords(joinBytes(ciphertexts.map((ct) => ct.bytes)), 2 * ELEMENT_BYTES * width);
}

/**
 * The statement transcript up to (not including) the ρ challenge: group, context, trustee,
 * verification key, width, count, then the ciphertexts and the shares, each framed as one
 * message but read a chunk at a time (the same hash as appending the whole list).
 */
function openStatement(
  index: number,
  options: {
    verificationKey: Point;
    width: number;
    count: number;
    context: Uint8Array | undefined;
  },
): Transcript {
  const t = new Transcript(DECRYPTION_SHARE_BATCH_LABEL);
  t.append("group", new TextEncoder().encode(GROUP_LABEL));
  t.append("context", options.context ?? new Uint8Array(0));
  t.appendNumber("trustee", index);
  t.append("verification-key", options.verificationKey.toBytes());
  t.appendNumber("width", options.width);
  t.appendNumber("count", options.count);
  return t;
}

/** Frames a whole record list as one transcript message, reading HASH_CHUNK records at a time. */
function appendRecords(t: Transcript, label: string, records: RecordSource): void {
  const feed = t.appendInParts(label, records.count * records.recordBytes);
  for (let lo = 0; lo < records.count; lo += HASH_CHUNK) {
    feed(records.read(lo, Math.min(records.count, lo + HASH_CHUNK)));
  }
}

/**
 * The ρ challenge (16 little-endian bytes per element) handed out a ciphertext range at a
 * time, in order: each range's bytes are expanded from the challenge seed when asked for and
 * framed into the transcript then, so no O(N) buffer of ρ is held (issue 17). The bytes are
 * those of `challenge("rho", 16·N·w)`.
 */
function rhoChallenge(
  t: Transcript,
  options: { count: number; width: number },
): (lo: number, hi: number) => Uint8Array {
  const { width } = options;
  const length = 16 * options.count * width;
  // ρᵢₖ: 128-bit small exponents from the whole statement (Bellare–Garay–Rabin 1998, §3.2).
  if (length <= SHA512_BYTES) {
    const all = t.challenge("rho", length);
    return (lo, hi) => all.subarray(16 * lo * width, 16 * hi * width);
  }
  const seed = t.challengeSeed("rho");
  const feed = t.appendChallengeInParts("rho", length);
  let next = 0;
  return (lo, hi) => {
    if (lo !== next) {
      throw new InvalidInputError(`Challenge 'rho' read at ${lo}, expected in order at ${next}`);
    }
    const from = 16 * lo * width, to = 16 * hi * width;
    const first = Math.floor(from / SHA512_BYTES), last = Math.ceil(to / SHA512_BYTES);
    const blocks = expandSha512At(
      seed,
      Uint32Array.from({ length: last - first }, (_, i) => first + i),
    );
    const bytes = blocks.subarray(from - first * SHA512_BYTES, to - first * SHA512_BYTES);
    feed(bytes);
    next = hi;
    return bytes;
  };
}

/** Bytes of one SHA-512 digest (one block of a challenge expansion). */
const SHA512_BYTES = 64;

/** 16-byte little-endian ρ values as 32-byte scalars (zero high halves), for the workers. */
function widenRho(rho: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 * rho.length);
  for (let e = 0; e < rho.length; e += 16) out.set(rho.subarray(e, e + 16), 2 * e);
  return out;
}

/** Σ ρ·c1 and (when shares are given) Σ ρ·d, split over workers, a chunk read per job. */
async function foldBatch(
  options: {
    width: number;
    ciphertexts: RecordSource;
    shares: RecordSource | undefined;
    rho: (lo: number, hi: number) => Uint8Array;
    workers: number;
    onChunk?: (done: number, total: number) => void;
  },
): Promise<{ c: Point; d: Point }> {
  const { width, ciphertexts, shares, rho } = options;
  const n = ciphertexts.count;
  const parts = guidedChunks(n, options.workers);
  // Each chunk's arguments are read and built when it starts (issue 17), in chunk order.
  const argsOf = (p: number) => {
    const [lo, hi] = parts[p]!;
    return [
      // Copies: the pool transfers (detaches) argument buffers, and a read may be a view.
      chunkHeader(width, lo, hi - lo),
      ciphertexts.read(lo, hi).slice(),
      shares === undefined ? new Uint8Array(0) : shares.read(lo, hi).slice(),
      widenRho(rho(lo, hi)),
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
 * Creates a trustee's decryption shares of a record list of ciphertexts (64·w-byte records)
 * with one batched Chaum–Pedersen proof, reading the ciphertexts a chunk at a time as each
 * worker job starts and writing each job's shares to the sink "shares" as it returns: memory
 * holds the chunks in flight, not the batch (issue 17). The statement is hashed a chunk at a
 * time too; the proof is the same as {@linkcode createPackedDecryptionShareBatch}'s.
 *
 * @param share the trustee's secret share
 * @param ciphertexts the batch (at least one ciphertext)
 * @param options `random` for the proof nonce; `workers` (default the shared pool size);
 *   `sinks` where the shares go (default memory); `context`; `onChunk`
 * @returns the shares (32·w-byte records) and the proof
 * @throws {InvalidInputError} on an empty batch, records that are not ciphertexts or a zero
 *   secret
 * @example
 * ```ts
 * import { createPackedDecryptionShareBatchRecords, verifyPackedDecryptionShareBatchRecords } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { memoryRecords } from "../../core/records.ts";
 * const keys = generateKeyPair();
 * const ciphertexts = memoryRecords(encrypt(keys.publicKey, [encodeInteger(4)]).bytes, 64);
 * const batch = await createPackedDecryptionShareBatchRecords({ index: 1, secret: keys.secretKey }, ciphertexts, { workers: 1 });
 * await verifyPackedDecryptionShareBatchRecords(batch, { ciphertexts, verificationKey: keys.publicKey, workers: 1 });
 * ```
 */
export async function createPackedDecryptionShareBatchRecords(
  share: SecretShare,
  ciphertexts: RecordSource,
  options: ShareBatchWorkerOptions & { random?: RandomSource; sinks?: RecordSinkFactory } = {},
): Promise<PackedDecryptionShareBatchRecords> {
  const ctSize = ciphertexts.recordBytes;
  if (ctSize <= 0 || ctSize % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(
      `Ciphertext records of ${ctSize} bytes are not ciphertexts (64 bytes per element)`,
    );
  }
  const n = ciphertexts.count;
  if (n === 0) throw new InvalidInputError("Decryption share batch has no ciphertexts");
  const width = ctSize / (2 * ELEMENT_BYTES);
  const x = modL(share.secret);
  if (x === 0n) throw new InvalidInputError("Secret share 'secret' must not be zero");
  const workers = options.workers ?? workerCount();
  const secret = encodeScalar(x);
  const vk = fixedBase(BASE_POINT).multiply(x); // yⱼ = g^{xⱼ}
  const transcript = openStatement(share.index, {
    verificationKey: vk,
    width,
    count: n,
    context: options.context,
  });
  // The ciphertexts are framed into the statement as the jobs read them (in chunk order).
  const hashCiphertexts = transcript.appendInParts("ciphertexts", n * ctSize);
  const sink = (options.sinks ?? memoryRecordSinks)("shares", n, ELEMENT_BYTES * width);
  // dᵢₖ = c1ᵢₖ^{xⱼ} on workers (constant-time multiply of the secret scalar).
  const ranges = guidedChunks(n, workers);
  let nextRange = 0;
  await runWorkerJobs(SHARE_BATCH_CREATE_TASK, {
    count: ranges.length,
    // Read and built when the chunk starts (issue 17); copies, as the pool transfers
    // argument buffers and a read may be a view.
    args: (p) => {
      const [lo, hi] = ranges[p]!;
      if (p !== nextRange++) {
        throw new InvalidInputError(`Share chunk ${p} started out of order`);
      }
      const cts = ciphertexts.read(lo, hi);
      hashCiphertexts(cts);
      return [chunkHeader(width, lo, hi - lo), secret.slice(), cts.slice()];
    },
  }, {
    workers,
    ...jobProgress(n, options.onChunk),
    // Each chunk's shares go to the sink as they arrive; the result list keeps none of them.
    onResult: (p, value) => {
      sink.write(ranges[p]![0], value[0]!);
      value.length = 0;
    },
  });
  const shares = sink.finish();
  appendRecords(transcript, "shares", shares);
  const rho = rhoChallenge(transcript, { count: n, width });
  // C = Σ ρ·c1 (MSM); D = Σ ρ·d = xⱼ·C for an honest prover.
  const { c } = await foldBatch({ width, ciphertexts, shares: undefined, rho, workers });
  const d = c.multiply(x);
  const omega = randomScalar(options.random);
  const a = fixedBase(BASE_POINT).multiply(omega); // A = g^ω
  const b = c.multiply(omega); // B = C^ω
  const e = proofChallenge(transcript, { c, d, a, b });
  return {
    index: share.index,
    width,
    shares,
    proof: { challenge: e, response: modL(omega + e * x) }, // z = ω + e·xⱼ
  };
}

/**
 * Creates a trustee's decryption shares of a batch of ciphertexts (all of one width) with
 * one batched Chaum–Pedersen proof, the shares as canonical bytes (a wrapper of
 * {@linkcode createPackedDecryptionShareBatchRecords} over lists in memory).
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
  const batch = await createPackedDecryptionShareBatchRecords(
    share,
    ciphertextList(ciphertexts, width),
    options,
  );
  return { ...batch, shares: allRecords(batch.shares) };
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
 * shares are decoded and validated on the workers; a wrapper of
 * {@linkcode verifyPackedDecryptionShareBatchRecords} over lists in memory).
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
  const { ciphertexts } = options;
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
  await verifyPackedDecryptionShareBatchRecords(
    { ...batch, shares: memoryRecords(batch.shares, ELEMENT_BYTES * width) },
    { ...options, ciphertexts: ciphertextList(ciphertexts, width) },
  );
}

/**
 * Checks a trustee's batch of decryption shares given as record lists against its
 * verification key: the statement is hashed and the two multi-scalar multiplications are fed a
 * chunk of ciphertexts and shares at a time (read when each worker job starts), so memory
 * holds the chunks in flight, not the batch (issue 17).
 *
 * @param batch the shares (32·w-byte records) and proof
 * @param options the ciphertexts (64·w-byte records), the trustee's verification key yⱼ,
 *   `context`, `workers`, `onChunk`
 * @throws {VerificationError} "Decryption share batch of trustee j is invalid" (or names
 *   the shape mismatch or the invalid element)
 * @example
 * ```ts
 * import { createPackedDecryptionShareBatchRecords, verifyPackedDecryptionShareBatchRecords } from "./decryption_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { memoryRecords } from "../../core/records.ts";
 * const keys = generateKeyPair();
 * const ciphertexts = memoryRecords(encrypt(keys.publicKey, [encodeInteger(3)]).bytes, 64);
 * const batch = await createPackedDecryptionShareBatchRecords({ index: 1, secret: keys.secretKey }, ciphertexts, { workers: 1 });
 * await verifyPackedDecryptionShareBatchRecords(batch, { ciphertexts, verificationKey: keys.publicKey, workers: 1 });
 * ```
 */
export async function verifyPackedDecryptionShareBatchRecords(
  batch: PackedDecryptionShareBatchRecords,
  options: ShareBatchWorkerOptions & {
    ciphertexts: RecordSource;
    verificationKey: Point;
  },
): Promise<void> {
  const { ciphertexts, verificationKey } = options;
  const { shares, width } = batch;
  const who = `trustee ${batch.index}`;
  const n = ciphertexts.count;
  if (n === 0 || shares.count !== n || shares.recordBytes !== width * ELEMENT_BYTES) {
    throw new VerificationError(
      `Decryption share batch of ${who} has ${
        shares.count * shares.recordBytes
      } bytes of shares for ${n} ciphertexts of width ${width}`,
    );
  }
  if (ciphertexts.recordBytes !== 2 * ELEMENT_BYTES * width) {
    throw new VerificationError(
      `Decryption share batch of ${who}: ciphertexts of ${ciphertexts.recordBytes} bytes, the batch width ${width}`,
    );
  }
  const workers = options.workers ?? workerCount();
  const transcript = openStatement(batch.index, {
    verificationKey,
    width,
    count: n,
    context: options.context,
  });
  appendRecords(transcript, "ciphertexts", ciphertexts);
  appendRecords(transcript, "shares", shares);
  const rho = rhoChallenge(transcript, { count: n, width });
  let folded: { c: Point; d: Point };
  try {
    // C = Σ ρ·c1, D = Σ ρ·d (two MSMs, Bellare–Garay–Rabin small-exponent test).
    folded = await foldBatch({
      width,
      ciphertexts,
      shares,
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
