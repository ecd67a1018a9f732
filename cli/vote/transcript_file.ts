/**
 * An election transcript file opened in place (issue 17: a 1,000,000-ballot transcript is
 * over 1 GB): one scan a chunk at a time decodes and validates every part of it, then its
 * fixed-size lists (mix input, every mix's outputs and five proof lists, every trustee's
 * shares, plaintexts) are {@linkcode RecordFile} regions read from the file on demand, and
 * its ballots and answers are item chunks decoded again from their offset each time they are
 * read. Nothing proportional to the number of ballots is held.
 *
 * @module
 */

import { InvalidInputError, NotFoundError } from "../../core/errors.ts";
import { msgpackBinHeaderLength } from "../../core/msgpack_stream.ts";
import type { RecordSource } from "../../core/records.ts";
import { type Ciphertext, ELEMENT_BYTES } from "../../backends/reencrypt/mod.ts";
import {
  type ElectionTranscriptRecords,
  electionTranscriptRecords,
} from "../../plugins/vote/election_records.ts";
import { electionTranscriptFromEnvelope } from "../../plugins/vote/election_transcript.ts";
import {
  type ReadTranscriptStreamOptions,
  scanElectionTranscript,
  transcriptItemChunks,
  type TranscriptListKind,
  type TranscriptScanVisitor,
} from "../../plugins/vote/transcript_stream.ts";
import { readAnyEnvelopeFile } from "../files.ts";
import { RecordFile } from "../record_file.ts";

/** A transcript file opened by {@linkcode openElectionTranscriptFile}. */
export interface ElectionTranscriptFile {
  /** The transcript, its lists read from the file. */
  transcript: ElectionTranscriptRecords;
  /** Closes the file (item chunks being read close their own handles when they end). */
  close(): void;
}

/** Where a list of varying-size items (ballots, answers) starts. */
class ItemRegion {
  constructor(readonly offset: number, readonly count: number, readonly field: string) {}
}

/** Opens `path` for reading, with the command line's error for a missing file. */
async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`File '${path}' does not exist`, { cause: error });
    }
    throw error;
  }
}

/** Bytes read per read of the scan: a 1 GB transcript in a thousand reads, not 16,000. */
const SCAN_READ_BYTES = 1 << 20;

/**
 * A file's bytes from where it stands, in reads of 1 MiB (issue 17: `FsFile.readable` reads
 * 64 KiB at a time, and each read is a round trip that costs more than its bytes), one read
 * ahead; the file is closed when the stream ends or is cancelled.
 */
function fileStream(file: Deno.FsFile): ReadableStream<Uint8Array> {
  const close = () => {
    try {
      file.close();
    } catch {
      // Closed already.
    }
  };
  // The read under way (one ahead of the scan): a cancel waits for it before closing, so
  // that no read holds the file open after a refused file's error.
  let reading: Promise<void> = Promise.resolve();
  let cancelled = false;
  return new ReadableStream({
    pull(controller) {
      reading = (async () => {
        try {
          const buffer = new Uint8Array(SCAN_READ_BYTES);
          const n = await file.read(buffer);
          if (cancelled) return;
          if (n === null) {
            close();
            controller.close();
          } else controller.enqueue(buffer.subarray(0, n));
        } catch (error) {
          if (cancelled) return;
          close();
          controller.error(error);
        }
      })();
      return reading;
    },
    async cancel() {
      cancelled = true;
      await reading;
      close();
    },
  });
}

/**
 * The visitor that keeps where each list lies: fixed-size items must each be a `bin` with the
 * shortest header (what every msgpack encoder writes), so that item i starts at
 * offset + i·stride and the list is read in place.
 */
function regionVisitor(file: Deno.FsFile): TranscriptScanVisitor {
  return {
    list(kind: TranscriptListKind, field, count, offset) {
      if (kind === "ballots" || kind === "answers") {
        return { run() {}, done: () => new ItemRegion(offset, count, field), framesOnly: true };
      }
      let size: number | undefined;
      let stride = 0;
      return {
        // Items past the first are only checked to be framed as it is (issue 17).
        framesOnly: true,
        run(lo, items, ends) {
          for (let k = 0; k < items.length; k++) {
            const item = items[k];
            const bytes = item instanceof Uint8Array ? item : (item as Ciphertext).bytes;
            if (size === undefined) {
              size = bytes.length;
              stride = msgpackBinHeaderLength(size) + size;
            }
            if (ends[k] !== offset + (lo + k + 1) * stride) {
              throw new InvalidInputError(
                `Value '${field}[${
                  lo + k
                }]' is not a msgpack bin of ${size} bytes with the shortest header (the file cannot be read in place)`,
              );
            }
          }
        },
        done(recordBytes) {
          const itemBytes = size ?? recordBytes;
          const skip = msgpackBinHeaderLength(itemBytes);
          return new RecordFile(
            file,
            { offset, count, recordBytes: itemBytes, stride: skip + itemBytes, skip },
            field,
          );
        },
      };
    },
    async proofList(field, reader) {
      const length = await reader.readBinHeader(field);
      if (length === undefined) return { value: await reader.readValue(field) };
      const offset = reader.offset;
      await reader.skip(length, field);
      return { offset, length };
    },
    proofRegion: (field, offset, length) =>
      new RecordFile(
        file,
        { offset, count: length / ELEMENT_BYTES, recordBytes: ELEMENT_BYTES },
        field,
      ),
  };
}

/**
 * Opens a msgpack transcript file in place: scans it once, a chunk at a time, decoding and
 * validating every part as `readElectionTranscriptStream` does (the same one-line errors,
 * naming the field and index), and checking that every item of a fixed-size list is framed
 * alike; then returns the transcript with its lists read from the file on demand.
 *
 * @param path the transcript file: msgpack, read in place; the JSON view (a file that starts
 *   with "{", for people) is read whole into memory
 * @param options `what` names the file in errors (default its path); `chunkBytes` sizes the
 *   read buffers (default 1 MiB)
 * @returns the transcript and `close`, which closes the file (call it when done)
 * @throws {NotFoundError} when the file does not exist
 * @throws {InvalidInputError} naming the malformed or truncated field
 * @example
 * ```ts ignore
 * const opened = await openElectionTranscriptFile("election.transcript");
 * try {
 *   await writeElectionTranscriptRecords(opened.transcript, out.writable);
 * } finally {
 *   opened.close();
 * }
 * ```
 */
export async function openElectionTranscriptFile(
  path: string,
  options: ReadTranscriptStreamOptions & { what?: string } = {},
): Promise<ElectionTranscriptFile> {
  const what = options.what ?? path;
  const scanned = await openFile(path);
  // The lists' handle (RecordFile reads are synchronous, at any offset).
  let file: Deno.FsFile;
  try {
    if ((await scanned.stat()).isDirectory) {
      throw new InvalidInputError(`Path '${path}' is a directory, expected a file`);
    }
    // The JSON view starts with "{" (in msgpack a small integer, never a transcript).
    const first = new Uint8Array(1);
    if ((await scanned.read(first)) === 1 && first[0] === 0x7b) {
      scanned.close();
      const whole = electionTranscriptFromEnvelope(
        await readAnyEnvelopeFile(path, new ReadableStream()),
        what,
      );
      return { transcript: electionTranscriptRecords(whole), close() {} };
    }
    await scanned.seek(0, Deno.SeekMode.Start);
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    try {
      scanned.close();
    } catch {
      // Closed already.
    }
    throw error;
  }
  try {
    // The stream closes `scanned` when it ends or is cancelled.
    const scan = await scanElectionTranscript(
      fileStream(scanned),
      what,
      regionVisitor(file),
      options,
    );
    const head = {
      definition: scan.definition,
      fingerprint: scan.fingerprint,
      ceremony: scan.ceremony,
      key: scan.key,
    };
    const reopen = (region: ItemRegion) => async () => {
      const f = await openFile(path);
      try {
        await f.seek(region.offset, Deno.SeekMode.Start);
      } catch (error) {
        f.close();
        throw error;
      }
      return f.readable;
    };
    const ballots = scan.ballots as ItemRegion;
    const answers = scan.answers as ItemRegion;
    const buffers = options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes };
    return {
      transcript: {
        ...head,
        ballots: transcriptItemChunks("ballots", {
          count: ballots.count,
          field: ballots.field,
          open: reopen(ballots),
          head,
          ...buffers,
        }),
        mixInput: scan.mixInput as RecordSource,
        mixes: scan.mixes.map((m) => ({ ...m, outputs: m.outputs as RecordSource })),
        decryption: scan.decryption.map((d) => ({ ...d, shares: d.shares as RecordSource })),
        plaintexts: scan.plaintexts as RecordSource,
        answers: transcriptItemChunks("answers", {
          count: answers.count,
          field: answers.field,
          open: reopen(answers),
          ...buffers,
        }),
        tally: scan.tally,
      },
      close() {
        try {
          file.close();
        } catch {
          // Closed already.
        }
      },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}
