/**
 * Fixed-size records read a chunk at a time (issue 17: memory proportional to a chunk, not
 * to the batch). A {@linkcode RecordSource} is N records of the same size — ciphertexts, proof
 * elements, decryption shares — that a phase reads by range (a chunk) or by a list of indices
 * (a shuffle reads its inputs in permuted order). A {@linkcode RecordSink} takes records by
 * position and becomes a source once it is full.
 *
 * The library keeps them in memory ({@linkcode memoryRecords}, {@linkcode memoryRecordSink});
 * the command line backs them with files (`cli/record_file.ts`), so a million-ballot election
 * holds a chunk of each list, not the list.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

/** N records of `recordBytes` bytes each, read by range or by index list. */
export interface RecordSource {
  /** Number of records. */
  readonly count: number;
  /** Size of each record in bytes. */
  readonly recordBytes: number;
  /**
   * Records lo..hi−1, concatenated ((hi − lo)·recordBytes bytes). May be a view into storage
   * the source owns: read it, do not change it.
   */
  read(lo: number, hi: number): Uint8Array;
  /** The records at the given indices, concatenated in the order given (a fresh buffer). */
  gather(indices: ArrayLike<number>): Uint8Array;
}

/** Where a phase writes N fixed-size records, in any order of ranges. */
export interface RecordSink {
  /** Number of records the sink takes. */
  readonly count: number;
  /** Size of each record in bytes. */
  readonly recordBytes: number;
  /** Writes records lo..lo + bytes.length/recordBytes − 1. */
  write(lo: number, bytes: Uint8Array): void;
  /** Every record written: the records as a source (the sink is not written after this). */
  finish(): RecordSource;
}

/** Makes sinks for the named lists a phase produces (e.g. "outputs", "chain"). */
export type RecordSinkFactory = (name: string, count: number, recordBytes: number) => RecordSink;

/**
 * Checks that lo..hi is a range of a list of `count` records.
 *
 * @param count records in the list
 * @param lo first record
 * @param hi one past the last record
 * @param what names the list in the error
 * @throws {InvalidInputError} when the range is outside the list or reversed
 * @example
 * ```ts
 * import { checkRecordRange } from "./records.ts";
 * checkRecordRange(10, 2, 5, "outputs");
 * ```
 */
export function checkRecordRange(count: number, lo: number, hi: number, what: string): void {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo || hi > count) {
    throw new InvalidInputError(`Records ${lo}..${hi} are outside '${what}' (${count} records)`);
  }
}

/**
 * Checks that `bytes` holds whole records of `recordBytes` bytes that fit at `lo`.
 *
 * @param sink the sink being written
 * @param lo first record written
 * @param bytes the records
 * @param what names the list in the error
 * @returns the number of records in `bytes`
 * @throws {InvalidInputError} when the bytes are not whole records or do not fit
 * @example
 * ```ts
 * import { checkRecordWrite, memoryRecordSink } from "./records.ts";
 * console.assert(checkRecordWrite(memoryRecordSink(4, 2), 1, new Uint8Array(4), "x") === 2);
 * ```
 */
export function checkRecordWrite(
  sink: { count: number; recordBytes: number },
  lo: number,
  bytes: Uint8Array,
  what: string,
): number {
  if (bytes.length % sink.recordBytes !== 0) {
    throw new InvalidInputError(
      `Write to '${what}' is ${bytes.length} bytes, not whole ${sink.recordBytes}-byte records`,
    );
  }
  const n = bytes.length / sink.recordBytes;
  checkRecordRange(sink.count, lo, lo + n, what);
  return n;
}

/**
 * Records held in one buffer (count·recordBytes bytes).
 *
 * @param bytes the records, concatenated
 * @param recordBytes size of each record
 * @returns the source (reads are views into `bytes`)
 * @throws {InvalidInputError} when `bytes` is not whole records
 * @example
 * ```ts
 * import { memoryRecords } from "./records.ts";
 * const list = memoryRecords(new Uint8Array([1, 1, 2, 2, 3, 3]), 2);
 * console.assert(list.count === 3 && list.gather([2, 0])[0] === 3);
 * ```
 */
export function memoryRecords(bytes: Uint8Array, recordBytes: number): RecordSource {
  if (!Number.isInteger(recordBytes) || recordBytes <= 0 || bytes.length % recordBytes !== 0) {
    throw new InvalidInputError(
      `Record list of ${bytes.length} bytes is not whole ${recordBytes}-byte records`,
    );
  }
  const count = bytes.length / recordBytes;
  return {
    count,
    recordBytes,
    read(lo, hi) {
      checkRecordRange(count, lo, hi, "records");
      return bytes.subarray(lo * recordBytes, hi * recordBytes);
    },
    gather(indices) {
      const out = new Uint8Array(indices.length * recordBytes);
      for (let i = 0; i < indices.length; i++) {
        const j = indices[i]!;
        checkRecordRange(count, j, j + 1, "records");
        out.set(bytes.subarray(j * recordBytes, (j + 1) * recordBytes), i * recordBytes);
      }
      return out;
    },
  };
}

/**
 * A sink into one buffer of count·recordBytes bytes; `finish` returns it as
 * {@linkcode memoryRecords}.
 *
 * @param count records
 * @param recordBytes size of each record
 * @returns the sink
 * @example
 * ```ts
 * import { memoryRecordSink } from "./records.ts";
 * const sink = memoryRecordSink(2, 1);
 * sink.write(1, new Uint8Array([7]));
 * sink.write(0, new Uint8Array([6]));
 * console.assert(sink.finish().read(0, 2)[1] === 7);
 * ```
 */
export function memoryRecordSink(count: number, recordBytes: number): RecordSink {
  const bytes = new Uint8Array(count * recordBytes);
  return {
    count,
    recordBytes,
    write(lo, part) {
      checkRecordWrite(this, lo, part, "records");
      bytes.set(part, lo * recordBytes);
    },
    finish: () => memoryRecords(bytes, recordBytes),
  };
}

/** The default {@linkcode RecordSinkFactory}: every list in memory. */
export const memoryRecordSinks: RecordSinkFactory = (_name, count, recordBytes): RecordSink =>
  memoryRecordSink(count, recordBytes);

/**
 * Every record of a source in one buffer (for small lists and for the in-memory API).
 *
 * @param source the records
 * @returns count·recordBytes bytes
 * @example
 * ```ts
 * import { allRecords, memoryRecords } from "./records.ts";
 * console.assert(allRecords(memoryRecords(new Uint8Array(6), 3)).length === 6);
 * ```
 */
export function allRecords(source: RecordSource): Uint8Array {
  return source.read(0, source.count);
}

/**
 * N items of varying size (ballots, decoded answers) read in order, a chunk at a time: what
 * cannot be a {@linkcode RecordSource}. Each call of `chunks` reads them again from the start.
 */
export interface ItemChunks<T> {
  /** Number of items. */
  readonly count: number;
  /** The items in order, in chunks of at most `size` (default 4,096) items. */
  chunks(size?: number): AsyncIterable<T[]>;
}

/** Items per chunk when {@linkcode ItemChunks.chunks} is not told. */
export const DEFAULT_ITEM_CHUNK = 4096;

/**
 * Items held in an array, as {@linkcode ItemChunks}.
 *
 * @param items the items
 * @returns chunks that are slices of `items`
 * @example
 * ```ts
 * import { memoryItemChunks } from "./records.ts";
 * const seen: number[][] = [];
 * for await (const chunk of memoryItemChunks([1, 2, 3]).chunks(2)) seen.push(chunk);
 * console.assert(seen.length === 2 && seen[1]![0] === 3);
 * ```
 */
export function memoryItemChunks<T>(items: readonly T[]): ItemChunks<T> {
  return {
    count: items.length,
    async *chunks(size = DEFAULT_ITEM_CHUNK) {
      for (let lo = 0; lo < items.length; lo += size) yield items.slice(lo, lo + size);
    },
  };
}
