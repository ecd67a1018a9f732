/**
 * A ballot box's accepted ballots in a file (issue 17: bounded memory): the
 * {@linkcode BallotStore} the command line gives the box, so a million-ballot box holds a
 * write buffer and the chunk being read, not the ballots. It is an
 * {@linkcode EncodedBallotStore} (each ballot as u32be(length) ‖ its stored encoding) whose
 * byte log is a file: appends go through a 256 KiB write buffer, reads take a block of the
 * file at a time and the ballots are views into that block.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { type ByteLog, EncodedBallotStore } from "../../plugins/vote/mod.ts";
import type { Spool } from "../record_file.ts";

/** Bytes buffered before a write. */
const WRITE_BUFFER = 1 << 18;

/** A {@linkcode ByteLog} in an open file, appended through a write buffer. */
export class FileByteLog implements ByteLog {
  readonly #file: Deno.FsFile;
  readonly #what: string;
  /** Bytes in the file. */
  #end = 0;
  #pending = new Uint8Array(WRITE_BUFFER);
  #pendingBytes = 0;

  /**
   * @param file an empty file open for reading and writing (the caller closes it)
   * @param what names the file in errors
   * @example
   * ```ts ignore
   * const log = new FileByteLog(Deno.openSync(path, { read: true, write: true, create: true }), path);
   * ```
   */
  constructor(file: Deno.FsFile, what: string) {
    this.#file = file;
    this.#what = what;
  }

  get size(): number {
    return this.#end + this.#pendingBytes;
  }

  append(bytes: Uint8Array): void {
    if (this.#pendingBytes + bytes.length > this.#pending.length) this.#flush();
    if (bytes.length > this.#pending.length) {
      this.#write(bytes);
      return;
    }
    this.#pending.set(bytes, this.#pendingBytes);
    this.#pendingBytes += bytes.length;
  }

  #write(bytes: Uint8Array): void {
    this.#file.seekSync(this.#end, Deno.SeekMode.Start);
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
    this.#end += bytes.length;
  }

  #flush(): void {
    if (this.#pendingBytes === 0) return;
    const bytes = this.#pending.subarray(0, this.#pendingBytes);
    this.#pendingBytes = 0;
    this.#write(bytes);
  }

  read(offset: number, length: number): Uint8Array {
    this.#flush();
    const out = new Uint8Array(Math.max(0, Math.min(length, this.#end - offset)));
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
}

/** Accepted ballots appended to a file and read back by range. */
export class FileBallotStore extends EncodedBallotStore {
  readonly #log: FileByteLog;

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
    const log = new FileByteLog(file, what);
    super(log, fingerprint, what);
    this.#log = log;
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

  /** Bytes the ballots take in the file (written or buffered). */
  get bytes(): number {
    return this.#log.size;
  }
}
