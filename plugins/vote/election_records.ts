/**
 * An election transcript whose O(N) lists are record lists (issue 17): what a bounded-memory
 * run writes and what the verifier reads, a chunk at a time. The small parts (definition,
 * ceremony, key, proofs' fixed fields, tally) are held as in {@linkcode ElectionTranscript};
 * ciphertexts, proof lists, shares and plaintexts are {@linkcode RecordSource}s (in memory or
 * in files); ballots and decoded answers, of varying size, are {@linkcode ItemChunks}.
 *
 * @module
 */

import { joinBytes } from "../../core/bytes.ts";
import { InvalidInputError } from "../../core/errors.ts";
import {
  allRecords,
  checkRecordRange,
  type ItemChunks,
  memoryItemChunks,
  memoryRecords,
  type RecordSource,
} from "../../core/records.ts";
import {
  Ciphertext,
  ELEMENT_BYTES,
  shuffleProofFromRecords,
  type ShuffleProofRecords,
  shuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionBallot } from "./ballot.ts";
import type { ElectionDecryption, ElectionMix, ElectionTranscript } from "./election_transcript.ts";

/** One mixer's outputs (64·w-byte records) and proof, as record lists. */
export interface ElectionMixRecords extends Omit<ElectionMix, "outputs" | "proof"> {
  /** Its re-encrypted, permuted outputs. */
  outputs: RecordSource;
  /** Its Terelius–Wikström proof. */
  proof: ShuffleProofRecords;
}

/** One trustee's decryption post with its shares as a record list (32·w-byte records). */
export interface ElectionDecryptionRecords extends Omit<ElectionDecryption, "shares"> {
  /** One share per final ciphertext, in order. */
  shares: RecordSource;
}

/** An {@linkcode ElectionTranscript} whose O(N) lists are record lists and item chunks. */
export interface ElectionTranscriptRecords extends
  Omit<
    ElectionTranscript,
    "ballots" | "mixInput" | "mixes" | "decryption" | "plaintexts" | "answers"
  > {
  /** Every accepted ballot in box order. */
  ballots: ItemChunks<ElectionBallot>;
  /** The cleansed mix input (64·w-byte records). */
  mixInput: RecordSource;
  /** One entry per mixer, in cascade order. */
  mixes: ElectionMixRecords[];
  /** At least t trustees' shares. */
  decryption: ElectionDecryptionRecords[];
  /** Decrypted elements per final ciphertext (32·w-byte records). */
  plaintexts: RecordSource;
  /** Decoded answers per final ciphertext; null for an invalid ballot. */
  answers: ItemChunks<ElectionAnswer[] | null>;
}

/**
 * Ciphertexts of one width as a record list (one copy into a single buffer).
 *
 * @param list the ciphertexts
 * @param width their width (used when the list is empty)
 * @returns 64·w-byte records
 * @example
 * ```ts ignore
 * const inputs = ciphertextRecords(box.close(), 1);
 * ```
 */
export function ciphertextRecords(list: readonly Ciphertext[], width: number): RecordSource {
  return memoryRecords(joinBytes(list.map((c) => c.bytes)), 2 * ELEMENT_BYTES * width);
}

/**
 * Ciphertexts lo..hi−1 of a record list, as views of one read (validated on first use).
 *
 * @param records 64·w-byte records
 * @param lo first
 * @param hi one past the last
 * @returns the ciphertexts
 * @example
 * ```ts ignore
 * const chunk = readCiphertexts(mixInput, 0, 4096);
 * ```
 */
export function readCiphertexts(records: RecordSource, lo: number, hi: number): Ciphertext[] {
  const bytes = records.read(lo, hi), size = records.recordBytes;
  return Array.from(
    { length: hi - lo },
    (_, i) => Ciphertext.unchecked(bytes.subarray(i * size, (i + 1) * size)),
  );
}

/**
 * Byte strings of one size held in an array, as a record list without copying them: a read
 * of one record is a view of it, a read of more records joins them into a fresh buffer.
 */
function arrayRecords(items: readonly Uint8Array[], recordBytes: number): RecordSource {
  const record = (i: number) => {
    const bytes = items[i]!;
    if (bytes.length !== recordBytes) {
      throw new InvalidInputError(
        `Record ${i} of a list of ${recordBytes}-byte records is ${bytes.length} bytes`,
      );
    }
    return bytes;
  };
  const join = (indices: ArrayLike<number>) => {
    const out = new Uint8Array(indices.length * recordBytes);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      checkRecordRange(items.length, i, i + 1, "records");
      out.set(record(i), k * recordBytes);
    }
    return out;
  };
  return {
    count: items.length,
    recordBytes,
    read(lo, hi) {
      checkRecordRange(items.length, lo, hi, "records");
      if (hi - lo === 1) return record(lo);
      return join(Array.from({ length: hi - lo }, (_, k) => lo + k));
    },
    gather: join,
  };
}

/**
 * Views an in-memory transcript as record lists (issue 17: no copy of its lists; a read of
 * a range joins that range).
 *
 * @param transcript the transcript
 * @returns the same transcript with record lists
 * @throws {InvalidInputError} when a list's item (read) is not of the transcript's width
 * @example
 * ```ts ignore
 * await verifyElectionRecords(electionTranscriptRecords(transcript));
 * ```
 */
export function electionTranscriptRecords(
  transcript: ElectionTranscript,
): ElectionTranscriptRecords {
  const width = transcript.mixInput[0]?.width ?? 1;
  const ciphertexts = (list: readonly Ciphertext[]) =>
    arrayRecords(list.map((c) => c.bytes), 2 * ELEMENT_BYTES * width);
  return {
    ...transcript,
    ballots: memoryItemChunks(transcript.ballots),
    mixInput: ciphertexts(transcript.mixInput),
    mixes: transcript.mixes.map((m) => ({
      ...m,
      outputs: ciphertexts(m.outputs),
      proof: shuffleProofRecords(m.proof),
    })),
    decryption: transcript.decryption.map((d) => ({
      ...d,
      shares: arrayRecords(d.shares, ELEMENT_BYTES * width),
    })),
    plaintexts: arrayRecords(transcript.plaintexts, ELEMENT_BYTES * width),
    answers: memoryItemChunks(transcript.answers),
  };
}

/**
 * Every record of a list as views of one read (for the in-memory API and small lists).
 *
 * @param records the list
 * @returns one view per record
 * @example
 * ```ts ignore
 * const plaintexts = recordViews(results.plaintexts);
 * ```
 */
export function recordViews(records: RecordSource): Uint8Array[] {
  const bytes = allRecords(records), size = records.recordBytes;
  return Array.from({ length: records.count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

/**
 * Reads a record transcript into memory: the inverse of {@linkcode electionTranscriptRecords}
 * (for the in-memory API, e.g. `runLocalElection`, and small elections).
 *
 * @param transcript the transcript with record lists
 * @returns the same transcript with arrays
 * @example
 * ```ts ignore
 * const transcript = await electionTranscriptFromRecords(records);
 * ```
 */
export async function electionTranscriptFromRecords(
  transcript: ElectionTranscriptRecords,
): Promise<ElectionTranscript> {
  const all = async <T>(items: ItemChunks<T>) => {
    const out: T[] = [];
    for await (const chunk of items.chunks()) out.push(...chunk);
    return out;
  };
  const ciphertexts = (list: RecordSource) => readCiphertexts(list, 0, list.count);
  return {
    ...transcript,
    ballots: await all(transcript.ballots),
    mixInput: ciphertexts(transcript.mixInput),
    mixes: transcript.mixes.map((m) => ({
      ...m,
      outputs: ciphertexts(m.outputs),
      proof: shuffleProofFromRecords(m.proof),
    })),
    decryption: transcript.decryption.map((d) => ({ ...d, shares: recordViews(d.shares) })),
    plaintexts: recordViews(transcript.plaintexts),
    answers: await all(transcript.answers),
  };
}
