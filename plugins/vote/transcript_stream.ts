/**
 * Reads a `vote.transcript` msgpack stream in chunks (issue 17): the big arrays (ballots, mix
 * input, every mixer's outputs, the decryption shares, plaintexts and answers) are decoded
 * a run of elements at a time, so the reader holds about one chunk of the encoding besides
 * the decoded transcript, whose byte strings are views into one buffer per chunk. The result
 * and the errors (one line naming the malformed field) are those of
 * {@linkcode electionTranscriptFromEnvelope}.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readRecord } from "../../core/fields.ts";
import { MsgpackStreamReader } from "../../core/msgpack_stream.ts";
import { readEnvelope } from "../../core/envelope.ts";
import { type Ciphertext, ELEMENT_BYTES } from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionBallot } from "./ballot.ts";
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
  readTranscriptMix,
  readTranscriptPlaintext,
  type TranscriptHead,
} from "./election_transcript.ts";
import { readElectionTally } from "./tally.ts";

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

/** Options of {@linkcode readElectionTranscriptStream}. */
export interface ReadTranscriptStreamOptions {
  /** Size of the read buffers (default 1 MiB). */
  chunkBytes?: number;
}

async function readItems<T>(
  reader: MsgpackStreamReader,
  what: string,
  item: (raw: unknown, what: string, index: number) => T,
): Promise<T[]> {
  const count = await reader.readArrayHeader(what);
  const out: T[] = new Array(count);
  let i = 0;
  while (i < count) {
    const run = await reader.readValues(Math.min(RUN, count - i), `${what}[${i}]`);
    for (const raw of run) {
      out[i] = item(raw, `${what}[${i}]`, i);
      i++;
    }
  }
  return out;
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
 * Decodes and structurally validates a transcript from a msgpack stream, a chunk at a time
 * (the JSON view is read whole with {@linkcode electionTranscriptFromEnvelope}).
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
  const reader = new MsgpackStreamReader(stream, options);
  try {
    const entries = await reader.readMapHeader(what);
    const small: Record<string, unknown> = {};
    let head: TranscriptHead | undefined;
    let ballots: ElectionBallot[] | undefined;
    let mixInput: Ciphertext[] | undefined;
    let mixes: ElectionMix[] | undefined;
    let decryption: ElectionDecryption[] | undefined;
    let plaintexts: Uint8Array[] | undefined;
    let answers: (ElectionAnswer[] | null)[] | undefined;
    // Elements per ciphertext: from the first ballot, else the first mix input (as the
    // whole-value decoder), else the first element of the array at hand.
    let width: number | undefined;
    const widthFrom = (raw: unknown, elementBytes: number) => {
      if (width !== undefined) return width;
      const first = ballots?.[0]?.ciphertext.width;
      width = first ?? (raw instanceof Uint8Array ? raw.length / elementBytes : 1);
      return width;
    };
    const ct = (raw: unknown, name: string) =>
      readTranscriptCiphertext(raw, name, widthFrom(raw, 2 * ELEMENT_BYTES));
    // Fewer objects per ballot in the main heap (issue 17), with the same values: every
    // ballot's election field is the transcript's fingerprint, a mix input ciphertext is the
    // counted ballot's own ciphertext object, and equal answers share one (frozen) array.
    const ballot = (raw: unknown, name: string) => {
      const b = readTranscriptBallot(raw, name);
      if (head !== undefined && sameBytes(b.election, head.fingerprint)) {
        b.election = head.fingerprint;
      }
      return b;
    };
    let cursor = 0;
    const mixInputItem = (raw: unknown, name: string) => {
      const c = ct(raw, name);
      const end = Math.min(ballots?.length ?? 0, cursor + SHARE_WINDOW);
      for (let j = cursor; j < end; j++) {
        const own = ballots![j]!.ciphertext;
        if (sameBytes(own.bytes, c.bytes)) {
          cursor = j + 1;
          return own;
        }
      }
      return c;
    };
    const interned = new Map<string, ElectionAnswer[]>();
    const answersItem = (raw: unknown, name: string) => {
      const a = readTranscriptAnswers(raw, name);
      if (a === null) return null;
      const key = JSON.stringify(a);
      const hit = interned.get(key);
      if (hit !== undefined) return hit;
      if (interned.size < MAX_INTERNED) {
        for (const q of a) Object.freeze(q);
        interned.set(key, Object.freeze(a) as ElectionAnswer[]);
      }
      return a;
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
          ballots = await readItems(reader, field, ballot);
          break;
        case "mixInput":
          mixInput = await readItems(reader, field, mixInputItem);
          break;
        case "plaintexts":
          plaintexts = await readItems(
            reader,
            field,
            (raw, name) => readTranscriptPlaintext(raw, name, widthFrom(raw, ELEMENT_BYTES)),
          );
          break;
        case "answers":
          answers = await readItems(reader, field, answersItem);
          break;
        case "mixes": {
          const count = await reader.readArrayHeader(field);
          mixes = [];
          for (let m = 0; m < count; m++) {
            const name = `${field}[${m}]`;
            const n = await reader.readMapHeader(name);
            const raw: Record<string, unknown> = {};
            let outputs: Ciphertext[] | undefined;
            let after: string | undefined;
            for (let i = 0; i < n; i++) {
              const k = await readKey(reader, name, after);
              after = k;
              if (k === "outputs") outputs = await readItems(reader, `${name}.outputs`, ct);
              else if (k === "proof") raw.proof = await readMapValues(reader, `${name}.proof`);
              else raw[k] = await reader.readValue(`${name}.${k}`);
            }
            if (outputs === undefined) readArray(undefined, `${name}.outputs`);
            mixes.push(readTranscriptMix(raw, name, width ?? 1, outputs));
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
            let after: string | undefined;
            for (let i = 0; i < n; i++) {
              const k = await readKey(reader, name, after);
              after = k;
              if (k === "shares") {
                // Checked below by the whole-entry reader (which names each share).
                raw.shares = await readItems(reader, `${name}.shares`, (r) => {
                  widthFrom(r, ELEMENT_BYTES);
                  return r;
                });
              } else raw[k] = await reader.readValue(`${name}.${k}`);
            }
            decryption.push(readTranscriptDecryption(raw, name, width ?? 1));
          }
          break;
        }
      }
    }
    await reader.end(what);
    head ??= readTranscriptHead(small, what);
    readRecord(small, what);
    if (
      ballots !== undefined && ballots.length > 0 && width !== undefined &&
      ballots[0]!.ciphertext.width !== width
    ) {
      throw new InvalidInputError(
        `Value '${what}.ballots[0].ciphertext' has ${
          ballots[0]!.ciphertext.width
        } elements; the mix has ${width}`,
      );
    }
    return {
      ...head,
      ballots: ballots ?? readArray(undefined, `${what}.ballots`) as never,
      mixInput: mixInput ?? readArray(undefined, `${what}.mixInput`) as never,
      mixes: mixes ?? readArray(undefined, `${what}.mixes`) as never,
      decryption: decryption ?? readArray(undefined, `${what}.decryption`) as never,
      plaintexts: plaintexts ?? readArray(undefined, `${what}.plaintexts`) as never,
      answers: answers ?? readArray(undefined, `${what}.answers`) as never,
      tally: readElectionTally(small.tally, `${what}.tally`),
    };
  } catch (error) {
    await reader.cancel();
    throw error;
  }
}

/** A map read value by value (its byte strings each get a buffer of their own size). */
async function readMapValues(
  reader: MsgpackStreamReader,
  what: string,
): Promise<Record<string, unknown>> {
  const n = await reader.readMapHeader(what);
  const out: Record<string, unknown> = {};
  let after: string | undefined;
  for (let i = 0; i < n; i++) {
    const key = await readKey(reader, what, after);
    after = key;
    out[key] = await reader.readValue(`${what}.${key}`);
  }
  return out;
}
