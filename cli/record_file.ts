/**
 * Record lists on disk (issue 17): the file-backed {@linkcode RecordSource} and
 * {@linkcode RecordSink} of `core/records.ts`, and a spool directory that holds one file per
 * list of a run. A million-ballot election keeps its ciphertexts, proofs and shares here and
 * holds a chunk of each in memory.
 *
 * Reads and writes are synchronous (one chunk at a time on the main thread, between worker
 * jobs); the operating system's page cache does the rest.
 *
 * @module
 */

import {
  checkRecordRange,
  checkRecordWrite,
  type RecordSink,
  type RecordSinkFactory,
  type RecordSource,
} from "../core/records.ts";
import { InvalidInputError } from "../core/errors.ts";

/** Where in a file a list of records lies. */
export interface RecordRegion {
  /** Byte offset of the first record's slot. */
  offset: number;
  /** Records. */
  count: number;
  /** Bytes of each record. */
  recordBytes: number;
  /**
   * Bytes from one slot to the next (default recordBytes); with `skip`, reads a list of framed
   * values in place, e.g. msgpack `bin 8` strings of 32 bytes: stride 34, skip 2.
   */
  stride?: number;
  /** Bytes before the record within each slot (default 0). */
  skip?: number;
}

function readFully(file: Deno.FsFile, at: number, into: Uint8Array, what: string): void {
  file.seekSync(at, Deno.SeekMode.Start);
  let done = 0;
  while (done < into.length) {
    const n = file.readSync(into.subarray(done));
    if (n === null || n === 0) {
      throw new InvalidInputError(`File '${what}' ends inside a record (at byte ${at + done})`);
    }
    done += n;
  }
}

function writeFully(file: Deno.FsFile, at: number, bytes: Uint8Array): void {
  file.seekSync(at, Deno.SeekMode.Start);
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/**
 * Records in a region of an open file. Closing the file is the caller's (or the
 * {@linkcode Spool}'s) business.
 */
export class RecordFile implements RecordSource, RecordSink {
  readonly count: number;
  readonly recordBytes: number;
  readonly #file: Deno.FsFile;
  readonly #offset: number;
  readonly #stride: number;
  readonly #skip: number;
  readonly #what: string;

  /**
   * @param file the open file (read, and write for a sink)
   * @param region where the records lie
   * @param what names the list in errors (e.g. the file's path)
   * @example
   * ```ts ignore
   * const file = Deno.openSync("t.msgpack");
   * const shares = new RecordFile(file, { offset: 4096, count: 100, recordBytes: 32, stride: 34, skip: 2 }, "shares");
   * ```
   */
  constructor(file: Deno.FsFile, region: RecordRegion, what: string) {
    this.#file = file;
    this.count = region.count;
    this.recordBytes = region.recordBytes;
    this.#offset = region.offset;
    this.#stride = region.stride ?? region.recordBytes;
    this.#skip = region.skip ?? 0;
    this.#what = what;
    if (this.#skip + this.recordBytes > this.#stride) {
      throw new InvalidInputError(`Record region of '${what}' has records longer than its slots`);
    }
  }

  /** True when the records are packed (no framing bytes between them). */
  get #packed(): boolean {
    return this.#stride === this.recordBytes;
  }

  read(lo: number, hi: number): Uint8Array {
    checkRecordRange(this.count, lo, hi, this.#what);
    const size = this.recordBytes;
    if (this.#packed) {
      const out = new Uint8Array((hi - lo) * size);
      readFully(this.#file, this.#offset + lo * size, out, this.#what);
      return out;
    }
    const raw = new Uint8Array((hi - lo) * this.#stride);
    readFully(this.#file, this.#offset + lo * this.#stride, raw, this.#what);
    const out = new Uint8Array((hi - lo) * size);
    for (let i = 0; i < hi - lo; i++) {
      const at = i * this.#stride + this.#skip;
      out.set(raw.subarray(at, at + size), i * size);
    }
    return out;
  }

  gather(indices: ArrayLike<number>): Uint8Array {
    const size = this.recordBytes;
    const out = new Uint8Array(indices.length * size);
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i]!;
      checkRecordRange(this.count, j, j + 1, this.#what);
      readFully(
        this.#file,
        this.#offset + j * this.#stride + this.#skip,
        out.subarray(i * size, (i + 1) * size),
        this.#what,
      );
    }
    return out;
  }

  write(lo: number, bytes: Uint8Array): void {
    if (!this.#packed) throw new InvalidInputError(`Records of '${this.#what}' are read-only`);
    checkRecordWrite(this, lo, bytes, this.#what);
    writeFully(this.#file, this.#offset + lo * this.recordBytes, bytes);
  }

  finish(): RecordSource {
    return this;
  }
}

/** Spools open in this process, removed if it is interrupted. */
const openSpools = new Set<Spool>();

/** The signals that end a command whose spools are removed first, with their exit codes. */
const SPOOL_SIGNALS: ReadonlyArray<[Deno.Signal, number]> = [["SIGINT", 130], ["SIGTERM", 143]];

/** Removes every open spool and ends the process as the signal would. */
const signalHandlers = SPOOL_SIGNALS.map(([signal, code]) =>
  [signal, () => {
    for (const spool of [...openSpools]) spool.close();
    Deno.exit(code);
  }] as const
);

/** Listens for the signals while a spool is open (not every platform has SIGTERM). */
function watchSignals(on: boolean): void {
  for (const [signal, handler] of signalHandlers) {
    try {
      if (on) Deno.addSignalListener(signal, handler);
      else Deno.removeSignalListener(signal, handler);
    } catch {
      // This platform does not deliver it.
    }
  }
}

/**
 * A temporary directory of record files for one run; {@linkcode Spool.sinks} is the
 * {@linkcode RecordSinkFactory} the library's phases take. `close` removes every file, and
 * so does an interruption of the process (SIGINT, SIGTERM) while the spool is open: a
 * million-ballot run leaves no gigabytes behind when stopped with Ctrl-C.
 */
export class Spool {
  readonly dir: string;
  readonly #files: Deno.FsFile[] = [];
  #next = 0;

  private constructor(dir: string) {
    this.dir = dir;
    if (openSpools.size === 0) watchSignals(true);
    openSpools.add(this);
  }

  /**
   * Creates the spool directory.
   *
   * @param parent where to create it (default the system's temporary directory)
   * @returns the spool
   * @example
   * ```ts ignore
   * const spool = await Spool.create();
   * try { await mixElection(election, { inputs, sinks: spool.sinks }); } finally { spool.close(); }
   * ```
   */
  static async create(parent?: string): Promise<Spool> {
    return new Spool(
      await Deno.makeTempDir({ prefix: "panoramix-spool-", ...(parent ? { dir: parent } : {}) }),
    );
  }

  /** A new record file of `count` records in the spool (named after `name` for debugging). */
  readonly sinks: RecordSinkFactory = (name, count, recordBytes): RecordSink => {
    const safe = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
    const path = `${this.dir}/${String(this.#next++).padStart(4, "0")}-${safe}`;
    const file = Deno.openSync(path, { read: true, write: true, create: true, truncate: true });
    this.#files.push(file);
    file.truncateSync(count * recordBytes);
    return new RecordFile(file, { offset: 0, count, recordBytes }, name);
  };

  /**
   * A new empty file in the spool, open for reading and writing (named after `name` for
   * debugging); the spool closes and removes it.
   *
   * @param name what the file holds
   * @returns the open file and its path
   * @example
   * ```ts ignore
   * const { file } = spool.openFile("ballots");
   * ```
   */
  openFile(name: string): { file: Deno.FsFile; path: string } {
    const safe = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
    const path = `${this.dir}/${String(this.#next++).padStart(4, "0")}-${safe}`;
    const file = Deno.openSync(path, { read: true, write: true, create: true, truncate: true });
    this.#files.push(file);
    return { file, path };
  }

  /** Closes every file and removes the directory. */
  close(): void {
    if (openSpools.delete(this) && openSpools.size === 0) watchSignals(false);
    for (const file of this.#files.splice(0)) {
      try {
        file.close();
      } catch {
        // Already closed.
      }
    }
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
