/**
 * Where a ballot box keeps its accepted ballots (issue 17: bounded memory). The box appends
 * each accepted ballot to a {@linkcode BallotStore} and reads them back by range; the library
 * keeps them in memory ({@linkcode MemoryBallotStore}), the command line in a file
 * (`cli/vote/ballot_store_file.ts`), so a million-ballot box holds a chunk of ballots, not
 * the box.
 *
 * A stored ballot is encoded as u16be(credential bytes) ‖ credential (UTF-8) ‖ ciphertext
 * (64·w bytes) ‖ proof (A₁..A_w ‖ z₁..z_w, 64·w bytes): the election fingerprint is the box's
 * and is not repeated.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { DEFAULT_ITEM_CHUNK, type ItemChunks } from "../../core/records.ts";
import { Ciphertext, ELEMENT_BYTES, encodeScalarsInto } from "../../backends/reencrypt/mod.ts";
import {
  BALLOT_CONTEXT_CREDENTIAL_AT,
  type ElectionBallot,
  type ElectionPublicInfo,
  type EncryptBallotOptions,
  encryptElectionBallotsPacked,
  packBallotProof,
  unpackBallotProof,
} from "./ballot.ts";

/** The accepted ballots of a box, appended in box order and read back by range. */
export interface BallotStore {
  /** Ballots appended so far. */
  readonly count: number;
  /** Appends a ballot (the box has accepted it: its shape and proof are valid). */
  append(ballot: ElectionBallot): void;
  /**
   * Ballots lo..hi−1 in box order. They may share buffers with the store or with each other:
   * read them, do not change them.
   */
  read(lo: number, hi: number): ElectionBallot[];
  /**
   * Appends ballots already encoded as {@linkcode encodeStoredBallots} makes them (optional:
   * a store of encodings appends them without decoding any).
   */
  appendEncoded?(bytes: Uint8Array): number;
  /**
   * Ballots lo..hi−1 in box order as their stored encodings (optional: a store of encodings
   * gives them without decoding any). Read them, do not change them.
   */
  readEncoded?(lo: number, hi: number): EncodedBallotChunk;
}

/**
 * Ballots as a store keeps them (issue 17: no ballot objects): `bytes` holds, one after
 * another, each ballot as u32be(length) ‖ {@linkcode encodeStoredBallot} (the form of
 * {@linkcode encodeStoredBallots}); ballot j's record is `bytes[offsets[j]..offsets[j + 1])`,
 * so `offsets` has one entry more than there are ballots. A record of length 0 (4 zero bytes)
 * stands for a ballot that has no encoding (the box made it from a malformed ballot object).
 */
export interface EncodedBallotChunk {
  /** The records. */
  bytes: Uint8Array;
  /** Where each record starts, and where the last one ends. */
  offsets: Uint32Array;
}

/**
 * An {@linkcode EncodedBallotChunk} of a buffer of {@linkcode encodeStoredBallots}, its
 * framing checked.
 *
 * @param bytes the encoded ballots
 * @param what names the buffer in errors
 * @returns the chunk (a view of `bytes`)
 * @throws {InvalidInputError} when a length prefix is not that of a stored ballot or the
 *   records do not fill `bytes` exactly
 * @example
 * ```ts ignore
 * const chunk = encodedBallotChunk(encodeStoredBallots(ballots), "ballots");
 * ```
 */
export function encodedBallotChunk(bytes: Uint8Array, what: string): EncodedBallotChunk {
  const offsets = storedBallotOffsets(bytes, what);
  offsets.push(bytes.length);
  return { bytes, offsets: Uint32Array.from(offsets) };
}

/**
 * Ballot j of an {@linkcode EncodedBallotChunk}, decoded as {@linkcode decodeStoredBallot}
 * does (views into the chunk).
 *
 * @param chunk the chunk
 * @param j the ballot's position in it
 * @param fingerprint the election fingerprint given to the ballot
 * @returns the ballot
 * @throws {InvalidInputError} when its encoding is malformed or absent
 * @example
 * ```ts ignore
 * const ballot = encodedBallotAt(chunk, 0, election.fingerprint);
 * ```
 */
export function encodedBallotAt(
  chunk: EncodedBallotChunk,
  j: number,
  fingerprint: Uint8Array,
): ElectionBallot {
  return decodeStoredBallot(
    chunk.bytes.subarray(chunk.offsets[j]! + 4, chunk.offsets[j + 1]!),
    fingerprint,
  );
}

/** Ballots in chunks, with their stored encodings a chunk at a time where the source has them. */
export interface StoredBallotChunks extends ItemChunks<ElectionBallot> {
  /**
   * The same ballots as {@linkcode ItemChunks.chunks}, as their stored encodings, in chunks
   * of `size` ballots (the last may be shorter).
   */
  encodedChunks(size?: number): AsyncIterable<EncodedBallotChunk>;
}

/**
 * The default {@linkcode BallotStore}: the ballot objects themselves, in an array.
 *
 * @example
 * ```ts
 * import { MemoryBallotStore } from "./ballot_store.ts";
 * const store = new MemoryBallotStore();
 * console.assert(store.count === 0 && store.read(0, 0).length === 0);
 * ```
 */
export class MemoryBallotStore implements BallotStore {
  readonly #items: ElectionBallot[] = [];

  /** The ballots, in box order (the store's own array: do not change it). */
  get items(): readonly ElectionBallot[] {
    return this.#items;
  }

  get count(): number {
    return this.#items.length;
  }

  append(ballot: ElectionBallot): void {
    this.#items.push(ballot);
  }

  read(lo: number, hi: number): ElectionBallot[] {
    checkBallotRange(this.#items.length, lo, hi);
    return this.#items.slice(lo, hi);
  }
}

/**
 * Checks that lo..hi is a range of a store of `count` ballots.
 *
 * @param count ballots in the store
 * @param lo first ballot
 * @param hi one past the last
 * @throws {InvalidInputError} when the range is outside the store or reversed
 * @example
 * ```ts
 * import { checkBallotRange } from "./ballot_store.ts";
 * checkBallotRange(3, 0, 3);
 * ```
 */
export function checkBallotRange(count: number, lo: number, hi: number): void {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo || hi > count) {
    throw new InvalidInputError(`Ballots ${lo}..${hi} are outside the box (${count} ballots)`);
  }
}

/**
 * A store's ballots as {@linkcode ItemChunks} (the first `count` ballots, read a chunk at a
 * time each time they are iterated); from a store that reads its encodings
 * (`readEncoded`), {@linkcode StoredBallotChunks}: the same ballots also as records, which
 * the ballot box casts without decoding them (`castEncodedChunks`, issue 17).
 *
 * @param store the store
 * @param count ballots to read (default the store's count now)
 * @returns the chunks (see {@linkcode hasEncodedChunks})
 * @example
 * ```ts
 * import { ballotStoreChunks, MemoryBallotStore } from "./ballot_store.ts";
 * console.assert(ballotStoreChunks(new MemoryBallotStore()).count === 0);
 * ```
 */
export function ballotStoreChunks(
  store: BallotStore,
  count: number = store.count,
): ItemChunks<ElectionBallot> | StoredBallotChunks {
  const chunks = {
    count,
    async *chunks(size = DEFAULT_ITEM_CHUNK) {
      const step = Math.max(1, Math.floor(size));
      for (let lo = 0; lo < count; lo += step) yield store.read(lo, Math.min(count, lo + step));
    },
  };
  const readEncoded = store.readEncoded?.bind(store);
  if (readEncoded === undefined) return chunks;
  return {
    ...chunks,
    // A store of encodings also gives them as they are (issue 17: the box casts them so).
    async *encodedChunks(size = DEFAULT_ITEM_CHUNK) {
      const step = Math.max(1, Math.floor(size));
      for (let lo = 0; lo < count; lo += step) yield readEncoded(lo, Math.min(count, lo + step));
    },
  };
}

/**
 * Whether ballot chunks also come as stored encodings ({@linkcode ballotStoreChunks} of a
 * store of encodings).
 *
 * @param chunks the chunks
 * @returns true when `chunks.encodedChunks` exists
 * @example
 * ```ts
 * import { ballotStoreChunks, hasEncodedChunks, MemoryBallotStore } from "./ballot_store.ts";
 * console.assert(!hasEncodedChunks(ballotStoreChunks(new MemoryBallotStore())));
 * ```
 */
export function hasEncodedChunks(
  chunks: ItemChunks<ElectionBallot>,
): chunks is StoredBallotChunks {
  return typeof (chunks as Partial<StoredBallotChunks>).encodedChunks === "function";
}

const encoder = new TextEncoder();
/** Room for a credential's UTF-8 (at most 3 bytes per UTF-16 unit of a 256-byte credential). */
const CREDENTIAL_SCRATCH = new Uint8Array(3 * 256);
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes an accepted ballot for a store (see the module documentation).
 *
 * @param ballot the ballot
 * @returns its encoding
 * @example
 * ```ts ignore
 * const bytes = encodeStoredBallot(ballot);
 * ```
 */
export function encodeStoredBallot(ballot: ElectionBallot): Uint8Array {
  const credential = encoder.encode(ballot.credential);
  const ct = ballot.ciphertext.bytes;
  const proof = packBallotProof(ballot.proof);
  const out = new Uint8Array(2 + credential.length + ct.length + proof.length);
  new DataView(out.buffer).setUint16(0, credential.length);
  out.set(credential, 2);
  out.set(ct, 2 + credential.length);
  out.set(proof, 2 + credential.length + ct.length);
  return out;
}

/**
 * Where the credential of a stored ballot encoding (u16be(n) ‖ credential ‖ ciphertext ‖
 * proof) ends, that is where its ciphertext starts, the encoding starting at `bytes[at]`.
 * The caller checks that the two length bytes are there.
 *
 * @param bytes the buffer
 * @param at where the encoding starts
 * @returns the offset just past the credential
 * @example
 * ```ts
 * import { storedCredentialEnd } from "./ballot_store.ts";
 * console.assert(storedCredentialEnd(new Uint8Array([0, 3, 97, 98, 99]), 0) === 5);
 * ```
 */
export function storedCredentialEnd(bytes: Uint8Array, at: number): number {
  return at + 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
}

/**
 * Decodes a stored ballot: its ciphertext and proof commitments are views into `bytes`, its
 * points are not decoded again (the box validated them when it accepted the ballot).
 *
 * @param bytes the encoding
 * @param fingerprint the box's election fingerprint (shared by the decoded ballots)
 * @returns the ballot
 * @throws {InvalidInputError} when the encoding is malformed
 * @example
 * ```ts ignore
 * const ballot = decodeStoredBallot(bytes, election.fingerprint);
 * ```
 */
export function decodeStoredBallot(bytes: Uint8Array, fingerprint: Uint8Array): ElectionBallot {
  if (bytes.length < 2) throw new InvalidInputError("Stored ballot is truncated");
  const n = new DataView(bytes.buffer, bytes.byteOffset, 2).getUint16(0);
  const rest = bytes.length - 2 - n;
  if (rest <= 0 || rest % 128 !== 0) {
    throw new InvalidInputError(`Stored ballot of ${bytes.length} bytes is malformed`);
  }
  const at = 2 + n, half = rest / 2;
  let credential: string;
  try {
    credential = decoder.decode(bytes.subarray(2, at));
  } catch {
    throw new InvalidInputError("Stored ballot has a credential that is not UTF-8");
  }
  return {
    election: fingerprint,
    credential,
    ciphertext: Ciphertext.unchecked(bytes.subarray(at, at + half), "stored ballot ciphertext"),
    proof: unpackBallotProof(bytes.subarray(at + half), "stored ballot proof", { view: true }),
  };
}

/** Longest stored ballot: credential (256 bytes) and a very wide ballot (1,024 elements). */
const MAX_STORED_BALLOT = 2 + 256 + 128 * 1024;

/**
 * Encodes ballots as a store holds them, one after another: each as u32be(length) ‖
 * {@linkcode encodeStoredBallot}. Workers make a chunk of ballots this way so that the thread
 * that keeps them appends the chunk whole ({@linkcode EncodedBallotStore.appendEncoded}),
 * with no ballot objects of its own (issue 17).
 *
 * @param ballots the ballots
 * @returns their encodings, each after its length (one buffer of its own)
 * @example
 * ```ts ignore
 * store.appendEncoded(encodeStoredBallots(ballots));
 * ```
 */
export function encodeStoredBallots(ballots: readonly ElectionBallot[]): Uint8Array {
  // Straight into one buffer (issue 17: no encoding, proof or credential array per ballot):
  // the credentials' UTF-8 lengths first, then every ballot in place.
  const credentialLengths = new Uint32Array(ballots.length);
  let total = 0;
  for (let i = 0; i < ballots.length; i++) {
    const { credential, ciphertext, proof } = ballots[i]!;
    const { read, written } = encoder.encodeInto(credential, CREDENTIAL_SCRATCH);
    const n = read === credential.length ? written : encoder.encode(credential).length;
    credentialLengths[i] = n;
    total += 6 + n + ciphertext.bytes.length + proof.commitments.length +
      ELEMENT_BYTES * proof.responses.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = 0; i < ballots.length; i++) {
    const { credential, ciphertext, proof } = ballots[i]!;
    const n = credentialLengths[i]!;
    const length = 2 + n + ciphertext.bytes.length + proof.commitments.length +
      ELEMENT_BYTES * proof.responses.length;
    // u32be(length) ‖ encodeStoredBallot: u16be(n) ‖ credential ‖ ciphertext ‖ packBallotProof.
    view.setUint32(at, length);
    view.setUint16(at + 4, n);
    encoder.encodeInto(credential, out.subarray(at + 6, at + 6 + n));
    let to = at + 6 + n;
    out.set(ciphertext.bytes, to);
    to += ciphertext.bytes.length;
    out.set(proof.commitments, to);
    to = encodeScalarsInto(out, to + proof.commitments.length, proof.responses);
    at = to;
  }
  return out;
}

/**
 * Encrypts voters' ballots straight into the encoding of {@linkcode encodeStoredBallots}:
 * the same bytes as `encodeStoredBallots(encryptElectionBallots(election, voters))`, with no
 * ballot object, proof or bigint per ballot (issue 17: the simulated voters' workers).
 *
 * @param election definition, fingerprint and public key
 * @param voters per voter its credential, answers and randomness
 * @returns the ballots, each as u32be(length) ‖ stored encoding (one buffer of its own)
 * @throws {InvalidInputError} when answers break the question rules or a credential is bad
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony } from "./ceremony.ts";
 * import { EncodedBallotStore, encryptStoredBallots, memoryByteLog } from "./ballot_store.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const fingerprint = electionFingerprint(definition);
 * const { key } = runLocalKeyCeremony({ definition, fingerprint });
 * const election = { definition, fingerprint, publicKey: key.publicKey };
 * const store = new EncodedBallotStore(memoryByteLog(), fingerprint, "example");
 * const voters = [{ credential: "v1", answers: [[0]] }, { credential: "v2", answers: [[1]] }];
 * console.assert(store.appendEncoded(encryptStoredBallots(election, voters)) === 2);
 * ```
 */
export function encryptStoredBallots(
  election: ElectionPublicInfo,
  voters: readonly EncryptBallotOptions[],
): Uint8Array {
  const { contexts, width, bytes, responses } = encryptElectionBallotsPacked(election, voters);
  const n = contexts.length, commitmentsAt = 2 * ELEMENT_BYTES * width * n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 6 + contexts[i]!.length - BALLOT_CONTEXT_CREDENTIAL_AT + 4 * ELEMENT_BYTES * width;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const c = 2 * ELEMENT_BYTES * width, z = ELEMENT_BYTES * width;
  let at = 0;
  for (let i = 0; i < n; i++) {
    // u32be(length) ‖ u16be(n) ‖ credential ‖ ciphertext ‖ commitments ‖ responses.
    const context = contexts[i]!, credential = context.length - BALLOT_CONTEXT_CREDENTIAL_AT;
    view.setUint32(at, 2 + credential + 2 * c);
    view.setUint16(at + 4, credential);
    out.set(context.subarray(BALLOT_CONTEXT_CREDENTIAL_AT), at + 6);
    at += 6 + credential;
    out.set(bytes.subarray(c * i, c * (i + 1)), at);
    out.set(bytes.subarray(commitmentsAt + z * i, commitmentsAt + z * (i + 1)), at + c);
    out.set(responses.subarray(z * i, z * (i + 1)), at + c + z);
    at += 2 * c;
  }
  return out;
}

/**
 * The byte offset of each ballot in a buffer of {@linkcode encodeStoredBallots}, checking
 * that every length prefix is that of a stored ballot (a credential length inside it, and a
 * ciphertext and proof of 128 bytes an element after it) and that the records fill the buffer
 * exactly. Ballots are not decoded.
 */
function storedBallotOffsets(bytes: Uint8Array, what: string): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < bytes.length;) {
    // Read without a DataView or a closure per record (the box appends ballots one by one).
    let why: string | undefined, length = 0;
    if (at + 6 > bytes.length) why = `is cut off at ${bytes.length - at} bytes`;
    else {
      length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) |
        bytes[at + 3]!) >>> 0;
      const rest = length - 2 - ((bytes[at + 4]! << 8) | bytes[at + 5]!);
      if (length > MAX_STORED_BALLOT) why = `says ${length} bytes, over ${MAX_STORED_BALLOT}`;
      else if (at + 4 + length > bytes.length) {
        why = `says ${length} bytes, ${bytes.length - at - 4} follow`;
      } else if (rest <= 0 || rest % 128 !== 0) why = `of ${length} bytes is not a stored ballot`;
    }
    if (why !== undefined) {
      throw new InvalidInputError(
        `Encoded ballots for '${what}' are corrupt (record ${offsets.length} at byte ${at} ${why})`,
      );
    }
    offsets.push(at);
    at += 4 + length;
  }
  return offsets;
}

/**
 * Decodes a buffer of {@linkcode encodeStoredBallots} (each ballot as
 * {@linkcode decodeStoredBallot} does: views into `bytes`).
 *
 * @param bytes the encoded ballots
 * @param options `fingerprint`: the election fingerprint given to every ballot; `what`: names
 *   the buffer in errors
 * @returns the ballots, in order
 * @throws {InvalidInputError} when a length prefix or a ballot is malformed
 * @example
 * ```ts ignore
 * const ballots = decodeStoredBallots(bytes, { fingerprint, what: "chunk" });
 * ```
 */
export function decodeStoredBallots(
  bytes: Uint8Array,
  options: { fingerprint: Uint8Array; what: string },
): ElectionBallot[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return storedBallotOffsets(bytes, options.what).map((at) =>
    decodeStoredBallot(bytes.subarray(at + 4, at + 4 + view.getUint32(at)), options.fingerprint)
  );
}

/**
 * Bytes appended at the end and read back by position: where an
 * {@linkcode EncodedBallotStore} keeps its ballots (in memory: {@linkcode memoryByteLog}; in a
 * file on the command line).
 */
export interface ByteLog {
  /** Bytes appended so far. */
  readonly size: number;
  /** Appends bytes (copied: the caller may reuse them). */
  append(bytes: Uint8Array): void;
  /**
   * Bytes offset..offset + length − 1, clipped to the end. May be a view into storage the
   * log owns: read it, do not change it.
   */
  read(offset: number, length: number): Uint8Array;
}

/**
 * A {@linkcode ByteLog} in memory, in segments (no copy of what is held when it grows).
 *
 * @param segmentBytes bytes per segment (default 1 MiB)
 * @returns the log
 * @example
 * ```ts
 * import { memoryByteLog } from "./ballot_store.ts";
 * const log = memoryByteLog(4);
 * log.append(new Uint8Array([1, 2, 3]));
 * log.append(new Uint8Array([4, 5, 6]));
 * console.assert(log.size === 6 && log.read(2, 3).join() === "3,4,5");
 * ```
 */
export function memoryByteLog(segmentBytes: number = 1 << 20): ByteLog {
  const size = Math.max(1, Math.floor(segmentBytes));
  const segments: Uint8Array[] = [];
  let total = 0;
  return {
    get size() {
      return total;
    },
    append(bytes) {
      for (let done = 0; done < bytes.length;) {
        const at = total % size;
        if (at === 0) segments.push(new Uint8Array(size));
        const n = Math.min(size - at, bytes.length - done);
        segments[segments.length - 1]!.set(bytes.subarray(done, done + n), at);
        done += n;
        total += n;
      }
    },
    read(offset, length) {
      const end = Math.min(total, offset + length);
      if (offset >= end) return new Uint8Array(0);
      const first = Math.floor(offset / size);
      if (Math.floor((end - 1) / size) === first) {
        return segments[first]!.subarray(offset % size, offset % size + end - offset);
      }
      const out = new Uint8Array(end - offset);
      for (let at = offset; at < end;) {
        const k = Math.floor(at / size), from = at % size, n = Math.min(size - from, end - at);
        out.set(segments[k]!.subarray(from, from + n), at - offset);
        at += n;
      }
      return out;
    },
  };
}

/** Most bytes read at once (a range of more is read in several blocks). */
const MAX_READ_BLOCK = 1 << 24;

/** The bytes of a then b, in a new array. */
function concatTwo(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
/** Ballots between two remembered offsets. */
const MARK_EVERY = 64;

/**
 * A {@linkcode BallotStore} of stored encodings in a {@linkcode ByteLog}, each as
 * u32be(length) ‖ {@linkcode encodeStoredBallot}: about 150 bytes a ballot of width 1 instead
 * of a ballot's objects, and nothing in memory at all when the log is a file. Ranges read in
 * order continue from where the last one ended; any other range starts from the remembered
 * offset of every 64th ballot (8 bytes per 64 ballots).
 *
 * @example
 * ```ts
 * import { EncodedBallotStore, memoryByteLog } from "./ballot_store.ts";
 * const store = new EncodedBallotStore(memoryByteLog(), new Uint8Array(32), "ballots");
 * console.assert(store.count === 0);
 * ```
 */
export class EncodedBallotStore implements BallotStore {
  readonly #log: ByteLog;
  readonly #fingerprint: Uint8Array;
  readonly #what: string;
  readonly #header = new Uint8Array(4);
  #count = 0;
  /** Byte offset of ballot MARK_EVERY·k. */
  #marks = new Float64Array(64);
  /** Where the last read ended: ballot index and its byte offset. */
  #cursor = { index: 0, offset: 0 };

  /**
   * Opens a store on an empty log.
   *
   * @param log where the encodings go (empty)
   * @param fingerprint the box's election fingerprint (given to every ballot read back)
   * @param what names the store in errors
   */
  constructor(log: ByteLog, fingerprint: Uint8Array, what: string) {
    this.#log = log;
    this.#fingerprint = fingerprint;
    this.#what = what;
  }

  get count(): number {
    return this.#count;
  }

  append(ballot: ElectionBallot): void {
    const encoded = encodeStoredBallot(ballot);
    this.#mark(this.#count, this.#log.size);
    new DataView(this.#header.buffer).setUint32(0, encoded.length);
    this.#log.append(this.#header);
    this.#log.append(encoded);
    this.#count++;
  }

  /**
   * Appends ballots already encoded as the store keeps them (a buffer of
   * {@linkcode encodeStoredBallots}, e.g. made by a worker) in one write: the same bytes and
   * the same store as appending each ballot, without decoding or encoding any (issue 17).
   * The box must have accepted the ballots: only the framing is checked here.
   *
   * @param bytes the encoded ballots (copied: the caller may reuse them)
   * @returns the number of ballots appended
   * @throws {InvalidInputError} when a length prefix is not that of a stored ballot or the
   *   records do not fill `bytes` exactly (nothing is appended then)
   * @example
   * ```ts ignore
   * store.appendEncoded(encodeStoredBallots(ballots));
   * ```
   */
  appendEncoded(bytes: Uint8Array): number {
    const offsets = storedBallotOffsets(bytes, this.#what);
    const base = this.#log.size;
    for (const [j, at] of offsets.entries()) this.#mark(this.#count + j, base + at);
    this.#log.append(bytes);
    this.#count += offsets.length;
    return offsets.length;
  }

  /** Remembers the offset of ballot `index` when it is a multiple of MARK_EVERY. */
  #mark(index: number, offset: number): void {
    if (index % MARK_EVERY !== 0) return;
    const k = index / MARK_EVERY;
    if (k >= this.#marks.length) {
      const grown = new Float64Array(Math.max(2 * this.#marks.length, k + 1));
      grown.set(this.#marks);
      this.#marks = grown;
    }
    this.#marks[k] = offset;
  }

  read(lo: number, hi: number): ElectionBallot[] {
    const { bytes, offsets } = this.readEncoded(lo, hi);
    const out: ElectionBallot[] = [];
    for (let j = 0; j < hi - lo; j++) {
      out.push(
        decodeStoredBallot(bytes.subarray(offsets[j]! + 4, offsets[j + 1]!), this.#fingerprint),
      );
    }
    return out;
  }

  /**
   * Ballots lo..hi−1 as the store keeps them, not decoded: a view of the bytes read, each
   * record's length checked (its content is checked where it is decoded).
   *
   * @param lo first ballot
   * @param hi one past the last
   * @returns the records and their offsets
   * @throws {InvalidInputError} when the range is outside the store or a record is corrupt
   */
  readEncoded(lo: number, hi: number): EncodedBallotChunk {
    checkBallotRange(this.#count, lo, hi);
    const offsets = new Uint32Array(hi - lo + 1);
    if (lo === hi) return { bytes: new Uint8Array(0), offsets };
    // Start from where the last read ended, or from the remembered offset before lo.
    let index: number, offset: number;
    if (this.#cursor.index === lo) ({ index, offset } = this.#cursor);
    else {
      index = lo - lo % MARK_EVERY;
      offset = this.#marks[index / MARK_EVERY]!;
    }
    const average = this.#log.size / this.#count;
    const block = Math.min(MAX_READ_BLOCK, Math.max(4096, Math.ceil((hi - index) * average) + 8));
    // The log's bytes start..start + buffer.length; those from `keep` on (the range's first
    // record, once reached) are kept when more are read.
    let buffer: Uint8Array = new Uint8Array(0), start = offset, keep = offset;
    const have = (n: number) => {
      const end = offset + n, held = start + buffer.length;
      if (end <= held) return;
      const kept = buffer.subarray(keep - start);
      // Geometric growth: a long range is copied a bounded number of times.
      const more = this.#log.read(held, Math.max(block, end - held, kept.length));
      buffer = kept.length === 0 ? more : concatTwo(kept, more);
      start = keep;
      if (start + buffer.length < end) {
        throw new InvalidInputError(
          `Ballot store '${this.#what}' is corrupt (a record at byte ${offset} runs past its end)`,
        );
      }
    };
    while (index < hi) {
      if (index < lo) keep = offset;
      have(4);
      const at = offset - start;
      // u32be, read without a DataView per record (issue 17: no garbage per ballot).
      const length = ((buffer[at]! << 24) | (buffer[at + 1]! << 16) | (buffer[at + 2]! << 8) |
        buffer[at + 3]!) >>> 0;
      if (length === 0 || length > MAX_STORED_BALLOT) {
        throw new InvalidInputError(
          `Ballot store '${this.#what}' is corrupt (record of ${length} bytes at byte ${offset})`,
        );
      }
      have(4 + length);
      if (index >= lo) offsets[index - lo] = offset - keep;
      offset += 4 + length;
      index++;
    }
    offsets[hi - lo] = offset - keep;
    this.#cursor = { index, offset };
    return { bytes: buffer.subarray(keep - start, offset - start), offsets };
  }
}
