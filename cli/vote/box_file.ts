/**
 * The ballot box file of `panoramix vote submit`, appended in place (issue 17 point 2):
 * the stored box is read as a stream, a chunk of ballots at a time, and replayed into a box
 * whose ballots are kept in a spool file (for its rules: replay, copy and duplicate
 * detection); the ballots the box accepts are appended to the end of the box file a chunk
 * at a time, and the count in the ballots' array header is rewritten last.
 *
 * Crash safety: the file is a msgpack box whose ballots array is the last entry, so an
 * append writes the new ballots after the old end, syncs them to disk, then rewrites the
 * ballots' whole array header with the new count (1, 3 or 5 bytes, one write of the same
 * length as the old header) and syncs again; only then does `vote submit` report the ballots
 * accepted. A submit interrupted before the header is rewritten leaves the box as it was
 * followed by bytes no reader takes for ballots: readers stop at the header's count and
 * reject the file with a one-line error naming the bytes ("Ballot box has bytes after its N
 * ballots ..."), and the next `vote submit` drops them (truncates the file to the box) and
 * says so on stderr. When the header must grow (a box passing 15 or 65,535 ballots), or the
 * file is new or was written in another layout, the whole box is written to a new file
 * beside it a chunk at a time (with the old file's permissions), synced, and renamed over the
 * old one: the box is then the old one or the new one, never a mix. The file is locked (an
 * exclusive `flock`) for the whole submit, so two submits to one box run one after the
 * other, and the commands that read a box file (cli/vote/support.ts `openBoxFile`) take a
 * shared lock while they read, so they wait for a running submit.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { encodeMsgpack } from "../../core/envelope.ts";
import { PanoramixError, UsageError } from "../../core/errors.ts";
import { msgpackArrayHeader } from "../../core/msgpack_stream.ts";
import {
  ballotBoxHead,
  type BallotBoxLayout,
  type CastResult,
  type ElectionBallot,
  ElectionBallotBox,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
  scanBallotBoxStream,
  writeBallotBoxStream,
} from "../../plugins/vote/mod.ts";
import type { Spool } from "../record_file.ts";
import { fileWriteError } from "../files.ts";
import { FileBallotStore } from "./ballot_store_file.ts";

/** Bytes of appended ballots buffered before a write. */
const APPEND_BUFFER = 1 << 20;

/** Options of {@linkcode BoxFileAppender.open}. */
export interface BoxFileOptions {
  /** The voter roll. */
  voters?: readonly string[];
  /** Where the replayed box keeps its ballots. */
  spool: Spool;
  /** Told what was repaired (a line for stderr). */
  onNote?: (line: string) => void | Promise<void>;
  /** Ballots per chunk read from the box (default 4,096). */
  chunk?: number;
  /** Bytes of accepted ballots buffered before they are written (default 1 MiB). */
  bufferBytes?: number;
}

/** Writes all of `bytes` at the file's position (a write may take only part of them). */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** Writes all of `bytes` at `offset`. */
async function writeAt(file: Deno.FsFile, offset: number, bytes: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  await writeAll(file, bytes);
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = await file.read(out.subarray(done));
    if (n === null) break;
    done += n;
  }
  return out.subarray(0, done);
}

/**
 * Opens and locks the box file, creating it empty when missing (`created`: this call made
 * it, so a submit that fails before its commit removes it again).
 */
async function openLocked(path: string): Promise<{ file: Deno.FsFile; created: boolean }> {
  while (true) {
    const created = await Deno.stat(path).then(() => false, () => true);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true, create: true });
    } catch (error) {
      throw fileWriteError(path, error);
    }
    try {
      const stat = await file.stat();
      if (stat.isDirectory) throw new UsageError(`Path '${path}' is a directory, expected a file`);
      await file.lock(true);
      // Another submit may have replaced the file (renamed a new one over it) while this one
      // waited for the lock: then lock the new file.
      const now = await Deno.stat(path).catch(() => undefined);
      if (now !== undefined && now.ino === (await file.stat()).ino) return { file, created };
    } catch (error) {
      file.close();
      throw error;
    }
    file.close();
  }
}

/**
 * A box file opened by `vote submit`: its stored ballots replayed into
 * {@linkcode BoxFileAppender.box}, new ballots cast with {@linkcode BoxFileAppender.cast}
 * and made durable by {@linkcode BoxFileAppender.commit} (see the module documentation).
 */
export class BoxFileAppender {
  /** The box, holding the stored ballots (replayed) and those cast since. */
  readonly box: ElectionBallotBox;
  readonly #path: string;
  readonly #file: Deno.FsFile;
  readonly #election: ElectionPublicInfo;
  /** Where the stored box lies in the file; undefined for a new (empty) file. */
  readonly #layout: BallotBoxLayout | undefined;
  /** Whether ballots can be appended in place (the file is laid out as this writer does). */
  readonly #inPlace: boolean;
  /** Where the next appended ballot goes. */
  #tail: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #added = 0;
  #closed = false;
  /** Whether the file was created empty by this submit and not yet committed. */
  #created: boolean;
  #bufferBytes = APPEND_BUFFER;

  private constructor(
    path: string,
    file: Deno.FsFile,
    election: ElectionPublicInfo,
    box: ElectionBallotBox,
    layout: BallotBoxLayout | undefined,
    inPlace: boolean,
    created: boolean,
  ) {
    this.#created = created;
    this.#path = path;
    this.#file = file;
    this.#election = election;
    this.box = box;
    this.#layout = layout;
    this.#inPlace = inPlace;
    this.#tail = layout?.end ?? 0;
  }

  /**
   * Opens (or creates) a box file and replays its ballots, read a chunk at a time, into a
   * box whose ballots are kept in a spool file. Bytes left after the box by an interrupted
   * submit are dropped (the file is truncated to the box) and reported to `onNote`.
   *
   * @param path the box file (created when missing; an empty file is an empty box)
   * @param election the election
   * @param options voter roll, spool, note callback
   * @returns the opened box file (close it)
   * @throws {InvalidInputError} when the file is malformed, truncated or for another election
   * @throws the box's error (with the stored ballot's position) when a stored ballot breaks
   *   its rules
   */
  static async open(
    path: string,
    election: ElectionPublicInfo,
    options: BoxFileOptions,
  ): Promise<BoxFileAppender> {
    if (path === "-") {
      throw new UsageError("vote submit appends to a box file: --box cannot be standard input");
    }
    const { file, created } = await openLocked(path);
    try {
      const box = new ElectionBallotBox(election, {
        ...(options.voters === undefined ? {} : { voters: options.voters }),
        store: FileBallotStore.inSpool(options.spool, election.fingerprint),
      });
      const size = (await file.stat()).size;
      if (size === 0) {
        return new BoxFileAppender(path, file, election, box, undefined, false, created);
      }
      let position = 0;
      // A stream of its own (closed when read), so the locked handle keeps its offset.
      const stream = (await Deno.open(path, { read: true })).readable;
      const layout = await scanBallotBoxStream(election, stream, (ballots) => {
        for (const ballot of ballots) {
          position++;
          try {
            // Stored ballots were checked when they were accepted: their proofs are trusted.
            box.cast(ballot, { proofValid: true });
          } catch (error) {
            if (!(error instanceof PanoramixError)) throw error;
            // The same class (so the same code and exit code), the original as its cause.
            throw new (error.constructor as new (m: string, o: { cause: unknown }) => Error)(
              `Ballot box '${path}', ballot ${position}: ${error.message}`,
              { cause: error },
            );
          }
        }
      }, options.chunk);
      if (layout.trailing) {
        await file.truncate(layout.end);
        await file.syncData();
        await options.onNote?.(
          `dropped ${size - layout.end} bytes after the ${layout.count} ballots of '${path}' ` +
            "(left by an interrupted vote submit; none of their ballots had been accepted)",
        );
      }
      const head = ballotBoxHead(election);
      const inPlace = layout.last && layout.arrayOffset === head.length &&
        layout.ballotsOffset - layout.arrayOffset === msgpackArrayHeader(layout.count).length &&
        constantTimeEqual(await readAt(file, 0, head.length), head);
      const opened = new BoxFileAppender(path, file, election, box, layout, inPlace, false);
      if (options.bufferBytes !== undefined) opened.#bufferBytes = options.bufferBytes;
      return opened;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Casts a ballot (every rule, its proof checked) and, when the box accepts it, appends it
   * to the file's tail (written a chunk at a time; counted in the box only by
   * {@linkcode BoxFileAppender.commit}).
   *
   * @param ballot the ballot
   * @returns what the box answers
   * @throws the box's typed error when it rejects the ballot
   */
  async cast(ballot: ElectionBallot): Promise<CastResult> {
    const result = this.box.cast(ballot);
    this.#added++;
    if (this.#inPlace) {
      const bytes = encodeMsgpack(electionBallotToEnvelope(ballot));
      this.#pending.push(bytes);
      this.#pendingBytes += bytes.length;
      if (this.#pendingBytes >= this.#bufferBytes) await this.#flush();
    }
    return result;
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const bytes = new Uint8Array(this.#pendingBytes);
    let at = 0;
    for (const part of this.#pending) {
      bytes.set(part, at);
      at += part.length;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    await writeAt(this.#file, this.#tail, bytes);
    this.#tail += bytes.length;
  }

  /**
   * Makes the cast ballots part of the box file, durably: appended in place (the ballots
   * synced, then the header's count rewritten and synced), or the whole box written to a new
   * file renamed over the old one when the header must grow or the file is new.
   *
   * @returns how it was written: "append", "rewrite" or "unchanged"
   */
  async commit(): Promise<"append" | "rewrite" | "unchanged"> {
    const layout = this.#layout;
    const count = this.box.count;
    if (layout !== undefined && this.#added === 0) return "unchanged";
    if (
      this.#inPlace && layout !== undefined &&
      msgpackArrayHeader(count).length === msgpackArrayHeader(layout.count).length
    ) {
      await this.#flush();
      await this.#file.syncData();
      const header = msgpackArrayHeader(count);
      await writeAt(this.#file, layout.arrayOffset, header);
      await this.#file.syncData();
      return "append";
    }
    await this.#rewrite();
    this.#created = false;
    return "rewrite";
  }

  /** Writes the whole box to a new file beside the old one, then renames it over it. */
  async #rewrite(): Promise<void> {
    const temporary = `${this.#path}.submit-tmp`;
    let out: Deno.FsFile;
    // The new file gets the old one's permissions (a box made by this submit: the defaults).
    const mode = this.#created ? null : (await this.#file.stat()).mode;
    try {
      out = await Deno.open(temporary, { write: true, create: true, truncate: true });
    } catch (error) {
      throw fileWriteError(temporary, error);
    }
    try {
      if (mode !== null) await Deno.chmod(temporary, mode & 0o7777);
      // Written through the handle itself, so the sync below covers every byte.
      const sink = new WritableStream<Uint8Array>({ write: (chunk) => writeAll(out, chunk) });
      await writeBallotBoxStream(this.#election, this.box.ballotChunks(), sink);
      await out.syncData();
      out.close();
      await Deno.rename(temporary, this.#path);
    } catch (error) {
      try {
        out.close();
      } catch {
        // Closed already.
      }
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
    // The rename is durable once the folder is synced.
    const slash = this.#path.lastIndexOf("/");
    try {
      const dir = await Deno.open(slash < 0 ? "." : this.#path.slice(0, slash) || "/");
      try {
        await dir.syncData();
      } finally {
        dir.close();
      }
    } catch {
      // A folder that cannot be opened or synced here: the rename stands.
    }
  }

  /**
   * Unlocks and closes the file; a file this submit created and did not commit (it failed)
   * is removed, so no empty box is left behind.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#created) {
      try {
        Deno.removeSync(this.#path);
      } catch {
        // Gone already.
      }
    }
    try {
      this.#file.close();
    } catch {
      // Closed already.
    }
  }
}
