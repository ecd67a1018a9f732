/**
 * The ballot box: accepts well-formed ballots with valid proofs and rejects the rest
 * with a typed error and a clear reason. Rules, checked in this order (docs/vote.md):
 *
 * 1. the box is open, the ballot is for this election and well formed (InvalidInputError);
 * 2. replay — the exact same ballot (same receipt) was cast before (ReplayError);
 * 3. copy — an element c1 of its ciphertext appears in an earlier ballot (ReplayError;
 *    honest ballots never share encryption randomness);
 * 4. eligibility — with a voter roll, the credential must be on it (InvalidInputError);
 * 5. duplicate — the credential already voted: rejected (ReplayError) under re-voting
 *    policy `reject`, or accepted and superseding the earlier ballot under `last`;
 * 6. proof — the proof of knowledge must verify for this election and credential
 *    (VerificationError).
 * Closing the box cleanses it: the counted ballots are the accepted ones not superseded,
 * in box order, and their ciphertexts are the input of the first mixer.
 *
 * @module
 */

import { constantTimeEqual, toHex } from "../../core/bytes.ts";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { readArray, readBytes } from "../../core/fields.ts";
import { InvalidInputError, ReplayError, VerificationError } from "../../core/errors.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import {
  DEFAULT_ITEM_CHUNK,
  type ItemChunks,
  memoryItemChunks,
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import { type Ciphertext, ELEMENT_BYTES } from "../../backends/reencrypt/mod.ts";
import { electionBallotLayout } from "./answers.ts";
import { BitList, CompactIndex, stringKey } from "./ballot_index.ts";
import {
  type BallotStore,
  ballotStoreChunks,
  EncodedBallotStore,
  MemoryBallotStore,
  memoryByteLog,
} from "./ballot_store.ts";
import {
  BALLOT_RECEIPT_BYTES as RECEIPT_BYTES,
  ballotReceipt,
  checkBallotShape,
  type ElectionBallot,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
  verifyElectionBallot,
} from "./ballot.ts";
import { VOTE_ITEM_INVALID, VOTE_ITEM_OK, voteVerifyBallotProofs } from "./tasks.ts";

/** What the box answers to an accepted ballot. */
export interface CastResult {
  /** Position of the ballot in the box (0-based). */
  index: number;
  /** The voter's receipt. */
  receipt: Uint8Array;
  /** Position of the ballot of the same voter it replaces (policy `last`). */
  supersedes?: number;
}

/** Options of the box. */
export interface BallotBoxOptions {
  /** The voter roll: eligible credentials (default: any credential). */
  voters?: Iterable<string>;
  /**
   * Where the accepted ballots are kept (default a {@linkcode MemoryBallotStore}); it must
   * be empty.
   */
  store?: BallotStore;
}

/** Options of {@linkcode ElectionBallotBox.castMany}. */
export interface CastManyOptions {
  /** Workers for the proof checks (default the shared pool size). */
  workers?: number;
  /** Progress callback (phases "verify ballot proofs", "cast"). */
  onProgress?: ProgressReporter;
  /**
   * Compute the receipts with the proof checks, on the workers (default true); false defers
   * each receipt until it is read (a verifier replaying a published box reads none).
   */
  receipts?: boolean;
  /**
   * Ballots per batch (default 8,192): the rules are applied to one batch while the proofs
   * of the next two are checked on the workers.
   */
  batch?: number;
}

/** Options of {@linkcode ElectionBallotBox.castChunks}. */
export interface CastChunksOptions extends CastManyOptions {
  /** Ballots expected in all, for progress (default: the number read so far). */
  total?: number;
  /**
   * Each batch's outcomes, in order, as soon as the rules have run on it: `lo` is the
   * position of the batch's first ballot among all the ballots cast by this call.
   */
  onOutcomes?: (
    lo: number,
    ballots: readonly ElectionBallot[],
    outcomes: CastOutcome[],
  ) => void | Promise<void>;
}

/** Outcome of one ballot of {@linkcode ElectionBallotBox.castMany}. */
export type CastOutcome = { ok: true; result: CastResult } | { ok: false; error: Error };

const C1_BYTES = 32;

/** Whether two ballots of one election are byte for byte the same (what a receipt identifies). */
function sameBallot(a: ElectionBallot, b: ElectionBallot): boolean {
  return a.credential === b.credential &&
    constantTimeEqual(a.ciphertext.bytes, b.ciphertext.bytes) &&
    constantTimeEqual(a.proof.commitments, b.proof.commitments) &&
    a.proof.responses.length === b.proof.responses.length &&
    a.proof.responses.every((z, k) => z === b.proof.responses[k]);
}

/** The index key of element k's c1: its first 8 bytes (a uniformly distributed encoding). */
function c1Key(bytes: Uint8Array, k: number): [number, number] {
  const at = 2 * k * C1_BYTES;
  const word = (i: number) =>
    ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
  return [word(at), word(at + 4)];
}

/** Whether element k's c1 of `a` is one of the c1 elements of `b`. */
function holdsC1(b: ElectionBallot, a: Uint8Array, k: number): boolean {
  const bytes = b.ciphertext.bytes;
  for (let j = 0; j < b.ciphertext.width; j++) {
    if (sameBytes(bytes, 2 * j * C1_BYTES, a, 2 * k * C1_BYTES, C1_BYTES)) return true;
  }
  return false;
}

function sameBytes(a: Uint8Array, i: number, b: Uint8Array, j: number, n: number): boolean {
  for (let t = 0; t < n; t++) if (a[i + t] !== b[j + t]) return false;
  return true;
}

/** Groups chunks of any size into batches of `size` items (the last may be shorter). */
async function* rebatch<T>(
  chunks: AsyncIterable<readonly T[]> | Iterable<readonly T[]>,
  size: number,
): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const chunk of chunks) {
    if (batch.length === 0 && chunk.length === size) {
      yield chunk.slice();
      continue;
    }
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(size - batch.length, chunk.length - at);
      for (let j = 0; j < take; j++) batch.push(chunk[at + j]!);
      at += take;
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * An election's ballot box.
 *
 * Memory (issue 17): the accepted ballots live in the box's {@linkcode BallotStore} (in
 * memory by default; a file on the command line); the box itself keeps, per accepted ballot,
 * about 12–34 bytes of hash index per c1 element and per credential, a superseded bit, and its
 * receipt (32 bytes) once computed — not the ballot. The voter roll, when given, is held as
 * a set of its credentials.
 *
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony } from "./ceremony.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const fingerprint = electionFingerprint(definition);
 * const { key } = runLocalKeyCeremony({ definition, fingerprint });
 * const election = { definition, fingerprint, publicKey: key.publicKey };
 * import { encryptElectionBallot } from "./ballot.ts";
 * import { ElectionBallotBox } from "./ballot_box.ts";
 * const box = new ElectionBallotBox(election);
 * const { receipt } = box.cast(encryptElectionBallot(election, { credential: "v1", answers: [[1]] }));
 * console.assert(receipt.length === 32 && box.close().length === 1);
 * ```
 */
export class ElectionBallotBox {
  readonly #election: ElectionPublicInfo;
  readonly #voters: Set<string> | undefined;
  readonly #store: BallotStore;
  readonly #width: number;
  /** Receipts known so far, 32 bytes each at the ballot's position. */
  #receipts = new Uint8Array(0);
  readonly #receiptKnown = new BitList();
  /** c1 key → position of the ballot holding that c1. */
  readonly #byC1 = new CompactIndex();
  /** Credential key → position of that credential's last ballot. */
  readonly #byCredential = new CompactIndex();
  readonly #superseded = new BitList();
  #closed = false;

  /**
   * Opens an empty box.
   *
   * @param election the election the box collects ballots for
   * @param options voter roll, and where to keep the accepted ballots
   * @throws {InvalidInputError} when the store is not empty
   */
  constructor(election: ElectionPublicInfo, options: BallotBoxOptions = {}) {
    this.#election = election;
    this.#voters = options.voters === undefined ? undefined : new Set(options.voters);
    this.#store = options.store ?? new MemoryBallotStore();
    if (this.#store.count !== 0) {
      throw new InvalidInputError(
        `Ballot store holds ${this.#store.count} ballots; a box opens on an empty store`,
      );
    }
    this.#width = electionBallotLayout(election.definition).elements.length;
  }

  /** Number of accepted ballots (superseded ones included). */
  get count(): number {
    return this.#store.count;
  }

  /**
   * Accepted ballots, in box order (superseded ones included): the memory store's array, or
   * every ballot read back from another store (use {@linkcode ElectionBallotBox.ballotChunks}
   * for a large box).
   */
  get ballots(): readonly ElectionBallot[] {
    const store = this.#store;
    return store instanceof MemoryBallotStore ? store.items : store.read(0, store.count);
  }

  /**
   * Accepted ballots, in box order (superseded ones included), read from the store a chunk at
   * a time.
   *
   * @returns the ballots accepted so far, as chunks
   */
  ballotChunks(): ItemChunks<ElectionBallot> {
    return ballotStoreChunks(this.#store);
  }

  /** Receipts of the accepted ballots, in box order (computed on first use where deferred). */
  get receipts(): readonly Uint8Array[] {
    const out: Uint8Array[] = [];
    const count = this.#store.count;
    for (let lo = 0; lo < count; lo += DEFAULT_ITEM_CHUNK) {
      const hi = Math.min(count, lo + DEFAULT_ITEM_CHUNK);
      const ballots = this.#store.read(lo, hi);
      for (let i = lo; i < hi; i++) out.push(this.#receiptOf(i, ballots[i - lo]));
    }
    return out;
  }

  #ballotAt(index: number): ElectionBallot {
    return this.#store.read(index, index + 1)[0]!;
  }

  #receiptOf(index: number, ballot?: ElectionBallot): Uint8Array {
    if (this.#receiptKnown.has(index)) {
      return this.#receipts.slice(index * RECEIPT_BYTES, (index + 1) * RECEIPT_BYTES);
    }
    const receipt = ballotReceipt(ballot ?? this.#ballotAt(index));
    this.#keepReceipt(index, receipt);
    return receipt;
  }

  #keepReceipt(index: number, receipt: Uint8Array): void {
    const end = (index + 1) * RECEIPT_BYTES;
    if (end > this.#receipts.length) {
      const grown = new Uint8Array(Math.max(end, 2 * this.#receipts.length, 1024));
      grown.set(this.#receipts);
      this.#receipts = grown;
    }
    this.#receipts.set(receipt, index * RECEIPT_BYTES);
    this.#receiptKnown.add(index);
  }

  /** Whether the box is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Checks a ballot against rules 1–5 and, unless told otherwise, rule 6, then accepts it.
   *
   * @param ballot the ballot
   * @param options `proofValid`: the verdict of a batch proof check already made (rule 6
   *   then uses it; an invalid verdict is re-checked here for a precise message)
   * @returns the position, receipt and any superseded ballot
   * @throws {InvalidInputError} box closed, wrong election, malformed, not on the roll
   * @throws {ReplayError} replayed, copied, or duplicate under policy `reject`
   * @throws {VerificationError} invalid proof
   */
  cast(ballot: ElectionBallot, options: { proofValid?: boolean } = {}): CastResult {
    return this.#admit(ballot, { proofValid: options.proofValid === true });
  }

  /** The position of the accepted ballot holding element k's c1 of `bytes`, if any. */
  #holderOf(bytes: Uint8Array, k: number): number | undefined {
    const [hi, lo] = c1Key(bytes, k);
    return this.#byC1.find(hi, lo, (i) => holdsC1(this.#ballotAt(i), bytes, k));
  }

  /**
   * Rules 1–6. `receipt`: the receipt the batch check computed for a valid ballot, or
   * `"defer"` to compute it only when asked for (a verifier replaying a box needs none).
   */
  #admit(
    ballot: ElectionBallot,
    options: { proofValid: boolean; receipt?: Uint8Array | "defer"; shapeChecked?: boolean },
  ): CastResult {
    if (this.#closed) throw new InvalidInputError("Ballot box is closed; no more ballots accepted");
    // castMany checked the shape of every ballot whose proof it found valid.
    if (options.shapeChecked !== true) checkBallotShape(this.#election, ballot);
    const bytes = ballot.ciphertext.bytes;
    // Replay: the exact same ballot (same receipt) was accepted. Accepted ballots never share
    // a c1, so the only candidate is the ballot holding this ballot's first c1.
    const candidate = this.#holderOf(bytes, 0);
    if (candidate !== undefined && sameBallot(this.#ballotAt(candidate), ballot)) {
      throw new ReplayError(
        `Ballot was already cast (replay of ballot ${candidate + 1}, receipt ${
          toHex(this.#receiptOf(candidate)).slice(0, 16)
        }…)`,
      );
    }
    for (let k = 0; k < ballot.ciphertext.width; k++) {
      const source = k === 0 ? candidate : this.#holderOf(bytes, k);
      let repeated = false;
      for (let j = 0; j < k && !repeated; j++) {
        repeated = sameBytes(bytes, 2 * j * C1_BYTES, bytes, 2 * k * C1_BYTES, C1_BYTES);
      }
      if (source !== undefined || repeated) {
        throw new ReplayError(
          `Ballot of '${ballot.credential.slice(0, 40)}' copies the ciphertext of ballot ${
            (source ?? this.#store.count) + 1
          }`,
        );
      }
    }
    if (this.#voters !== undefined && !this.#voters.has(ballot.credential)) {
      throw new InvalidInputError(
        `Credential '${ballot.credential.slice(0, 40)}' is not on the voter roll`,
      );
    }
    const [ch, cl] = stringKey(ballot.credential);
    const sameVoter = (i: number) => this.#ballotAt(i).credential === ballot.credential;
    const previous = this.#byCredential.find(ch, cl, sameVoter);
    if (previous !== undefined && this.#election.definition.revote === "reject") {
      throw new ReplayError(
        `Voter '${ballot.credential.slice(0, 40)}' has already voted (ballot ${
          previous + 1
        }); this election does not allow re-voting`,
      );
    }
    if (!options.proofValid) verifyElectionBallot(this.#election, ballot);
    const index = this.#store.count;
    this.#store.append(ballot);
    if (options.receipt !== "defer") {
      this.#keepReceipt(index, options.receipt ?? ballotReceipt(ballot));
    }
    for (let k = 0; k < ballot.ciphertext.width; k++) {
      const [hi, lo] = c1Key(bytes, k);
      this.#byC1.insert(hi, lo, index);
    }
    if (previous === undefined) this.#byCredential.insert(ch, cl, index);
    else this.#byCredential.set(ch, cl, index, (i) => i === previous);
    const receiptOf = () => this.#receiptOf(index);
    const result: CastResult = {
      index,
      get receipt() {
        return receiptOf();
      },
    };
    if (previous !== undefined) {
      this.#superseded.add(previous);
      result.supersedes = previous;
    }
    return result;
  }

  /**
   * Casts many ballots: their proofs are checked in parallel first, with one batch
   * equation per chunk of ballots (a chunk whose equation fails is checked ballot by
   * ballot), then each ballot goes through the rules in order, exactly as
   * {@linkcode ElectionBallotBox.cast}; a ballot whose proof failed is re-checked alone so
   * its error gives the precise reason.
   *
   * @param ballots the ballots, in arrival order
   * @param options workers and progress
   * @returns one outcome per ballot (accepted with its receipt, or the typed error)
   */
  async castMany(
    ballots: readonly ElectionBallot[],
    options: CastManyOptions = {},
  ): Promise<CastOutcome[]> {
    const outcomes: CastOutcome[] = [];
    await this.castChunks([ballots], {
      ...options,
      total: ballots.length,
      onOutcomes: (_lo, _ballots, part) => {
        for (const outcome of part) outcomes.push(outcome);
      },
    });
    return outcomes;
  }

  /**
   * Casts ballots arriving in chunks (e.g. from simulated voters, or read back from a file),
   * as {@linkcode ElectionBallotBox.castMany} does, holding a few batches at a time: the
   * chunks are regrouped into batches, the proofs of the next two batches are checked on the
   * workers while this thread applies the rules to the current one, and each batch's outcomes
   * go to `onOutcomes` (nothing per ballot is kept but what the store and the box's indexes
   * hold).
   *
   * @param chunks the ballots in arrival order, in chunks of any size
   * @param options workers, progress (with `total`), receipts, batch size, `onOutcomes`
   * @returns the number of ballots cast (accepted or not)
   * @example
   * ```ts ignore
   * await box.castChunks(stored.chunks(), { total: stored.count, receipts: false });
   * ```
   */
  async castChunks(
    chunks: AsyncIterable<readonly ElectionBallot[]> | Iterable<readonly ElectionBallot[]>,
    options: CastChunksOptions = {},
  ): Promise<number> {
    // In batches: the proofs of the next two batches are checked on the workers while this
    // thread applies the rules to the current one (issue 17: the rules are serial, and would
    // otherwise leave the workers idle at the end).
    const size = Math.max(1, Math.floor(options.batch ?? CAST_BATCH));
    const batches = rebatch(chunks, size);
    interface Batch {
      lo: number;
      ballots: ElectionBallot[];
      check: Promise<{ verdicts: Uint8Array; receipts: (Uint8Array | undefined)[] }>;
    }
    const running: Batch[] = [];
    let pulled = 0, checkedDone = 0, cast = 0, reported = -1;
    const total = () => options.total ?? pulled;
    // Ballots whose proofs are checked, per batch in flight: progress is their sum (batches
    // overlap).
    const partial = new Map<number, number>();
    const report = (lo: number, done: number) => {
      if (partial.get(lo) === done) return;
      partial.set(lo, done);
      let sum = checkedDone;
      for (const d of partial.values()) sum += d;
      options.onProgress?.({ phase: "verify ballot proofs", done: sum, total: total() });
    };
    const pull = async (): Promise<boolean> => {
      const next = await batches.next();
      if (next.done) return false;
      const ballots = next.value, lo = pulled;
      pulled += ballots.length;
      // The malformed ballots (not sent to the workers) count once their batch is done.
      const check = verifyBallotProofs(
        this.#election,
        ballots,
        options,
        (done, of) => report(lo, done === of ? ballots.length : done),
      );
      check.catch(() => {}); // awaited in order below; not an unhandled rejection meanwhile
      running.push({ lo, ballots, check });
      return true;
    };
    let pending: Promise<boolean> | undefined;
    try {
      while (running.length < 2 && await pull());
      while (running.length > 0) {
        const { lo, ballots, check } = running.shift()!;
        const { verdicts, receipts } = await check;
        report(lo, ballots.length); // a batch of malformed ballots only
        partial.delete(lo);
        checkedDone += ballots.length;
        // The next batch is read (and its proofs started) while the rules run here.
        pending = pull();
        pending.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
        const outcomes: CastOutcome[] = [];
        for (let j = 0; j < ballots.length; j++) {
          outcomes.push(this.#castChecked(ballots[j]!, verdicts[j]!, receipts[j], options));
          cast++;
          if (cast % 5000 === 0 || cast === options.total) {
            reported = cast;
            options.onProgress?.({ phase: "cast", done: cast, total: total() });
          }
        }
        await options.onOutcomes?.(lo, ballots, outcomes);
        await pending;
        pending = undefined;
      }
      if (reported !== cast && cast > 0) {
        options.onProgress?.({ phase: "cast", done: cast, total: total() });
      }
    } finally {
      // Nothing left running behind an unexpected error.
      await Promise.allSettled([...(pending ? [pending] : []), ...running.map((b) => b.check)]);
      await batches.return(undefined);
    }
    return cast;
  }

  /** Rules 1–6 for a ballot whose proof verdict is known, as an outcome. */
  #castChecked(
    ballot: ElectionBallot,
    verdict: number,
    batchReceipt: Uint8Array | undefined,
    options: CastManyOptions,
  ): CastOutcome {
    try {
      const proofValid = verdict === VOTE_ITEM_OK;
      const receipt = options.receipts === false ? "defer" : proofValid ? batchReceipt : undefined;
      return {
        ok: true,
        result: this.#admit(
          ballot,
          receipt === undefined
            ? { proofValid, shapeChecked: proofValid }
            : { proofValid, receipt, shapeChecked: proofValid },
        ),
      };
    } catch (error) {
      if (!(error instanceof Error) || !("code" in error)) throw error;
      return { ok: false, error };
    }
  }

  /**
   * Positions of the counted ballots: accepted and not superseded, in box order.
   *
   * @returns 0-based positions
   */
  countedIndices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#store.count; i++) if (!this.#superseded.has(i)) out.push(i);
    return out;
  }

  /**
   * Closes the box and writes the cleansed mix input: the counted ballots' ciphertexts
   * (proofs and credentials stripped), in box order, as 64·w-byte records read from the
   * store a chunk at a time. May be called again (the same records, written again).
   *
   * @param sinks where to write the list "mix-input" (default in memory)
   * @returns the first mixer's input
   * @example
   * ```ts ignore
   * const mixInput = box.closeRecords(spool.sinks);
   * ```
   */
  closeRecords(sinks: RecordSinkFactory = memoryRecordSinks): RecordSource {
    const size = 2 * ELEMENT_BYTES * this.#width;
    const sink = sinks("mix-input", this.#store.count - this.#superseded.ones, size);
    let at = 0;
    for (const counted of this.#closeCounted()) {
      const out = new Uint8Array(counted.length * size);
      counted.forEach((b, j) => out.set(b.ciphertext.bytes, j * size));
      sink.write(at, out);
      at += counted.length;
    }
    return sink.finish();
  }

  /**
   * Closes the box and returns the cleansed mix input: the counted ballots' ciphertexts
   * (proofs and credentials stripped), in box order — the ballots' own ciphertexts, read
   * from the store as {@linkcode ElectionBallotBox.closeRecords} reads them.
   *
   * @returns the first mixer's input
   */
  close(): Ciphertext[] {
    const out: Ciphertext[] = [];
    for (const counted of this.#closeCounted()) {
      for (const b of counted) out.push(b.ciphertext);
    }
    return out;
  }

  /** Closes the box; the counted ballots (not superseded), in box order, a chunk at a time. */
  *#closeCounted(): Generator<ElectionBallot[]> {
    this.#closed = true;
    const count = this.#store.count;
    for (let lo = 0; lo < count; lo += DEFAULT_ITEM_CHUNK) {
      const hi = Math.min(count, lo + DEFAULT_ITEM_CHUNK);
      const counted = this.#store.read(lo, hi).filter((_, j) => !this.#superseded.has(lo + j));
      if (counted.length > 0) yield counted;
    }
  }
}

/** Ballots per batch of {@linkcode ElectionBallotBox.castMany}. */
const CAST_BATCH = 8192;

async function verifyBallotProofs(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
  options: CastManyOptions,
  onChecked: (done: number, total: number) => void,
): Promise<{ verdicts: Uint8Array; receipts: (Uint8Array | undefined)[] }> {
  // Malformed or foreign ballots are left to the rules (their verdict is re-checked).
  const picked: number[] = [];
  ballots.forEach((b, i) => {
    try {
      checkBallotShape(election, b);
      picked.push(i);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
    }
  });
  const width = electionBallotLayout(election.definition).elements.length;
  const checked = await voteVerifyBallotProofs({
    publicKey: election.publicKey,
    fingerprint: election.fingerprint,
    width,
    ballots: picked.map((i) => ballots[i]!),
    receipts: options.receipts ?? true,
  }, {
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    onChunk: (done, total) => onChecked(done, total),
  });
  const verdicts = new Uint8Array(ballots.length).fill(VOTE_ITEM_INVALID);
  const receipts: (Uint8Array | undefined)[] = ballots.map(() => undefined);
  picked.forEach((i, j) => {
    verdicts[i] = checked.verdicts[j]!;
    receipts[i] = checked.receipts[j];
  });
  return { verdicts, receipts };
}

/** Replays published ballots through a box: every one must be accepted, in order. */
async function replayInto(
  box: ElectionBallotBox,
  ballots: ItemChunks<ElectionBallot>,
  options: CastManyOptions,
): Promise<void> {
  const batch = Math.max(1, Math.floor(options.batch ?? CAST_BATCH));
  await box.castChunks(ballots.chunks(batch), {
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    batch,
    // Receipts are not needed to check the rules: deferred.
    receipts: false,
    total: ballots.count,
    onOutcomes: (lo, _ballots, outcomes) => {
      outcomes.forEach((outcome, j) => {
        if (outcome.ok) return;
        const error = outcome.error;
        if (
          error instanceof InvalidInputError || error instanceof ReplayError ||
          error instanceof VerificationError
        ) {
          throw new VerificationError(`Ballot ${lo + j + 1}: ${error.message}`, { cause: error });
        }
        throw error;
      });
    },
  });
}

/**
 * Replays a published list of ballots, read a chunk at a time, through a fresh box, as a
 * verifier does; every ballot must be accepted in order. Proofs are checked in parallel
 * first. The box is then closed: `counted` is the cleansed mix input the first mixer must
 * have taken.
 *
 * @param election the election
 * @param ballots the published ballots, in box order
 * @param options voter roll, workers, progress, the ballot store (default an
 *   {@linkcode EncodedBallotStore} in memory; the command line gives a file), and `sinks` for
 *   the counted ciphertexts (default in memory)
 * @returns the closed box, the counted ciphertexts (64·w-byte records), and the number of
 *   ballots accepted
 * @throws {VerificationError} "Ballot N: reason" for the first ballot the rules reject
 * @example
 * ```ts ignore
 * const { counted } = await replayBallotBoxRecords(election, transcript.ballots);
 * ```
 */
export async function replayBallotBoxRecords(
  election: ElectionPublicInfo,
  ballots: ItemChunks<ElectionBallot>,
  options: BallotBoxOptions & CastManyOptions & { sinks?: RecordSinkFactory } = {},
): Promise<{ box: ElectionBallotBox; counted: RecordSource; ballots: number }> {
  const box = new ElectionBallotBox(election, {
    ...options,
    // By default the ballots' encodings in memory, not their objects (about 150 bytes a
    // ballot of width 1).
    store: options.store ??
      new EncodedBallotStore(memoryByteLog(), election.fingerprint, "replayed ballots"),
  });
  await replayInto(box, ballots, options);
  return { box, counted: box.closeRecords(options.sinks), ballots: box.count };
}

/**
 * Replays a published list of ballots through a fresh box, as a verifier does; every
 * ballot must be accepted in order. Proofs are checked in parallel first.
 *
 * @param election the election
 * @param ballots the published ballots
 * @param options voter roll, workers and progress
 * @returns the box holding them (open)
 * @throws {VerificationError} "Ballot N: reason" for the first ballot the rules reject
 * @example
 * ```ts ignore
 * const box = await replayBallotBox(election, transcript.ballots);
 * ```
 */
export async function replayBallotBox(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
  options: BallotBoxOptions & CastManyOptions = {},
): Promise<ElectionBallotBox> {
  const box = new ElectionBallotBox(election, options);
  await replayInto(box, memoryItemChunks(ballots), options);
  return box;
}

/** Envelope kind of a stored ballot box. */
export const BALLOT_BOX_KIND = "vote.ballot-box";

/**
 * Encodes the accepted ballots of a box as `{ v: 1, kind: "vote.ballot-box", election, ballots }`.
 *
 * @param election the election (its fingerprint is stamped on the file)
 * @param ballots the accepted ballots in box order
 * @returns the envelope
 * @example
 * ```ts ignore
 * const env = ballotBoxToEnvelope(election, box.ballots);
 * ```
 */
export function ballotBoxToEnvelope(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
): Envelope {
  return {
    v: 1,
    kind: BALLOT_BOX_KIND,
    election: election.fingerprint,
    ballots: ballots.map(electionBallotToEnvelope),
  };
}

/**
 * Decodes a stored ballot box (ballots only; replay them into an {@linkcode ElectionBallotBox}).
 *
 * @param election the election it must belong to
 * @param value decoded envelope
 * @returns the ballots in box order
 * @throws {InvalidInputError} when malformed or for another election
 * @example
 * ```ts ignore
 * const ballots = ballotBoxFromEnvelope(election, env);
 * ```
 */
export function ballotBoxFromEnvelope(
  election: ElectionPublicInfo,
  value: unknown,
): ElectionBallot[] {
  const env = readEnvelope(value, BALLOT_BOX_KIND, { what: "ballot box" });
  const fp = readBytes(env.election, "ballot box.election", {
    length: election.fingerprint.length,
  });
  if (!constantTimeEqual(fp, election.fingerprint)) {
    throw new InvalidInputError("Ballot box belongs to another election");
  }
  return readArray(env.ballots, "ballot box.ballots").map((b, i) =>
    electionBallotFromEnvelope(b, { what: `ballot box.ballots[${i}]`, deferPoints: true })
  );
}
