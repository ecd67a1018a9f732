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
 * a decryption share is d₁..d_w (32·w bytes); ballots go to their check as a store keeps
 * them (ballot_store.ts: u32be(length) ‖ u16be(n) ‖ credential ‖ ciphertext ‖ proof packed as
 * in ballot envelopes, A₁..A_w ‖ z₁..z_w).
 * The share tasks take the election definition (msgpack envelope, empty for none) and a mode
 * byte after it; with them they also decode the ballots' answers (msgpack array,
 * null = invalid) and/or count them straight from the slots (the chunk's tally in the u32
 * flat form of `tallyCountsLayout`), so decoding and counting run on the workers too.
 *
 * @module
 */

import { constantTimeEqual, joinBytes } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { ConfigError, InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  guidedRanges,
  registerWorkerTask,
  runWorkerJobs,
  runWorkerTasks,
  splitRange,
  workerCount,
} from "../../core/worker_pool.ts";
import {
  allRecords,
  memoryRecords,
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import {
  Ciphertext,
  combineSharesEncoded,
  createPackedDecryptionShareBatchRecords,
  decodePoint,
  ELEMENT_BYTES,
  encodePoint,
  LagrangeCombiner,
  type PackedEncryptionProof,
  type Point,
  type SecretShare,
  verifyEncryptionKnowledgeBatch,
  verifyPackedDecryptionShareBatchRecords,
} from "../../backends/reencrypt/mod.ts";
import {
  BALLOT_CONTEXT_LABEL,
  BALLOT_RECEIPT_BYTES,
  ballotProofContextsOf,
  ballotReceipter,
  type ElectionBallot,
} from "./ballot.ts";
import {
  type EncodedBallotChunk,
  encodedBallotChunk,
  encodeStoredBallots,
  storedCredentialEnd,
} from "./ballot_store.ts";
import { decodeElectionAnswers, type ElectionAnswer } from "./answers.ts";
import { ciphertextRecords } from "./election_records.ts";
import { slotTallyCounter, VOTE_NO_MESSAGE, VOTE_SLOT_BYTES, writeVoteSlot } from "./slot_tally.ts";
import {
  ELECTION_FINGERPRINT_BYTES,
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

/** Bytes of a ballot proof's context before the credential: label ‖ fingerprint. */
const CONTEXT_HEAD = new TextEncoder().encode(BALLOT_CONTEXT_LABEL).length +
  ELECTION_FINGERPRINT_BYTES;

/** Bits of the share tasks' last argument: what the workers make of the decoded slots. */
const DECODE_ANSWERS = 1;
/** The chunk's tally in the flat form of `tallyCountsLayout`. */
const DECODE_COUNTS = 2;

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

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether bytes are UTF-8 (what decoding a stored ballot requires of its credential). */
function isUtf8(bytes: Uint8Array): boolean {
  let ascii = true;
  for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes[i]! < 0x80;
  if (ascii) return true;
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The ballots' check: args are the public key, the header, the fingerprint, the ballots as
 * stored records (u32be(length) ‖ u16be(n) ‖ credential ‖ ciphertext ‖ proof, ballot_store.ts;
 * a record of length 0 has no ballot: MALFORMED) and the receipts flag. Each ballot's proof is
 * decoded here once, straight from its record.
 */
/**
 * The framing of {@linkcode verifyBallotsTask}'s records: per record of the right length,
 * its position, where its ciphertext starts and its credential's bytes into `shaped`, `from`
 * and `credentials`; a record of the wrong length is MALFORMED in `status`. Returns where the
 * records end (the caller checks that nothing trails them): nothing after the loop here
 * needs type feedback, so its code compiled during a first call serves every later call.
 */
function frameRecords(
  records: Uint8Array,
  out: {
    count: number;
    size: number;
    status: Uint8Array;
    shaped: number[];
    from: number[];
    credentials: Uint8Array[];
  },
): number {
  const { count, size, status, shaped, from, credentials } = out;
  const view = new DataView(records.buffer, records.byteOffset, records.length);
  const total = records.length;
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > total) throw new InvalidInputError(`Vote task ballot ${i} is cut off`);
    const length = view.getUint32(at);
    const end = at + 4 + length;
    if (end > total) throw new InvalidInputError(`Vote task ballot ${i} is cut off`);
    const ct = length >= 2 ? storedCredentialEnd(records, at + 4) : at + 6, n = ct - at - 6;
    at = end;
    if (length < 2 || length !== 2 + n + 2 * size) {
      status[i] = VOTE_ITEM_MALFORMED;
      continue;
    }
    shaped.push(i);
    from.push(ct);
    credentials.push(records.subarray(ct - n, ct));
  }
  return at;
}

function verifyBallotsTask(args: Uint8Array[]): Uint8Array[] {
  const publicKey = decodePoint(arg(args, 0), "public key");
  const { width, count } = readHeader(args[1]);
  const fingerprint = arg(args, 2);
  const records = arg(args, 3);
  const wantReceipts = arg(args, 4)[0] === 1;
  const size = 2 * ELEMENT_BYTES * width;
  const status = new Uint8Array(count);
  const receipts = new Uint8Array(wantReceipts ? count * BALLOT_RECEIPT_BYTES : 0);
  const items: Array<
    { ciphertext: Ciphertext; context: Uint8Array; proof: PackedEncryptionProof }
  > = [];
  // Per checked ballot: its position and where its ciphertext starts.
  const positions: number[] = [], starts: number[] = [];
  // First the framing and width of each record (the box's rule 1 for the shape), then the
  // credentials' contexts, all in one buffer (ballot.ts), then the ciphertexts and proofs.
  // The loop is a function of its own (issue 17): this one then has none, and is compiled
  // after whole calls rather than on the stack in its first call and again.
  const shaped: number[] = [], from: number[] = [], credentials: Uint8Array[] = [];
  const framed = frameRecords(records, { count, size, status, shaped, from, credentials });
  if (framed !== records.length) {
    throw new InvalidInputError("Vote task ballots have trailing bytes");
  }
  // The context binds the proof to election and voter; it checks the credential.
  const contexts = ballotProofContextsOf(fingerprint, credentials);
  shaped.forEach((i, k) => {
    const context = contexts[k]!, ct = from[k]!;
    try {
      if (context instanceof InvalidInputError) throw context;
      if (!isUtf8(credentials[k]!)) {
        throw new InvalidInputError(`Ballot ${i} credential is not UTF-8`);
      }
      // Elements decoded by the batch check (straight from the bytes; MALFORMED if one does not).
      const ciphertext = Ciphertext.unchecked(records.subarray(ct, ct + size), `ballot ${i}`);
      // The proof as views of its bytes (commitments ‖ responses): the batch check reads
      // the responses as they are, no bigint per response (a non-canonical one fails it).
      const proof = {
        commitments: records.subarray(ct + size, ct + size + size / 2),
        packedResponses: records.subarray(ct + size + size / 2, ct + 2 * size),
      };
      items.push({ ciphertext, context, proof });
      positions.push(i);
      starts.push(ct);
    } catch (error) {
      if (error instanceof InvalidInputError) status[i] = VOTE_ITEM_MALFORMED;
      else throw error;
    }
  });
  // Receipts of valid ballots, so the box does not hash them on the main thread.
  const receipt = wantReceipts ? ballotReceipter(fingerprint) : undefined;
  // One random linear combination for the whole chunk; one-by-one only if it fails (backend).
  verifyEncryptionKnowledgeBatch({ publicKey, items }).forEach((failure, j) => {
    const i = positions[j]!;
    if (failure === undefined) {
      if (receipt !== undefined) {
        const from = starts[j]!;
        receipts.set(
          receipt(
            items[j]!.context.subarray(CONTEXT_HEAD),
            records.subarray(from, from + size),
            records.subarray(from + size, from + 2 * size),
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

/**
 * Combines (or checks) a chunk's shares straight from their encodings (the backend's
 * Lagrange combination, two elements at a time in WebAssembly SIMD where available):
 * marks the status byte of each ballot/trustee share that does not decode, and throws
 * as decodePoint does for the first c2 of a ballot whose shares all decode that does not.
 *
 * @returns per element the combination (encodings, or a mismatch byte for a check), the
 *   per-input decode failures, and per ballot 1 when it has all its shares (else 0)
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
): { bad: Uint8Array; out: Uint8Array; complete: Uint8Array; q: number } {
  const { trustees, combiner, width, count, status, published } = options;
  const n = count * width;
  const cts = arg(args, 2);
  // Only c2 is needed (the shares replace c1); the mix verification validated the ciphertexts.
  const c2 = secondHalves(cts, n);
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
  const complete = completeBallots(bad, { trustees: trustees.length, width, count, q, status });
  // decodePoint throws as it would have for the first such c2 (its message names it).
  const where = { complete, width, q };
  for (let e = firstBadC2(bad, where, 0); e >= 0; e = firstBadC2(bad, where, e + 1)) {
    const i = Math.floor(e / width), k = e % width, at = e * ELEMENT_BYTES;
    decodePoint(c2.subarray(at, at + ELEMENT_BYTES), `ciphertext ${i}.c2[${k}]`);
  }
  return { bad, out, complete, q };
}

/**
 * The first element from `from` on whose c2 does not decode, of a ballot whose shares all do
 * (−1: none).
 */
function firstBadC2(
  bad: Uint8Array,
  o: { complete: Uint8Array; width: number; q: number },
  from: number,
): number {
  for (let e = from; e < o.complete.length * o.width; e++) {
    if (o.complete[Math.floor(e / o.width)] !== 0 && bad[e * o.q] === 1) return e;
  }
  return -1;
}

// The loops of a chunk are small functions of their own: each is compiled once as a whole
// in every worker, not the task again on stack replacement at each loop (issue 17: the
// tally's compile time is paid once per worker, within the phase).

/** The second 32 bytes of each of n 64-byte pairs (the c2 of each element's (c1, c2)), copied. */
function secondHalves(records: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * ELEMENT_BYTES);
  for (let e = 0; e < n; e++) {
    const from = (2 * e + 1) * ELEMENT_BYTES, to = e * ELEMENT_BYTES;
    for (let b = 0; b < ELEMENT_BYTES; b++) out[to + b] = records[from + b]!;
  }
  return out;
}

/**
 * Per ballot 1 when every trustee's shares of it decode; marks the status byte of each
 * ballot/trustee share that does not.
 */
function completeBallots(
  bad: Uint8Array,
  o: { trustees: number; width: number; count: number; q: number; status: Uint8Array },
): Uint8Array {
  const complete = new Uint8Array(o.count).fill(1);
  for (let i = 0; i < o.count; i++) {
    for (let j = 0; j < o.trustees; j++) {
      for (let k = 0; k < o.width; k++) {
        if (bad[(i * o.width + k) * o.q + 1 + j] === 1) {
          o.status[i * o.trustees + j] = VOTE_ITEM_MALFORMED;
          complete[i] = 0;
          break;
        }
      }
    }
  }
  return complete;
}

/**
 * The slots of a chunk's elements (32-byte encodings from `source`); where `complete` is 0
 * the ballot's slots say no message and, with `clear`, its elements are zeroed as when none
 * is combined.
 */
function writeSlots(
  slots: Uint8Array,
  o: { source: Uint8Array; complete?: Uint8Array; clear: boolean; count: number; width: number },
): void {
  for (let i = 0; i < o.count; i++) {
    for (let k = 0; k < o.width; k++) {
      const e = i * o.width + k;
      if (o.complete !== undefined && o.complete[i] === 0) {
        if (o.clear) o.source.fill(0, e * ELEMENT_BYTES, (e + 1) * ELEMENT_BYTES);
        slots[e * VOTE_SLOT_BYTES] = VOTE_NO_MESSAGE;
        continue;
      }
      writeVoteSlot(slots, {
        at: e * VOTE_SLOT_BYTES,
        element: o.source,
        offset: e * ELEMENT_BYTES,
      });
    }
  }
}

/**
 * What the workers make of a chunk's slots when the task was given the definition (msgpack
 * envelope; empty: nothing): the decoded answers (null for an invalid ballot) as msgpack, and
 * the chunk's tally counted from the slots (`tallyCountsLayout`'s flat form, u32), as the
 * mode argument after it asks (bits {@linkcode DECODE_ANSWERS}, {@linkcode DECODE_COUNTS}).
 * Both task kinds (combine, check) end here: one path.
 */
function decodeSlots(
  args: { definition: Uint8Array; mode: Uint8Array },
  slots: Uint8Array,
  width: number,
): [Uint8Array, Uint8Array] {
  const none = new Uint8Array(0);
  if (args.definition.length === 0) return [none, none];
  const mode = args.mode[0]!;
  const definition = electionDefinitionFromEnvelope(
    decodeMsgpack(args.definition, "definition"),
  );
  const answers = (mode & DECODE_ANSWERS) === 0 ? none : encodeMsgpack(
    readSlots([slots], width).map((parts) => decodeElectionAnswers(definition, parts) ?? null),
  );
  const counts = (mode & DECODE_COUNTS) === 0
    ? none
    : new Uint8Array(slotTallyCounter(definition, width)(slots).buffer);
  return [answers, counts];
}

function combineTask(args: Uint8Array[]): Uint8Array[] {
  const trustees = readTrustees(arg(args, 0));
  const { width, count } = readHeader(args[1]);
  const combiner = new LagrangeCombiner(trustees);
  const slots = new Uint8Array(count * VOTE_SLOT_BYTES * width);
  const status = new Uint8Array(count * trustees.length);
  // mₖ = c2ₖ − Σ λⱼ·dⱼₖ (Lagrange interpolation at 0), encoded once.
  const { out: plaintexts, complete } = combineChunk(args, {
    trustees,
    combiner,
    width,
    count,
    status,
  });
  // Incomplete ballots' elements zeroed, as when no element is combined.
  writeSlots(slots, { source: plaintexts, complete, clear: true, count, width });
  const definition = {
    definition: arg(args, 3 + trustees.length),
    mode: arg(args, 4 + trustees.length),
  };
  return [plaintexts, slots, status, ...decodeSlots(definition, slots, width)];
}

function checkPlaintextsTask(args: Uint8Array[]): Uint8Array[] {
  const trustees = readTrustees(arg(args, 0));
  const { width, count } = readHeader(args[1]);
  const published = arg(args, 3 + trustees.length);
  const combiner = new LagrangeCombiner(trustees);
  const slots = new Uint8Array(count * VOTE_SLOT_BYTES * width);
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
  writeSlots(slots, { source: published, clear: false, count, width });
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < width; k++) {
      const e = i * width + k;
      if (complete[i] === 0 || verdicts[i] !== VOTE_ITEM_OK) continue;
      if (bad[e * q + q - 1] === 1) verdicts[i] = VOTE_ITEM_MALFORMED;
      else if (mismatch[e] === 1) verdicts[i] = VOTE_ITEM_INVALID;
    }
  }
  const definition = {
    definition: arg(args, 4 + trustees.length),
    mode: arg(args, 5 + trustees.length),
  };
  return [slots, status, verdicts, ...decodeSlots(definition, slots, width)];
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
  /**
   * On workers, end with a tail of shrinking chunks so none waits long for the last one
   * (default true); false cuts equal chunks of at most 4,096 items, for a batch that more work
   * follows on the same workers (each chunk has a fixed cost of about 2 ms: issue 17).
   */
  tail?: boolean;
}

/**
 * Runs a task over chunks of `count` items and hands each chunk's result to `onResult` in
 * chunk order, as soon as the chunks before it are in (a chunk that finishes early waits in a
 * window of at most the jobs in flight); no result is kept after it is handed on, so memory
 * holds the chunks in flight, not the batch (issue 17). A chunk's arguments are built when it
 * starts.
 */
async function streamChunks(
  task: string,
  count: number,
  makeArgs: (lo: number, hi: number) => Uint8Array[],
  options: VoteBatchOptions,
  onResult: (lo: number, hi: number, result: Uint8Array[]) => void,
): Promise<void> {
  if (count === 0) return;
  const workers = options.workers ?? workerCount();
  // At most MAX_CHUNK items per chunk, so a worker's memory is bounded whatever the count;
  // on workers a tail of shrinking chunks, so none waits long for the last one (issue 17).
  const ranges = workers <= 1
    ? splitRange(count, Math.ceil(count / 2000))
    : options.tail === false
    ? splitRange(count, workers * Math.ceil(count / (MAX_CHUNK * workers)))
    : guidedRanges(count, workers, { maxChunk: MAX_CHUNK, minChunk: MIN_TAIL_CHUNK });
  const local = async () => {
    for (const [lo, hi] of ranges) {
      onResult(lo, hi, (await runWorkerTasks(task, [makeArgs(lo, hi)], { workers: 1 }))[0]!);
      options.onChunk?.(hi, count);
    }
  };
  if (workers <= 1) return await local();
  // Results that came before an earlier chunk's, until it comes.
  const waiting = new Map<number, Uint8Array[]>();
  let next = 0, items = 0;
  try {
    // A sliding window of chunks (no rounds: a worker that finishes early takes the next
    // chunk at once).
    await runWorkerJobs(task, {
      count: ranges.length,
      args: (k) => makeArgs(...ranges[k]!),
    }, {
      workers,
      onResult: (k, value) => {
        waiting.set(k, [...value]);
        value.length = 0; // the pool's list of results keeps nothing
        for (let r = waiting.get(next); r !== undefined; r = waiting.get(next)) {
          waiting.delete(next);
          const [lo, hi] = ranges[next++]!;
          onResult(lo, hi, r);
          items += hi - lo;
          options.onChunk?.(items, count);
        }
      },
    });
  } catch (error) {
    // The pool's entry module does not register the vote tasks: run them here instead.
    if (next === 0 && error instanceof ConfigError && /is not registered/.test(error.message)) {
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
  for (const b of ballots) {
    if (
      b.ciphertext.width !== width || b.proof.responses.length !== width ||
      b.proof.commitments.length !== ELEMENT_BYTES * width ||
      !constantTimeEqual(b.election, items.fingerprint)
    ) {
      throw new InvalidInputError(`Ballot of '${b.credential.slice(0, 40)}' is not of this batch`);
    }
  }
  // The same check as the box's: the ballots as a store keeps them.
  const { verdicts, receipts } = await voteVerifyStoredBallots({
    ...items,
    ballots: encodedBallotChunk(encodeStoredBallots(ballots), "ballots"),
  }, options);
  const out: Uint8Array[] = [];
  for (let o = 0; o < receipts.length; o += BALLOT_RECEIPT_BYTES) {
    out.push(receipts.subarray(o, o + BALLOT_RECEIPT_BYTES));
  }
  return { verdicts, receipts: out };
}

/**
 * {@linkcode voteVerifyBallotProofs} of ballots as a store keeps them (issue 17): each chunk's
 * records go to a worker as they are, which decodes each ballot once, checks its shape (width,
 * credential; MALFORMED otherwise) and its proof, and hashes the receipt of a valid one; this
 * thread neither decodes nor packs a ballot.
 *
 * @param items public key, election fingerprint, width, the ballots' records, and `receipts`
 *   (default true; false skips computing them)
 * @param options workers and progress
 * @returns one verdict per ballot and the receipts, 32 bytes per ballot in one array (zeros
 *   unless valid; empty when `receipts` is false)
 * @throws {InvalidInputError} when the records are cut off
 * @example
 * ```ts ignore
 * const { verdicts } = await voteVerifyStoredBallots({ publicKey, fingerprint, width, ballots: store.readEncoded(0, 100) });
 * ```
 */
export async function voteVerifyStoredBallots(
  items: {
    publicKey: Point;
    fingerprint: Uint8Array;
    width: number;
    ballots: EncodedBallotChunk;
    receipts?: boolean;
  },
  options: VoteBatchOptions = {},
): Promise<{ verdicts: Uint8Array; receipts: Uint8Array }> {
  const { bytes, offsets } = items.ballots;
  const count = offsets.length - 1, wantReceipts = items.receipts !== false;
  const verdicts = new Uint8Array(count);
  const receipts = new Uint8Array(wantReceipts ? count * BALLOT_RECEIPT_BYTES : 0);
  const pk = encodePoint(items.publicKey);
  const flag = new Uint8Array([wantReceipts ? 1 : 0]);
  await streamChunks(
    VOTE_TASKS.verifyBallots,
    count,
    (lo, hi) => [
      pk.slice(),
      header(items.width, hi - lo),
      items.fingerprint.slice(),
      bytes.slice(offsets[lo]!, offsets[hi]!),
      flag.slice(),
    ],
    options,
    (lo, _hi, [status, r]) => {
      verdicts.set(status!, lo);
      if (wantReceipts) receipts.set(r!, lo * BALLOT_RECEIPT_BYTES);
    },
  );
  return { verdicts, receipts };
}

/** Ciphertexts of one width as 64·w-byte records, or undefined when their widths differ. */
function ciphertextList(
  ciphertexts: readonly Ciphertext[],
): { width: number; records: RecordSource } | undefined {
  const width = ciphertexts[0]?.width ?? 1;
  if (ciphertexts.some((c) => c.width !== width)) return undefined;
  return { width, records: ciphertextRecords(ciphertexts, width) };
}

/** {@linkcode ciphertextList}, throwing on mixed widths. */
function ciphertextListOrThrow(
  ciphertexts: readonly Ciphertext[],
): { width: number; records: RecordSource } {
  const list = ciphertextList(ciphertexts);
  if (list === undefined) {
    const width = ciphertexts[0]!.width;
    const i = ciphertexts.findIndex((c) => c.width !== width);
    throw new InvalidInputError(
      `Ciphertext '${i}' has width ${ciphertexts[i]!.width}, the batch ${width}`,
    );
  }
  return list;
}

/**
 * Byte strings as `count` records of `size` bytes: a missing item leaves zero bytes (the
 * identity), an item of another length becomes 0xff bytes (no element encoding), so either is
 * refused where an element is expected.
 */
function fixedRecords(list: readonly Uint8Array[], count: number, size: number): RecordSource {
  const out = new Uint8Array(count * size);
  for (let i = 0; i < Math.min(count, list.length); i++) {
    const item = list[i]!;
    if (item.length === size) out.set(item, i * size);
    else out.fill(0xff, i * size, (i + 1) * size);
  }
  return memoryRecords(out, size);
}

/** The width of 64·w-byte ciphertext records. */
function recordWidth(ciphertexts: RecordSource): number {
  const size = ciphertexts.recordBytes;
  if (size <= 0 || size % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(
      `Ciphertext records of ${size} bytes are not ciphertexts (64 bytes per element)`,
    );
  }
  return size / (2 * ELEMENT_BYTES);
}

/**
 * Creates one trustee's decryption shares of a record list of ciphertexts with one batched
 * Chaum–Pedersen proof (backend `createPackedDecryptionShareBatchRecords`, on the workers):
 * the ciphertexts are read a chunk at a time as each job starts and the shares written to the
 * sink "shares" as each job returns (issue 17).
 *
 * @param key the trustee's index and secret share
 * @param options ciphertexts (64·w-byte records), the context the proof binds (the election
 *   fingerprint), `sinks` (default memory), workers and progress
 * @returns the shares (32·w-byte records, one per ciphertext) and the batch proof
 * @throws {InvalidInputError} on an empty list or records that are not ciphertexts
 * @example
 * ```ts ignore
 * const { shares, proof } = await voteCreateDecryptionSharesRecords(key, { ciphertexts, context, sinks });
 * ```
 */
export async function voteCreateDecryptionSharesRecords(
  key: SecretShare,
  options: VoteBatchOptions & {
    ciphertexts: RecordSource;
    context: Uint8Array;
    sinks?: RecordSinkFactory;
    /** The batch proof's nonce source (default the system CSPRNG). */
    random?: RandomSource;
  },
): Promise<{ shares: RecordSource; proof: { challenge: bigint; response: bigint } }> {
  const { ciphertexts } = options;
  const batch = await createPackedDecryptionShareBatchRecords(key, ciphertexts, {
    context: options.context, // the proof binds the election fingerprint
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.onChunk === undefined ? {} : { onChunk: options.onChunk }),
    ...(options.sinks === undefined ? {} : { sinks: options.sinks }),
  });
  options.onChunk?.(ciphertexts.count, ciphertexts.count);
  return { shares: batch.shares, proof: batch.proof };
}

/**
 * Creates one trustee's decryption shares of many ciphertexts with one batched
 * Chaum–Pedersen proof (a wrapper of {@linkcode voteCreateDecryptionSharesRecords} over
 * lists in memory).
 *
 * @param key the trustee's index and secret share
 * @param options ciphertexts, workers and progress (as chunks of shares finish)
 * @returns the shares (32·w bytes each, one per ciphertext) and the batch proof
 * @throws {InvalidInputError} on an empty list or mixed widths
 * @example
 * ```ts ignore
 * const { shares, proof } = await voteCreateDecryptionShares(key, { ciphertexts });
 * ```
 */
export async function voteCreateDecryptionShares(
  key: SecretShare,
  options: VoteBatchOptions & { ciphertexts: readonly Ciphertext[]; context: Uint8Array },
): Promise<{ shares: Uint8Array[]; proof: { challenge: bigint; response: bigint } }> {
  const { width, records } = ciphertextListOrThrow(options.ciphertexts);
  const { shares, proof } = await voteCreateDecryptionSharesRecords(key, {
    ...options,
    ciphertexts: records,
  });
  const bytes = allRecords(shares), size = ELEMENT_BYTES * width;
  return {
    shares: Array.from(
      { length: shares.count },
      (_, i) => bytes.subarray(i * size, (i + 1) * size),
    ),
    proof,
  };
}

/**
 * Verifies one trustee's decryption shares of a record list of ciphertexts against its batch
 * proof (backend `verifyPackedDecryptionShareBatchRecords`: the statement hashed and two
 * multi-scalar multiplications fed a chunk of ciphertexts and shares at a time).
 *
 * @param trustee index and verification key
 * @param options ciphertexts (64·w-byte records), shares (32·w-byte records), the batch proof,
 *   the context, workers, progress
 * @returns true when the batch verifies, false when it does not (malformed shares, another
 *   count or width of shares included)
 * @throws {InvalidInputError} when the ciphertext records are not ciphertexts
 * @example
 * ```ts ignore
 * const ok = await voteVerifyDecryptionSharesRecords({ index: 1, verificationKey }, { ciphertexts, shares, proof, context });
 * ```
 */
export async function voteVerifyDecryptionSharesRecords(
  trustee: { index: number; verificationKey: Point },
  options: VoteBatchOptions & {
    ciphertexts: RecordSource;
    shares: RecordSource;
    proof: { challenge: bigint; response: bigint };
    context: Uint8Array;
  },
): Promise<boolean> {
  const { ciphertexts } = options;
  const width = recordWidth(ciphertexts);
  try {
    await verifyPackedDecryptionShareBatchRecords(
      {
        index: trustee.index,
        width,
        shares: options.shares,
        proof: options.proof,
      },
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
    options.onChunk?.(ciphertexts.count, ciphertexts.count);
  }
}

/**
 * Verifies one trustee's decryption shares of many ciphertexts against its batch proof (a
 * wrapper of {@linkcode voteVerifyDecryptionSharesRecords} over lists in memory).
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
  const list = ciphertextList(options.ciphertexts);
  const shares = joinBytes(options.shares);
  const n = options.ciphertexts.length;
  // Mixed widths or shares that are not one 32·w-byte record per ciphertext do not verify.
  if (list === undefined || shares.length !== n * ELEMENT_BYTES * list.width) {
    options.onChunk?.(n, n);
    return false;
  }
  return await voteVerifyDecryptionSharesRecords(trustee, {
    ...options,
    ciphertexts: list.records,
    shares: memoryRecords(shares, ELEMENT_BYTES * list.width),
  });
}

/**
 * Bytes of one ballot's slot record, its extracted messages: per element a length byte (255:
 * the element embeds no message) and 30 bytes.
 *
 * @param width ballot width
 * @returns 31·w
 * @example
 * ```ts
 * import { voteSlotBytes } from "./tasks.ts";
 * console.assert(voteSlotBytes(2) === 62);
 * ```
 */
export function voteSlotBytes(width: number): number {
  return VOTE_SLOT_BYTES * width;
}

/**
 * The messages of slot records (what {@linkcode voteCombineDecryptionSharesRecords} hands to
 * `onSlots`): per ballot its parts, undefined where an element embeds no message.
 *
 * @param slots consecutive slot records (31·w bytes each)
 * @param width ballot width
 * @returns per ballot the message parts
 * @example
 * ```ts ignore
 * const answers = voteSlotMessages(slots, width).map((parts) => decodeElectionAnswers(definition, parts));
 * ```
 */
export function voteSlotMessages(
  slots: Uint8Array,
  width: number,
): (Uint8Array | undefined)[][] {
  return readSlots([slots], width);
}

/** Messages from the slots of all chunks, in order. */
function readSlots(chunks: readonly Uint8Array[], width: number): (Uint8Array | undefined)[][] {
  const messages: (Uint8Array | undefined)[][] = [];
  for (const slots of chunks) {
    for (let s = 0; s < slots.length; s += VOTE_SLOT_BYTES * width) {
      const parts: (Uint8Array | undefined)[] = [];
      for (let k = 0; k < width; k++) {
        const at = s + k * VOTE_SLOT_BYTES;
        const len = slots[at]!;
        parts.push(len === VOTE_NO_MESSAGE ? undefined : slots.slice(at + 1, at + 1 + len));
      }
      messages.push(parts);
    }
  }
  return messages;
}

/**
 * The definition and mode arguments of the share tasks (empty definition: do not decode;
 * the mode asks for the answers where `onAnswers` takes them, the counts where `onCounts`
 * does).
 */
function definitionArgs(options: AnswerOptions): Uint8Array[] {
  const { definition } = options;
  if (definition === undefined) return [new Uint8Array(0), new Uint8Array([0])];
  const mode = (options.onAnswers === undefined ? 0 : DECODE_ANSWERS) |
    (options.onCounts === undefined ? 0 : DECODE_COUNTS);
  return [encodeMsgpack(electionDefinitionToEnvelope(definition)), new Uint8Array([mode])];
}

/** A trustee's index and its shares as records of the ciphertexts' width and count. */
export interface SharePost {
  /** Trustee index, 1..n. */
  trustee: number;
  /** One 32·w-byte share record per ciphertext, in order. */
  shares: RecordSource;
}

/**
 * Checks the shapes of the share lists and builds the per-chunk arguments shared by both
 * share tasks: trustees (u32be each), header, the chunk's ciphertexts, each trustee's shares,
 * each read when the chunk starts (copies: the pool transfers argument buffers).
 */
function shareArgs(
  posts: ReadonlyArray<SharePost>,
  ciphertexts: RecordSource,
): { width: number; args: (lo: number, hi: number) => Uint8Array[] } {
  const width = recordWidth(ciphertexts);
  for (const p of posts) {
    if (p.shares.count !== ciphertexts.count || p.shares.recordBytes !== ELEMENT_BYTES * width) {
      throw new InvalidInputError(
        `Trustee ${p.trustee} sent ${p.shares.count} shares of ${p.shares.recordBytes} bytes for ${ciphertexts.count} ciphertexts of width ${width}`,
      );
    }
  }
  const trustees = new Uint8Array(4 * posts.length);
  posts.forEach((p, t) => new DataView(trustees.buffer).setUint32(4 * t, p.trustee));
  return {
    width,
    args: (lo, hi) => [
      trustees.slice(),
      header(width, hi - lo),
      ciphertexts.read(lo, hi).slice(),
      ...posts.map((p) => p.shares.read(lo, hi).slice()),
    ],
  };
}

/** Writes a chunk's count·T status bytes (trustee-minor) into per-trustee verdicts at lo. */
function writeShareVerdicts(verdicts: Uint8Array[], lo: number, status: Uint8Array): void {
  const trustees = verdicts.length;
  const count = status.length / trustees;
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < trustees; t++) verdicts[t]![lo + i] = status[i * trustees + t]!;
  }
}

/** Hands a chunk's answers (msgpack) and counts (u32) made on the workers to the callbacks. */
function handAnswers(
  [bytes, counts]: Uint8Array[],
  lo: number,
  options: AnswerOptions,
): void {
  if (options.definition === undefined) return;
  options.onAnswers?.(lo, decodeMsgpack(bytes!, "answers") as (ElectionAnswer[] | null)[]);
  if (options.onCounts !== undefined) {
    // A view where the bytes are aligned (they are as the worker made them), else a copy.
    const c = counts!.byteOffset % 4 === 0 ? counts! : counts!.slice();
    options.onCounts(lo, new Uint32Array(c.buffer, c.byteOffset, c.byteLength / 4));
  }
}

/** Options of the record versions of the share tasks that decode answers. */
export interface AnswerOptions {
  /** The election: the workers decode the answers too. */
  definition?: ElectionDefinition;
  /** Each chunk's decoded answers (null: invalid ballot), in order, with its first index. */
  onAnswers?: (lo: number, answers: (ElectionAnswer[] | null)[]) => void;
  /**
   * Each chunk's tally counted on the workers from its slots (the flat form of
   * `tallyCountsLayout`, for `tallyAccumulator().addCounts`), in order: no answer objects
   * cross threads (issue 17).
   */
  onCounts?: (lo: number, counts: Uint32Array) => void;
  /**
   * Each chunk's extracted messages as slot records ({@linkcode voteSlotBytes} each: per
   * element a length byte, 255 where it embeds no message, and 30 bytes), in order.
   */
  onSlots?: (lo: number, slots: Uint8Array) => void;
}

/**
 * Combines the trustees' shares (already verified with
 * {@linkcode voteVerifyDecryptionSharesRecords}) of a record list of ciphertexts in parallel
 * and extracts the embedded messages, a chunk at a time: each chunk's ciphertexts and shares
 * are read when its job starts, its plaintexts written to the sink "plaintexts" and its
 * answers handed to `onAnswers` in order as it returns, never collected (issue 17). Per
 * element: a few group additions (backend `combineSharesEncoded` with the small integer
 * Lagrange numerators of `LagrangeCombiner`) and one encoding.
 *
 * The per-trustee verdicts (one byte per ciphertext) are kept in memory.
 *
 * @param posts per trustee its index and shares (32·w-byte records, one per ciphertext)
 * @param options ciphertexts (64·w-byte records), `sinks` (default memory), workers,
 *   progress, `definition` (the workers decode the answers too) with `onAnswers`, and
 *   `onSlots` for the extracted messages
 * @returns the plaintexts (32·w-byte records) and per trustee the verdicts of its shares
 *   ({@linkcode VOTE_ITEM_MALFORMED} where a share does not decode)
 * @throws {InvalidInputError} when a share list has another count or width
 * @example
 * ```ts ignore
 * const { plaintexts } = await voteCombineDecryptionSharesRecords(posts, {
 *   ciphertexts, definition, onAnswers: (lo, answers) => tally.add(answers),
 * });
 * ```
 */
export async function voteCombineDecryptionSharesRecords(
  posts: ReadonlyArray<SharePost>,
  options: VoteBatchOptions & AnswerOptions & {
    ciphertexts: RecordSource;
    sinks?: RecordSinkFactory;
  },
): Promise<{ plaintexts: RecordSource; verdicts: Uint8Array[] }> {
  const { ciphertexts } = options;
  const n = ciphertexts.count;
  const { width, args } = shareArgs(posts, ciphertexts);
  const definition = definitionArgs(options);
  const sink = (options.sinks ?? memoryRecordSinks)("plaintexts", n, ELEMENT_BYTES * width);
  const verdicts = posts.map(() => new Uint8Array(n));
  await streamChunks(
    VOTE_TASKS.combine,
    n,
    (lo, hi) => [...args(lo, hi), ...definition.map((a) => a.slice())],
    options,
    (lo, _hi, [plaintexts, slots, status, ...decoded]) => {
      sink.write(lo, plaintexts!);
      writeShareVerdicts(verdicts, lo, status!);
      options.onSlots?.(lo, slots!);
      handAnswers(decoded, lo, options);
    },
  );
  return { plaintexts: sink.finish(), verdicts };
}

/**
 * Combines the trustees' shares (already verified with
 * {@linkcode voteVerifyDecryptionShares}) of many ciphertexts in parallel and extracts the
 * embedded messages (a wrapper of {@linkcode voteCombineDecryptionSharesRecords} over lists in
 * memory that collects what it hands out).
 *
 * @param posts per trustee its index and shares (32·w bytes, one per ciphertext)
 * @param options ciphertexts, workers, progress, and `definition`: decode the answers on
 *   the workers too
 * @returns per ciphertext the plaintext elements (32·w bytes) and the extracted messages
 *   (undefined where an element embeds no message), per trustee the verdicts of its
 *   shares ({@linkcode VOTE_ITEM_MALFORMED} where a share does not decode or is missing), and
 *   with a definition the decoded answers (null: invalid ballot)
 * @throws {InvalidInputError} on mixed widths
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
  const { width, records } = ciphertextListOrThrow(options.ciphertexts);
  const n = records.count, size = ELEMENT_BYTES * width;
  const slots: Uint8Array[] = [];
  const answers: (ElectionAnswer[] | null)[] = [];
  const { plaintexts, verdicts } = await voteCombineDecryptionSharesRecords(
    posts.map((p) => ({ trustee: p.trustee, shares: fixedRecords(p.shares, n, size) })),
    {
      ...options,
      ciphertexts: records,
      onSlots: (_lo, s) => slots.push(s),
      onAnswers: (_lo, chunk) => {
        for (const a of chunk) answers.push(a);
      },
    },
  );
  const bytes = allRecords(plaintexts);
  return {
    plaintexts: Array.from({ length: n }, (_, i) => bytes.subarray(i * size, (i + 1) * size)),
    messages: readSlots(slots, width),
    verdicts,
    ...(options.definition === undefined ? {} : { answers }),
  };
}

/**
 * Checks published plaintexts (a record list) against the trustees' shares (already verified
 * with {@linkcode voteVerifyDecryptionSharesRecords}) in parallel, without recombining, a chunk
 * at a time: each chunk's ciphertexts, shares and plaintexts are read when its job starts and
 * its answers handed to `onAnswers` in order as it returns, never collected (issue 17). Per
 * element, D·(c2 − m) = Σ nⱼ·dⱼ with the small Lagrange numerators nⱼ and denominator D
 * (backend `combineSharesEncoded`, a few group additions); the messages are extracted from
 * the published bytes.
 *
 * The verdicts (one byte per ciphertext, and per trustee) are kept in memory.
 *
 * @param posts per trustee its index and shares (32·w-byte records, one per ciphertext)
 * @param options ciphertexts (64·w-byte records), the published plaintexts (32·w-byte records,
 *   one per ciphertext), workers, progress, `definition` (the workers decode the answers too)
 *   with `onAnswers`, and `onSlots` for the extracted messages
 * @returns per ciphertext a verdict ({@linkcode VOTE_ITEM_OK}, {@linkcode VOTE_ITEM_INVALID}:
 *   not the combination of the shares, {@linkcode VOTE_ITEM_MALFORMED}: not a group element),
 *   and per trustee the verdicts of its shares
 * @throws {InvalidInputError} when the plaintexts or a share list have another count or width
 * @example
 * ```ts ignore
 * const { plaintextVerdicts } = await voteCheckPlaintextsRecords(posts, { ciphertexts, plaintexts });
 * ```
 */
export async function voteCheckPlaintextsRecords(
  posts: ReadonlyArray<SharePost>,
  options: VoteBatchOptions & AnswerOptions & {
    ciphertexts: RecordSource;
    plaintexts: RecordSource;
  },
): Promise<{ plaintextVerdicts: Uint8Array; verdicts: Uint8Array[] }> {
  const { ciphertexts, plaintexts } = options;
  const n = ciphertexts.count;
  const { width, args } = shareArgs(posts, ciphertexts);
  if (plaintexts.count !== n) {
    throw new InvalidInputError(`Got ${plaintexts.count} plaintexts for ${n} ciphertexts`);
  }
  if (plaintexts.recordBytes !== ELEMENT_BYTES * width) {
    throw new InvalidInputError(
      `Plaintext records are ${plaintexts.recordBytes} bytes, expected ${ELEMENT_BYTES * width}`,
    );
  }
  const definition = definitionArgs(options);
  const plaintextVerdicts = new Uint8Array(n);
  const verdicts = posts.map(() => new Uint8Array(n));
  await streamChunks(
    VOTE_TASKS.checkPlaintexts,
    n,
    (lo, hi) => [
      ...args(lo, hi),
      plaintexts.read(lo, hi).slice(),
      ...definition.map((a) => a.slice()),
    ],
    options,
    (lo, _hi, [slots, status, chunkVerdicts, ...decoded]) => {
      plaintextVerdicts.set(chunkVerdicts!, lo);
      writeShareVerdicts(verdicts, lo, status!);
      options.onSlots?.(lo, slots!);
      handAnswers(decoded, lo, options);
    },
  );
  return { plaintextVerdicts, verdicts };
}

/**
 * Checks published plaintexts against the trustees' shares (already verified with
 * {@linkcode voteVerifyDecryptionShares}) in parallel, without recombining (a wrapper of
 * {@linkcode voteCheckPlaintextsRecords} over lists in memory that collects what it hands
 * out).
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
  if (plaintexts.length !== ciphertexts.length) {
    throw new InvalidInputError(
      `Got ${plaintexts.length} plaintexts for ${ciphertexts.length} ciphertexts`,
    );
  }
  const { width, records } = ciphertextListOrThrow(ciphertexts);
  const n = records.count, size = ELEMENT_BYTES * width;
  const slots: Uint8Array[] = [];
  const answers: (ElectionAnswer[] | null)[] = [];
  const { plaintextVerdicts, verdicts } = await voteCheckPlaintextsRecords(
    posts.map((p) => ({ trustee: p.trustee, shares: fixedRecords(p.shares, n, size) })),
    {
      ...options,
      ciphertexts: records,
      plaintexts: fixedRecords(plaintexts, n, size),
      onSlots: (_lo, s) => slots.push(s),
      onAnswers: (_lo, chunk) => {
        for (const a of chunk) answers.push(a);
      },
    },
  );
  return {
    plaintextVerdicts,
    messages: readSlots(slots, width),
    verdicts,
    ...(options.definition === undefined ? {} : { answers }),
  };
}
