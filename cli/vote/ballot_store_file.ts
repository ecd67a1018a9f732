/**
 * A ballot box's accepted ballots in a file (issue 17: bounded memory): the
 * {@linkcode BallotStore} the command line gives the box, so a million-ballot box holds a
 * write buffer and the chunk being read, not the ballots. Each ballot is appended as
 * u32be(length) ‖ its stored encoding (`encodeStoredBallot`); ballots are read back by range,
 * a block of the file at a time, as views into that block.
 *
 * Memory: a write buffer (256 KiB), and the byte offset of every 64th ballot (8 bytes per 64
 * ballots) to find a ballot by position; ranges read in order continue from where the last
 * one ended.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import {
  type BallotStore,
  checkBallotRange,
  decodeStoredBallot,
  type ElectionBallot,
  encodeStoredBallot,
} from "../../plugins/vote/mod.ts";
import type { Spool } from "../record_file.ts";

/** Bytes buffered before a write. */
const WRITE_BUFFER = 1 << 18;
/** Most bytes read per block. */
const BLOCK = 1 << 20;
/** Ballots between two remembered offsets. */
const MARK_EVERY = 64;
/** Longest stored ballot: credential (256 bytes) and a very wide ballot (1,024 elements). */
const MAX_RECORD = 2 + 256 + 128 * 1024;

/** Accepted ballots appended to a file and read back by range. */
export class FileBallotStore implements BallotStore {
  readonly #file: Deno.FsFile;
  readonly #fingerprint: Uint8Array;
  readonly #what: string;
  #count = 0;
  /** Bytes in the file. */
  #end = 0;
  #pending = new Uint8Array(WRITE_BUFFER);
  #pendingBytes = 0;
  /** Byte offset of ballot MARK_EVERY·k. */
  #marks = new Float64Array(1024);
  /** Where the last read ended: ballot index and its byte offset. */
  #cursor = { index: 0, offset: 0 };

  /**
   * @param file an empty file open for reading and writing (the caller closes it)
   * @param fingerprint the box's election fingerprint (given to every ballot read back)
   * @param what names the file in errors
   * @example
   * ```ts ignore
   * const store = new FileBallotStore(Deno.openSync(path, { read: true, write: true, create: true }), election.fingerprint, path);
   * ```
   */
  constructor(file: Deno.FsFile, fingerprint: Uint8Array, what: string) {
    this.#file = file;
    this.#fingerprint = fingerprint;
    this.#what = what;
  }

  /**
   * A store in a new file of a spool (removed with the spool).
   *
   * @param spool the run's spool
   * @param fingerprint the box's election fingerprint
   * @returns the store
   * @example
   * ```ts ignore
   * const box = new ElectionBallotBox(election, { store: FileBallotStore.inSpool(spool, election.fingerprint) });
   * ```
   */
  static inSpool(spool: Spool, fingerprint: Uint8Array): FileBallotStore {
    const { file, path } = spool.openFile("ballots");
    return new FileBallotStore(file, fingerprint, path);
  }

  get count(): number {
    return this.#count;
  }

  /** Bytes the ballots take in the file (written or buffered). */
  get bytes(): number {
    return this.#end + this.#pendingBytes;
  }

  append(ballot: ElectionBallot): void {
    const encoded = encodeStoredBallot(ballot);
    if (this.#count % MARK_EVERY === 0) {
      const k = this.#count / MARK_EVERY;
      if (k >= this.#marks.length) {
        const grown = new Float64Array(2 * this.#marks.length);
        grown.set(this.#marks);
        this.#marks = grown;
      }
      this.#marks[k] = this.bytes;
    }
    const need = 4 + encoded.length;
    if (this.#pendingBytes + need > this.#pending.length) this.#flush();
    if (need > this.#pending.length) this.#pending = new Uint8Array(need);
    new DataView(this.#pending.buffer).setUint32(this.#pendingBytes, encoded.length);
    this.#pending.set(encoded, this.#pendingBytes + 4);
    this.#pendingBytes += need;
    this.#count++;
  }

  #flush(): void {
    if (this.#pendingBytes === 0) return;
    this.#file.seekSync(this.#end, Deno.SeekMode.Start);
    const bytes = this.#pending.subarray(0, this.#pendingBytes);
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
    this.#end += this.#pendingBytes;
    this.#pendingBytes = 0;
  }

  #readAt(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.min(length, this.#end - offset));
    this.#file.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < out.length) {
      const n = this.#file.readSync(out.subarray(done));
      if (n === null || n === 0) break;
      done += n;
    }
    if (done < out.length) {
      throw new InvalidInputError(`Ballot store '${this.#what}' ends early (at byte ${offset})`);
    }
    return out;
  }

  read(lo: number, hi: number): ElectionBallot[] {
    checkBallotRange(this.#count, lo, hi);
    if (lo === hi) return [];
    this.#flush();
    // Start from where the last read ended, or from the remembered offset before lo.
    let index: number, offset: number;
    if (this.#cursor.index === lo) ({ index, offset } = this.#cursor);
    else {
      index = lo - lo % MARK_EVERY;
      offset = this.#marks[index / MARK_EVERY]!;
    }
    const average = this.#end / this.#count;
    const block = Math.min(BLOCK, Math.max(4096, Math.ceil((hi - index) * average) + 8));
    const out: ElectionBallot[] = [];
    let buffer: Uint8Array = new Uint8Array(0), start = offset;
    const have = (n: number) => {
      if (offset + n <= start + buffer.length) return;
      buffer = this.#readAt(offset, Math.max(block, n));
      start = offset;
      if (buffer.length < n) {
        throw new InvalidInputError(
          `Ballot store '${this.#what}' is corrupt (a record at byte ${offset} runs past its end)`,
        );
      }
    };
    while (index < hi) {
      have(4);
      const at = offset - start;
      const length = new DataView(buffer.buffer, buffer.byteOffset + at, 4).getUint32(0);
      if (length === 0 || length > MAX_RECORD) {
        throw new InvalidInputError(
          `Ballot store '${this.#what}' is corrupt (record of ${length} bytes at byte ${offset})`,
        );
      }
      have(4 + length);
      if (index >= lo) {
        const from = offset - start + 4;
        out.push(decodeStoredBallot(buffer.subarray(from, from + length), this.#fingerprint));
      }
      offset += 4 + length;
      index++;
    }
    this.#cursor = { index, offset };
    return out;
  }
}
