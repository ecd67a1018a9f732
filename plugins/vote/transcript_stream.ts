/**
 * Reads a `vote.transcript` msgpack stream in chunks (issue 17): the big arrays (ballots, mix
 * input, every mixer's outputs, the decryption shares, plaintexts and answers) are decoded
 * a run of elements at a time, so the reader holds about one chunk of the encoding besides
 * what it keeps. The result and the errors (one line naming the malformed field) are those of
 * {@linkcode electionTranscriptFromEnvelope}.
 *
 * One scan ({@linkcode scanElectionTranscript}) decodes and validates every part; a visitor
 * decides what is kept of each O(N) list: {@linkcode readElectionTranscriptStream} keeps the
 * items (a transcript in memory), the command line's `openElectionTranscriptFile` keeps where
 * each list lies in the file (record lists read in place, items read again on demand).
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import { msgpackBinHeader, MsgpackStreamReader } from "../../core/msgpack_stream.ts";
import { decodeMsgpackSequence, readEnvelope } from "../../core/envelope.ts";
import {
  DEFAULT_ITEM_CHUNK,
  type ItemChunks,
  memoryRecords,
  type RecordSource,
} from "../../core/records.ts";
import {
  type Ciphertext,
  ELEMENT_BYTES,
  readShuffleProofLayout,
  SHUFFLE_PROOF_FIELDS,
  SHUFFLE_PROOF_LISTS,
  shuffleProofFromRecords,
  type ShuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionBallot } from "./ballot.ts";
import { checkedBallotEnvelope } from "./ballot_envelope_bytes.ts";
import {
  ELECTION_TRANSCRIPT_KIND,
  ELECTION_TRANSCRIPT_VERSION,
  type ElectionDecryption,
  type ElectionMix,
  type ElectionTranscript,
  readTranscriptAnswers,
  readTranscriptBallot,
  readTranscriptCiphertext,
  readTranscriptDecryption,
  readTranscriptHead,
  readTranscriptPlaintext,
  type TranscriptHead,
} from "./election_transcript.ts";
import type { ElectionDecryptionRecords } from "./election_records.ts";
import { type ElectionTally, readElectionTally } from "./tally.ts";

/** Elements decoded per run. */
const RUN = 4096;

/** How far past the last shared ballot a mix input ciphertext is looked for. */
const SHARE_WINDOW = 64;

/** Most distinct answer lists shared. */
const MAX_INTERNED = 65_536;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The transcript's keys whose values are O(N) and read element by element. */
const BIG = new Set(["ballots", "mixInput", "mixes", "decryption", "plaintexts", "answers"]);

const PROOF_LISTS: ReadonlySet<string> = new Set(SHUFFLE_PROOF_LISTS);

/** Options of {@linkcode readElectionTranscriptStream}. */
export interface ReadTranscriptStreamOptions {
  /** Size of the read buffers (default 1 MiB). */
  chunkBytes?: number;
}

/** The O(N) lists of a transcript. */
export type TranscriptListKind =
  | "ballots"
  | "mixInput"
  | "outputs"
  | "shares"
  | "plaintexts"
  | "answers";

/** What a scan does with one list's items: each run decoded and validated, in order. */
export interface TranscriptListVisitor {
  /**
   * A run of items.
   *
   * @param lo index of the first
   * @param items the decoded items (ballots, ciphertexts, byte strings, answers)
   * @param ends the stream offset just past each item
   */
  run(lo: number, items: readonly unknown[], ends: readonly number[]): void;
  /**
   * The list is over.
   *
   * @param recordBytes size of each item of a fixed-size list (from the transcript's width)
   * @returns what the scan keeps for the list
   */
  done(recordBytes: number): unknown;
  /**
   * True when the visitor uses only where items end (issue 17: a file opened in place): the
   * scan then checks items from their bytes where it can, without decoding them — every
   * item of a fixed-size list framed as a `bin` of the first item's size with the shortest
   * header, every ballot and answer list laid out as the transcript writer lays it out and
   * valid (ballot_envelope_bytes.ts) — and calls {@linkcode run} only for the runs it had to
   * decode (the same checks and the same errors as decoding them all).
   */
  readonly framesOnly?: boolean;
}

/** What a scan keeps of each O(N) list (see {@linkcode scanElectionTranscript}). */
export interface TranscriptScanVisitor {
  /**
   * A list starts.
   *
   * @param kind which list
   * @param field its name in errors (e.g. `t.mixes[1].outputs`)
   * @param count its items
   * @param offset the stream offset of its first item
   * @returns the list's visitor
   */
  list(
    kind: TranscriptListKind,
    field: string,
    count: number,
    offset: number,
  ): TranscriptListVisitor;
  /**
   * A shuffle proof's per-ciphertext list (one byte string of 32·N bytes) is next on the
   * reader: read it (return its value, checked by the scan), or skip a `bin` of it and say
   * where it was (`{ offset, length }`, checked by the scan, then made a list by
   * {@linkcode TranscriptScanVisitor.proofRegion}).
   */
  proofList(
    field: string,
    reader: MsgpackStreamReader,
  ): Promise<{ value: unknown } | { offset: number; length: number }>;
  /** The record list of a proof list whose region {@linkcode proofList} gave (after checks). */
  proofRegion(field: string, offset: number, length: number): RecordSource;
}

/** A transcript as one scan leaves it: the small parts decoded, the lists as visitors kept them. */
export interface TranscriptScan extends TranscriptHead {
  /** Elements per ciphertext. */
  width: number;
  /** The tally. */
  tally: ElectionTally;
  /** What the visitor kept of ballots, mix input, plaintexts, answers. */
  ballots: unknown;
  /** The mix input list. */
  mixInput: unknown;
  /** The plaintexts list. */
  plaintexts: unknown;
  /** The answers list. */
  answers: unknown;
  /** Each mix: its outputs list as kept, its proof with record lists. */
  mixes: { mixer: string; outputs: unknown; proof: ShuffleProofRecords }[];
  /** Each trustee's post: its shares list as kept. */
  decryption: (Omit<ElectionDecryptionRecords, "shares"> & { shares: unknown })[];
}

async function readKey(
  reader: MsgpackStreamReader,
  what: string,
  after: string | undefined,
): Promise<string> {
  const key = await reader.readValue(
    `${what}.<${after === undefined ? "first key" : `key after ${after}`}>`,
  );
  if (typeof key !== "string" || key === "__proto__") {
    throw new InvalidInputError(`Value '${what}' has a key that is not a field name`);
  }
  return key;
}

/**
 * One ballot of a transcript as a scan decodes it: its election field is the transcript's
 * fingerprint object when equal (one object, not one per ballot).
 */
function scanBallot(head: TranscriptHead | undefined) {
  return (raw: unknown, name: string): ElectionBallot => {
    const b = readTranscriptBallot(raw, name);
    if (head !== undefined && sameBytes(b.election, head.fingerprint)) {
      b.election = head.fingerprint;
    }
    return b;
  };
}

/** Checks a shuffle proof envelope as `decodeShuffleProof` does, its lists kept as records. */
function readProofRecords(
  raw: unknown,
  what: string,
  visitor: TranscriptScanVisitor,
): ShuffleProofRecords {
  const { fields: env, width: w, bytes: sizes } = readShuffleProofLayout(raw, what);
  const out: Record<string, unknown> = { width: w };
  for (const f of SHUFFLE_PROOF_FIELDS) {
    const name = `${what}.${f}`, length = sizes[f], v = env[f];
    if (v instanceof SkippedBytes) {
      if (v.length !== length) {
        throw new InvalidInputError(`Value '${name}' must be ${length} bytes, got ${v.length}`);
      }
      out[f] = visitor.proofRegion(name, v.offset, v.length);
    } else {
      const bytes = readBytes(v, name, { length });
      out[f] = PROOF_LISTS.has(f) ? memoryRecords(bytes, ELEMENT_BYTES) : bytes;
    }
  }
  return out as unknown as ShuffleProofRecords;
}

/** A byte string a visitor skipped: where it lies. */
class SkippedBytes {
  constructor(readonly offset: number, readonly length: number) {}
}

/**
 * Decodes and validates a transcript from a msgpack stream in one pass, a chunk at a time:
 * the small parts as {@linkcode electionTranscriptFromEnvelope} does (same one-line errors),
 * every item of every O(N) list decoded and checked (a wrong size names the field and index),
 * and each list's items handed to `visitor`, which decides what is kept.
 *
 * @param stream the msgpack bytes
 * @param what names it in errors
 * @param visitor what to keep of each list
 * @param options buffer size
 * @returns the small parts and what the visitor kept
 * @throws {InvalidInputError} naming the malformed or truncated field
 * @example
 * ```ts ignore
 * const scan = await scanElectionTranscript(file.readable, path, regionsVisitor);
 * ```
 */
export async function scanElectionTranscript(
  stream: ReadableStream<Uint8Array>,
  what: string,
  visitor: TranscriptScanVisitor,
  options: ReadTranscriptStreamOptions = {},
): Promise<TranscriptScan> {
  const reader = new MsgpackStreamReader(stream, options);
  try {
    const entries = await reader.readMapHeader(what);
    const small: Record<string, unknown> = {};
    let head: TranscriptHead | undefined;
    const lists: Record<string, unknown> = {};
    let firstBallotWidth: number | undefined;
    let mixes: TranscriptScan["mixes"] | undefined;
    let decryption: TranscriptScan["decryption"] | undefined;
    // Elements per ciphertext: from the first ballot, else the first mix input (as the
    // whole-value decoder), else the first element of the array at hand.
    let width: number | undefined;
    const widthFrom = (raw: unknown, elementBytes: number) => {
      if (width !== undefined) return width;
      width = firstBallotWidth ?? (raw instanceof Uint8Array ? raw.length / elementBytes : 1);
      return width;
    };
    const ciphertext = (raw: unknown, name: string) =>
      readTranscriptCiphertext(raw, name, widthFrom(raw, 2 * ELEMENT_BYTES));
    const share = (raw: unknown, name: string) =>
      readBytes(raw, name, { length: ELEMENT_BYTES * widthFrom(raw, ELEMENT_BYTES) });
    const plaintext = (raw: unknown, name: string) =>
      readTranscriptPlaintext(raw, name, widthFrom(raw, ELEMENT_BYTES));
    const answers = (raw: unknown, name: string) => readTranscriptAnswers(raw, name);
    const readList = async (
      kind: TranscriptListKind,
      field: string,
      item: (raw: unknown, name: string) => unknown,
    ): Promise<unknown> => {
      const count = await reader.readArrayHeader(field);
      const list = visitor.list(kind, field, count, reader.offset);
      let i = 0;
      const framesOnly = list.framesOnly === true;
      const varying = kind === "ballots" || kind === "answers";
      // Framing of every item of a fixed-size list, from the first (checked by the visitor).
      let framing: { header: Uint8Array; size: number } | undefined;
      while (i < count) {
        if (framesOnly && i > 0) {
          if (framing !== undefined) {
            i += await reader.skipFramed(count - i, framing.header, framing.size);
            if (i === count) break;
            // The next item is framed otherwise, or cut: decoded below, for its error.
          } else if (varying) {
            const name = `${field}[${i}]`;
            // Runs cut at multiples of RUN, as the decoding path cuts them (and where the
            // buffer ends): an undecodable item's error names a run's first item as it does.
            const raw = await reader.readRawValues(Math.min(RUN - i % RUN, count - i), name);
            const { bytes, ends } = raw;
            const checked = kind === "ballots"
              ? ballotsChecked(bytes, ends, firstBallotWidth ?? 0)
              : answersChecked(bytes, ends);
            if (checked) {
              i += ends.length;
              continue;
            }
            // Decoded as readValues decodes a run (the same errors, naming its first item).
            const run = decodeMsgpackSequence(bytes, name);
            const lo = i;
            for (let k = 0; k < run.length; k++, i++) run[k] = item(run[k], `${field}[${i}]`);
            const base = reader.offset - bytes.length;
            list.run(lo, run, ends.map((e) => base + e));
            continue;
          }
        }
        const ends: number[] = [];
        const lo = i;
        // Without framesOnly, runs of RUN; with it, the first item alone (it gives the width
        // and the framing), and after it one item framed otherwise.
        const max = framesOnly ? 1 : RUN;
        const run = await reader.readValues(Math.min(max, count - i), `${field}[${i}]`, ends);
        for (let k = 0; k < run.length; k++, i++) run[k] = item(run[k], `${field}[${i}]`);
        if (kind === "ballots" && lo === 0 && run.length > 0) {
          firstBallotWidth = (run[0] as ElectionBallot).ciphertext.width;
        }
        list.run(lo, run, ends);
        if (framesOnly && !varying && lo === 0) {
          const first = run[0];
          const bytes = first instanceof Uint8Array ? first : (first as Ciphertext).bytes;
          framing = { header: msgpackBinHeader(bytes.length), size: bytes.length };
        }
      }
      const w = width ?? 1;
      return list.done(
        kind === "mixInput" || kind === "outputs" ? 2 * ELEMENT_BYTES * w : ELEMENT_BYTES * w,
      );
    };
    let previous: string | undefined;
    for (let e = 0; e < entries; e++) {
      const key = await readKey(reader, what, previous);
      previous = key;
      const field = `${what}.${key}`;
      if (!BIG.has(key)) {
        small[key] = await reader.readValue(field);
        continue;
      }
      // The head comes before the big arrays in every transcript we write: check it first,
      // so errors come in the whole-value decoder's order.
      if (head === undefined && "key" in small) head = readTranscriptHead(small, what);
      else if (head === undefined && "kind" in small && "v" in small) {
        readEnvelope(small, ELECTION_TRANSCRIPT_KIND, {
          what,
          versions: [ELECTION_TRANSCRIPT_VERSION],
        });
      }
      switch (key) {
        case "ballots":
          lists.ballots = await readList("ballots", field, scanBallot(head));
          break;
        case "mixInput":
          lists.mixInput = await readList("mixInput", field, ciphertext);
          break;
        case "plaintexts":
          lists.plaintexts = await readList("plaintexts", field, plaintext);
          break;
        case "answers":
          lists.answers = await readList("answers", field, answers);
          break;
        case "mixes": {
          const count = await reader.readArrayHeader(field);
          mixes = [];
          for (let m = 0; m < count; m++) {
            const name = `${field}[${m}]`;
            const n = await reader.readMapHeader(name);
            const raw: Record<string, unknown> = {};
            let outputs: unknown;
            let hasOutputs = false;
            let after: string | undefined;
            for (let i = 0; i < n; i++) {
              const k = await readKey(reader, name, after);
              after = k;
              if (k === "outputs") {
                outputs = await readList("outputs", `${name}.outputs`, ciphertext);
                hasOutputs = true;
              } else if (k === "proof") raw.proof = await readProof(`${name}.proof`);
              else raw[k] = await reader.readValue(`${name}.${k}`);
            }
            if (!hasOutputs) readArray(undefined, `${name}.outputs`);
            const r = readRecord(raw, name);
            const mixer = readString(r.mixer, `${name}.mixer`);
            const proof = readProofRecords(r.proof, `${name}.proof`, visitor);
            mixes.push({ mixer, outputs, proof });
          }
          break;
        }
        case "decryption": {
          const count = await reader.readArrayHeader(field);
          decryption = [];
          for (let d = 0; d < count; d++) {
            const name = `${field}[${d}]`;
            const n = await reader.readMapHeader(name);
            const raw: Record<string, unknown> = {};
            let shares: unknown;
            let after: string | undefined;
            for (let i = 0; i < n; i++) {
              const k = await readKey(reader, name, after);
              after = k;
              if (k === "shares") {
                // The fields before the shares are checked first (the whole-entry order).
                if ("trustee" in raw) readInteger(raw.trustee, `${name}.trustee`, { min: 1 });
                shares = await readList("shares", `${name}.shares`, share);
                raw.shares = [];
              } else raw[k] = await reader.readValue(`${name}.${k}`);
            }
            const entry = readTranscriptDecryption(raw, name, width ?? 1);
            decryption.push({ ...entry, shares });
          }
          break;
        }
      }
    }
    await reader.end(what);
    head ??= readTranscriptHead(small, what);
    readRecord(small, what);
    if (firstBallotWidth !== undefined && width !== undefined && firstBallotWidth !== width) {
      throw new InvalidInputError(
        `Value '${what}.ballots[0].ciphertext' has ${firstBallotWidth} elements; the mix has ${width}`,
      );
    }
    const need = (key: string) => {
      if (key in lists) return lists[key];
      return readArray(undefined, `${what}.${key}`);
    };
    const ballots = need("ballots");
    const mixInput = need("mixInput");
    if (mixes === undefined) readArray(undefined, `${what}.mixes`);
    if (decryption === undefined) readArray(undefined, `${what}.decryption`);
    return {
      ...head,
      width: width ?? 1,
      ballots,
      mixInput,
      mixes: mixes!,
      decryption: decryption!,
      plaintexts: need("plaintexts"),
      answers: need("answers"),
      tally: readElectionTally(small.tally, `${what}.tally`),
    };
  } catch (error) {
    await reader.cancel();
    throw error;
  }

  /** A proof map read value by value; its per-ciphertext lists as the visitor takes them. */
  async function readProof(name: string): Promise<Record<string, unknown>> {
    const n = await reader.readMapHeader(name);
    const out: Record<string, unknown> = {};
    let after: string | undefined;
    for (let i = 0; i < n; i++) {
      const key = await readKey(reader, name, after);
      after = key;
      if (PROOF_LISTS.has(key)) {
        const got = await visitor.proofList(`${name}.${key}`, reader);
        out[key] = "value" in got ? got.value : new SkippedBytes(got.offset, got.length);
      } else out[key] = await reader.readValue(`${name}.${key}`);
    }
    return out;
  }
}

/**
 * Whether every ballot of a run (its envelopes' bytes, `ends[k]` where ballot k ends) is laid
 * out as the transcript writer lays it out and valid, with the first ballot's width (checked
 * against the mix later); false when one must be decoded to be checked.
 */
function ballotsChecked(bytes: Uint8Array, ends: readonly number[], width: number): boolean {
  let from = 0;
  for (const to of ends) {
    if (checkedBallotEnvelope(bytes, from, to) !== width) return false;
    from = to;
  }
  return true;
}

/**
 * Whether every decoded-answers item of a run is nil or an array (fixarray) of arrays
 * (fixarray) of integers 0..127 (positive fixint), which `readTranscriptAnswers` accepts;
 * false when one must be decoded to be checked.
 */
function answersChecked(bytes: Uint8Array, ends: readonly number[]): boolean {
  let at = 0;
  for (const to of ends) {
    const h = bytes[at]!;
    if (h === 0xc0) at++;
    else if ((h & 0xf0) === 0x90) {
      at++;
      for (let q = h & 0x0f; q > 0; q--) {
        const a = bytes[at]!;
        if ((a & 0xf0) !== 0x90) return false;
        at++;
        for (let k = a & 0x0f; k > 0; k--) if (bytes[at++]! >= 0x80) return false;
      }
    } else return false;
    if (at !== to) return false;
  }
  return true;
}

/** Keeps every item of every list, sharing what is equal (the in-memory reader). */
function memoryVisitor(): TranscriptScanVisitor {
  let ballots: ElectionBallot[] = [];
  let cursor = 0;
  const interned = new Map<string, ElectionAnswer[]>();
  return {
    list(kind, _field, count) {
      const out: unknown[] = new Array(count);
      if (kind === "ballots") ballots = out as ElectionBallot[];
      return {
        run(lo, items) {
          for (let k = 0; k < items.length; k++) {
            let item = items[k];
            if (kind === "mixInput") item = sharedCiphertext(item as Ciphertext);
            else if (kind === "answers") item = internedAnswers(item as ElectionAnswer[] | null);
            out[lo + k] = item;
          }
        },
        done: () => out,
      };
    },
    proofList: async (field, reader) => ({ value: await reader.readValue(field) }),
    proofRegion: () => {
      throw new Error("unreachable: the memory reader reads proof lists");
    },
  };

  // A mix input ciphertext is the counted ballot's own ciphertext object (issue 17: fewer
  // objects per ballot), looked for a little past the last one found.
  function sharedCiphertext(c: Ciphertext): Ciphertext {
    const end = Math.min(ballots.length, cursor + SHARE_WINDOW);
    for (let j = cursor; j < end; j++) {
      const own = ballots[j]!.ciphertext;
      if (sameBytes(own.bytes, c.bytes)) {
        cursor = j + 1;
        return own;
      }
    }
    return c;
  }

  // Equal answers share one (frozen) array.
  function internedAnswers(a: ElectionAnswer[] | null): ElectionAnswer[] | null {
    if (a === null) return null;
    const key = JSON.stringify(a);
    const hit = interned.get(key);
    if (hit !== undefined) return hit;
    if (interned.size < MAX_INTERNED) {
      for (const q of a) Object.freeze(q);
      interned.set(key, Object.freeze(a) as ElectionAnswer[]);
    }
    return a;
  }
}

/**
 * Decodes and structurally validates a transcript from a msgpack stream, a chunk at a time
 * (the JSON view is read whole with {@linkcode electionTranscriptFromEnvelope}): one
 * {@linkcode scanElectionTranscript} that keeps every item.
 *
 * @param stream the msgpack bytes (e.g. a file's `readable`)
 * @param what names it in errors
 * @param options buffer size
 * @returns the transcript
 * @throws {InvalidInputError} naming the malformed or truncated field
 * @example
 * ```ts ignore
 * const transcript = await readElectionTranscriptStream((await Deno.open(path)).readable, path);
 * ```
 */
export async function readElectionTranscriptStream(
  stream: ReadableStream<Uint8Array>,
  what = "transcript",
  options: ReadTranscriptStreamOptions = {},
): Promise<ElectionTranscript> {
  const scan = await scanElectionTranscript(stream, what, memoryVisitor(), options);
  return {
    definition: scan.definition,
    fingerprint: scan.fingerprint,
    ceremony: scan.ceremony,
    key: scan.key,
    ballots: scan.ballots as ElectionBallot[],
    mixInput: scan.mixInput as Ciphertext[],
    mixes: scan.mixes.map((m): ElectionMix => ({
      mixer: m.mixer,
      outputs: m.outputs as Ciphertext[],
      proof: shuffleProofFromRecords(m.proof),
    })),
    decryption: scan.decryption.map((d): ElectionDecryption => ({
      ...d,
      shares: d.shares as Uint8Array[],
    })),
    plaintexts: scan.plaintexts as Uint8Array[],
    answers: scan.answers as (ElectionAnswer[] | null)[],
    tally: scan.tally,
  };
}

/**
 * Ballots or answers of a transcript read again from where their list starts, each time
 * {@linkcode ItemChunks.chunks} is called (issue 17: the command line's transcript files).
 * The items were validated by the scan that found the list; they are decoded again here.
 *
 * @param kind "ballots" or "answers"
 * @param options `count` items; `open` gives the bytes from the list's first item on;
 *   `field` names the list in errors; `head` (ballots) shares the fingerprint object;
 *   `chunkBytes` sizes the read buffers
 * @returns the items, a chunk at a time
 * @example
 * ```ts ignore
 * const ballots = transcriptItemChunks("ballots", { count, field, open: () => openAt(offset) });
 * ```
 */
export function transcriptItemChunks<K extends "ballots" | "answers">(
  kind: K,
  options: TranscriptItemOptions,
): ItemChunks<K extends "ballots" ? ElectionBallot : ElectionAnswer[] | null> {
  const { count, field } = options;
  const decode = kind === "ballots"
    ? scanBallot(options.head)
    : (raw: unknown, name: string) => readTranscriptAnswers(raw, name);
  type Item = K extends "ballots" ? ElectionBallot : ElectionAnswer[] | null;
  return {
    count,
    async *chunks(size = DEFAULT_ITEM_CHUNK): AsyncGenerator<Item[]> {
      if (count === 0) return;
      const reader = new MsgpackStreamReader(await options.open(), options);
      try {
        let i = 0;
        let pending: Item[] = [];
        while (i < count) {
          const run = await reader.readValues(Math.min(RUN, count - i), `${field}[${i}]`);
          for (const raw of run) {
            pending.push(decode(raw, `${field}[${i}]`) as Item);
            i++;
            if (pending.length === size) {
              yield pending;
              pending = [];
            }
          }
        }
        if (pending.length > 0) yield pending;
      } finally {
        await reader.cancel();
      }
    },
  };
}

/** Options of {@linkcode transcriptItemChunks}. */
export interface TranscriptItemOptions {
  /** Items in the list. */
  count: number;
  /** Names the list in errors. */
  field: string;
  /** The bytes from the list's first item on (e.g. a file read from an offset). */
  open: () => Promise<ReadableStream<Uint8Array>>;
  /** The transcript's head (ballots: their election field shares its fingerprint). */
  head?: TranscriptHead;
  /** Size of the read buffers (default 1 MiB). */
  chunkBytes?: number;
}
