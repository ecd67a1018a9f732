/**
 * A stored ballot box (`vote.ballot-box`) written and read in chunks (issue 17): the same
 * bytes as `encodeMsgpack(ballotBoxToEnvelope(...))`, and the same ballots and errors as
 * {@linkcode ballotBoxFromEnvelope}, without a msgpack tree of the whole box.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { encodeMsgpack, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { DEFAULT_ITEM_CHUNK, type ItemChunks } from "../../core/records.ts";
import { readArray, readBytes } from "../../core/fields.ts";
import {
  msgpackChunks,
  MsgpackStreamReader,
  StreamedArray,
  StreamedMap,
  writeMsgpackStream,
} from "../../core/msgpack_stream.ts";
import {
  type ElectionBallot,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
} from "./ballot.ts";
import { BALLOT_BOX_KIND, ballotBoxToEnvelope } from "./ballot_box.ts";

/** Ballots decoded per run. */
const RUN = 4096;

/**
 * Where the parts of a stored box lie in its msgpack bytes (offsets from its first byte):
 * what `vote submit` needs to append ballots in place (issue 17).
 */
export interface BallotBoxLayout {
  /** Ballots the box holds (its array header's count). */
  count: number;
  /** Offset of the ballots' array header. */
  arrayOffset: number;
  /** Offset of the first ballot (just past the array header). */
  ballotsOffset: number;
  /** Offset just past the last ballot. */
  ballotsEnd: number;
  /** Whether the ballots are the box map's last entry. */
  last: boolean;
  /** Offset just past the box (its map). */
  end: number;
  /**
   * Whether bytes follow the box: what an interrupted or still running `vote submit` leaves
   * (ballots appended but not yet counted in the header, possibly cut short). They are not
   * part of the box.
   */
  trailing: boolean;
}

/**
 * The error for bytes after a box: the unfinished append of an interrupted `vote submit`, or
 * of one still running (a reader that does not wait for the box file's lock).
 */
function trailingBytes(count: number, end: number): InvalidInputError {
  return new InvalidInputError(
    `Ballot box has bytes after its ${count} ballots (from byte ${end} on): the unfinished ` +
      "append of an interrupted or still running 'vote submit', no ballot of which was " +
      "accepted yet; re-run when no 'vote submit' to this box is running (the next one drops " +
      `them; or truncate the file to ${end} bytes then)`,
  );
}

/**
 * Encodes a ballot box in chunks: exactly `encodeMsgpack(ballotBoxToEnvelope(election, ballots))`.
 *
 * @param election the election (its fingerprint is stamped on the file)
 * @param ballots the accepted ballots in box order
 * @returns the chunks, in order
 * @example
 * ```ts ignore
 * for (const chunk of ballotBoxChunks(election, box.ballots)) await writer.write(chunk);
 * ```
 */
export function ballotBoxChunks(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
): Generator<Uint8Array> {
  const head = ballotBoxToEnvelope(election, []);
  return msgpackChunks(
    new StreamedMap(
      Object.entries(head).map(([k, v]) =>
        k === "ballots"
          ? [k, new StreamedArray(ballots.length, ballots.map(electionBallotToEnvelope))] as const
          : [k, v] as const
      ),
    ),
  );
}

/**
 * Writes a stored ballot box to a stream a chunk of ballots at a time (issue 17: the ballots
 * read from item chunks, e.g. a file store): exactly
 * `encodeMsgpack(ballotBoxToEnvelope(election, ballots))` and {@linkcode ballotBoxChunks}.
 *
 * @param election the election (its fingerprint is stamped on the file)
 * @param ballots the accepted ballots in box order
 * @param writable where the bytes go (left open; close it after)
 * @returns the number of bytes written
 * @example
 * ```ts ignore
 * await writeBallotBoxStream(election, box.ballotChunks(), file.writable);
 * ```
 */
export function writeBallotBoxStream(
  election: ElectionPublicInfo,
  ballots: ItemChunks<ElectionBallot>,
  writable: WritableStream<Uint8Array>,
): Promise<number> {
  async function* items() {
    for await (const chunk of ballots.chunks()) {
      for (const ballot of chunk) yield electionBallotToEnvelope(ballot);
    }
  }
  const head = ballotBoxToEnvelope(election, []);
  return writeMsgpackStream(
    new StreamedMap(
      Object.entries(head).map(([k, v]) =>
        k === "ballots" ? [k, new StreamedArray(ballots.count, items())] as const : [k, v] as const
      ),
    ),
    writable,
  );
}

/**
 * The bytes of a stored box before its ballots' array header, as every writer of a box
 * writes them (`encodeMsgpack(ballotBoxToEnvelope(...))`: the map header, the version, kind
 * and election fingerprint, and the key "ballots"); the array is the map's last entry.
 *
 * @param election the election
 * @returns the head bytes
 * @example
 * ```ts ignore
 * const head = ballotBoxHead(election); // then msgpackArrayHeader(n) and n ballots
 * ```
 */
export function ballotBoxHead(election: ElectionPublicInfo): Uint8Array {
  const empty = encodeMsgpack(ballotBoxToEnvelope(election, []));
  // The empty ballots array is the last byte (a fixarray of 0).
  return empty.subarray(0, empty.length - 1);
}

/**
 * Reads a stored box from a msgpack stream a chunk of ballots at a time, handing each chunk
 * to `onChunk` in box order, and says where its parts lie (issue 17: what `vote submit`
 * needs to append in place). Unlike {@linkcode readBallotBoxStream}, bytes after the box (an
 * interrupted append) are reported in the layout (`trailing`), not rejected.
 *
 * @param election the election it must belong to
 * @param stream the msgpack bytes
 * @param onChunk takes each chunk of ballots (views into the reader's buffers)
 * @param size ballots per chunk (default 4,096)
 * @returns the layout
 * @throws {InvalidInputError} when malformed, truncated or for another election (the
 *   messages of {@linkcode readBallotBoxStream})
 * @example
 * ```ts ignore
 * const layout = await scanBallotBoxStream(election, stream, (ballots) => { ... });
 * ```
 */
export async function scanBallotBoxStream(
  election: ElectionPublicInfo,
  stream: ReadableStream<Uint8Array>,
  onChunk: (ballots: ElectionBallot[]) => void | Promise<void>,
  size: number = DEFAULT_ITEM_CHUNK,
): Promise<BallotBoxLayout> {
  let layout: BallotBoxLayout | undefined;
  const runs = ballotRuns(election, stream, Math.max(1, Math.floor(size)), () => {}, (l) => {
    layout = l;
  });
  for await (const run of runs) await onChunk(run);
  return layout!;
}

/**
 * The ballots of a box's msgpack stream in runs of at most `size`, in box order. `onCount`
 * is told the number of ballots once the head (which must come before the ballots, as
 * every encoder of a box writes it) is checked; the stream is read to its end after the
 * last run. A reader that stops early must call the generator's `return` (a `for await`
 * loop does): the stream is cancelled.
 */
async function* ballotRuns(
  election: ElectionPublicInfo,
  stream: ReadableStream<Uint8Array>,
  size: number,
  onCount: (count: number) => void,
  onLayout?: (layout: BallotBoxLayout) => void,
): AsyncGenerator<ElectionBallot[]> {
  const what = "ballot box";
  const reader = new MsgpackStreamReader(stream);
  let finished = false;
  let count = 0, arrayOffset = -1, ballotsOffset = -1, ballotsEnd = -1, last = true;
  try {
    const entries = await reader.readMapHeader(what);
    const small: Record<string, unknown> = {};
    let seen = false;
    const checkHead = () => {
      readEnvelope(small, BALLOT_BOX_KIND, { what });
      const fp = readBytes(small.election, `${what}.election`, {
        length: election.fingerprint.length,
      });
      if (!constantTimeEqual(fp, election.fingerprint)) {
        throw new InvalidInputError("Ballot box belongs to another election");
      }
    };
    for (let e = 0; e < entries; e++) {
      const key = await reader.readValue(`${what} key`);
      if (typeof key !== "string" || key === "__proto__") {
        throw new InvalidInputError(`Value '${what}' has a key that is not a field name`);
      }
      if (key !== "ballots") {
        small[key] = await reader.readValue(`${what}.${key}`);
        continue;
      }
      checkHead();
      arrayOffset = reader.offset;
      count = await reader.readArrayHeader(`${what}.ballots`);
      ballotsOffset = reader.offset;
      last = e === entries - 1;
      seen = true;
      onCount(count);
      let i = 0;
      while (i < count) {
        const hi = Math.min(count, i + size);
        const out: ElectionBallot[] = [];
        while (i < hi) {
          const run = await reader.readValues(Math.min(RUN, hi - i), `${what}.ballots[${i}]`);
          for (const raw of run) {
            out.push(electionBallotFromEnvelope(raw, {
              what: `${what}.ballots[${i}]`,
              deferPoints: true,
              view: true,
            }));
            i++;
          }
        }
        yield out;
      }
      ballotsEnd = reader.offset;
    }
    const end = reader.offset;
    let trailing = false;
    try {
      await reader.end(what);
    } catch (error) {
      if (!(error instanceof InvalidInputError) || onLayout === undefined) {
        throw error instanceof InvalidInputError ? trailingBytes(count, end) : error;
      }
      trailing = true;
    }
    checkHead();
    if (!seen) readArray(undefined, `${what}.ballots`);
    onLayout?.({ count, arrayOffset, ballotsOffset, ballotsEnd, last, end, trailing });
    finished = true;
  } finally {
    if (!finished) await reader.cancel();
  }
}

/**
 * Reads a stored ballot box from a msgpack stream, a run of ballots at a time (their bytes
 * are views into one buffer per chunk read).
 *
 * @param election the election it must belong to
 * @param stream the msgpack bytes
 * @returns the ballots in box order
 * @throws {InvalidInputError} when malformed, truncated or for another election (the
 *   messages of {@linkcode ballotBoxFromEnvelope}), or when bytes follow the box ("Ballot box
 *   has bytes after its N ballots …": what an interrupted `vote submit` leaves)
 * @example
 * ```ts ignore
 * const ballots = await readBallotBoxStream(election, (await Deno.open(path)).readable);
 * ```
 */
export async function readBallotBoxStream(
  election: ElectionPublicInfo,
  stream: ReadableStream<Uint8Array>,
): Promise<ElectionBallot[]> {
  const ballots: ElectionBallot[] = [];
  for await (const run of ballotRuns(election, stream, RUN, () => {})) {
    for (const ballot of run) ballots.push(ballot);
  }
  return ballots;
}

/**
 * A stored ballot box read a chunk at a time, never whole (issue 17: a million-ballot box is
 * about 300 MB): the head is read and checked now (the election, the number of ballots), and
 * each call of `chunks` opens the stream again and decodes the ballots a chunk at a time
 * (views into the reader's buffers). A malformed ballot or a truncated box is reported when
 * its chunk is read, with the messages of {@linkcode readBallotBoxStream}.
 *
 * @param election the election it must belong to
 * @param open opens the box's msgpack bytes from the start (called once now, and once per
 *   read of the chunks)
 * @returns the ballots as item chunks
 * @throws {InvalidInputError} when the head is malformed, truncated or for another election
 * @example
 * ```ts ignore
 * const ballots = await openBallotBoxStream(election, async () => (await Deno.open(path)).readable);
 * for await (const chunk of ballots.chunks()) console.log(chunk.length);
 * ```
 */
export async function openBallotBoxStream(
  election: ElectionPublicInfo,
  open: () => Promise<ReadableStream<Uint8Array>>,
): Promise<ItemChunks<ElectionBallot>> {
  let count: number | undefined;
  const head = ballotRuns(election, await open(), 1, (n) => count = n);
  try {
    // Up to the first ballot: the head is checked and the count known (an empty box ends).
    await head.next();
  } finally {
    await head.return(undefined);
  }
  if (count === undefined) readArray(undefined, "ballot box.ballots");
  const total = count!;
  return {
    count: total,
    async *chunks(size = DEFAULT_ITEM_CHUNK) {
      yield* ballotRuns(election, await open(), Math.max(1, Math.floor(size)), (n) => {
        if (n !== total) {
          throw new InvalidInputError(
            `Ballot box changed while read: it held ${total} ballots, now ${n}`,
          );
        }
      });
    },
  };
}
