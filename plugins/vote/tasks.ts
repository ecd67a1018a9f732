/**
 * Batch work of an election split into chunks run on the core worker pool: ballot
 * proof verification and share combination with message extraction; decryption shares
 * and their one-proof-per-trustee batch verification are the backend's batch functions
 * (which use the pool themselves). Each task only calls the re-encryption backend's public
 * functions on a chunk of items packed as bytes; nothing cryptographic is done here.
 *
 * The tasks are registered when this module loads, so a worker entry must import it
 * (the CLI main module does through the vote command; examples use
 * plugins/vote/worker_entry.ts). When the pool's workers lack these tasks (a worker
 * entry that does not import the plugin), chunks run in the calling thread instead.
 *
 * Packing: a header is u32be(width) ‖ u32be(count); ciphertexts are 64·w bytes each;
 * a decryption share is d₁..d_w (32·w bytes); a ballot proof is packed as in ballot
 * envelopes (A₁..A_w ‖ z₁..z_w, 64·w bytes); credentials are u16be(length) ‖ UTF-8.
 * The share tasks take the election definition (msgpack envelope) as an optional last
 * argument; with it they also decode the ballots' answers (msgpack array, null = invalid),
 * so decoding runs on the workers too.
 *
 * @module
 */

import { concatBytes, constantTimeEqual, joinBytes } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { ConfigError, InvalidInputError, VerificationError } from "../../core/errors.ts";
import {
  guidedRanges,
  registerWorkerTask,
  runWorkerJobs,
  runWorkerTasks,
  splitRange,
  workerCount,
} from "../../core/worker_pool.ts";
import {
  Ciphertext,
  combineSharesEncoded,
  createPackedDecryptionShareBatch,
  decodePoint,
  ELEMENT_BYTES,
  encodePoint,
  type EncryptionProof,
  extractEncodedBytes,
  LagrangeCombiner,
  type Point,
  type SecretShare,
  verifyEncryptionKnowledgeBatch,
  verifyPackedDecryptionShareBatch,
} from "../../backends/reencrypt/mod.ts";
import {
  BALLOT_RECEIPT_BYTES,
  ballotProofContext,
  ballotReceipter,
  type ElectionBallot,
  packBallotProof,
  unpackBallotProof,
} from "./ballot.ts";
import { decodeElectionAnswers, type ElectionAnswer } from "./answers.ts";
import {
  type ElectionDefinition,
  electionDefinitionFromEnvelope,
  electionDefinitionToEnvelope,
} from "./definition.ts";

/** Task names. */
export const VOTE_TASKS = {
  verifyBallots: "vote/verify-ballot-proofs",
  combine: "vote/combine-and-extract",
  checkPlaintexts: "vote/check-plaintexts",
} as const;

/** Per-item verdicts returned by the verification tasks. */
export const VOTE_ITEM_OK = 0;
/** The item's proof does not verify. */
export const VOTE_ITEM_INVALID = 1;
/** The item is malformed (bad encoding). */
export const VOTE_ITEM_MALFORMED = 2;

/** Most items in one chunk of a vote task (bounds the memory of a worker and of a message). */
const MAX_CHUNK = 4096;
/** Shortest chunk of a step's tail on workers (per-item tasks: little fixed cost per chunk). */
const MIN_TAIL_CHUNK = 256;

/** Bytes of one extracted element slot: a length byte (255 = no message) and 30 data bytes. */
const SLOT_BYTES = 31;
const NO_MESSAGE = 255;

function header(width: number, count: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, width);
  view.setUint32(4, count);
  return out;
}

function readHeader(bytes: Uint8Array | undefined): { width: number; count: number } {
  if (bytes === undefined || bytes.length !== 8) {
    throw new InvalidInputError("Vote task header must be 8 bytes");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return { width: view.getUint32(0), count: view.getUint32(4) };
}

function arg(args: Uint8Array[], i: number): Uint8Array {
  const a = args[i];
  if (a === undefined) throw new InvalidInputError(`Vote task argument ${i} is missing`);
  return a;
}

// ------------------------------------------------------------------ the tasks

/** Views of `count` length-prefixed (u16be) UTF-8 strings. */
function readStrings(bytes: Uint8Array, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = (bytes[at]! << 8) | bytes[at + 1]!;
    out.push(bytes.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

function verifyBallotsTask(args: Uint8Array[]): Uint8Array[] {
  const publicKey = decodePoint(arg(args, 0), "public key");
  const { width, count } = readHeader(args[1]);
  const fingerprint = arg(args, 2);
  // The credentials' UTF-8 bytes as packed (the context and receipt hash those bytes).
  const credentials = readStrings(arg(args, 3), count);
  const cts = arg(args, 4), proofs = arg(args, 5);
  const wantReceipts = arg(args, 6)[0] === 1;
  const size = 2 * ELEMENT_BYTES * width;
  const status = new Uint8Array(count);
  const receipts = new Uint8Array(count * BALLOT_RECEIPT_BYTES);
  const items: Array<{ ciphertext: Ciphertext; context: Uint8Array; proof: EncryptionProof }> = [];
  const positions: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      // Elements decoded by the batch check (straight from the bytes; MALFORMED if one does not).
      const ciphertext = Ciphertext.unchecked(
        cts.subarray(i * size, (i + 1) * size),
        `ballot ${i}`,
      );
      const proof = unpackBallotProof(proofs.subarray(i * size, (i + 1) * size), `ballot ${i}`, {
        view: true,
      });
      // The context binds the proof to election and voter (ballot.ts).
      const context = ballotProofContext(fingerprint, credentials[i]!);
      items.push({ ciphertext, context, proof });
      positions.push(i);
    } catch (error) {
      if (error instanceof InvalidInputError) status[i] = VOTE_ITEM_MALFORMED;
      else throw error;
    }
  }
  // Receipts of valid ballots, so the box does not hash them on the main thread.
  const receipt = wantReceipts ? ballotReceipter(fingerprint) : undefined;
  // One random linear combination for the whole chunk; one-by-one only if it fails (backend).
  verifyEncryptionKnowledgeBatch({ publicKey, items }).forEach((failure, j) => {
    const i = positions[j]!;
    if (failure === undefined) {
      if (receipt !== undefined) {
        receipts.set(
          receipt(
            credentials[i]!,
            items[j]!.ciphertext.bytes,
            proofs.subarray(i * size, (i + 1) * size),
          ),
          i * BALLOT_RECEIPT_BYTES,
        );
      }
      return;
    }
    status[i] = failure instanceof VerificationError ? VOTE_ITEM_INVALID : VOTE_ITEM_MALFORMED;
  });
  return [status, receipts];
}

function readTrustees(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o < bytes.length; o += 4) {
    out.push(new DataView(bytes.buffer, bytes.byteOffset + o, 4).getUint32(0));
  }
  return out;
}

/** Writes the message embedded in an element (canonical bytes) into its slot. */
function writeSlot(slots: Uint8Array, slot: number, element: Uint8Array): void {
  try {
    const data = extractEncodedBytes(element);
    slots[slot] = data.length;
    slots.set(data, slot + 1);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    slots[slot] = NO_MESSAGE;
  }
}

/**
 * Combines (or checks) a chunk's shares straight from their encodings (the backend's
 * Lagrange combination, two elements at a time in WebAssembly SIMD where available):
 * marks the status byte of each ballot/trustee share that does not decode, and throws
 * as decodePoint does for the first c2 of a ballot whose shares all decode that does not.
 *
 * @returns per element the combination (encodings, or a mismatch byte for a check), the
 *   per-input decode failures, and whether ballot i has all its shares
 */
function combineChunk(
  args: Uint8Array[],
  options: {
    trustees: number[];
    combiner: LagrangeCombiner;
    width: number;
    count: number;
    status: Uint8Array;
    published?: Uint8Array;
  },
): { bad: Uint8Array; out: Uint8Array; complete: (i: number) => boolean; q: number } {
  const { trustees, combiner, width, count, status, published } = options;
  const n = count * width;
  const cts = arg(args, 2);
  // Only c2 is needed (the shares replace c1); the mix verification validated the ciphertexts.
  const c2 = new Uint8Array(n * ELEMENT_BYTES);
  for (let e = 0; e < n; e++) {
    const at = (2 * e + 1) * ELEMENT_BYTES;
    c2.set(cts.subarray(at, at + ELEMENT_BYTES), e * ELEMENT_BYTES);
  }
  // Shares already checked by the trustee's batch proof (or trusted: the tallier's own).
  // A short list leaves zero bytes (the identity, refused) where an element is missing.
  const exactly = (bytes: Uint8Array) => {
    if (bytes.length >= n * ELEMENT_BYTES) return bytes.subarray(0, n * ELEMENT_BYTES);
    const out = new Uint8Array(n * ELEMENT_BYTES);
    out.set(bytes);
    return out;
  };
  const shares = trustees.map((_, j) => exactly(arg(args, 3 + j)));
  // λⱼ = nⱼ/D with small integers nⱼ: a few additions per share, no full multiply when D = 1.
  const { bad, out } = combineSharesEncoded({
    c2,
    shares,
    numerators: combiner.numerators,
    denominator: combiner.denominator,
    ...(published === undefined ? {} : { published: exactly(published) }),
  });
  const q = 1 + trustees.length + (published === undefined ? 0 : 1);
  const complete = new Uint8Array(count).fill(1);
  for (let i = 0; i < count; i++) {
    trustees.forEach((_, j) => {
      for (let k = 0; k < width; k++) {
        if (bad[(i * width + k) * q + 1 + j] === 1) {
          status[i * trustees.length + j] = VOTE_ITEM_MALFORMED;
          complete[i] = 0;
          return;
        }
      }
    });
    if (complete[i] === 0) continue;
    for (let k = 0; k < width; k++) {
      if (bad[(i * width + k) * q] === 1) {
        const at = (i * width + k) * ELEMENT_BYTES;
        decodePoint(c2.subarray(at, at + ELEMENT_BYTES), `ciphertext ${i}.c2[${k}]`);
      }
    }
  }
  return { bad, out, complete: (i) => complete[i] === 1, q };
}

/**
 * The decoded answers of a chunk's slots (null for an invalid ballot) as msgpack, when the
 * task was given the definition (msgpack envelope) as its optional last argument; else empty.
 */
function decodeSlots(definitionBytes: Uint8Array | undefined, slots: Uint8Array, width: number) {
  if (definitionBytes === undefined || definitionBytes.length === 0) return new Uint8Array(0);
  const definition = electionDefinitionFromEnvelope(decodeMsgpack(definitionBytes, "definition"));
  const answers = readSlots([slots], width).map((parts) =>
    decodeElectionAnswers(definition, parts) ?? null
  );
  return encodeMsgpack(answers);
}

function combineTask(args: Uint8Array[]): Uint8Array[] {
  const trustees = readTrustees(arg(args, 0));
  const { width, count } = readHeader(args[1]);
  const combiner = new LagrangeCombiner(trustees);
  const slots = new Uint8Array(count * SLOT_BYTES * width);
  const status = new Uint8Array(count * trustees.length);
  // mₖ = c2ₖ − Σ λⱼ·dⱼₖ (Lagrange interpolation at 0), encoded once.
  const { out: plaintexts, complete } = combineChunk(args, {
    trustees,
    combiner,
    width,
    count,
    status,
  });
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < width; k++) {
      const slot = (i * width + k) * SLOT_BYTES;
      const at = (i * width + k) * ELEMENT_BYTES;
      if (!complete(i)) {
        plaintexts.fill(0, at, at + ELEMENT_BYTES); // as when no element is combined
        slots[slot] = NO_MESSAGE;
        continue;
      }
      writeSlot(slots, slot, plaintexts.subarray(at, at + ELEMENT_BYTES));
    }
  }
  return [plaintexts, slots, status, decodeSlots(args[3 + trustees.length], slots, width)];
}

function checkPlaintextsTask(args: Uint8Array[]): Uint8Array[] {
  const trustees = readTrustees(arg(args, 0));
  const { width, count } = readHeader(args[1]);
  const published = arg(args, 3 + trustees.length);
  const combiner = new LagrangeCombiner(trustees);
  const slots = new Uint8Array(count * SLOT_BYTES * width);
  const status = new Uint8Array(count * trustees.length);
  const verdicts = new Uint8Array(count);
  // D·(c2ₖ − mₖ) = Σ nⱼ·dⱼₖ: the published mₖ is the Lagrange combination (no full multiply).
  const { bad, out: mismatch, complete, q } = combineChunk(args, {
    trustees,
    combiner,
    width,
    count,
    status,
    published,
  });
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < width; k++) {
      const e = i * width + k;
      writeSlot(
        slots,
        e * SLOT_BYTES,
        published.subarray(e * ELEMENT_BYTES, (e + 1) * ELEMENT_BYTES),
      );
      if (!complete(i) || verdicts[i] !== VOTE_ITEM_OK) continue;
      if (bad[e * q + q - 1] === 1) verdicts[i] = VOTE_ITEM_MALFORMED;
      else if (mismatch[e] === 1) verdicts[i] = VOTE_ITEM_INVALID;
    }
  }
  return [slots, status, verdicts, decodeSlots(args[4 + trustees.length], slots, width)];
}

registerWorkerTask(VOTE_TASKS.verifyBallots, verifyBallotsTask);
registerWorkerTask(VOTE_TASKS.combine, combineTask);
registerWorkerTask(VOTE_TASKS.checkPlaintexts, checkPlaintextsTask);

// ------------------------------------------------------------------ runners

/** Options of the batch runners. */
export interface VoteBatchOptions {
  /** Workers (default the shared pool size; 1 = this thread). */
  workers?: number;
  /** Called after each chunk with items done and total. */
  onChunk?: (done: number, total: number) => void;
}

async function runChunks(
  task: string,
  count: number,
  makeArgs: (lo: number, hi: number) => Uint8Array[],
  options: VoteBatchOptions,
): Promise<Uint8Array[][]> {
  const workers = options.workers ?? workerCount();
  // At most MAX_CHUNK items per chunk, so a worker's memory is bounded whatever the count;
  // on workers a tail of shrinking chunks, so none waits long for the last one (issue 17).
  const ranges = workers > 1
    ? guidedRanges(count, workers, { maxChunk: MAX_CHUNK, minChunk: MIN_TAIL_CHUNK })
    : splitRange(count, Math.ceil(count / 2000));
  const local = async () => {
    const out: Uint8Array[][] = [];
    for (const [lo, hi] of ranges) {
      out.push((await runWorkerTasks(task, [makeArgs(lo, hi)], { workers: 1 }))[0]!);
      options.onChunk?.(hi, count);
    }
    return out;
  };
  if (workers <= 1) return await local();
  try {
    // A sliding window of chunks (no rounds: a worker that finishes early takes the next
    // chunk at once); a chunk's arguments are built only when it starts (issue 17).
    let items = 0;
    return await runWorkerJobs(task, {
      count: ranges.length,
      args: (k) => makeArgs(...ranges[k]!),
    }, {
      workers,
      onJobDone: (done) => {
        const [lo, hi] = ranges[done - 1]!;
        items += hi - lo;
        options.onChunk?.(items, count);
      },
    });
  } catch (error) {
    // The pool's entry module does not register the vote tasks: run them here instead.
    if (error instanceof ConfigError && /is not registered/.test(error.message)) {
      return await local();
    }
    throw error;
  }
}

/**
 * Verifies many ballots' proofs in parallel (one batch equation per chunk, backend
 * `verifyEncryptionKnowledgeBatch`) and computes the receipts of the valid ones. Every
 * ballot must be of this election and this width.
 *
 * @param items public key, election fingerprint, width, the ballots, and `receipts`
 *   (default true; false skips computing them)
 * @param options workers and progress
 * @returns one verdict per ballot ({@linkcode VOTE_ITEM_OK}, {@linkcode VOTE_ITEM_INVALID},
 *   {@linkcode VOTE_ITEM_MALFORMED}) and the receipts (32 bytes each; zeros unless valid)
 * @throws {InvalidInputError} when a ballot has another width or election
 * @example
 * ```ts ignore
 * const { verdicts, receipts } = await voteVerifyBallotProofs({ publicKey, fingerprint, width, ballots });
 * ```
 */
export async function voteVerifyBallotProofs(
  items: {
    publicKey: Point;
    fingerprint: Uint8Array;
    width: number;
    ballots: readonly ElectionBallot[];
    receipts?: boolean;
  },
  options: VoteBatchOptions = {},
): Promise<{ verdicts: Uint8Array; receipts: Uint8Array[] }> {
  const { ballots, width } = items;
  const encoder = new TextEncoder();
  for (const b of ballots) {
    if (
      b.ciphertext.width !== width || b.proof.responses.length !== width ||
      b.proof.commitments.length !== ELEMENT_BYTES * width ||
      !constantTimeEqual(b.election, items.fingerprint)
    ) {
      throw new InvalidInputError(`Ballot of '${b.credential.slice(0, 40)}' is not of this batch`);
    }
  }
  // Credentials packed per chunk, when the chunk is sent (no array of N packed strings).
  const packCredentials = (lo: number, hi: number) =>
    concatBytes(
      ...ballots.slice(lo, hi).map((b) => {
        const bytes = encoder.encode(b.credential).subarray(0, 0xffff);
        return concatBytes(new Uint8Array([bytes.length >> 8, bytes.length & 255]), bytes);
      }),
    );
  const pk = encodePoint(items.publicKey);
  const results = await runChunks(VOTE_TASKS.verifyBallots, ballots.length, (lo, hi) => [
    pk.slice(),
    header(width, hi - lo),
    items.fingerprint.slice(),
    packCredentials(lo, hi),
    concatBytes(...ballots.slice(lo, hi).map((b) => b.ciphertext.bytes)),
    concatBytes(...ballots.slice(lo, hi).map((b) => packBallotProof(b.proof))),
    new Uint8Array([items.receipts === false ? 0 : 1]),
  ], options);
  const receipts: Uint8Array[] = [];
  for (const [, r] of results) {
    for (let o = 0; o < r!.length; o += BALLOT_RECEIPT_BYTES) {
      receipts.push(r!.subarray(o, o + BALLOT_RECEIPT_BYTES));
    }
  }
  return { verdicts: concatBytes(...results.map((r) => r[0]!)), receipts };
}

/**
 * Creates one trustee's decryption shares of many ciphertexts with one batched
 * Chaum–Pedersen proof (backend `createPackedDecryptionShareBatch`, on the workers).
 *
 * @param key the trustee's index and secret share
 * @param options ciphertexts, workers and progress (as chunks of shares finish)
 * @returns the shares (32·w bytes each, one per ciphertext) and the batch proof
 * @example
 * ```ts ignore
 * const { shares, proof } = await voteCreateDecryptionShares(key, { ciphertexts });
 * ```
 */
export async function voteCreateDecryptionShares(
  key: SecretShare,
  options: VoteBatchOptions & { ciphertexts: readonly Ciphertext[]; context: Uint8Array },
): Promise<{ shares: Uint8Array[]; proof: { challenge: bigint; response: bigint } }> {
  const { ciphertexts } = options;
  const batch = await createPackedDecryptionShareBatch(key, ciphertexts, {
    context: options.context, // the proof binds the election fingerprint
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.onChunk === undefined ? {} : { onChunk: options.onChunk }),
  });
  const size = ELEMENT_BYTES * batch.width;
  const shares: Uint8Array[] = [];
  for (let o = 0; o < batch.shares.length; o += size) {
    shares.push(batch.shares.subarray(o, o + size));
  }
  options.onChunk?.(ciphertexts.length, ciphertexts.length);
  return { shares, proof: batch.proof };
}

/**
 * Verifies one trustee's decryption shares of many ciphertexts against its batch proof
 * (backend `verifyPackedDecryptionShareBatch`: two multi-scalar multiplications).
 *
 * @param trustee index and verification key
 * @param options ciphertexts, shares (32·w bytes each), the batch proof, workers, progress
 * @returns true when the batch verifies, false when it does not (malformed shares included)
 * @example
 * ```ts ignore
 * const ok = await voteVerifyDecryptionShares({ index: 1, verificationKey }, { ciphertexts, shares, proof });
 * ```
 */
export async function voteVerifyDecryptionShares(
  trustee: { index: number; verificationKey: Point },
  options: VoteBatchOptions & {
    ciphertexts: readonly Ciphertext[];
    shares: readonly Uint8Array[];
    proof: { challenge: bigint; response: bigint };
    context: Uint8Array;
  },
): Promise<boolean> {
  const { ciphertexts, shares } = options;
  const width = ciphertexts[0]?.width ?? 1;
  try {
    await verifyPackedDecryptionShareBatch(
      { index: trustee.index, width, shares: joinBytes(shares), proof: options.proof },
      {
        ciphertexts,
        verificationKey: trustee.verificationKey,
        context: options.context,
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        ...(options.onChunk === undefined ? {} : { onChunk: options.onChunk }),
      },
    );
    return true;
  } catch (error) {
    if (error instanceof VerificationError) return false;
    throw error;
  } finally {
    options.onChunk?.(ciphertexts.length, ciphertexts.length);
  }
}

/** The trustees' indices as u32be, and the per-chunk arguments shared by both share tasks. */
function shareArgs(
  posts: ReadonlyArray<{ trustee: number; shares: readonly Uint8Array[] }>,
  ciphertexts: readonly Ciphertext[],
): (lo: number, hi: number) => Uint8Array[] {
  const width = ciphertexts[0]?.width ?? 1;
  const trustees = new Uint8Array(4 * posts.length);
  posts.forEach((p, t) => new DataView(trustees.buffer).setUint32(4 * t, p.trustee));
  return (lo, hi) => [
    trustees.slice(),
    header(width, hi - lo),
    concatBytes(...ciphertexts.slice(lo, hi).map((c) => c.bytes)),
    ...posts.map((p) => concatBytes(...p.shares.slice(lo, hi))),
  ];
}

/** Messages from the slots of all chunks, in order. */
function readSlots(chunks: readonly Uint8Array[], width: number): (Uint8Array | undefined)[][] {
  const messages: (Uint8Array | undefined)[][] = [];
  for (const slots of chunks) {
    for (let s = 0; s < slots.length; s += SLOT_BYTES * width) {
      const parts: (Uint8Array | undefined)[] = [];
      for (let k = 0; k < width; k++) {
        const at = s + k * SLOT_BYTES;
        const len = slots[at]!;
        parts.push(len === NO_MESSAGE ? undefined : slots.slice(at + 1, at + 1 + len));
      }
      messages.push(parts);
    }
  }
  return messages;
}

/** Per-trustee share verdicts from the chunks' count·T status bytes (trustee-minor). */
function readShareVerdicts(chunks: readonly Uint8Array[], trustees: number): Uint8Array[] {
  let total = 0;
  for (const c of chunks) total += c.length / trustees;
  const verdicts = Array.from({ length: trustees }, () => new Uint8Array(total));
  let base = 0;
  for (const status of chunks) {
    const count = status.length / trustees;
    for (let i = 0; i < count; i++) {
      for (let t = 0; t < trustees; t++) verdicts[t]![base + i] = status[i * trustees + t]!;
    }
    base += count;
  }
  return verdicts;
}

/**
 * Combines the trustees' shares (already verified with
 * {@linkcode voteVerifyDecryptionShares}) of many ciphertexts in parallel and extracts the
 * embedded messages. Per element: a few group additions (backend `combineSharesEncoded` with
 * the small integer Lagrange numerators of `LagrangeCombiner`, decoding and encoding two
 * elements at a time in WebAssembly SIMD) and one encoding.
 *
 * @param posts per trustee its index and shares (32·w bytes, one per ciphertext)
 * @param options ciphertexts, workers, progress, and `definition`: decode the answers on
 *   the workers too
 * @returns per ciphertext the plaintext elements (32·w bytes) and the extracted messages
 *   (undefined where an element embeds no message), per trustee the verdicts of its
 *   shares ({@linkcode VOTE_ITEM_MALFORMED} where a share does not decode), and with a
 *   definition the decoded answers (null: invalid ballot)
 * @example
 * ```ts ignore
 * const { plaintexts, messages } = await voteCombineDecryptionShares(posts, { ciphertexts });
 * ```
 */
export async function voteCombineDecryptionShares(
  posts: ReadonlyArray<
    { trustee: number; shares: readonly Uint8Array[] }
  >,
  options: VoteBatchOptions & {
    ciphertexts: readonly Ciphertext[];
    definition?: ElectionDefinition;
  },
): Promise<{
  plaintexts: Uint8Array[];
  messages: (Uint8Array | undefined)[][];
  verdicts: Uint8Array[];
  answers?: (ElectionAnswer[] | null)[];
}> {
  const { ciphertexts } = options;
  const width = ciphertexts[0]?.width ?? 1;
  const base = shareArgs(posts, ciphertexts);
  const definition = definitionArg(options.definition);
  const results = await runChunks(
    VOTE_TASKS.combine,
    ciphertexts.length,
    (lo, hi) => [...base(lo, hi), definition.slice()],
    options,
  );
  const plaintexts: Uint8Array[] = [];
  const pSize = ELEMENT_BYTES * width;
  for (const [pt] of results) {
    // Views into the chunk's buffer (one backing store per chunk).
    for (let o = 0; o < pt!.length; o += pSize) plaintexts.push(pt!.subarray(o, o + pSize));
  }
  return {
    plaintexts,
    messages: readSlots(results.map((r) => r[1]!), width),
    verdicts: readShareVerdicts(results.map((r) => r[2]!), posts.length),
    ...readAnswers(results.map((r) => r[3]), options.definition),
  };
}

/** The definition argument of the share tasks (empty: do not decode). */
function definitionArg(definition: ElectionDefinition | undefined): Uint8Array {
  return definition === undefined
    ? new Uint8Array(0)
    : encodeMsgpack(electionDefinitionToEnvelope(definition));
}

/** The answers the workers decoded, in order, when a definition was given. */
function readAnswers(
  chunks: readonly (Uint8Array | undefined)[],
  definition: ElectionDefinition | undefined,
): { answers?: (ElectionAnswer[] | null)[] } {
  if (definition === undefined) return {};
  const answers: (ElectionAnswer[] | null)[] = [];
  for (const bytes of chunks) {
    for (const a of decodeMsgpack(bytes!, "answers") as (ElectionAnswer[] | null)[]) {
      answers.push(a);
    }
  }
  return { answers };
}

/**
 * Checks published plaintexts against the trustees' shares (already verified with
 * {@linkcode voteVerifyDecryptionShares}) in parallel, without recombining: per element,
 * D·(c2 − m) = Σ nⱼ·dⱼ with the small Lagrange numerators nⱼ and denominator D (backend
 * `combineSharesEncoded`, a few group additions), and extracts the embedded messages
 * from the published bytes.
 *
 * @param posts per trustee its index and shares (32·w bytes, one per ciphertext)
 * @param options ciphertexts, the published plaintexts (32·w bytes each, one per
 *   ciphertext), workers, progress, and `definition`: decode the answers on the workers too
 * @returns per ciphertext a verdict ({@linkcode VOTE_ITEM_OK}, {@linkcode VOTE_ITEM_INVALID}:
 *   not the combination of the shares, {@linkcode VOTE_ITEM_MALFORMED}: not a group element),
 *   the extracted messages, per trustee the verdicts of its shares, and with a definition
 *   the answers decoded from the published plaintexts (null: invalid ballot)
 * @throws {InvalidInputError} when there are not as many plaintexts as ciphertexts
 * @example
 * ```ts ignore
 * const { plaintextVerdicts, messages } = await voteCheckPlaintexts(posts, { ciphertexts, plaintexts });
 * ```
 */
export async function voteCheckPlaintexts(
  posts: ReadonlyArray<{ trustee: number; shares: readonly Uint8Array[] }>,
  options: VoteBatchOptions & {
    ciphertexts: readonly Ciphertext[];
    plaintexts: readonly Uint8Array[];
    definition?: ElectionDefinition;
  },
): Promise<{
  plaintextVerdicts: Uint8Array;
  messages: (Uint8Array | undefined)[][];
  verdicts: Uint8Array[];
  answers?: (ElectionAnswer[] | null)[];
}> {
  const { ciphertexts, plaintexts } = options;
  const width = ciphertexts[0]?.width ?? 1;
  if (plaintexts.length !== ciphertexts.length) {
    throw new InvalidInputError(
      `Got ${plaintexts.length} plaintexts for ${ciphertexts.length} ciphertexts`,
    );
  }
  const base = shareArgs(posts, ciphertexts);
  const definition = definitionArg(options.definition);
  const results = await runChunks(VOTE_TASKS.checkPlaintexts, ciphertexts.length, (lo, hi) => [
    ...base(lo, hi),
    concatBytes(...plaintexts.slice(lo, hi)),
    definition.slice(),
  ], options);
  return {
    plaintextVerdicts: concatBytes(...results.map((r) => r[2]!)),
    messages: readSlots(results.map((r) => r[0]!), width),
    verdicts: readShareVerdicts(results.map((r) => r[1]!), posts.length),
    ...readAnswers(results.map((r) => r[3]), options.definition),
  };
}
