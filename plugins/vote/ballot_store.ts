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
import { Ciphertext } from "../../backends/reencrypt/mod.ts";
import { type ElectionBallot, packBallotProof, unpackBallotProof } from "./ballot.ts";

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
 * time each time they are iterated).
 *
 * @param store the store
 * @param count ballots to read (default the store's count now)
 * @returns the chunks
 * @example
 * ```ts
 * import { ballotStoreChunks, MemoryBallotStore } from "./ballot_store.ts";
 * console.assert(ballotStoreChunks(new MemoryBallotStore()).count === 0);
 * ```
 */
export function ballotStoreChunks(
  store: BallotStore,
  count: number = store.count,
): ItemChunks<ElectionBallot> {
  return {
    count,
    async *chunks(size = DEFAULT_ITEM_CHUNK) {
      const step = Math.max(1, Math.floor(size));
      for (let lo = 0; lo < count; lo += step) yield store.read(lo, Math.min(count, lo + step));
    },
  };
}

const encoder = new TextEncoder();
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
