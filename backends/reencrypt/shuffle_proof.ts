/**
 * Verifiable shuffle of ElGamal ciphertexts of width w with the Terelius–Wikström
 * proof, following Haenni, Locher, Koenig, Dubuis, "Pseudo-code algorithms for
 * verifiable re-encryption mix-nets" (FC 2017 workshops), Algorithms 8.1–8.5,
 * generalised to width w (one permutation, one t₄ pair and one s₄ per element).
 *
 * Fiat–Shamir (strong): transcript "panoramix/reencrypt/shuffle/v1" absorbs the group,
 * generator label, N, w, public key, all inputs and outputs and the permutation
 * commitments before the challenges uᵢ (64 bytes each, wide-reduced), then the chain
 * commitments and the proof commitments before the challenge c.
 *
 * The commitment chain is computed in closed form (ĉᵢ = g^{Rᵢ}·h^{Uᵢ}) so both prover and
 * verifier split the work into independent chunks run on Web Workers. The verifier checks
 * all equations at once: a random linear combination (128-bit weights) of them must vanish.
 *
 * The record forms ({@linkcode shuffleAndProveRecords}, {@linkcode verifyShuffleRecords},
 * {@linkcode verifyShuffleChainRecords}) are the implementation: they read the ciphertexts and
 * the proof's lists a chunk at a time from record lists and write them to sinks (files, from
 * the command line), so memory follows a chunk, not the batch (issue 17); the array forms
 * wrap them.
 *
 * @module
 */

import { concatBytes, joinBytes } from "../../core/bytes.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import {
  allRecords,
  memoryRecords,
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import { randomPermutation } from "../../core/permutation.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import { labelledDigest, Transcript } from "../../core/transcript.ts";
import { runWorkerJobs, splitRange, workerCount } from "../../core/worker_pool.ts";
import { Ciphertext } from "./elgamal.ts";
import { generator, GENERATORS_LABEL } from "./generators.ts";
import {
  BASE_POINT,
  bytesToNumberLE,
  decodePoint,
  decodeScalar,
  ELEMENT_BYTES,
  encodeScalar,
  fixedBase,
  GROUP_LABEL,
  IDENTITY,
  modL,
  multiScalarMul,
  packScalars,
  type Point,
  scalarFromWide,
  unpackPoints,
  unpackScalars,
} from "./group.ts";
import {
  challengeBlocksAt,
  chunkHeader,
  chunks,
  deltasAt,
  GENERATORS_TASK,
  guidedChunks,
  PROVE_BLOCKS_TASK,
  PROVE_PHASE1_TASK,
  PROVE_PHASE2_TASK,
  PROVE_RESPONSES_TASK,
  VERIFY_CHAIN_TASK,
  VERIFY_TASK,
  WITNESS_LIST,
  WITNESS_SEED_BYTES,
  witnessScalars,
} from "./shuffle_tasks.ts";

/** Protocol label of the shuffle proof transcript. */
export const SHUFFLE_PROOF_LABEL = "panoramix/reencrypt/shuffle/v2";

/**
 * A Terelius–Wikström proof for N ciphertexts of width w; every field is canonical bytes.
 * Size: (3N + 3 + 2w) elements and (2N + 4 + w) scalars.
 */
export interface ShuffleProof {
  /** Ciphertext width w. */
  width: number;
  /** Permutation commitments c₁..c_N (32·N bytes). */
  permutationCommitments: Uint8Array;
  /** Commitment chain ĉ₁..ĉ_N (32·N bytes). */
  chainCommitments: Uint8Array;
  /** t₁, t₂, t₃, then for each element k: t₄ₖ on c1 and on c2 (32·(3 + 2w) bytes). */
  commitments: Uint8Array;
  /** t̂₁..t̂_N (32·N bytes). */
  chainProofCommitments: Uint8Array;
  /** The challenge c (32-byte scalar). */
  challenge: Uint8Array;
  /** s₁, s₂, s₃, then s₄ₖ for each element (32·(3 + w) bytes). */
  responses: Uint8Array;
  /** ŝ₁..ŝ_N (32·N bytes). */
  chainResponses: Uint8Array;
  /** s′₁..s′_N (32·N bytes). */
  permutationResponses: Uint8Array;
}

/** The fields of a {@linkcode ShuffleProof} that hold one 32-byte value per ciphertext. */
export const SHUFFLE_PROOF_LISTS = [
  "permutationCommitments",
  "chainCommitments",
  "chainProofCommitments",
  "chainResponses",
  "permutationResponses",
] as const;

/** A field of {@linkcode SHUFFLE_PROOF_LISTS}. */
export type ShuffleProofList = typeof SHUFFLE_PROOF_LISTS[number];

/**
 * A {@linkcode ShuffleProof} whose per-ciphertext lists are record lists (32-byte records),
 * so a proof of a million ciphertexts can stay on disk (issue 17).
 */
export type ShuffleProofRecords =
  & Omit<ShuffleProof, ShuffleProofList>
  & { [K in ShuffleProofList]: RecordSource };

/**
 * Views a proof's lists as record lists (no copy).
 *
 * @param proof the proof
 * @returns the same proof with {@linkcode memoryRecords} lists
 * @throws {InvalidInputError} when a list is not whole 32-byte values
 * @example
 * ```ts ignore
 * const records = shuffleProofRecords(proof);
 * ```
 */
export function shuffleProofRecords(proof: ShuffleProof): ShuffleProofRecords {
  const lists = Object.fromEntries(
    SHUFFLE_PROOF_LISTS.map((k) => [k, memoryRecords(proof[k], ELEMENT_BYTES)]),
  ) as { [K in ShuffleProofList]: RecordSource };
  return { ...proof, ...lists };
}

/**
 * Reads a proof's record lists into memory (for the in-memory API and small batches).
 *
 * @param proof the proof with record lists
 * @returns the proof with byte-string lists
 * @example
 * ```ts ignore
 * const proof = shuffleProofFromRecords(records);
 * ```
 */
export function shuffleProofFromRecords(proof: ShuffleProofRecords): ShuffleProof {
  const lists = Object.fromEntries(
    SHUFFLE_PROOF_LISTS.map((k) => [k, allRecords(proof[k])]),
  ) as { [K in ShuffleProofList]: Uint8Array };
  return { ...proof, ...lists };
}

/** Options for {@linkcode shuffleAndProve}. */
export interface ShuffleOptions {
  /**
   * Bytes the proof binds to (e.g. an election fingerprint; default empty): the verifier must
   * give the same bytes, so the proof cannot be presented for another election or job.
   */
  context?: Uint8Array;
  /** Randomness (default the system CSPRNG); a seeded source gives reproducible vectors. */
  random?: RandomSource;
  /** Number of workers (default the shared pool size; 1 = in this thread). */
  workers?: number;
  /** Progress callback (phases "shuffle", "prove"). */
  onProgress?: ProgressReporter;
}

/** Options for {@linkcode verifyShuffle}. */
export interface VerifyShuffleOptions {
  /** Number of workers (default the shared pool size; 1 = in this thread). */
  workers?: number;
  /** Progress callback (phase "verify"). */
  onProgress?: ProgressReporter;
  /** Source of the batching weights (default the system CSPRNG; must be unknown to the prover). */
  random?: RandomSource;
}

/** What {@linkcode shuffleAndProve} returns. */
export interface ShuffleResult {
  /** The re-encrypted, permuted ciphertexts. */
  outputs: Ciphertext[];
  /** The proof. */
  proof: ShuffleProof;
}

/** What {@linkcode shuffleAndProveRecords} returns: record lists a sink factory made. */
export interface ShuffleRecordsResult {
  /** The re-encrypted, permuted ciphertexts (64·w-byte records; sink "outputs"). */
  outputs: RecordSource;
  /** The proof; its five lists are the sinks named as its fields. */
  proof: ShuffleProofRecords;
}

/** Records read at a time where a list is hashed or scanned on this thread. */
const READ_CHUNK = 4096;

function checkBatch(publicKey: Point, inputs: readonly Ciphertext[]): number {
  if (publicKey.is0()) throw new InvalidInputError("Public key must not be the identity");
  if (inputs.length === 0) throw new InvalidInputError("Shuffle needs at least one ciphertext");
  const w = inputs[0]!.width;
  inputs.forEach((ct, i) => {
    if (ct.width !== w) {
      throw new InvalidInputError(`Ciphertext ${i} has width ${ct.width}, expected ${w}`);
    }
  });
  return w;
}

/** The width of a batch given as records (64·w bytes each). */
function checkRecordBatch(publicKey: Point, inputs: RecordSource): number {
  if (publicKey.is0()) throw new InvalidInputError("Public key must not be the identity");
  if (inputs.count === 0) throw new InvalidInputError("Shuffle needs at least one ciphertext");
  const size = inputs.recordBytes;
  if (!Number.isInteger(size) || size <= 0 || size % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(`Input records of ${size} bytes are not ciphertexts (64·w bytes)`);
  }
  return size / (2 * ELEMENT_BYTES);
}

/** The ciphertexts of a list in one buffer, as records of 64·w bytes. */
function ciphertextRecordsOf(list: readonly Ciphertext[], width: number): RecordSource {
  return memoryRecords(joinBytes(list.map((ct) => ct.bytes)), 2 * ELEMENT_BYTES * width);
}

/** Records lo..hi−1 of a list in a fresh buffer (a read may be a view; job arguments move). */
function copyRecords(list: RecordSource, lo: number, hi: number): Uint8Array {
  return list.read(lo, hi).slice();
}

/** The transcript up to the statement's inputs: everything but the ciphertexts. */
function statementPrefix(
  pkBytes: Uint8Array,
  count: number,
  width: number,
  context: Uint8Array | undefined,
): Transcript {
  // Strong Fiat–Shamir: the whole statement precedes every challenge (Bernhard–Pereira–Warinschi 2012).
  const t = new Transcript(SHUFFLE_PROOF_LABEL);
  const enc = new TextEncoder();
  t.append("group", enc.encode(GROUP_LABEL));
  t.append("generators", enc.encode(GENERATORS_LABEL));
  t.appendNumber("count", count);
  t.appendNumber("width", width);
  t.append("public-key", pkBytes);
  t.append("context", context ?? new Uint8Array(0));
  return t;
}

/** Appends a record list as one message, read a chunk at a time (the same hash as `append`). */
function appendRecords(t: Transcript, label: string, list: RecordSource): void {
  const part = t.appendInParts(label, list.count * list.recordBytes);
  for (let lo = 0; lo < list.count; lo += READ_CHUNK) {
    part(list.read(lo, Math.min(list.count, lo + READ_CHUNK)));
  }
}

/** Appends the challenge "u" (64·n bytes) from its seed, a chunk of blocks at a time. */
function appendChallengeBlocks(t: Transcript, uSeed: Uint8Array, n: number): void {
  const part = t.appendChallengeInParts("u", 64 * n);
  for (let lo = 0; lo < n; lo += READ_CHUNK) {
    part(challengeBlocksAt(uSeed, n, lo, Math.min(n, lo + READ_CHUNK)));
  }
}

/**
 * Decodes every ciphertext of a list read without validation, a chunk at a time, so the first
 * malformed one is reported by name (`output 7.c2[0]`, 0-based), as when the workers meet it.
 *
 * @param list the ciphertexts
 * @param what "input" or "output"
 * @throws {InvalidInputError} naming the first non-canonical or identity element
 */
function nameInvalidElement(list: RecordSource, what: string): void {
  const size = list.recordBytes;
  for (let lo = 0; lo < list.count; lo += READ_CHUNK) {
    const hi = Math.min(list.count, lo + READ_CHUNK), bytes = list.read(lo, hi);
    for (let i = lo; i < hi; i++) {
      Ciphertext.fromBytes(bytes.subarray((i - lo) * size, (i - lo + 1) * size), `${what} ${i}`);
    }
  }
}

/** Runs phase 1; if an input is invalid, finds and names it (inputs are validated by workers). */
async function runPhase1(inputs: RecordSource, run: () => Promise<void>): Promise<void> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InvalidInputError) nameInvalidElement(inputs, "input");
    throw error;
  }
}

/**
 * {@linkcode runWorkerJobs} whose results are handed to `take` as they arrive and then
 * dropped: the pool keeps each job's result array, emptied here once taken, so no result
 * bytes outlive their chunk (issue 17).
 */
async function streamWorkerJobs(
  task: string,
  jobs: { count: number; args: (p: number) => Uint8Array[] },
  options: {
    workers: number;
    onJobDone?: (done: number, total: number) => void;
    take: (p: number, value: Uint8Array[]) => void;
  },
): Promise<void> {
  await runWorkerJobs(task, jobs, {
    workers: options.workers,
    ...(options.onJobDone === undefined ? {} : { onJobDone: options.onJobDone }),
    onResult: (p, value) => {
      options.take(p, value);
      value.length = 0;
    },
  });
}

/**
 * Chunks' bytes passed on in chunk order once `start`ed: those that come back early are held
 * until the ones before them are in (in practice a few chunks: jobs start in order).
 */
class InOrder {
  #next = 0;
  readonly #held = new Map<number, Uint8Array>();
  #take: ((bytes: Uint8Array) => void) | undefined;

  add(p: number, bytes: Uint8Array): void {
    this.#held.set(p, bytes);
    this.#flush();
  }

  start(take: (bytes: Uint8Array) => void): void {
    this.#take = take;
    this.#flush();
  }

  /** Throws unless all `count` chunks were passed on. */
  finish(count: number): void {
    if (this.#next !== count || this.#held.size !== 0) {
      throw new InvalidInputError("Shuffle chunks came back incomplete");
    }
  }

  #flush(): void {
    if (this.#take === undefined) return;
    for (let bytes = this.#held.get(this.#next); bytes !== undefined;) {
      this.#held.delete(this.#next++);
      this.#take(bytes);
      bytes = this.#held.get(this.#next);
    }
  }
}

/** ψ(i) of the positions lo..hi−1 (u32 little-endian; empty for a batch of one). */
function psiBytesOf(psi: Uint32Array, lo: number, hi: number): Uint8Array {
  if (psi.length === 1) return new Uint8Array(0);
  const out = new Uint8Array(4 * (hi - lo));
  const view = new DataView(out.buffer);
  for (let i = lo; i < hi; i++) view.setUint32(4 * (i - lo), psi[i]!, true);
  return out;
}

// Encodings of h₁..h_M derived so far in this process, 32 bytes each (issue 17): every
// proof and verification of a batch of N ≤ M reuses them instead of hashing to the curve
// again in each worker that meets the position (about 80 µs each, against 13 µs to decode),
// and no thread keeps them as point objects.
let positionGenerators = new Uint8Array(0);

/**
 * The encodings of h₁..h_n, derived on the workers the first time a batch this large is
 * seen and kept (32·n bytes) for the process.
 */
async function generatorEncodings(n: number, workers: number): Promise<Uint8Array> {
  const have = positionGenerators.length / ELEMENT_BYTES;
  if (have >= n) return positionGenerators;
  // As many chunks per worker (at most 8,192 positions each): no worker is left with a whole
  // extra chunk at the end (issue 17).
  const missing = splitRange(n - have, workers * Math.ceil((n - have) / (8192 * workers)));
  const parts = await runWorkerJobs(GENERATORS_TASK, {
    count: missing.length,
    args: (p) => [chunkHeader(1, have + missing[p]![0], missing[p]![1] - missing[p]![0])],
  }, { workers });
  const grown = new Uint8Array(n * ELEMENT_BYTES);
  grown.set(positionGenerators);
  let at = positionGenerators.length;
  for (const [bytes] of parts) {
    grown.set(bytes!, at);
    at += bytes!.length;
  }
  if (at !== grown.length) throw new InvalidInputError("Generator derivation returned too few");
  positionGenerators = grown;
  return grown;
}

function sumPoints(points: readonly Point[]): Point {
  let acc = points[0]!;
  for (let i = 1; i < points.length; i++) acc = acc.add(points[i]!);
  return acc;
}

/**
 * Shuffles and re-encrypts a batch given as record lists and proves it (Haenni et al.
 * Alg. 8.1 and 8.4), a chunk at a time: each chunk's inputs are gathered from `inputs` when
 * its job starts, and its outputs and proof values go straight into sinks made by
 * `options.sinks` ("outputs" of 64·w-byte records, and the five lists of
 * {@linkcode SHUFFLE_PROOF_LISTS} of 32-byte records, all of N records). The statement is
 * hashed a chunk at a time from the lists. The proof is byte for byte that of
 * {@linkcode shuffleAndProve} for the same inputs and random source.
 *
 * Memory kept per position: the permutation ψ (4 bytes) and the process's cache of generator
 * encodings (32 bytes, shared by every proof and verification); the challenges uᵢ are
 * re-expanded by the workers from their seed, the permutation commitments written to their
 * sink at their input position one by one (scattered 32-byte writes). Beyond that, the jobs
 * in flight and the chunks of outputs and chain commitments that come back before those
 * before them are hashed.
 *
 * @param publicKey the public key the inputs are encrypted under
 * @param inputs N ≥ 1 ciphertexts of one width (64·w-byte records)
 * @param options randomness, workers, progress, context, and `sinks` (default in memory)
 * @returns the outputs and the proof, as the sinks' record lists
 * @throws {InvalidInputError} naming a malformed input (`input 6.c2[0]`), or for an empty
 *   batch, a key that is the identity or records that are not ciphertexts
 * @example
 * ```ts
 * import { memoryRecords } from "../../core/records.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProveRecords, verifyShuffleRecords } from "./shuffle_proof.ts";
 * const { publicKey } = generateKeyPair();
 * const bytes = [1, 2, 3].map((v) => encrypt(publicKey, [encodeInteger(v)]).bytes);
 * const inputs = memoryRecords(new Uint8Array(bytes.flatMap((b) => [...b])), 64);
 * const { outputs, proof } = await shuffleAndProveRecords(publicKey, inputs, { workers: 1 });
 * await verifyShuffleRecords({ publicKey, inputs, outputs }, proof, { workers: 1 });
 * ```
 */
export async function shuffleAndProveRecords(
  publicKey: Point,
  inputs: RecordSource,
  options: ShuffleOptions & { sinks?: RecordSinkFactory } = {},
): Promise<ShuffleRecordsResult> {
  const w = checkRecordBatch(publicKey, inputs);
  const n = inputs.count;
  const size = inputs.recordBytes;
  const random = options.random ?? systemRandom;
  const workers = options.workers ?? workerCount();
  const sinks = options.sinks ?? memoryRecordSinks;
  const pkBytes = publicKey.toBytes();
  // Witness: permutation ψ (outputs[i] = ReEnc(inputs[ψ(i)])) and randomness (Alg. 8.1, 8.2).
  // The scalars are drawn by the workers, chunk by chunk, from one per-proof seed
  // (shuffle_tasks.ts witnessScalars): no O(N) scalar work on this thread (issue 17).
  const psi = randomPermutation(n, random);
  const seed = new Uint8Array(WITNESS_SEED_BYTES);
  random(seed);
  const omega = await witnessScalars(seed, WITNESS_LIST.omega, 0, 3 + w); // ω₁, ω₂, ω₃, ω₄ₖ

  const parts = guidedChunks(n, workers);
  const gens = await generatorEncodings(n, workers);
  const progress = (phase: string) => (done: number, total: number) =>
    options.onProgress?.({ phase, done: Math.round((n * done) / total), total: n });
  // The statement is hashed while the workers run phase 1: the inputs first, then each
  // chunk's outputs as soon as it and those before it are back (issue 17: no serial hashing).
  const transcript = statementPrefix(pkBytes, n, w, options.context);
  const outputSink = sinks("outputs", n, size);
  const cSink = sinks("permutationCommitments", n, ELEMENT_BYTES);
  const t3Parts: Point[] = [], t4Parts: Point[][] = Array.from({ length: 2 * w }, () => []);
  const outputOrder = new InOrder();
  const phase1Done = runPhase1(inputs, () =>
    streamWorkerJobs(PROVE_PHASE1_TASK, {
      count: parts.length,
      // Built when the chunk starts, not all at once (issue 17).
      args: (p) => {
        const [lo, hi] = parts[p]!;
        return [
          chunkHeader(w, lo, hi - lo),
          pkBytes.slice(),
          inputs.gather(psi.subarray(lo, hi)),
          seed.slice(),
          gens.slice(lo * ELEMENT_BYTES, hi * ELEMENT_BYTES),
        ];
      },
    }, {
      workers,
      onJobDone: progress("shuffle"),
      take: (p, res) => {
        const [lo, hi] = parts[p]!;
        const outBytes = res[0]!, cBytes = res[1]!;
        outputSink.write(lo, outBytes);
        // c is indexed by input: c_{ψ(i)} came out at output position i.
        for (let i = lo; i < hi; i++) {
          cSink.write(
            psi[i]!,
            cBytes.subarray((i - lo) * ELEMENT_BYTES, (i - lo + 1) * ELEMENT_BYTES),
          );
        }
        t3Parts.push(decodePoint(res[2]!, "t3 part", { allowIdentity: true }));
        for (let k = 0; k < 2 * w; k++) {
          t4Parts[k]!.push(decodePoint(res[3 + k]!, "t4 part", { allowIdentity: true }));
        }
        outputOrder.add(p, outBytes);
      },
    }));
  appendRecords(transcript, "inputs", inputs);
  outputOrder.start(transcript.appendInParts("outputs", n * size));
  await phase1Done;
  outputOrder.finish(parts.length);
  const outputs = outputSink.finish();
  const cPerm = cSink.finish();
  appendRecords(transcript, "permutation-commitments", cPerm);

  // Challenges uᵢ = H(e, e′, c, pk, i) (Alg. 8.4), all from one transcript output: the workers
  // expand the blocks u′ᵢ = u_{ψ(i)} of their chunk (in output order) from its seed, in each
  // task that needs them (no list of them is kept here).
  // The chain Rᵢ = r̂ᵢ + u′ᵢ·Rᵢ₋₁, Uᵢ = u′ᵢ·Uᵢ₋₁ with R₀ = 0, U₀ = 1 (Alg. 8.3) by blocks:
  // each chunk's (A, B) with R_end = A + B·R_start, then this short pass over the chunks.
  const uSeed = transcript.challengeSeed("u");
  const challengeArgs = (p: number) => {
    const [lo, hi] = parts[p]!;
    return [chunkHeader(w, lo, hi - lo), seed.slice(), uSeed.slice(), psiBytesOf(psi, lo, hi)];
  };
  const blocks = await runWorkerJobs(PROVE_BLOCKS_TASK, {
    count: parts.length,
    args: challengeArgs,
  }, { workers });
  const starts: Uint8Array[] = [];
  let chainR = 0n, chainU = 1n, rBar = 0n, rTilde = 0n;
  const rPrimeSum: bigint[] = new Array(w).fill(0n);
  for (const [packed] of blocks) {
    const [a, b, rSum, ruSum, ...rps] = unpackScalars(packed!, "chain block");
    starts.push(packScalars([chainR, chainU]));
    chainR = modL(a! + b! * chainR);
    chainU = modL(b! * chainU);
    rBar += rSum!;
    rTilde += ruSum!;
    rps.forEach((v, k) => rPrimeSum[k]! += v);
  }
  const chainSink = sinks("chainCommitments", n, ELEMENT_BYTES);
  const tHatSink = sinks("chainProofCommitments", n, ELEMENT_BYTES);
  const chainOrder = new InOrder();
  const phase2Done = streamWorkerJobs(PROVE_PHASE2_TASK, {
    count: parts.length,
    args: (p) => [...challengeArgs(p), starts[p]!],
  }, {
    workers,
    onJobDone: progress("prove"),
    take: (p, res) => {
      const lo = parts[p]![0];
      chainSink.write(lo, res[0]!);
      tHatSink.write(lo, res[1]!);
      chainOrder.add(p, res[0]!);
    },
  });
  // While phase 2 runs: the challenge u in input order into the transcript (blocks 0..N−1
  // of its seed, a chunk at a time), then the chain commitments as they come back.
  appendChallengeBlocks(transcript, uSeed, n);
  chainOrder.start(transcript.appendInParts("chain-commitments", n * ELEMENT_BYTES));
  await phase2Done;
  chainOrder.finish(parts.length);
  const chain = chainSink.finish();
  const tHat = tHatSink.finish();

  const g = fixedBase(BASE_POINT);
  const y = fixedBase(publicKey, pkBytes);
  const tPoints: Point[] = [
    g.multiply(omega[0]!), // t₁ = g^{ω₁}
    g.multiply(omega[1]!), // t₂ = g^{ω₂}
    g.multiply(omega[2]!).add(sumPoints(t3Parts)), // t₃ = g^{ω₃}·∏hᵢ^{ω′ᵢ}
  ];
  for (let k = 0; k < w; k++) {
    // t₄ = Enc(1, −ω₄)·∏e′ᵢ^{ω′ᵢ}, per element k.
    tPoints.push(g.multiply(-omega[3 + k]!).add(sumPoints(t4Parts[2 * k]!)));
    tPoints.push(y.multiply(-omega[3 + k]!).add(sumPoints(t4Parts[2 * k + 1]!)));
  }
  const commitments = concatBytes(...tPoints.map((p) => p.toBytes()));
  transcript.append("commitments", commitments);
  appendRecords(transcript, "chain-proof-commitments", tHat);
  const c = scalarFromWide(transcript.challenge("c", 64));

  // Responses (Alg. 8.4): r̄ = Σrⱼ, r̂ = R_N, r̃ = Σrⱼuⱼ, r′ₖ = Σr′ⱼₖuⱼ (summed over the
  // chunks above); ŝᵢ and s′ᵢ by the workers.
  const s = [
    omega[0]! + c * rBar,
    omega[1]! + c * chainR, // R_N
    omega[2]! + c * rTilde,
    ...rPrimeSum.map((v, k) => omega[3 + k]! + c * v),
  ];
  const cBytes = encodeScalar(c);
  const sHatSink = sinks("chainResponses", n, ELEMENT_BYTES);
  const sPrimeSink = sinks("permutationResponses", n, ELEMENT_BYTES);
  await streamWorkerJobs(PROVE_RESPONSES_TASK, {
    count: parts.length,
    args: (p) => [...challengeArgs(p), cBytes.slice()],
  }, {
    workers,
    take: (p, res) => {
      const lo = parts[p]![0];
      sHatSink.write(lo, res[0]!);
      sPrimeSink.write(lo, res[1]!);
    },
  });
  return {
    outputs,
    proof: {
      width: w,
      permutationCommitments: cPerm,
      chainCommitments: chain,
      commitments,
      chainProofCommitments: tHat,
      challenge: cBytes,
      responses: packScalars(s),
      chainResponses: sHatSink.finish(),
      permutationResponses: sPrimeSink.finish(),
    },
  };
}

/**
 * Shuffles and re-encrypts a batch and proves it (Haenni et al. Alg. 8.1 and 8.4): the
 * in-memory form of {@linkcode shuffleAndProveRecords} (the same proof).
 *
 * @param publicKey the public key the inputs are encrypted under
 * @param inputs N ≥ 1 ciphertexts of one width
 * @param options randomness, workers, progress
 * @returns the outputs and the proof
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProve, verifyShuffle } from "./shuffle_proof.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2, 3].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const { outputs, proof } = await shuffleAndProve(publicKey, inputs, { workers: 1 });
 * await verifyShuffle({ publicKey, inputs, outputs }, proof, { workers: 1 });
 * ```
 */
export async function shuffleAndProve(
  publicKey: Point,
  inputs: readonly Ciphertext[],
  options: ShuffleOptions = {},
): Promise<ShuffleResult> {
  const w = checkBatch(publicKey, inputs);
  const result = await shuffleAndProveRecords(publicKey, ciphertextRecordsOf(inputs, w), options);
  const all = allRecords(result.outputs), size = 2 * ELEMENT_BYTES * w;
  // Views into one buffer: one backing store, not one per ciphertext (issue 17).
  const outputs = Array.from(
    { length: inputs.length },
    (_, i) => Ciphertext.unchecked(all.subarray(i * size, (i + 1) * size)),
  );
  return { outputs, proof: shuffleProofFromRecords(result.proof) };
}

/** The statement a shuffle proof is about. */
export interface ShuffleStatement {
  /** Public key. */
  publicKey: Point;
  /** Input ciphertexts. */
  inputs: readonly Ciphertext[];
  /** Output ciphertexts. */
  outputs: readonly Ciphertext[];
  /** The bytes the proof was bound to ({@linkcode ShuffleOptions.context}; default empty). */
  context?: Uint8Array;
}

/** A {@linkcode ShuffleStatement} whose ciphertexts are record lists (64·w-byte records). */
export interface ShuffleStatementRecords {
  /** Public key. */
  publicKey: Point;
  /** Input ciphertexts. */
  inputs: RecordSource;
  /** Output ciphertexts. */
  outputs: RecordSource;
  /** The bytes the proof was bound to ({@linkcode ShuffleOptions.context}; default empty). */
  context?: Uint8Array;
}

function fail(message: string, cause?: unknown): never {
  throw new VerificationError(message, cause === undefined ? {} : { cause });
}

function weights(count: number, random: RandomSource): bigint[] {
  const buf = new Uint8Array(16 * count);
  random(buf);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(bytesToNumberLE(buf.subarray(16 * i, 16 * i + 16)));
  return out;
}

/** Domain-separation label of the seed the verifier's per-position weights δᵢ come from. */
const DELTA_LABEL = "panoramix/reencrypt/shuffle/verify-weights/v1";

/** Readable names of the proof's per-ciphertext lists, as error messages give them. */
const LIST_NAMES: Record<ShuffleProofList, string> = {
  permutationCommitments: "permutation commitments",
  chainCommitments: "chain commitments",
  chainProofCommitments: "chain proof commitments",
  chainResponses: "chain responses",
  permutationResponses: "permutation responses",
};

/** The statement's sizes and key, checked before anything else. */
function checkStatementShape(n: number, outputs: number, publicKey: Point): void {
  if (n === 0) fail("Shuffle proof covers no ciphertexts");
  if (outputs !== n) fail(`Shuffle has ${n} inputs but ${outputs} outputs`);
  if (publicKey.is0()) fail("Public key is the identity");
}

function checkListSize(bytes: number, count: number, name: string): void {
  if (bytes !== count * ELEMENT_BYTES) {
    fail(`Shuffle proof ${name} hold ${bytes / 32} values, expected ${count}`);
  }
}

/**
 * An in-memory statement as records, after the checks {@linkcode verifyShuffle} makes of it
 * (sizes, key, every ciphertext's width, with the messages naming the first wrong one).
 */
function statementRecordsOf(statement: ShuffleStatement, width: number): ShuffleStatementRecords {
  const { publicKey, inputs, outputs } = statement;
  checkStatementShape(inputs.length, outputs.length, publicKey);
  for (const [list, name] of [[inputs, "Input"], [outputs, "Output"]] as const) {
    list.forEach((ct, i) => {
      if (ct.width !== width) {
        fail(`${name} ${i} has width ${ct.width}, the proof is for width ${width}`);
      }
    });
  }
  return {
    publicKey,
    inputs: ciphertextRecordsOf(inputs, width),
    outputs: ciphertextRecordsOf(outputs, width),
    ...(statement.context === undefined ? {} : { context: statement.context }),
  };
}

/** An in-memory proof as records, after checking that its lists are whole N values. */
function proofRecordsOf(proof: ShuffleProof, n: number): ShuffleProofRecords {
  for (const k of SHUFFLE_PROOF_LISTS) checkListSize(proof[k].length, n, LIST_NAMES[k]);
  return shuffleProofRecords(proof);
}

/**
 * Verifies a shuffle proof whose statement and lists are record lists (Haenni et al.
 * Alg. 8.5), batching all equations into one multi-exponentiation with random 128-bit
 * weights, a chunk at a time: the statement is hashed from the lists a chunk at a time, and
 * each job's arguments are read from them when it starts. Memory kept per position: the
 * process's cache of generator encodings (32 bytes); the challenges uᵢ and the weights δᵢ
 * are expanded per chunk from their seeds.
 *
 * @param statement public key, inputs and outputs (64·w-byte records), context
 * @param proof the proof, with its five lists as 32-byte records
 * @param options workers, progress, the weights' source
 * @throws {VerificationError} naming the failed check, as {@linkcode verifyShuffle}
 * @throws {InvalidInputError} naming a malformed input or output (`output 7.c2[0]`)
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProve, shuffleProofRecords, verifyShuffleRecords } from "./shuffle_proof.ts";
 * import { memoryRecords } from "../../core/records.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const { outputs, proof } = await shuffleAndProve(publicKey, inputs, { workers: 1 });
 * const records = (list: typeof inputs) =>
 *   memoryRecords(new Uint8Array(list.flatMap((c) => [...c.bytes])), 64);
 * await verifyShuffleRecords(
 *   { publicKey, inputs: records(inputs), outputs: records(outputs) },
 *   shuffleProofRecords(proof),
 *   { workers: 1 },
 * );
 * ```
 */
export async function verifyShuffleRecords(
  statement: ShuffleStatementRecords,
  proof: ShuffleProofRecords,
  options: VerifyShuffleOptions = {},
): Promise<void> {
  const prepared = prepareShuffleVerification(statement, proof, options.random ?? systemRandom);
  const { n, width: w } = prepared;
  const { inputs, outputs } = statement;
  const workers = options.workers ?? workerCount();
  const parts = chunks(n, workers);
  const gens = await generatorEncodings(n, workers);
  // Each chunk's arguments are built when it starts; the workers compute its coefficients.
  const partials = await runWorkerJobs(VERIFY_TASK, {
    count: parts.length,
    args: (p) => {
      const [lo, hi] = parts[p]!;
      return [
        chunkHeader(w, lo, hi - lo),
        copyRecords(inputs, lo, hi),
        copyRecords(outputs, lo, hi),
        ...shuffleChunkArgs(prepared, lo, hi),
        gens.slice(lo * ELEMENT_BYTES, hi * ELEMENT_BYTES),
      ];
    },
  }, {
    workers,
    onJobDone: (done, total) =>
      options.onProgress?.({ phase: "verify", done: Math.round((n * done) / total), total: n }),
  });
  let deltaSHat = 0n, uProd = 1n, partial: Point = IDENTITY;
  for (const part of partials) {
    deltaSHat += decodeScalar(part[1]!, "partial sum");
    uProd = modL(uProd * decodeScalar(part[2]!, "partial product"));
    partial = partial.add(decodePoint(part[0]!, "partial", { allowIdentity: true }));
  }
  const global = shuffleGlobalTerms(prepared, { deltaSHat, uProd });
  const total = multiScalarMul(
    [BASE_POINT, generator(0), statement.publicKey, ...prepared.tPoints],
    [global.g, global.h, global.pk, ...global.t],
  ).add(partial);
  if (!total.is0()) fail("Shuffle proof equations do not hold");
}

/**
 * Verifies a shuffle proof (Haenni et al. Alg. 8.5), batching all equations into one
 * multi-exponentiation with random 128-bit weights: the in-memory form of
 * {@linkcode verifyShuffleRecords}.
 *
 * @param statement public key, inputs and outputs
 * @param proof the proof
 * @param options workers, progress
 * @throws {VerificationError} naming the failed check
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProve, verifyShuffle } from "./shuffle_proof.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const { outputs, proof } = await shuffleAndProve(publicKey, inputs, { workers: 1 });
 * await verifyShuffle({ publicKey, inputs, outputs }, proof, { workers: 1 });
 * ```
 */
export async function verifyShuffle(
  statement: ShuffleStatement,
  proof: ShuffleProof,
  options: VerifyShuffleOptions = {},
): Promise<void> {
  const records = statementRecordsOf(statement, proof.width);
  await verifyShuffleRecords(records, proofRecordsOf(proof, statement.inputs.length), options);
}

/**
 * A shuffle proof checked up to its batched equation (sizes, encodings of the constant-size
 * parts, the challenge c recomputed from the statement), with the verifier's random weights:
 * what the chunks of the equation and its global terms need.
 */
interface PreparedShuffleVerification {
  /** Ciphertexts N. */
  n: number;
  /** Ciphertext width w. */
  width: number;
  /** The proof. */
  proof: ShuffleProofRecords;
  /** t₁, t₂, t₃, t₄ₖ (c1, c2) decoded. */
  tPoints: Point[];
  /** s₁, s₂, s₃, s₄ₖ. */
  s: bigint[];
  /** The challenge c. */
  c: bigint;
  /** s′₁. */
  sPrime0: bigint;
  /** The seed of the challenge blocks uᵢ and N (64 + 4 bytes; expanded by the workers). */
  uSeedAndCount: Uint8Array;
  /** λ₁, λ₂, λ₃, μₖ, νₖ. */
  lam: bigint[];
  /** The seed of the weights δᵢ (expanded by the workers, shuffle_tasks.ts `deltasAt`). */
  deltaSeed: Uint8Array;
  /** δ₁. */
  delta0: bigint;
  /** c, λ₁, λ₂, λ₃, μₖ, νₖ packed (the chunks' "globals"). */
  globals: Uint8Array;
}

/**
 * Checks everything of a shuffle proof but its batched equation and draws the batch weights
 * (λ₁, λ₂, λ₃, μₖ, νₖ and the seed of the δᵢ, 128 bits each, unknown to the prover).
 *
 * @param statement public key, inputs, outputs, context
 * @param proof the proof
 * @param random source of the weights
 * @returns what the chunks and {@linkcode shuffleGlobalTerms} need
 * @throws {VerificationError} naming the failed check, as {@linkcode verifyShuffle}
 */
function prepareShuffleVerification(
  statement: ShuffleStatementRecords,
  proof: ShuffleProofRecords,
  random: RandomSource,
): PreparedShuffleVerification {
  const { publicKey, inputs, outputs } = statement;
  const n = inputs.count;
  checkStatementShape(n, outputs.count, publicKey);
  const w = proof.width;
  for (const [list, name] of [[inputs, "Inputs"], [outputs, "Outputs"]] as const) {
    if (list.recordBytes !== 2 * ELEMENT_BYTES * w) {
      fail(`${name} have width ${list.recordBytes / 64}, the proof is for width ${w}`);
    }
  }
  for (const k of SHUFFLE_PROOF_LISTS) {
    const list = proof[k];
    if (list.recordBytes !== ELEMENT_BYTES) {
      fail(`Shuffle proof ${LIST_NAMES[k]} are ${list.recordBytes}-byte records, expected 32`);
    }
    checkListSize(list.count * ELEMENT_BYTES, n, LIST_NAMES[k]);
  }
  const sizes: Array<[Uint8Array, number, string]> = [
    [proof.commitments, 3 + 2 * w, "commitments"],
    [proof.responses, 3 + w, "responses"],
    [proof.challenge, 1, "challenge"],
  ];
  for (const [bytes, count, name] of sizes) checkListSize(bytes.length, count, name);
  // The N responses ŝᵢ and s′ᵢ are checked by the workers, chunk by chunk.
  let tPoints: Point[], s: bigint[], cStored: bigint, sPrime0: bigint;
  try {
    tPoints = unpackPoints(proof.commitments, "commitments");
    s = unpackScalars(proof.responses, "responses");
    cStored = unpackScalars(proof.challenge, "challenge")[0]!;
    sPrime0 = decodeScalar(proof.permutationResponses.read(0, 1), "permutation responses[0]");
  } catch (error) {
    fail(`Shuffle proof is malformed: ${(error as Error).message}`, error);
  }
  // The statement and the proof's lists are hashed a chunk at a time (issue 17).
  const transcript = statementPrefix(publicKey.toBytes(), n, w, statement.context);
  appendRecords(transcript, "inputs", inputs);
  appendRecords(transcript, "outputs", outputs);
  appendRecords(transcript, "permutation-commitments", proof.permutationCommitments);
  // The challenges uᵢ are not kept: each chunk's blocks are expanded again from the seed.
  const uSeed = transcript.challengeSeed("u");
  appendChallengeBlocks(transcript, uSeed, n);
  appendRecords(transcript, "chain-commitments", proof.chainCommitments);
  transcript.append("commitments", proof.commitments);
  appendRecords(transcript, "chain-proof-commitments", proof.chainProofCommitments);
  const c = scalarFromWide(transcript.challenge("c", 64));
  if (c !== cStored) {
    // A malformed element also changes the hashed statement: name it rather than the challenge.
    nameInvalidElement(inputs, "input");
    nameInvalidElement(outputs, "output");
    fail("Shuffle proof challenge does not match the statement and commitments");
  }
  // Batch weights λ₁, λ₂, λ₃, μₖ, νₖ and δᵢ (128 bits each), unknown to the prover; the δᵢ
  // from a 64-byte secret seed ("panoramix/reencrypt/shuffle/verify-weights/v1").
  const lam = weights(3 + 2 * w, random);
  const secret = new Uint8Array(64);
  random(secret);
  const deltaSeed = labelledDigest(DELTA_LABEL, [secret]);
  const delta0 = bytesToNumberLE(deltasAt(deltaSeed, 0, 1));
  const globals = packScalars([c, ...lam]);
  const uSeedAndCount = new Uint8Array(68);
  uSeedAndCount.set(uSeed);
  new DataView(uSeedAndCount.buffer).setUint32(64, n);
  return {
    n,
    width: w,
    proof,
    tPoints,
    s,
    c,
    sPrime0,
    uSeedAndCount,
    lam,
    deltaSeed,
    delta0,
    globals,
  };
}

/**
 * The arguments of chunk [lo, hi) that come from one proof, in the order of the verify
 * task (shuffle_tasks.ts `verifyChunk`, arguments 3–11): cᵢ, ĉᵢ, t̂ᵢ, uᵢ, s′ᵢ, ŝᵢ, δᵢ, the
 * next position's s′ and δ, and the packed challenge and weights, read from the proof's
 * lists when the chunk starts; the uᵢ and δᵢ go as their seeds (the worker expands them).
 *
 * @param prepared what {@linkcode prepareShuffleVerification} returned
 * @param lo first position
 * @param hi end position (exclusive)
 * @returns nine byte arrays (fresh buffers)
 */
function shuffleChunkArgs(
  prepared: PreparedShuffleVerification,
  lo: number,
  hi: number,
): Uint8Array[] {
  const { proof, n } = prepared;
  const next = new Uint8Array(hi < n ? 48 : 0);
  if (hi < n) {
    next.set(proof.permutationResponses.read(hi, hi + 1));
    next.set(deltasAt(prepared.deltaSeed, hi, hi + 1), 32);
  }
  return [
    copyRecords(proof.permutationCommitments, lo, hi),
    copyRecords(proof.chainCommitments, lo, hi),
    copyRecords(proof.chainProofCommitments, lo, hi),
    prepared.uSeedAndCount.slice(),
    copyRecords(proof.permutationResponses, lo, hi),
    copyRecords(proof.chainResponses, lo, hi),
    prepared.deltaSeed.slice(),
    next,
    prepared.globals.slice(),
  ];
}

/**
 * The coefficients of the global terms g, h (= h₀), the public key and t₁..t₄ of one
 * proof's batched equation, given the sums of the chunks.
 *
 * @param prepared what {@linkcode prepareShuffleVerification} returned
 * @param sums Σ δᵢ·ŝᵢ and ∏ uᵢ over all chunks
 * @returns the scalars of g, h, pk and of each t point (in `tPoints` order)
 */
function shuffleGlobalTerms(
  prepared: PreparedShuffleVerification,
  sums: { deltaSHat: bigint; uProd: bigint },
): { g: bigint; h: bigint; pk: bigint; t: bigint[] } {
  const { lam, s, c, width: w } = prepared;
  const mu = lam.slice(3, 3 + w), nu = lam.slice(3 + w);
  let gCoef = lam[0]! * s[0]! + lam[1]! * s[1]! + lam[2]! * s[2]! + sums.deltaSHat;
  let pkCoef = 0n;
  for (let k = 0; k < w; k++) {
    gCoef -= mu[k]! * s[3 + k]!;
    pkCoef -= nu[k]! * s[3 + k]!;
  }
  const hCoef = lam[1]! * c * sums.uProd + prepared.delta0 * prepared.sPrime0; // ĉ = ĉ_N/h^{∏u}, ĉ₀ = h
  const t = [-lam[0]!, -lam[1]!, -lam[2]!];
  for (let k = 0; k < w; k++) t.push(-mu[k]!, -nu[k]!);
  return { g: modL(gCoef), h: modL(hCoef), pk: modL(pkCoef), t: t.map(modL) };
}

/** Points per chunk of a shuffle chain's joint equation (one multi-exponentiation's worth). */
const CHAIN_CHUNK_POINTS = 32768;

/** A chain of shuffles (a mix cascade): each step's outputs are the next step's inputs. */
export interface ShuffleChainStatement {
  /** Public key. */
  publicKey: Point;
  /** The first step's inputs. */
  inputs: readonly Ciphertext[];
  /** Each step's outputs and proof, in order. */
  steps: ReadonlyArray<{ outputs: readonly Ciphertext[]; proof: ShuffleProof }>;
  /** The bytes every proof was bound to (default empty). */
  context?: Uint8Array;
}

/** A {@linkcode ShuffleChainStatement} whose lists are record lists. */
export interface ShuffleChainStatementRecords {
  /** Public key. */
  publicKey: Point;
  /** The first step's inputs (64·w-byte records). */
  inputs: RecordSource;
  /** Each step's outputs and proof, in order. */
  steps: ReadonlyArray<{ outputs: RecordSource; proof: ShuffleProofRecords }>;
  /** The bytes every proof was bound to (default empty). */
  context?: Uint8Array;
}

/**
 * Checks a chain of shuffle proofs given as record lists at once: every proof's challenge is
 * recomputed (hashing the lists a chunk at a time), then all the proofs' batched equations
 * (each with its own random weights) are summed into one multi-exponentiation per chunk, so
 * each ciphertext between two steps is decoded once and each generator hᵢ once for all
 * steps. Each chunk's arguments are read from the lists when its job starts. It says only
 * whether all proofs hold: when one does not, verify the steps in order with
 * {@linkcode verifyShuffleRecords} to learn which one and why. Memory kept per position: the
 * process's cache of generator encodings (32 bytes).
 *
 * @param statement public key, the first inputs, every step's outputs and proof, context
 * @param options workers, progress (phase "verify", in ciphertexts × steps), weights' source
 * @returns true when every proof verifies, false when any check fails
 * @example
 * ```ts
 * import { memoryRecords } from "../../core/records.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProveRecords, verifyShuffleChainRecords } from "./shuffle_proof.ts";
 * const { publicKey } = generateKeyPair();
 * const bytes = [1, 2, 3].map((v) => encrypt(publicKey, [encodeInteger(v)]).bytes);
 * const inputs = memoryRecords(new Uint8Array(bytes.flatMap((b) => [...b])), 64);
 * const first = await shuffleAndProveRecords(publicKey, inputs, { workers: 1 });
 * const second = await shuffleAndProveRecords(publicKey, first.outputs, { workers: 1 });
 * const steps = [first, second];
 * console.assert(await verifyShuffleChainRecords({ publicKey, inputs, steps }, { workers: 1 }));
 * ```
 */
export async function verifyShuffleChainRecords(
  statement: ShuffleChainStatementRecords,
  options: VerifyShuffleOptions = {},
): Promise<boolean> {
  const { publicKey, steps } = statement;
  if (steps.length === 0) return false;
  const random = options.random ?? systemRandom;
  const context = statement.context === undefined ? {} : { context: statement.context };
  const lists: RecordSource[] = [statement.inputs, ...steps.map((s) => s.outputs)];
  const prepared: PreparedShuffleVerification[] = [];
  try {
    for (let m = 0; m < steps.length; m++) {
      prepared.push(prepareShuffleVerification(
        { publicKey, inputs: lists[m]!, outputs: lists[m + 1]!, ...context },
        steps[m]!.proof,
        random,
      ));
    }
  } catch (error) {
    if (error instanceof VerificationError || error instanceof InvalidInputError) return false;
    throw error;
  }
  const { n, width: w } = prepared[0]!;
  if (prepared.some((p) => p.width !== w)) return false;
  const workers = options.workers ?? workerCount();
  // Chunks of about one WebAssembly multi-exponentiation each (32,768 points; 18 per position
  // for three mixers of width 1): as efficient as longer ones, and many of them, so both
  // workers stay busy to the end (issue 17: no worker idle behind a long last chunk).
  const perPosition = 2 * w * (steps.length + 1) + 3 * steps.length + 1;
  const parts = workers <= 1
    ? chunks(n, workers)
    : splitRange(n, Math.max(2 * workers, Math.ceil((n * perPosition) / CHAIN_CHUNK_POINTS)));
  const gens = await generatorEncodings(n, workers);
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, steps.length);
  let partials: Uint8Array[][];
  try {
    partials = await runWorkerJobs(VERIFY_CHAIN_TASK, {
      count: parts.length,
      args: (p) => {
        const [lo, hi] = parts[p]!;
        return [
          chunkHeader(w, lo, hi - lo),
          count.slice(),
          ...lists.map((list) => copyRecords(list, lo, hi)),
          ...prepared.flatMap((prep) => shuffleChunkArgs(prep, lo, hi)),
          gens.slice(lo * ELEMENT_BYTES, hi * ELEMENT_BYTES),
        ];
      },
    }, {
      workers,
      onJobDone: (done, total) => {
        const all = n * steps.length;
        options.onProgress?.({
          phase: "verify",
          done: Math.round((all * done) / total),
          total: all,
        });
      },
    });
  } catch (error) {
    if (error instanceof VerificationError) return false;
    throw error;
  }
  // Global terms: g, h and pk shared by all proofs, each proof's t₁..t₄ on their own.
  let partial: Point = IDENTITY;
  let g = 0n, h = 0n, pk = 0n;
  const tPoints: Point[] = [], tScalars: bigint[] = [];
  prepared.forEach((prep, m) => {
    let deltaSHat = 0n, uProd = 1n;
    for (const part of partials) {
      deltaSHat += decodeScalar(part[1 + 2 * m]!, "partial sum");
      uProd = modL(uProd * decodeScalar(part[2 + 2 * m]!, "partial product"));
    }
    const global = shuffleGlobalTerms(prep, { deltaSHat, uProd });
    g += global.g, h += global.h, pk += global.pk;
    tPoints.push(...prep.tPoints);
    tScalars.push(...global.t);
  });
  for (const part of partials) {
    partial = partial.add(decodePoint(part[0]!, "partial", { allowIdentity: true }));
  }
  const total = multiScalarMul(
    [BASE_POINT, generator(0), publicKey, ...tPoints],
    [g, h, pk, ...tScalars],
  ).add(partial);
  return total.is0();
}

/**
 * Checks a chain of shuffle proofs at once (a mix cascade): the in-memory form of
 * {@linkcode verifyShuffleChainRecords}. Every proof's challenge is recomputed, then all the
 * proofs' batched equations are summed into one multi-exponentiation per chunk (about a
 * quarter less work for three mixers than {@linkcode verifyShuffle} step by step). It says
 * only whether all proofs hold: when one does not, verify the steps in order with
 * {@linkcode verifyShuffle} to learn which one and why.
 *
 * @param statement public key, the first inputs, every step's outputs and proof, context
 * @param options workers, progress (phase "verify", in ciphertexts × steps), weights' source
 * @returns true when every proof verifies, false when any check fails
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { shuffleAndProve, verifyShuffleChain } from "./shuffle_proof.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2, 3].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const first = await shuffleAndProve(publicKey, inputs, { workers: 1 });
 * const second = await shuffleAndProve(publicKey, first.outputs, { workers: 1 });
 * console.assert(await verifyShuffleChain({ publicKey, inputs, steps: [first, second] }, { workers: 1 }));
 * ```
 */
export async function verifyShuffleChain(
  statement: ShuffleChainStatement,
  options: VerifyShuffleOptions = {},
): Promise<boolean> {
  const { publicKey, steps } = statement;
  if (steps.length === 0) return false;
  let records: ShuffleChainStatementRecords;
  try {
    const n = statement.inputs.length;
    const pack = (list: readonly Ciphertext[], width: number) => {
      if (list.some((ct) => ct.width !== width)) fail("A ciphertext has the wrong width");
      return ciphertextRecordsOf(list, width);
    };
    records = {
      publicKey,
      inputs: pack(statement.inputs, steps[0]!.proof.width),
      steps: steps.map((step) => ({
        outputs: pack(step.outputs, step.proof.width),
        proof: proofRecordsOf(step.proof, n),
      })),
      ...(statement.context === undefined ? {} : { context: statement.context }),
    };
  } catch (error) {
    if (error instanceof VerificationError || error instanceof InvalidInputError) return false;
    throw error;
  }
  return await verifyShuffleChainRecords(records, options);
}
