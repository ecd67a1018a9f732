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
import { BitList, bytesKey, CompactIndex } from "./ballot_index.ts";
import {
  type BallotStore,
  ballotStoreChunks,
  encodedBallotAt,
  type EncodedBallotChunk,
  EncodedBallotStore,
  encodeStoredBallot,
  MemoryBallotStore,
  memoryByteLog,
  storedCredentialEnd,
} from "./ballot_store.ts";
import {
  BALLOT_RECEIPT_BYTES as RECEIPT_BYTES,
  ballotReceipt,
  ballotReceipter,
  checkBallotShape,
  type ElectionBallot,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
  verifyElectionBallot,
} from "./ballot.ts";
import { VOTE_ITEM_OK, voteVerifyStoredBallots } from "./tasks.ts";

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
   * The outcomes, in order, a group of at most 1,024 ballots of a batch at a time, as soon as
   * the rules have run on them: `lo` is the position of the group's first ballot among all the
   * ballots cast by this call, `ballots` the group's ballots.
   */
  onOutcomes?: (
    lo: number,
    ballots: readonly ElectionBallot[],
    outcomes: CastOutcome[],
  ) => void | Promise<void>;
}

/** Options of {@linkcode ElectionBallotBox.castEncodedChunks}. */
export interface CastEncodedChunksOptions extends CastManyOptions {
  /** Ballots expected in all, for progress (default: the number read so far). */
  total?: number;
  /**
   * The outcomes, in order, a group of at most 1,024 ballots of a batch at a time, as soon as
   * the rules have run on them: `lo` is the position of the group's first ballot among all the
   * ballots cast by this call, `ballots` the group's records (`encodedBallotAt` decodes one,
   * e.g. to name a rejected voter).
   */
  onOutcomes?: (
    lo: number,
    ballots: EncodedBallotChunk,
    outcomes: CastOutcome[],
  ) => void | Promise<void>;
}

/** Outcome of one ballot of {@linkcode ElectionBallotBox.castMany}. */
export type CastOutcome = { ok: true; result: CastResult } | { ok: false; error: Error };

const C1_BYTES = 32;

/** The big-endian u32 at `i` of `bytes`. */
function word(bytes: Uint8Array, i: number): number {
  return ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
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

/** Ballots in a chunk of records. */
function chunkCount(chunk: EncodedBallotChunk): number {
  return chunk.offsets.length - 1;
}

/** Records j..k−1 of a chunk as a chunk of their own (a view of its bytes). */
function chunkSlice(chunk: EncodedBallotChunk, j: number, k: number): EncodedBallotChunk {
  const base = chunk.offsets[j]!;
  const offsets = chunk.offsets.slice(j, k + 1);
  for (let t = 0; t < offsets.length; t++) offsets[t]! -= base;
  return { bytes: chunk.bytes.subarray(base, chunk.offsets[k]!), offsets };
}

/** Chunks of records, one after another, as one chunk. */
function chunkJoin(parts: readonly EncodedBallotChunk[]): EncodedBallotChunk {
  if (parts.length === 1) return parts[0]!;
  let bytes = 0, count = 0;
  for (const p of parts) {
    bytes += p.bytes.length;
    count += chunkCount(p);
  }
  const out = { bytes: new Uint8Array(bytes), offsets: new Uint32Array(count + 1) };
  let at = 0, j = 0;
  for (const p of parts) {
    out.bytes.set(p.bytes, at);
    for (let t = 0; t < chunkCount(p); t++) out.offsets[j++] = at + p.offsets[t]!;
    at += p.bytes.length;
  }
  out.offsets[count] = at;
  return out;
}

/** {@linkcode rebatch} of chunks of records. */
async function* rebatchEncoded(
  chunks: AsyncIterable<EncodedBallotChunk> | Iterable<EncodedBallotChunk>,
  size: number,
): AsyncGenerator<EncodedBallotChunk> {
  let parts: EncodedBallotChunk[] = [], held = 0;
  for await (const chunk of chunks) {
    const count = chunkCount(chunk);
    for (let at = 0; at < count;) {
      const take = Math.min(size - held, count - at);
      parts.push(at === 0 && take === count ? chunk : chunkSlice(chunk, at, at + take));
      held += take;
      at += take;
      if (held === size) {
        yield chunkJoin(parts);
        parts = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield chunkJoin(parts);
}

/**
 * Ballot objects as a chunk of records: a ballot of the wrong shape for this election (rule 1)
 * has an empty record (length 0), so the workers skip it and the rules give its reason.
 */
function objectChunk(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
): EncodedBallotChunk {
  const encoded = ballots.map((b) => {
    try {
      checkBallotShape(election, b);
      return encodeStoredBallot(b);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return undefined;
    }
  });
  let total = 0;
  for (const e of encoded) total += 4 + (e?.length ?? 0);
  const bytes = new Uint8Array(total), offsets = new Uint32Array(ballots.length + 1);
  let at = 0;
  encoded.forEach((e, j) => {
    offsets[j] = at;
    const length = e?.length ?? 0;
    bytes[at] = length >>> 24;
    bytes[at + 1] = (length >>> 16) & 255;
    bytes[at + 2] = (length >>> 8) & 255;
    bytes[at + 3] = length & 255;
    if (e !== undefined) bytes.set(e, at + 4);
    at += 4 + length;
  });
  offsets[ballots.length] = at;
  return { bytes, offsets };
}

/** A batch of ballots in the box: their records, and the objects when they came as objects. */
interface CastBatch {
  chunk: EncodedBallotChunk;
  objects?: readonly ElectionBallot[];
}

const utf8 = new TextDecoder();

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
  /** Receipts from a ballot's parts, the label and fingerprint hashed once. */
  readonly #receipter: ReturnType<typeof ballotReceipter>;
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
    this.#receipter = ballotReceipter(election.fingerprint);
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

  /** The stored encoding of accepted ballot `index` (u16be(n) ‖ credential ‖ ciphertext ‖ proof). */
  #encodingAt(index: number): Uint8Array {
    const store = this.#store;
    if (store.readEncoded !== undefined) {
      const { bytes, offsets } = store.readEncoded(index, index + 1);
      return bytes.subarray(offsets[0]! + 4, offsets[1]!);
    }
    return encodeStoredBallot(this.#ballotAt(index));
  }

  /**
   * The position of the accepted ballot holding the c1 at `c1` of `bytes` as one of its own
   * c1 elements, if any.
   */
  #holderOf(bytes: Uint8Array, c1: number): number | undefined {
    return this.#byC1.find(word(bytes, c1), word(bytes, c1 + 4), (i) => {
      const held = this.#encodingAt(i), ct = storedCredentialEnd(held, 0);
      for (let j = 0; j < this.#width; j++) {
        if (sameBytes(held, ct + 2 * j * C1_BYTES, bytes, c1, C1_BYTES)) return true;
      }
      return false;
    });
  }

  /** Rules 1–6 for a ballot object: its shape (unless checked), then its stored encoding's. */
  #admit(
    ballot: ElectionBallot,
    options: { proofValid: boolean; receipt?: Uint8Array | "defer"; shapeChecked?: boolean },
  ): CastResult {
    if (this.#closed) throw new InvalidInputError("Ballot box is closed; no more ballots accepted");
    // castMany checked the shape of every ballot whose proof it found valid.
    if (options.shapeChecked !== true) checkBallotShape(this.#election, ballot);
    const encoded = encodeStoredBallot(ballot);
    const record = new Uint8Array(4 + encoded.length);
    new DataView(record.buffer).setUint32(0, encoded.length);
    record.set(encoded, 4);
    return this.#admitRecord(record, 0, ballot, options);
  }

  /**
   * Rules 2–6 for a ballot of this election's shape, read from its record at `at` of `bytes`
   * (u32be(length) ‖ stored encoding, ballot_store.ts) — the one code of the rules, for ballot
   * objects (encoded first) and for ballots that come as records (issue 17: no object, no
   * bigint). `ballot`: its object, when it came as one (or to check its proof). `receipt`: the
   * receipt the batch check computed for a valid ballot, or `"defer"` to compute it only when
   * asked for (a verifier replaying a box needs none).
   */
  #admitRecord(
    bytes: Uint8Array,
    at: number,
    ballot: ElectionBallot | undefined,
    options: { proofValid: boolean; receipt?: Uint8Array | "defer" },
  ): CastResult {
    if (this.#closed) throw new InvalidInputError("Ballot box is closed; no more ballots accepted");
    const length = word(bytes, at), from = at + 4, end = from + length;
    const credFrom = from + 2,
      ct = storedCredentialEnd(bytes, from),
      size = 2 * C1_BYTES * this.#width;
    const credential = () => ballot?.credential ?? utf8.decode(bytes.subarray(credFrom, ct));
    // Replay: the exact same ballot (same receipt) was accepted. Accepted ballots never share
    // a c1, so the only candidate is the ballot holding this ballot's first c1.
    const candidate = this.#holderOf(bytes, ct);
    if (candidate !== undefined) {
      const held = this.#encodingAt(candidate);
      if (held.length === length && sameBytes(held, 0, bytes, from, length)) {
        throw new ReplayError(
          `Ballot was already cast (replay of ballot ${candidate + 1}, receipt ${
            toHex(this.#receiptOf(candidate)).slice(0, 16)
          }…)`,
        );
      }
    }
    for (let k = 0; k < this.#width; k++) {
      const c1 = ct + 2 * k * C1_BYTES;
      const source = k === 0 ? candidate : this.#holderOf(bytes, c1);
      let repeated = false;
      for (let j = 0; j < k && !repeated; j++) {
        repeated = sameBytes(bytes, ct + 2 * j * C1_BYTES, bytes, c1, C1_BYTES);
      }
      if (source !== undefined || repeated) {
        throw new ReplayError(
          `Ballot of '${credential().slice(0, 40)}' copies the ciphertext of ballot ${
            (source ?? this.#store.count) + 1
          }`,
        );
      }
    }
    if (this.#voters !== undefined && !this.#voters.has(credential())) {
      throw new InvalidInputError(
        `Credential '${credential().slice(0, 40)}' is not on the voter roll`,
      );
    }
    // Credentials keyed and compared by their UTF-8 bytes, as the store keeps them.
    const [ch, cl] = bytesKey(bytes, credFrom, ct);
    const sameVoter = (i: number) => {
      const held = this.#encodingAt(i), heldEnd = storedCredentialEnd(held, 0);
      return heldEnd - 2 === ct - credFrom && sameBytes(held, 2, bytes, credFrom, ct - credFrom);
    };
    const previous = this.#byCredential.find(ch, cl, sameVoter);
    if (previous !== undefined && this.#election.definition.revote === "reject") {
      throw new ReplayError(
        `Voter '${credential().slice(0, 40)}' has already voted (ballot ${
          previous + 1
        }); this election does not allow re-voting`,
      );
    }
    if (!options.proofValid) {
      verifyElectionBallot(
        this.#election,
        ballot ?? encodedBallotAt(
          { bytes, offsets: Uint32Array.of(at, end) },
          0,
          this.#election.fingerprint,
        ),
      );
    }
    const index = this.#store.count;
    if (this.#store.appendEncoded !== undefined) this.#store.appendEncoded(bytes.subarray(at, end));
    else {
      this.#store.append(
        ballot ??
          encodedBallotAt(
            { bytes, offsets: Uint32Array.of(at, end) },
            0,
            this.#election.fingerprint,
          ),
      );
    }
    if (options.receipt !== "defer") {
      this.#keepReceipt(
        index,
        options.receipt ??
          this.#receipter(
            bytes.subarray(credFrom, ct),
            bytes.subarray(ct, ct + size),
            bytes.subarray(ct + size, end),
          ),
      );
    }
    for (let k = 0; k < this.#width; k++) {
      const c1 = ct + 2 * k * C1_BYTES;
      this.#byC1.insert(word(bytes, c1), word(bytes, c1 + 4), index);
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
   * workers while this thread applies the rules to the current one, and the outcomes go to
   * `onOutcomes` a group at a time (nothing per ballot is kept but what the store and the
   * box's indexes hold).
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
    const size = Math.max(1, Math.floor(options.batch ?? CAST_BATCH));
    const election = this.#election;
    // The objects as records: from here on, the path of castEncodedChunks.
    async function* batches(): AsyncGenerator<CastBatch> {
      for await (const ballots of rebatch(chunks, size)) {
        yield { chunk: objectChunk(election, ballots), objects: ballots };
      }
    }
    const onOutcomes = options.onOutcomes;
    return await this.#castBatches(
      batches(),
      options,
      onOutcomes &&
        ((lo, batch, from, to, outcomes) =>
          onOutcomes(lo, batch.objects!.slice(from, to), outcomes)),
    );
  }

  /**
   * Casts ballots that come as a store keeps them (e.g. read back from a file with
   * `EncodedBallotStore.readEncoded`), as {@linkcode ElectionBallotBox.castChunks} casts
   * objects, with the same outcomes and the same store (issue 17): the records go to the
   * workers as they are, the rules read credentials and c1 elements from them, and an accepted
   * one is appended to a store of encodings as it is — no ballot object, no proof decoded on
   * this thread. Only a ballot the workers do not find valid is decoded here, for the rules'
   * precise reason (a record that does not decode is an error, as reading it would be).
   *
   * @param chunks the ballots in arrival order, in chunks of records of any size
   * @param options workers, progress (with `total`), receipts, batch size, `onOutcomes`
   * @returns the number of ballots cast (accepted or not)
   * @throws {InvalidInputError} when a record is corrupt
   * @example
   * ```ts ignore
   * await box.castEncodedChunks(stored.encodedChunks(), { total: stored.count, receipts: false });
   * ```
   */
  async castEncodedChunks(
    chunks: AsyncIterable<EncodedBallotChunk> | Iterable<EncodedBallotChunk>,
    options: CastEncodedChunksOptions = {},
  ): Promise<number> {
    const size = Math.max(1, Math.floor(options.batch ?? CAST_BATCH));
    async function* batches(): AsyncGenerator<CastBatch> {
      for await (const chunk of rebatchEncoded(chunks, size)) yield { chunk };
    }
    const onOutcomes = options.onOutcomes;
    return await this.#castBatches(
      batches(),
      options,
      onOutcomes &&
        ((lo, batch, from, to, outcomes) =>
          onOutcomes(lo, chunkSlice(batch.chunk, from, to), outcomes)),
    );
  }

  /** The batches of castChunks and castEncodedChunks through the proof checks and the rules. */
  async #castBatches(
    batches: AsyncGenerator<CastBatch>,
    options: CastManyOptions & { total?: number },
    onOutcomes:
      | ((
        lo: number,
        batch: CastBatch,
        from: number,
        to: number,
        outcomes: CastOutcome[],
      ) => void | Promise<void>)
      | undefined,
  ): Promise<number> {
    // In batches: the proofs of the next two batches are checked on the workers while this
    // thread applies the rules to the current one (issue 17: the rules are serial, and would
    // otherwise leave the workers idle at the end).
    interface Running {
      lo: number;
      batch: CastBatch;
      check: Promise<{ verdicts: Uint8Array; receipts: Uint8Array }>;
    }
    const running: Running[] = [];
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
      const batch = next.value, lo = pulled, count = chunkCount(batch.chunk);
      pulled += count;
      // Only the last two batches end in a tail of short chunks (the workers have the next
      // batch's chunks meanwhile; a short chunk costs its fixed part again).
      const tail = options.total === undefined || options.total - pulled <= count;
      const check = voteVerifyStoredBallots({
        publicKey: this.#election.publicKey,
        fingerprint: this.#election.fingerprint,
        width: this.#width,
        ballots: batch.chunk,
        receipts: options.receipts ?? true,
      }, {
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        tail,
        onChunk: (done, of) => report(lo, done === of ? count : done),
      });
      check.catch(() => {}); // awaited in order below; not an unhandled rejection meanwhile
      running.push({ lo, batch, check });
      return true;
    };
    let pending: Promise<boolean> | undefined;
    try {
      while (running.length < 2 && await pull());
      while (running.length > 0) {
        const { lo, batch, check } = running.shift()!;
        const { verdicts, receipts } = await check;
        const count = chunkCount(batch.chunk);
        report(lo, count); // an empty batch
        partial.delete(lo);
        checkedDone += count;
        // The next batch is read (and its proofs started) while the rules run here.
        pending = pull();
        pending.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
        // The outcomes handed on a group at a time: they die young, not with the batch (issue
        // 17: objects that outlive a scavenge are copied and promoted).
        for (let from = 0; from < count; from += OUTCOME_GROUP) {
          const to = Math.min(count, from + OUTCOME_GROUP);
          const outcomes: CastOutcome[] = [];
          for (let j = from; j < to; j++) {
            outcomes.push(this.#castChecked(batch, j, verdicts[j]!, receipts, options));
            cast++;
            if (cast % 5000 === 0 || cast === options.total) {
              reported = cast;
              options.onProgress?.({ phase: "cast", done: cast, total: total() });
            }
          }
          await onOutcomes?.(lo + from, batch, from, to, outcomes);
        }
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

  /**
   * Rules 1–6 for ballot j of a batch whose proof verdict is known, as an outcome: a valid
   * one straight from its record; any other from its object (decoded from its record when it
   * came as one), for the precise reason.
   */
  #castChecked(
    batch: CastBatch,
    j: number,
    verdict: number,
    receipts: Uint8Array,
    options: CastManyOptions,
  ): CastOutcome {
    const { chunk, objects } = batch;
    const defer = options.receipts === false;
    // Outside the try: a record that does not decode is an error, not a rejected ballot.
    const ballot = verdict === VOTE_ITEM_OK
      ? objects?.[j]
      : objects?.[j] ?? encodedBallotAt(chunk, j, this.#election.fingerprint);
    try {
      if (verdict === VOTE_ITEM_OK) {
        const receipt = defer
          ? "defer"
          : receipts.subarray(j * RECEIPT_BYTES, (j + 1) * RECEIPT_BYTES);
        return {
          ok: true,
          result: this.#admitRecord(chunk.bytes, chunk.offsets[j]!, ballot, {
            proofValid: true,
            receipt,
          }),
        };
      }
      return {
        ok: true,
        result: this.#admit(
          ballot!,
          defer ? { proofValid: false, receipt: "defer" } : {
            proofValid: false,
          },
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
    this.#closed = true;
    const size = 2 * ELEMENT_BYTES * this.#width;
    const store = this.#store, count = store.count;
    const sink = sinks("mix-input", count - this.#superseded.ones, size);
    let at = 0;
    for (let lo = 0; lo < count; lo += DEFAULT_ITEM_CHUNK) {
      const hi = Math.min(count, lo + DEFAULT_ITEM_CHUNK);
      const out = new Uint8Array((hi - lo) * size);
      let kept = 0;
      if (store.readEncoded !== undefined) {
        // Each ciphertext copied from its record (issue 17: no ballot decoded).
        const { bytes, offsets } = store.readEncoded(lo, hi);
        for (let j = 0; j < hi - lo; j++) {
          if (this.#superseded.has(lo + j)) continue;
          const ct = storedCredentialEnd(bytes, offsets[j]! + 4);
          out.set(bytes.subarray(ct, ct + size), kept++ * size);
        }
      } else {
        store.read(lo, hi).forEach((b, j) => {
          if (!this.#superseded.has(lo + j)) out.set(b.ciphertext.bytes, kept++ * size);
        });
      }
      if (kept === 0) continue;
      sink.write(at, out.subarray(0, kept * size));
      at += kept;
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

/** Most outcomes handed on at once. */
const OUTCOME_GROUP = 1024;

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
