/**
 * An election's lists read from the node bulletin board a chunk at a time (issue 17 point
 * 2): the board log is read a page at a time with long bodies left out, and each of the
 * election job's `inputs` and `mix` posts is read as a stream (board_stream.ts: hashed as it
 * arrives, its digest and signature checked when it ends) and decoded into record lists of
 * a `RecordSinkFactory` (a spool's files on the command line): the mix input (64·w-byte
 * records), and each mixer's outputs and five proof lists (32-byte records). Nothing
 * proportional to the number of ballots is held but one piece of one body (256 KiB) and
 * one chunk of decoded ciphertexts.
 *
 * The wire format is unchanged: the same posts, read through two additive endpoints
 * (`GET /v1/board/posts?bodyLimit=B`, `GET /v1/board/posts/:seq/body`).
 *
 * @module
 */

import { constantTimeEqual, joinBytes } from "../core/bytes.ts";
import { InvalidInputError, VerificationError } from "../core/errors.ts";
import { decodeMsgpack, readEnvelope } from "../core/envelope.ts";
import { readBytes, readInteger } from "../core/fields.ts";
import {
  msgpackChunks,
  MsgpackStreamReader,
  StreamedArray,
  StreamedMap,
} from "../core/msgpack_stream.ts";
import {
  DEFAULT_ITEM_CHUNK,
  type RecordSink,
  type RecordSinkFactory,
  type RecordSource,
} from "../core/records.ts";
import {
  decodeCiphertext,
  decodeScalar,
  ELEMENT_BYTES,
  encodeScalar,
  readShuffleProofLayout,
  SHUFFLE_PROOF_FIELDS,
  SHUFFLE_PROOF_LISTS,
  type ShuffleProofList,
  type ShuffleProofRecords,
} from "../backends/reencrypt/mod.ts";
import {
  CEREMONY_SIGNATURE_BYTES,
  type CeremonyElection,
  DECRYPTION_POST_KIND,
  type ElectionDecryptionRecords,
  verifyCeremonySignature,
} from "../plugins/vote/mod.ts";
import { boardLogEntries, type BoardLogEntry } from "./node/board_log.ts";
import { type JobSpec, readJobSpec } from "./node/posts.ts";
import type { JobSummary } from "./node/board.ts";
import { postBodyStream, STREAMED_BODY_BYTES } from "./node/board_stream.ts";
import type { NodeClient } from "./node/client.ts";
import type { StreamedPostBody } from "./node/post_stream.ts";
import {
  MIX_PART_KIND,
  MIX_PARTS_VERSION,
  type MixFinal,
  type MixPartHeader,
  mixPartsProof,
  MixPartsState,
  readMixFinal,
  readMixPartHeader,
} from "./node/mix_parts.ts";

/** One mixer's post read into record lists. */
export interface BoardMixRecords {
  /** The mixer's outputs (64·w-byte records). */
  outputs: RecordSource;
  /** Its shuffle proof, the five per-ciphertext lists as 32-byte records. */
  proof: ShuffleProofRecords;
}

/** Writes a run of fixed-size records given as pieces of any length into a sink. */
class PieceWriter {
  #sink: RecordSink;
  #buf: Uint8Array;
  #fill = 0;
  #next = 0;

  constructor(sink: RecordSink, chunk: number) {
    this.#sink = sink;
    this.#buf = new Uint8Array(sink.recordBytes * Math.max(1, Math.min(chunk, sink.count)));
  }

  write(piece: Uint8Array): void {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(piece.length - at, this.#buf.length - this.#fill);
      this.#buf.set(piece.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      if (this.#fill === this.#buf.length) this.#flush();
    }
  }

  #flush(): void {
    if (this.#fill === 0) return;
    this.#sink.write(this.#next, this.#buf.subarray(0, this.#fill));
    this.#next += this.#fill / this.#sink.recordBytes;
    this.#fill = 0;
  }

  finish(): RecordSource {
    this.#flush();
    return this.#sink.finish();
  }
}

/**
 * Reads the ciphertexts of a msgpack array (the reader is at its header) a chunk at a time,
 * handing each chunk's concatenated bytes to `onChunk`.
 *
 * @returns the number of ciphertexts and their width (0 when the array is empty)
 */
async function readCiphertextArray(
  reader: MsgpackStreamReader,
  what: string,
  chunk: number,
  onChunk: (lo: number, bytes: Uint8Array, width: number, count: number) => void | Promise<void>,
  bound: { count?: number; maxBytes?: number } = {},
): Promise<{ count: number; width: number }> {
  const count = await reader.readArrayHeader(what);
  // The count is checked before anything is sized from it: the count expected when known,
  // and never more ciphertexts than the body's bytes can hold (64 bytes at the least each).
  if (bound.count !== undefined && count !== bound.count) {
    throw new VerificationError(
      `Value '${what}' holds ${count} ciphertexts, expected ${bound.count}`,
    );
  }
  if (bound.maxBytes !== undefined && count > bound.maxBytes / (2 * ELEMENT_BYTES)) {
    throw new InvalidInputError(
      `Value '${what}' claims ${count} ciphertexts, more than its ${bound.maxBytes}-byte body can hold`,
    );
  }
  let width = 0;
  let done = 0;
  while (done < count) {
    const values = await reader.readValues(Math.min(chunk, count - done), what);
    const cts = values.map((v, i) => decodeCiphertext(v, `${what}[${done + i}]`));
    if (width === 0) width = cts[0]!.width;
    const bytes = new Uint8Array(cts.length * 2 * ELEMENT_BYTES * width);
    cts.forEach((c, i) => {
      if (c.width !== width) {
        throw new InvalidInputError(
          `Value '${what}[${done + i}]' has ${c.width} elements; the first has ${width}`,
        );
      }
      bytes.set(c.bytes, i * c.bytes.length);
    });
    await onChunk(done, bytes, width, count);
    done += cts.length;
  }
  return { count, width };
}

/** Reads the small fields of a body map into `fields`, and hands the named big ones to `big`. */
async function readBodyMap(
  reader: MsgpackStreamReader,
  what: string,
  big: Record<string, (fields: Record<string, unknown>) => Promise<void>>,
): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  const entries = await reader.readMapHeader(what);
  for (let e = 0; e < entries; e++) {
    const key = await reader.readValue(`${what} key`);
    if (typeof key !== "string" || key === "__proto__" || Object.hasOwn(fields, key)) {
      throw new InvalidInputError(`Value '${what}' has a key that is not a field name`);
    }
    const read = Object.hasOwn(big, key) ? big[key] : undefined;
    if (read !== undefined) {
      await read(fields);
      fields[key] = true;
    } else fields[key] = await reader.readValue(`${what}.${key}`);
  }
  return fields;
}

/**
 * Decodes a `node.mix` post body from a stream into record lists, a chunk of outputs and a
 * piece of each proof list at a time, checking every field's size (the proof itself is
 * verified by the caller).
 *
 * @param stream the body bytes (from `postBodyStream`: checked against the post's digest
 *   and signature as it ends)
 * @param options sinks, chunk (outputs decoded at a time), the stage expected (any when
 *   absent), the name of the body in errors, `count`: the outputs expected (the stage's
 *   inputs; any when absent), `maxBytes`: the body's length (no count or list may claim more)
 * @returns the stage number and its outputs and proof as record lists
 * @throws {InvalidInputError} naming the malformed, truncated or missized field
 * @throws {VerificationError} when the body is another stage's
 * @example
 * ```ts ignore
 * const mix = await readMixBody(await postBodyStream(client, entry), { sinks, chunk: 4096, stage: 0, what: "mix" });
 * ```
 */
export async function readMixBody(
  stream: ReadableStream<Uint8Array>,
  options: {
    sinks: RecordSinkFactory;
    chunk: number;
    stage?: number;
    what: string;
    count?: number;
    maxBytes?: number;
  },
): Promise<BoardMixRecords & { stage: number }> {
  const { what, sinks, chunk } = options;
  const reader = new MsgpackStreamReader(stream);
  const name = (list: string) => `board-mix-${(options.stage ?? -1) + 1}-${list}`;
  let outputs: PieceWriter | undefined;
  let outputCount = 0;
  const lists: Partial<Record<ShuffleProofList, { writer: PieceWriter; bytes: number }>> = {};
  let small: Record<string, unknown> = {};
  try {
    const fields = await readBodyMap(reader, what, {
      outputs: async () => {
        outputCount = (await readCiphertextArray(
          reader,
          `${what}.outputs`,
          chunk,
          (lo, bytes, width, count) => {
            outputs ??= new PieceWriter(
              sinks(name("outputs"), count, 2 * ELEMENT_BYTES * width),
              chunk,
            );
            void lo;
            outputs.write(bytes);
          },
          {
            ...(options.count === undefined ? {} : { count: options.count }),
            ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
          },
        )).count;
      },
      proof: async () => {
        const big: Record<string, () => Promise<void>> = {};
        for (const list of SHUFFLE_PROOF_LISTS) {
          big[list] = async () => {
            const field = `${what}.proof.${list}`;
            const bytes = await reader.readBinHeader(field);
            if (bytes === undefined || bytes === 0 || bytes % ELEMENT_BYTES !== 0) {
              throw new InvalidInputError(
                `Value '${field}' must be a byte string of 32-byte elements`,
              );
            }
            if (
              (options.count !== undefined && bytes !== options.count * ELEMENT_BYTES) ||
              (options.maxBytes !== undefined && bytes > options.maxBytes)
            ) {
              throw new InvalidInputError(
                `Value '${field}' is ${bytes} bytes; the mix's outputs need ${
                  options.count === undefined
                    ? "no more than the body"
                    : options.count * ELEMENT_BYTES
                }`,
              );
            }
            const writer = new PieceWriter(
              sinks(name(list), bytes / ELEMENT_BYTES, ELEMENT_BYTES),
              chunk,
            );
            await reader.readPieces(bytes, field, (piece) => writer.write(piece));
            lists[list] = { writer, bytes };
          };
        }
        small = await readBodyMap(reader, `${what}.proof`, big);
      },
    });
    // The end of the body: it must be whole, hash to the post's digest and carry its
    // author's signature (board_stream.ts), before any of it is used.
    await reader.end(what);
    readEnvelope(fields, "node.mix", { what });
    const stage = readInteger(fields.stage, `${what}.stage`);
    if (options.stage !== undefined && stage !== options.stage) {
      throw new VerificationError(`${what} is mix stage ${stage}, expected ${options.stage}`);
    }
    if (outputs === undefined || fields.proof !== true) {
      throw new InvalidInputError(`Value '${what}' must hold outputs and a proof`);
    }
    // The proof's kind, version, count and width, and every field's size.
    const layout = readShuffleProofLayout(small, `${what}.proof`);
    const proof: Record<string, unknown> = { width: layout.width };
    for (const f of SHUFFLE_PROOF_FIELDS) {
      const list = lists[f as ShuffleProofList];
      if ((SHUFFLE_PROOF_LISTS as readonly string[]).includes(f)) {
        if (list === undefined || list.bytes !== layout.bytes[f]) {
          throw new InvalidInputError(
            `Value '${what}.proof.${f}' must be ${layout.bytes[f]} bytes, got ${list?.bytes ?? 0}`,
          );
        }
        proof[f] = list.writer.finish();
      } else {
        proof[f] = readBytes(small[f], `${what}.proof.${f}`, { length: layout.bytes[f] });
      }
    }
    if (outputCount !== layout.bytes.permutationCommitments / ELEMENT_BYTES) {
      throw new InvalidInputError(
        `Value '${what}' has ${outputCount} outputs and a proof for ${
          layout.bytes.permutationCommitments / ELEMENT_BYTES
        }`,
      );
    }
    return { stage, outputs: outputs.finish(), proof: proof as ShuffleProofRecords };
  } catch (error) {
    await reader.cancel();
    throw error;
  }
}

/**
 * Decodes an inputs post body from a stream, handing its ciphertexts a chunk at a time.
 *
 * @returns the number of items
 */
async function readInputsBody(
  stream: ReadableStream<Uint8Array>,
  options: {
    chunk: number;
    what: string;
    onChunk: (lo: number, bytes: Uint8Array, width: number) => void | Promise<void>;
  },
): Promise<number> {
  const reader = new MsgpackStreamReader(stream);
  let count = 0;
  try {
    const fields = await readBodyMap(reader, options.what, {
      items: async () => {
        count = (await readCiphertextArray(
          reader,
          `${options.what}.items`,
          options.chunk,
          options.onChunk,
        )).count;
      },
    });
    await reader.end(options.what);
    readEnvelope(fields, "node.inputs", { what: options.what });
    return count;
  } catch (error) {
    await reader.cancel();
    throw error;
  }
}

/**
 * Reads the inputs a job's `inputs` posts hold (before its `close`), a chunk at a time: each
 * chunk is compared with `expected` when given (the command's own mix input), else written
 * to a sink of `count` records.
 */
class InputsReader {
  #done = 0;
  #writer: PieceWriter | undefined;

  constructor(
    readonly job: string,
    readonly options: {
      expected?: RecordSource;
      sinks?: RecordSinkFactory;
      count: number;
      chunk: number;
    },
  ) {}

  get done(): number {
    return this.#done;
  }

  /** The inputs' width (undefined before the first). */
  get width(): number | undefined {
    const bytes = this.options.expected?.recordBytes ?? this.#width;
    return bytes === undefined ? undefined : bytes / (2 * ELEMENT_BYTES);
  }
  #width: number | undefined;

  async read(client: NodeClient, entry: BoardLogEntry): Promise<void> {
    const { expected, count, chunk } = this.options;
    const what = `board post ${entry.seq} (inputs)`;
    await readInputsBody(await postBodyStream(client, entry), {
      chunk,
      what,
      onChunk: (_lo, bytes, width) => {
        this.#width ??= 2 * ELEMENT_BYTES * width;
        const n = bytes.length / (2 * ELEMENT_BYTES * width);
        const lo = this.#done;
        if (lo + n > count) {
          throw new VerificationError(
            `Board job '${this.job}' holds more than the ${count} inputs ${
              expected === undefined ? "its summary gives" : "of this ballot box"
            }`,
          );
        }
        if (expected !== undefined) {
          const mine = expected.read(lo, lo + n);
          if (bytes.length !== mine.length || !constantTimeEqual(bytes, mine)) {
            // Name the first input that differs (ballots are public: no secret to keep).
            const size = expected.recordBytes;
            let at = 0;
            while (
              at < n - 1 &&
              constantTimeEqual(
                bytes.subarray(at * size, (at + 1) * size),
                mine.subarray(at * size, (at + 1) * size),
              )
            ) at++;
            throw new VerificationError(
              `Board job '${this.job}' holds other inputs than this ballot box's (from input ${
                lo + at + 1
              })`,
            );
          }
        } else {
          this.#writer ??= new PieceWriter(
            this.options.sinks!("board-inputs", count, 2 * ELEMENT_BYTES * width),
            chunk,
          );
          this.#writer.write(bytes);
        }
        this.#done += n;
      },
    });
  }

  finish(): RecordSource | undefined {
    return this.options.expected ?? this.#writer?.finish();
  }
}

/** Largest job post a reader takes (its spec: stages, submitters, context). */
const MAX_JOB_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Checks a job's spec names the mixer nodes the caller expects (in cascade order), when
 * the caller has them (`--mixer-node`).
 */
function checkSpecMixers(
  spec: JobSpec,
  mixers: readonly Uint8Array[] | undefined,
  job: string,
): void {
  if (mixers === undefined) return;
  if (
    spec.stages.length !== mixers.length ||
    spec.stages.some((s, i) => !constantTimeEqual(s.mixer, mixers[i]!))
  ) {
    throw new VerificationError(
      `Board job '${job}' names other mixer nodes than the ${mixers.length} given`,
    );
  }
}

/** Largest final post of a mix in parts a reader takes (it names parts: ~80 bytes each). */
const MAX_MIX_FINAL_BYTES = 16 * 1024 * 1024;

/** A logged post's whole body (a small one: at most `max` bytes), checked as it ends. */
async function wholeBody(client: NodeClient, entry: BoardLogEntry, max: number, what: string) {
  if (entry.bodyBytes > max) {
    throw new InvalidInputError(`Post '${what}' is ${entry.bodyBytes} bytes, over ${max}`);
  }
  const reader = (await postBodyStream(client, entry)).getReader();
  const out = new Uint8Array(entry.bodyBytes);
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > out.length) {
      await reader.cancel();
      throw new InvalidInputError(`Post '${what}' is longer than its ${out.length} bytes`);
    }
    out.set(value, at);
    at += value.length;
  }
  return out.subarray(0, at);
}

/**
 * Reads the parts of one stage's mix posted in parts (mix_parts.ts), a piece of each body at
 * a time, into the record lists of a sink factory, with the board's rules (order, offsets,
 * totals, author), then the final post that names them.
 */
class MixPartsReader {
  #state: MixPartsState;
  #outputs: PieceWriter | undefined;
  #lists: Partial<Record<ShuffleProofList, PieceWriter>> = {};

  constructor(
    readonly stage: number,
    readonly sinks: RecordSinkFactory,
    readonly chunk: number,
    readonly expect: MixExpected,
  ) {
    this.#state = new MixPartsState(stage);
  }

  async read(client: NodeClient, entry: BoardLogEntry): Promise<void> {
    const what = `board post ${entry.seq} (mix part)`;
    const reader = new MsgpackStreamReader(await postBodyStream(client, entry));
    let header: MixPartHeader | undefined;
    let count = -1;
    const name = (list: string) => `board-mix-${this.stage + 1}-${list}`;
    const begin = (fields: Record<string, unknown>): MixPartHeader => {
      if (header !== undefined) return header;
      header = readMixPartHeader(fields, what);
      this.#state.checkNext(header, entry.post.author, what);
      // Nothing is sized from the part's announced total and width before they match the
      // stage's inputs (their count, and their width when known).
      const { count, width } = this.expect;
      if (header.total !== count || (width !== undefined && header.width !== width)) {
        throw new VerificationError(
          `${what}: mix part ${header.part} of stage ${header.stage} announces ${header.total} outputs of width ${header.width}; the stage has ${count} inputs${
            width === undefined ? "" : ` of width ${width}`
          }`,
        );
      }
      if (this.#outputs === undefined) {
        this.#outputs = new PieceWriter(
          this.sinks(name("outputs"), header.total, 2 * ELEMENT_BYTES * header.width),
          this.chunk,
        );
        for (const list of SHUFFLE_PROOF_LISTS) {
          this.#lists[list] = new PieceWriter(
            this.sinks(name(list), header.total, ELEMENT_BYTES),
            this.chunk,
          );
        }
      }
      return header;
    };
    const big: Record<string, (fields: Record<string, unknown>) => Promise<void>> = {
      outputs: async (fields) => {
        const h = begin(fields);
        const size = 2 * ELEMENT_BYTES * h.width;
        const bytes = await reader.readBinHeader(`${what}.outputs`);
        if (bytes === undefined || bytes === 0 || bytes % size !== 0) {
          throw new InvalidInputError(
            `Value '${what}.outputs' must be whole ${size}-byte ciphertexts`,
          );
        }
        count = bytes / size;
        if (h.offset + count > h.total) {
          throw new VerificationError(
            `${what}: mix part ${h.part} of stage ${h.stage} runs past the ${h.total} outputs it announces`,
          );
        }
        await reader.readPieces(bytes, `${what}.outputs`, (p) => this.#outputs!.write(p));
      },
    };
    for (const list of SHUFFLE_PROOF_LISTS) {
      big[list] = async (fields) => {
        begin(fields);
        const bytes = await reader.readBinHeader(`${what}.${list}`);
        if (count < 0 || bytes !== count * ELEMENT_BYTES) {
          throw new InvalidInputError(
            `Value '${what}.${list}' must follow the outputs and be ${
              Math.max(count, 0) * ELEMENT_BYTES
            } bytes`,
          );
        }
        await reader.readPieces(bytes, `${what}.${list}`, (p) => this.#lists[list]!.write(p));
      };
    }
    try {
      const fields = await readBodyMap(reader, what, big);
      await reader.end(what);
      const h = readMixPartHeader(fields, what);
      for (const f of ["outputs", ...SHUFFLE_PROOF_LISTS]) {
        if (fields[f] !== true) throw new InvalidInputError(`Value '${what}.${f}' is missing`);
      }
      this.#state.take(h, count, entry.digest, entry.post.author, what);
    } catch (error) {
      await reader.cancel();
      throw error;
    }
  }

  /** Checks the final post against the parts read and gives the mix's record lists. */
  finish(final: MixFinal, author: Uint8Array, what: string): BoardMixRecords {
    this.#state.checkFinal(final, author, what);
    const lists = Object.fromEntries(
      SHUFFLE_PROOF_LISTS.map((l) => [l, this.#lists[l]!.finish()]),
    ) as Record<ShuffleProofList, RecordSource>;
    return { outputs: this.#outputs!.finish(), proof: mixPartsProof(final, lists) };
  }
}

/** What a stage's mix must be: its mixer (from the job's spec), its output count and width. */
interface MixExpected {
  mixer: Uint8Array;
  count: number;
  width?: number;
}

/**
 * Reads one `mix` post of a job's log into the parts reader or the list of mixes: a mix in
 * one post (`node.mix` v 1), a part, or the final post of a mix in parts (`node.mix` v 2).
 * Every one of them must be signed by the stage's mixer, checked before its body is read.
 */
async function readMixEntry(
  client: NodeClient,
  entry: BoardLogEntry,
  state: { mixes: BoardMixRecords[]; parts: MixPartsReader | undefined },
  options: { sinks: RecordSinkFactory; chunk: number; expect: MixExpected },
): Promise<void> {
  const stage = state.mixes.length;
  if (!constantTimeEqual(entry.post.author, options.expect.mixer)) {
    throw new VerificationError(
      `Board post ${entry.seq}: a mix of stage ${stage} signed by another key than the stage's mixer in the job's spec`,
    );
  }
  const head = await readBodyHead(await postBodyStream(client, entry));
  if (head.kind === MIX_PART_KIND) {
    state.parts ??= new MixPartsReader(stage, options.sinks, options.chunk, options.expect);
    await state.parts.read(client, entry);
  } else if (head.kind === "node.mix" && head.v === MIX_PARTS_VERSION) {
    const what = `board post ${entry.seq} (mix)`;
    const final = readMixFinal(
      decodeMsgpack(await wholeBody(client, entry, MAX_MIX_FINAL_BYTES, what), what),
      what,
    );
    if (state.parts === undefined) {
      throw new VerificationError(
        `${what}: the mix of stage ${final.stage} names ${final.parts.length} parts; none were posted`,
      );
    }
    state.mixes.push(state.parts.finish(final, entry.post.author, what));
    state.parts = undefined;
  } else {
    if (state.parts !== undefined) {
      throw new VerificationError(
        `Board post ${entry.seq}: a mix in one post while parts of stage ${stage} wait for their final post`,
      );
    }
    const { outputs, proof } = await readMixBody(await postBodyStream(client, entry), {
      sinks: options.sinks,
      chunk: options.chunk,
      stage,
      what: `board post ${entry.seq} (mix)`,
      count: options.expect.count,
      maxBytes: entry.bodyBytes,
    });
    if (
      options.expect.width !== undefined &&
      outputs.recordBytes !== 2 * ELEMENT_BYTES * options.expect.width
    ) {
      throw new VerificationError(
        `Board post ${entry.seq}: the mix of stage ${stage} has outputs of width ${
          outputs.recordBytes / (2 * ELEMENT_BYTES)
        }; its inputs have width ${options.expect.width}`,
      );
    }
    state.mixes.push({ outputs, proof });
  }
}

async function jobSummary(client: NodeClient, job: string): Promise<JobSummary> {
  return await client.getJson(`/v1/board/jobs/${encodeURIComponent(job)}`) as JobSummary;
}

/**
 * How many of a job's inputs the board already holds, checking each against the command's
 * own mix input a chunk at a time (`vote close` resumes after them).
 *
 * @param client board client
 * @param options job id, the mix input, chunk size and body limit (as in
 *   {@linkcode readElectionCascadeRecords})
 * @returns the number of inputs posted (a prefix of `expected`)
 * @throws {VerificationError} when the board holds other inputs or more of them
 * @example
 * ```ts ignore
 * const posted = await postedInputs(client, { job, expected: counted });
 * ```
 */
export async function postedInputs(
  client: NodeClient,
  options: { job: string; expected: RecordSource; chunk?: number; bodyLimit?: number },
): Promise<number> {
  const inputs = new InputsReader(options.job, {
    expected: options.expected,
    count: options.expected.count,
    chunk: options.chunk ?? DEFAULT_ITEM_CHUNK,
  });
  const bodyLimit = options.bodyLimit ?? STREAMED_BODY_BYTES;
  for await (const entry of boardLogEntries(client, { bodyLimit })) {
    if (entry.post.job !== options.job) continue;
    if (entry.post.type === "close") break;
    if (entry.post.type === "inputs") await inputs.read(client, entry);
  }
  return inputs.done;
}

/**
 * Reads a finished election cascade from the board into record lists: the mix input (or,
 * given `inputs`, checks the board holds exactly it) and each mixer's outputs and proof,
 * every post's body streamed, hashed and its signature checked, the log's chain checked.
 * The shuffle proofs are not verified here (`verifyShuffleChainRecords` does that).
 *
 * @param client board client
 * @param options job id, `sinks` for the lists (a spool's files), the expected mix input,
 *   the chunk size (ciphertexts decoded at a time), `bodyLimit`: bodies longer than this are
 *   streamed (default 64 KiB; shorter ones come with the log's pages)
 * @returns the mix input, the stages in order, the job's spec (from its signed job post;
 *   undefined when the log has none) and the number of posts read (the whole log)
 * @throws {VerificationError} when the board's inputs differ, a stage is out of order, a
 *   body does not match its digest or signature, or the job is archived
 * @throws {InvalidInputError} naming the malformed field of a post
 * @example
 * ```ts ignore
 * const { inputs, mixes } = await readElectionCascadeRecords(client, { job, sinks: spool.sinks });
 * ```
 */
export async function readElectionCascadeRecords(
  client: NodeClient,
  options: {
    job: string;
    sinks: RecordSinkFactory;
    inputs?: RecordSource;
    chunk?: number;
    bodyLimit?: number;
    mixers?: readonly Uint8Array[];
  },
): Promise<
  { inputs: RecordSource; mixes: BoardMixRecords[]; spec: JobSpec | undefined; posts: number }
> {
  const { job } = options;
  const chunk = options.chunk ?? DEFAULT_ITEM_CHUNK;
  const summary = await jobSummary(client, job);
  const count = options.inputs?.count ?? summary.inputs;
  const inputs = new InputsReader(job, {
    ...(options.inputs === undefined ? { sinks: options.sinks } : { expected: options.inputs }),
    count,
    chunk,
  });
  const archived = new Set<string>();
  const mixes: BoardMixRecords[] = [];
  const state = { mixes, parts: undefined as MixPartsReader | undefined };
  let closed = false;
  const bodyLimit = options.bodyLimit ?? STREAMED_BODY_BYTES;
  let spec: JobSpec | undefined;
  let posts = 0;
  for await (const entry of boardLogEntries(client, { archived, bodyLimit })) {
    posts++;
    if (entry.post.job !== job) continue;
    if (entry.post.type === "job" && spec === undefined) {
      const what = `board post ${entry.seq} (job)`;
      spec = readJobSpec(
        decodeMsgpack(await wholeBody(client, entry, MAX_JOB_BODY_BYTES, what), what),
        what,
      );
      checkSpecMixers(spec, options.mixers, job);
    } else if (entry.post.type === "close") closed = true;
    else if (entry.post.type === "inputs" && !closed) await inputs.read(client, entry);
    else if (entry.post.type === "mix") {
      const stage = mixes.length;
      const mixer = spec?.stages[stage]?.mixer;
      if (spec === undefined || mixer === undefined) {
        throw new VerificationError(
          spec === undefined
            ? `Board post ${entry.seq}: a mix of job '${job}' before its job post`
            : `Board post ${entry.seq}: a mix of stage ${stage}; job '${job}' has ${spec.stages.length} stages`,
        );
      }
      const before = mixes.at(-1)?.outputs;
      const width = before === undefined
        ? spec.width ?? inputs.width
        : before.recordBytes / (2 * ELEMENT_BYTES);
      await readMixEntry(client, entry, state, {
        sinks: options.sinks,
        chunk,
        expect: {
          mixer,
          count: before?.count ?? inputs.done,
          ...(width === undefined ? {} : { width }),
        },
      });
    }
  }
  if (state.parts !== undefined) {
    throw new VerificationError(
      `Board job '${job}': parts of the mix of stage ${mixes.length} end the log with no final post naming them`,
    );
  }
  if (archived.has(job)) {
    throw new VerificationError(
      `Board job '${job}' is archived: its inputs and mixes were pruned`,
    );
  }
  const source = inputs.finish();
  if (source === undefined || inputs.done !== count) {
    throw new VerificationError(
      options.inputs === undefined
        ? `Board job '${job}' holds ${inputs.done} inputs; its summary says ${count}`
        : `Board job '${job}' holds ${inputs.done} inputs, fewer than the ${count} of this ballot box`,
    );
  }
  return { inputs: source, mixes, spec, posts };
}

/**
 * The msgpack body of a trustee's `vote.decryption` post written from its share records, a
 * chunk at a time: the same bytes as `encodeMsgpack(encodeDecryptionPost(election, post))`
 * with the shares in memory, held whole (32·w + 2 bytes a ballot), but no object per share
 * is built. `vote trustee decrypt` sends its post as a stream instead
 * ({@linkcode decryptionPostStreamedBody}).
 *
 * @param election the election's fingerprint
 * @param post the trustee's decryption post, shares as records
 * @param chunk shares read at a time
 * @returns the body bytes
 * @example
 * ```ts ignore
 * const body = decryptionPostBody(election, await decryptElectionSharesRecords(key, options));
 * ```
 */
export function decryptionPostBody(
  election: { fingerprint: Uint8Array },
  post: ElectionDecryptionRecords,
  chunk = DEFAULT_ITEM_CHUNK,
): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const piece of msgpackChunks(decryptionPostValue(election, post, chunk))) {
    parts.push(piece.slice());
  }
  return joinBytes(parts);
}

/**
 * The body of a trustee's `vote.decryption` post as pieces made from its share records a
 * chunk at a time, never whole: the bytes of {@linkcode decryptionPostBody}, for a post
 * sent as a stream (`signStreamedPost`, cli/node/post_stream.ts). Its length is counted by
 * encoding it once.
 *
 * @param election the election's fingerprint
 * @param post the trustee's decryption post, shares as records (e.g. a spool file)
 * @param chunk shares read at a time
 * @returns the body's length and its pieces (about 1 MiB each), made again at each call
 * @example
 * ```ts ignore
 * const body = decryptionPostStreamedBody(election, decryption);
 * ```
 */
export function decryptionPostStreamedBody(
  election: { fingerprint: Uint8Array },
  post: ElectionDecryptionRecords,
  chunk = DEFAULT_ITEM_CHUNK,
): StreamedPostBody {
  let bytes = 0;
  for (const piece of msgpackChunks(decryptionPostValue(election, post, chunk))) {
    bytes += piece.length;
  }
  return {
    bytes,
    pieces: async function* () {
      yield* msgpackChunks(decryptionPostValue(election, post, chunk));
    },
  };
}

/** The msgpack value of a decryption post, its shares read from their records a chunk at a time. */
function decryptionPostValue(
  election: { fingerprint: Uint8Array },
  post: ElectionDecryptionRecords,
  chunk: number,
): StreamedMap {
  const { shares } = post;
  function* items(): Iterable<Uint8Array> {
    for (let lo = 0; lo < shares.count; lo += chunk) {
      const hi = Math.min(shares.count, lo + chunk);
      const bytes = shares.read(lo, hi);
      for (let i = 0; i < hi - lo; i++) {
        yield bytes.subarray(i * shares.recordBytes, (i + 1) * shares.recordBytes);
      }
    }
  }
  return new StreamedMap([
    ["v", 1],
    ["kind", DECRYPTION_POST_KIND],
    ["election", election.fingerprint],
    ["trustee", post.trustee],
    ["shares", new StreamedArray(shares.count, items())],
    ["challenge", encodeScalar(post.proof.challenge)],
    ["response", encodeScalar(post.proof.response)],
    ...(post.signature === undefined ? [] : [["signature", post.signature] as const]),
  ]);
}

/**
 * Decodes a trustee's `vote.decryption` post from a stream: its shares go to a sink of
 * 32·w-byte records a chunk at a time, then the trustee's signature on the content is
 * checked over the records (the post's own signature is checked as the stream ends).
 *
 * @param stream the body bytes
 * @param options the election, sinks, chunk, the body's name in errors, the sink's name
 * @returns the decryption post, shares as records
 * @throws {InvalidInputError} for another election or a malformed field
 * @throws {VerificationError} when a signature does not verify
 * @example
 * ```ts ignore
 * const d = await readDecryptionBody(stream, { election, sinks, chunk: 4096, what: "post.body", name: "shares" });
 * ```
 */
export async function readDecryptionBody(
  stream: ReadableStream<Uint8Array>,
  options: {
    election: CeremonyElection;
    sinks: RecordSinkFactory;
    chunk: number;
    what: string;
    name: string;
  },
): Promise<ElectionDecryptionRecords> {
  const { what, election } = options;
  const reader = new MsgpackStreamReader(stream);
  let writer: PieceWriter | undefined;
  let count = 0;
  let size = 0;
  try {
    const fields = await readBodyMap(reader, what, {
      shares: async () => {
        count = await reader.readArrayHeader(`${what}.shares`);
        let done = 0;
        while (done < count) {
          const values = await reader.readValues(
            Math.min(options.chunk, count - done),
            `${what}.shares`,
          );
          values.forEach((v, i) => {
            const name = `${what}.shares[${done + i}]`;
            if (size === 0) {
              const first = readBytes(v, name, { maxLength: ELEMENT_BYTES * 64 });
              size = first.length;
              if (size === 0 || size % ELEMENT_BYTES !== 0) {
                throw new InvalidInputError(`Value '${name}' must be 32·w bytes`);
              }
              writer = new PieceWriter(options.sinks(options.name, count, size), options.chunk);
            }
            writer!.write(readBytes(v, name, { length: size }));
          });
          done += values.length;
        }
      },
    });
    await reader.end(what);
    readEnvelope(fields, DECRYPTION_POST_KIND, { what });
    const fp = readBytes(fields.election, `${what}.election`, {
      length: election.fingerprint.length,
    });
    if (!constantTimeEqual(fp, election.fingerprint)) {
      throw new InvalidInputError(`Post '${what}' belongs to another election`);
    }
    const trustee = readInteger(fields.trustee, `${what}.trustee`, {
      min: 1,
      max: election.definition.trustees.length,
    });
    if (writer === undefined) throw new InvalidInputError(`Value '${what}.shares' is empty`);
    const post: ElectionDecryptionRecords = {
      trustee,
      shares: writer.finish(),
      proof: {
        challenge: decodeScalar(
          readBytes(fields.challenge, `${what}.challenge`, { length: 32 }),
          `${what}.challenge`,
        ),
        response: decodeScalar(
          readBytes(fields.response, `${what}.response`, { length: 32 }),
          `${what}.response`,
        ),
      },
      ...(fields.signature === undefined ? {} : {
        signature: readBytes(fields.signature, `${what}.signature`, {
          length: CEREMONY_SIGNATURE_BYTES,
        }),
      }),
    };
    verifyCeremonySignature(election, { decryptionRecords: post });
    return post;
  } catch (error) {
    await reader.cancel();
    throw error;
  }
}

/**
 * Reads the trustees' decryption posts of an election from the board into record lists,
 * each post's body streamed (a page of the log at a time, each body hashed as it arrives and
 * its post signature, the trustee's content signature and the author's key checked).
 *
 * @param client board client
 * @param options job id, the election, sinks for the shares, chunk size and body limit (as
 *   in {@linkcode readElectionCascadeRecords})
 * @returns the posts in board order, shares as 32·w-byte records
 * @throws {VerificationError} when a post's author is not its trustee or a signature fails
 * @example
 * ```ts ignore
 * const posts = await readDecryptionRecords(client, { job, election, sinks: spool.sinks });
 * ```
 */
export async function readDecryptionRecords(
  client: NodeClient,
  options: {
    job: string;
    election: CeremonyElection;
    sinks: RecordSinkFactory;
    chunk?: number;
    bodyLimit?: number;
  },
): Promise<ElectionDecryptionRecords[]> {
  const out: ElectionDecryptionRecords[] = [];
  const keys = options.election.definition.trusteeKeys ?? [];
  for await (
    const entry of boardLogEntries(client, {
      bodyLimit: options.bodyLimit ?? STREAMED_BODY_BYTES,
    })
  ) {
    const { post } = entry;
    if (post.job !== options.job || post.type !== "ceremony") continue;
    // Only a trustee's key may author its ceremony posts; others are not this election's.
    const author = keys.findIndex((k) => constantTimeEqual(k, post.author));
    if (author < 0) continue;
    // A small ceremony post is a dealing, complaints or answers (read by readElectionBoard),
    // or a decryption post of a few ballots; a big one can only be a decryption post.
    if (
      post.body === undefined
        ? await bodyKind(client, entry) !== DECRYPTION_POST_KIND
        : !isDecryptionBody(post.body)
    ) continue;
    const d = await readDecryptionBody(await postBodyStream(client, entry), {
      election: options.election,
      sinks: options.sinks,
      chunk: options.chunk ?? DEFAULT_ITEM_CHUNK,
      what: `board post ${entry.seq} (decryption)`,
      name: `board-trustee-${author + 1}-shares-${entry.seq}`,
    });
    if (d.trustee !== author + 1) {
      throw new VerificationError(
        `Board post ${entry.seq}: trustee ${d.trustee}'s shares are signed by trustee ${
          author + 1
        }'s identity key`,
      );
    }
    out.push(d);
  }
  return out;
}

/**
 * The `kind` of a logged post's body, read from its first fields (a streamed body is not
 * read further).
 *
 * @param client board client
 * @param entry the log entry
 * @returns the kind, or undefined when the first four fields hold none
 * @example
 * ```ts ignore
 * if (await bodyKind(client, entry) === "vote.decryption") console.log("shares");
 * ```
 */
export async function bodyKind(client: NodeClient, entry: BoardLogEntry): Promise<unknown> {
  return await readBodyKind(await postBodyStream(client, entry));
}

/**
 * The `kind` of a post body given as a stream, read from its first four fields (the rest is
 * not read; the stream is cancelled).
 *
 * @param stream the body bytes
 * @returns the kind, or undefined when the first four fields hold none
 * @example
 * ```ts ignore
 * const kind = await readBodyKind(ReadableStream.from([post.body]));
 * ```
 */
export async function readBodyKind(stream: ReadableStream<Uint8Array>): Promise<unknown> {
  return (await readBodyHead(stream)).kind;
}

/**
 * The `v` and `kind` of a post body given as a stream, read from its first four fields (the
 * rest is not read; the stream is cancelled): tells a mix in one post (`node.mix` v 1) from
 * a part (`node.mix-part`) and the final post of a mix in parts (`node.mix` v 2); and its
 * `stage` when that comes right after them (a mix's stage, known before its outputs).
 *
 * @param stream the body bytes
 * @returns the version and kind (undefined when the first four fields hold none), the stage
 *   when read
 * @example
 * ```ts ignore
 * const { v, kind } = await readBodyHead(ReadableStream.from([post.body]));
 * ```
 */
export async function readBodyHead(
  stream: ReadableStream<Uint8Array>,
): Promise<{ v: unknown; kind: unknown; stage?: unknown }> {
  const reader = new MsgpackStreamReader(stream);
  const head: { v: unknown; kind: unknown; stage?: unknown } = { v: undefined, kind: undefined };
  try {
    const entries = await reader.readMapHeader("post.body");
    // Once `v` and `kind` are read, only a `stage` right after them is: any other key ends
    // the head (its value may be a big list).
    for (let e = 0; e < Math.min(entries, 4); e++) {
      const key = await reader.readValue("post.body key");
      if (head.kind !== undefined && head.v !== undefined && key !== "stage") break;
      const value = await reader.readValue(`post.body.${String(key)}`);
      if (key === "kind") head.kind = value;
      if (key === "v") head.v = value;
      if (key === "stage") head.stage = value;
    }
    return head;
  } finally {
    await reader.cancel();
  }
}

/** Whether a small ceremony body is a `vote.decryption` post (its kind, decoded alone). */
function isDecryptionBody(body: Uint8Array): boolean {
  const value = decodeMsgpack(body, "post.body") as { kind?: unknown } | null;
  return typeof value === "object" && value !== null && value.kind === DECRYPTION_POST_KIND;
}
