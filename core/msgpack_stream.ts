/**
 * Msgpack in chunks (issue 17: memory proportional to a chunk, not to the file): a writer
 * that produces exactly the bytes of {@linkcode encodeMsgpack} for a value whose big arrays
 * are given as iterables, a chunk at a time, and a reader that decodes a stream one value,
 * or one run of array elements, at a time. Byte strings decoded by the reader are views
 * into one buffer per chunk read (no backing store per value).
 *
 * @module
 */

import { decodeMsgpackSequence, encodeMsgpack } from "./envelope.ts";
import { InvalidInputError } from "./errors.ts";

/** A map written entry by entry, in the given order (as `encodeMsgpack` writes an object). */
export class StreamedMap {
  /** @param entries the key-value pairs, in order */
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

/** An array of `length` elements taken from `items` one after the other. */
export class StreamedArray {
  /**
   * @param length how many elements `items` yields (checked)
   * @param items the elements, each written as `encodeMsgpack` writes it (an async iterable
   *   only with {@linkcode msgpackChunksAsync} and {@linkcode writeMsgpackStream})
   */
  constructor(
    readonly length: number,
    readonly items: Iterable<unknown> | AsyncIterable<unknown>,
  ) {}
}

/**
 * A byte string of `length` bytes given as consecutive pieces (written as `encodeMsgpack`
 * writes the whole string: a `bin` header, then the bytes).
 */
export class StreamedBytes {
  /**
   * @param length total bytes the pieces hold (checked)
   * @param pieces the bytes in order (an async iterable only with
   *   {@linkcode msgpackChunksAsync} and {@linkcode writeMsgpackStream})
   */
  constructor(
    readonly length: number,
    readonly pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ) {}
}

/** A run of consecutive array elements already msgpack-encoded: `count` values in `bytes`. */
export interface EncodedRun {
  /** How many values `bytes` holds. */
  count: number;
  /** Their msgpack encodings, one after another. */
  bytes: Uint8Array;
}

/**
 * An array of `length` elements given as their msgpack bytes, in runs (issue 17: lists whose
 * items are encoded without objects, e.g. records framed as `bin`): written as they are after
 * the array header. The producer answers for the bytes being the encoding `encodeMsgpack`
 * gives the elements; the writer checks only the count. A run of 64 KB or more is yielded
 * as it is (not copied): do not change it afterwards.
 */
export class EncodedItems {
  /**
   * @param length how many elements the runs hold (checked)
   * @param runs the encoded elements, in order (an async iterable only with
   *   {@linkcode msgpackChunksAsync} and {@linkcode writeMsgpackStream})
   */
  constructor(
    readonly length: number,
    readonly runs: Iterable<EncodedRun> | AsyncIterable<EncodedRun>,
  ) {}
}

/** Byte strings at least this long are written straight from their buffer, not copied. */
const DIRECT_BYTES = 64 * 1024;

/** No size makes a piece be written directly unless it fills a chunk. */
const DIRECT_BYTES_NEVER = Number.POSITIVE_INFINITY;

/** Elements encoded together by one `encodeMsgpack` call. */
const ELEMENT_BATCH = 512;

function containerHeader(count: number, fix: number, b16: number, b32: number): Uint8Array {
  if (count < 16) return Uint8Array.of(fix | count);
  if (count < 0x10000) return Uint8Array.of(b16, count >> 8, count & 0xff);
  return Uint8Array.of(b32, count >>> 24, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff);
}

/**
 * The header `encodeMsgpack` gives an array of `count` elements (fixarray, array 16 or
 * array 32: 1, 3 or 5 bytes).
 *
 * @param count elements of the array
 * @returns the header bytes
 * @example
 * ```ts
 * import { encodeMsgpack } from "./envelope.ts";
 * import { msgpackArrayHeader } from "./msgpack_stream.ts";
 * console.assert(msgpackArrayHeader(20).join() === encodeMsgpack(new Array(20).fill(0)).subarray(0, 3).join());
 * ```
 */
export function msgpackArrayHeader(count: number): Uint8Array {
  return containerHeader(count, 0x90, 0xdc, 0xdd);
}

/**
 * Length of the header `encodeMsgpack` gives a byte string of `length` bytes (bin 8, bin 16 or
 * bin 32: 2, 3 or 5 bytes).
 *
 * @param length bytes of the string
 * @returns the header's length
 * @example
 * ```ts
 * import { msgpackBinHeaderLength } from "./msgpack_stream.ts";
 * console.assert(msgpackBinHeaderLength(300) === 3);
 * ```
 */
export function msgpackBinHeaderLength(length: number): number {
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/**
 * The header `encodeMsgpack` gives a byte string of `length` bytes (the shortest `bin`).
 *
 * @param length bytes of the string
 * @returns the header bytes
 * @example
 * ```ts
 * import { encodeMsgpack } from "./envelope.ts";
 * import { msgpackBinHeader } from "./msgpack_stream.ts";
 * console.assert(msgpackBinHeader(300).join() === encodeMsgpack(new Uint8Array(300)).subarray(0, 3).join());
 * ```
 */
export function msgpackBinHeader(length: number): Uint8Array {
  if (length < 0x100) return Uint8Array.of(0xc4, length);
  if (length < 0x10000) return Uint8Array.of(0xc5, length >> 8, length & 0xff);
  return Uint8Array.of(
    0xc6,
    length >>> 24,
    (length >> 16) & 0xff,
    (length >> 8) & 0xff,
    length & 0xff,
  );
}

/** Length of the header `encodeMsgpack` gives an array of `count` elements. */
function arrayHeaderLength(count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5;
}

/** A pending step of an async iterator: the walker yields it and is resumed with its result. */
class AwaitStep {
  constructor(readonly step: Promise<IteratorResult<unknown>>) {}
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * The one encoder behind {@linkcode msgpackChunks} and {@linkcode msgpackChunksAsync}: yields
 * chunks, and for each step of an async iterable an {@linkcode AwaitStep} that the driver
 * resolves and passes back.
 */
function* walk(
  value: unknown,
  options: { chunkBytes?: number },
): Generator<Uint8Array | AwaitStep, void, unknown> {
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  // The chunk being filled: made when a piece is copied into it (a fresh buffer only when
  // the last one was handed out, so no zeroed megabyte per byte string written directly).
  let chunk: Uint8Array | undefined;
  let used = 0;
  const out: Uint8Array[] = [];
  const flush = () => {
    if (used === 0) return;
    if (used < chunkBytes / 4) {
      // A few small values between two direct pieces: copied out, the buffer kept.
      out.push(chunk!.slice(0, used));
    } else {
      out.push(chunk!.subarray(0, used));
      chunk = undefined;
    }
    used = 0;
  };
  const push = (bytes: Uint8Array, direct = DIRECT_BYTES_NEVER) => {
    if (bytes.length >= Math.min(chunkBytes, direct)) {
      flush();
      out.push(bytes);
      return;
    }
    if (used + bytes.length > chunkBytes) flush();
    chunk ??= new Uint8Array(chunkBytes);
    chunk.set(bytes, used);
    used += bytes.length;
  };
  // The value as a stack of pending parts, walked depth first.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof StreamedMap) {
      push(containerHeader(item.entries.length, 0x80, 0xde, 0xdf));
      for (let i = item.entries.length - 1; i >= 0; i--) {
        const [key, v] = item.entries[i]!;
        stack.push(v, new KeyPart(key));
      }
    } else if (item instanceof KeyPart) {
      push(encodeMsgpack(item.key));
    } else if (item instanceof StreamedArray) {
      push(containerHeader(item.length, 0x90, 0xdc, 0xdd));
      let batch: unknown[] = [];
      let count = 0;
      const drain = () => {
        if (batch.length === 0) return;
        const bytes = encodeMsgpack(batch);
        push(bytes.subarray(arrayHeaderLength(batch.length)));
        batch = [];
      };
      const elements = new Steps(item.items);
      try {
        while (true) {
          const step = yield* elements.step();
          if (step.done) break;
          const element = step.value;
          count++;
          if (element instanceof Uint8Array && element.length >= DIRECT_BYTES) {
            drain();
            push(msgpackBinHeader(element.length));
            push(element);
          } else if (
            element instanceof StreamedMap || element instanceof StreamedArray ||
            element instanceof StreamedBytes || element instanceof EncodedItems
          ) {
            drain();
            yield* drainOut();
            flush();
            yield* drainOut();
            yield* walk(element, options);
            continue;
          } else {
            batch.push(element);
            if (batch.length >= ELEMENT_BATCH) drain();
          }
          yield* drainOut();
        }
      } finally {
        elements.close();
      }
      drain();
      if (count !== item.length) {
        throw new RangeError(`Streamed array of length ${item.length} yielded ${count} items`);
      }
    } else if (item instanceof EncodedItems) {
      push(containerHeader(item.length, 0x90, 0xdc, 0xdd));
      let count = 0;
      const runs = new Steps(item.runs);
      try {
        while (true) {
          const step = yield* runs.step();
          if (step.done) break;
          const run = step.value as EncodedRun;
          count += run.count;
          if (count > item.length) break;
          // A big run is handed on as it is (the producer made it for this), not copied.
          push(run.bytes, DIRECT_BYTES);
          yield* drainOut();
        }
      } finally {
        runs.close();
      }
      if (count !== item.length) {
        throw new RangeError(`Streamed array of length ${item.length} yielded ${count} items`);
      }
    } else if (item instanceof StreamedBytes) {
      push(msgpackBinHeader(item.length));
      let total = 0;
      const pieces = new Steps(item.pieces);
      try {
        while (true) {
          const step = yield* pieces.step();
          if (step.done) break;
          const piece = step.value as Uint8Array;
          total += piece.length;
          if (total > item.length) break;
          push(piece, DIRECT_BYTES);
          yield* drainOut();
        }
      } finally {
        pieces.close();
      }
      if (total !== item.length) {
        throw new RangeError(`Streamed bytes of length ${item.length} yielded ${total} bytes`);
      }
    } else if (item instanceof Uint8Array && item.length >= DIRECT_BYTES) {
      push(msgpackBinHeader(item.length));
      push(item);
    } else {
      push(encodeMsgpack(item));
    }
    yield* drainOut();
  }
  flush();
  yield* drainOut();

  function* drainOut(): Generator<Uint8Array> {
    while (out.length > 0) yield out.shift()!;
  }
}

/** The steps of a sync or async iterable; `close` ends it early (as `for … of` would). */
class Steps {
  readonly async: boolean;
  #iterator: Iterator<unknown> | AsyncIterator<unknown>;
  #done = false;
  constructor(items: Iterable<unknown> | AsyncIterable<unknown>) {
    this.async = isAsyncIterable(items);
    this.#iterator = this.async
      ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (items as Iterable<unknown>)[Symbol.iterator]();
  }
  next(): IteratorResult<unknown> | Promise<IteratorResult<unknown>> {
    const step = this.#iterator.next();
    if (step instanceof Promise) {
      return step.then((s) => {
        if (s.done) this.#done = true;
        return s;
      });
    }
    if ((step as IteratorResult<unknown>).done) this.#done = true;
    return step;
  }
  /** The next step, from inside {@linkcode walk}: an async one is awaited by its driver. */
  *step(): Generator<AwaitStep, IteratorResult<unknown>, unknown> {
    const next = this.next();
    return next instanceof Promise ? (yield new AwaitStep(next)) as IteratorResult<unknown> : next;
  }
  close(): void {
    if (this.#done) return;
    this.#done = true;
    const closing = this.#iterator.return?.();
    if (closing instanceof Promise) closing.catch(() => {});
  }
}

/**
 * Encodes a value as msgpack in chunks of about `chunkBytes`: the concatenation of the
 * chunks equals `encodeMsgpack` of the same value with every {@linkcode StreamedMap}
 * replaced by the object of its entries, every {@linkcode StreamedArray} by the array of
 * its items, every {@linkcode EncodedItems} by the array of the values its runs encode and
 * every {@linkcode StreamedBytes} by the byte string of its pieces. Only one
 * chunk (and one batch of elements) is held at a time; byte strings, pieces and encoded runs
 * of 64 KB or more are yielded as they are (views of the caller's buffers, not copies).
 *
 * @param value the value (maps and arrays to stream wrapped as above; sync iterables only)
 * @param options `chunkBytes`: size of the yielded chunks (default 1 MiB)
 * @returns the chunks, in order (each a fresh buffer or a caller's byte string)
 * @throws {RangeError} when a StreamedArray yields another number of items than its length
 *   (or a StreamedBytes another number of bytes), or when an iterable is async
 * @example
 * ```ts
 * import { encodeMsgpack } from "./envelope.ts";
 * import { msgpackChunks, StreamedArray, StreamedMap } from "./msgpack_stream.ts";
 * const value = new StreamedMap([["v", 1], ["xs", new StreamedArray(3, [1, 2, 3])]]);
 * const bytes = [...msgpackChunks(value)].flatMap((chunk) => [...chunk]);
 * console.assert(bytes.join() === encodeMsgpack({ v: 1, xs: [1, 2, 3] }).join());
 * ```
 */
export function* msgpackChunks(
  value: unknown,
  options: { chunkBytes?: number } = {},
): Generator<Uint8Array> {
  const walker = walk(value, options);
  try {
    for (let step = walker.next(); !step.done; step = walker.next()) {
      if (step.value instanceof AwaitStep) {
        throw new RangeError("An async iterable needs msgpackChunksAsync");
      }
      yield step.value;
    }
  } finally {
    walker.return();
  }
}

/**
 * {@linkcode msgpackChunks} for values whose streamed parts may be async iterables (e.g.
 * record lists read a chunk at a time): the same bytes.
 *
 * @param value the value (maps, arrays and byte strings to stream wrapped)
 * @param options `chunkBytes`: size of the yielded chunks (default 1 MiB)
 * @returns the chunks, in order
 * @throws {RangeError} when a StreamedArray or StreamedBytes yields another length than it says
 * @example
 * ```ts
 * import { encodeMsgpack } from "./envelope.ts";
 * import { msgpackChunksAsync, StreamedArray } from "./msgpack_stream.ts";
 * async function* items() { yield 1; yield 2; }
 * const parts: Uint8Array[] = [];
 * for await (const c of msgpackChunksAsync(new StreamedArray(2, items()))) parts.push(c);
 * console.assert(parts.flatMap((c) => [...c]).join() === encodeMsgpack([1, 2]).join());
 * ```
 */
export async function* msgpackChunksAsync(
  value: unknown,
  options: { chunkBytes?: number } = {},
): AsyncGenerator<Uint8Array> {
  const walker = walk(value, options);
  try {
    let step = walker.next();
    while (!step.done) {
      if (step.value instanceof AwaitStep) {
        step = walker.next(await step.value.step);
      } else {
        yield step.value;
        step = walker.next();
      }
    }
  } finally {
    walker.return();
  }
}

class KeyPart {
  constructor(readonly key: string) {}
}

/**
 * Writes {@linkcode msgpackChunksAsync} of a value to a stream (e.g. a file's `writable`), one
 * chunk at a time: the next chunk is made while the last one is written, and each write is
 * waited for before the one after it is made.
 *
 * @param value the value (maps and arrays to stream wrapped)
 * @param writable where the bytes go (left open)
 * @returns the number of bytes written
 * @example
 * ```ts
 * import { StreamedArray, writeMsgpackStream } from "./msgpack_stream.ts";
 * const parts: Uint8Array[] = [];
 * const n = await writeMsgpackStream(new StreamedArray(2, ["a", "b"]), new WritableStream({ write: (c) => void parts.push(c) }));
 * console.assert(n === 5);
 * ```
 */
export async function writeMsgpackStream(
  value: unknown,
  writable: WritableStream<Uint8Array>,
): Promise<number> {
  const writer = writable.getWriter();
  let bytes = 0;
  // One write may still be under way while the next chunk is made (issue 17: a file's write
  // runs off this thread); the chunks handed out are never written to again.
  let pending: Promise<void> | undefined;
  try {
    for await (const chunk of msgpackChunksAsync(value)) {
      bytes += chunk.length;
      const previous = pending;
      pending = writer.write(chunk);
      pending.catch(() => {}); // a failure is thrown by the await of it below
      if (previous !== undefined) await previous;
    }
    if (pending !== undefined) await pending;
  } finally {
    writer.releaseLock();
  }
  return bytes;
}

/** The big-endian 16-bit number at `at` (no DataView per value scanned). */
function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** The big-endian 32-bit number at `at`. */
function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/** Where a value ends; -1 when `bytes` ends first (more input is needed). */
function valueEndOrMore(bytes: Uint8Array, start: number, what: string): number {
  let pos = start;
  let pending = 1; // values still to skip (containers add their children)
  while (pending > 0) {
    if (pos >= bytes.length) return -1;
    const b = bytes[pos]!;
    pending--;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      pos += 1;
    } else if (b >= 0x80 && b <= 0x8f) {
      pending += 2 * (b & 0x0f);
      pos += 1;
    } else if (b >= 0x90 && b <= 0x9f) {
      pending += b & 0x0f;
      pos += 1;
    } else if (b >= 0xa0 && b <= 0xbf) {
      pos += 1 + (b & 0x1f);
    } else if (b === 0xc1) {
      throw new InvalidInputError(`Value '${what}' is not valid msgpack (byte 0xc1)`);
    } else {
      // The header's bytes that give the value's size or count must be here; the rest of the
      // value is checked once pos has moved past it (a uint8 or int8 that ends the input is
      // whole: its header and one byte).
      const sizeBytes = b === 0xc6 || b === 0xc9 || b === 0xdb || b === 0xdd || b === 0xdf
        ? 4
        : b === 0xc5 || b === 0xc8 || b === 0xda || b === 0xdc || b === 0xde
        ? 2
        : b === 0xc4 || b === 0xc7 || b === 0xd9
        ? 1
        : 0;
      if (pos + 1 + sizeBytes > bytes.length) return -1;
      switch (b) {
        case 0xc4: // bin 8
        case 0xd9: // str 8
          pos += 2 + bytes[pos + 1]!;
          break;
        case 0xc5: // bin 16
        case 0xda: // str 16
          pos += 3 + u16(bytes, pos + 1);
          break;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          pos += 5 + u32(bytes, pos + 1);
          break;
        case 0xc7: // ext 8
          pos += 3 + bytes[pos + 1]!;
          break;
        case 0xc8: // ext 16
          pos += 4 + u16(bytes, pos + 1);
          break;
        case 0xc9: // ext 32
          pos += 6 + u32(bytes, pos + 1);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          pos += 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          pos += 9;
          break;
        case 0xcc:
        case 0xd0:
          pos += 2;
          break;
        case 0xcd:
        case 0xd1:
          pos += 3;
          break;
        case 0xd4:
          pos += 3;
          break;
        case 0xd5:
          pos += 4;
          break;
        case 0xd6:
          pos += 6;
          break;
        case 0xd7:
          pos += 10;
          break;
        case 0xd8:
          pos += 18;
          break;
        case 0xdc: // array 16
          pending += u16(bytes, pos + 1);
          pos += 3;
          break;
        case 0xdd: // array 32
          pending += u32(bytes, pos + 1);
          pos += 5;
          break;
        case 0xde: // map 16
          pending += 2 * u16(bytes, pos + 1);
          pos += 3;
          break;
        case 0xdf: // map 32
          pending += 2 * u32(bytes, pos + 1);
          pos += 5;
          break;
        default:
          throw new InvalidInputError(
            `Value '${what}' is not valid msgpack (byte 0x${b.toString(16)})`,
          );
      }
    }
    if (pos > bytes.length) return -1;
  }
  return pos;
}

/**
 * The offset just past the msgpack value that starts at `start` (headers only: nothing is
 * decoded).
 *
 * @param bytes the encoding
 * @param start offset of the value
 * @param what names the value in errors
 * @returns the end offset
 * @throws {InvalidInputError} when the value is truncated or uses the reserved byte 0xc1
 * @example
 * ```ts
 * import { msgpackValueEnd } from "./msgpack_stream.ts";
 * console.assert(msgpackValueEnd(Uint8Array.of(0x92, 1, 2, 3), 0, "x") === 3);
 * ```
 */
export function msgpackValueEnd(bytes: Uint8Array, start: number, what: string): number {
  const end = valueEndOrMore(bytes, start, what);
  if (end < 0) throw new InvalidInputError(`Value '${what}' is truncated msgpack`);
  return end;
}

/** Size of the header of a bin or str at the start of `bytes` and its payload; else undefined. */
function stringSize(bytes: Uint8Array): number | undefined {
  const b = bytes[0];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if ((b === 0xc6 || b === 0xdb) && bytes.length >= 5) return 5 + view.getUint32(1);
  if ((b === 0xc5 || b === 0xda) && bytes.length >= 3) return 3 + view.getUint16(1);
  return undefined;
}

/**
 * Decodes a msgpack stream piece by piece: container headers, whole values, or runs of
 * consecutive array elements. Holds one buffer of about `chunkBytes` (more when one value
 * is bigger); decoded byte strings are views into it, so a run's values share one buffer.
 *
 * @example
 * ```ts
 * import { encodeMsgpack } from "./envelope.ts";
 * import { MsgpackStreamReader } from "./msgpack_stream.ts";
 * const reader = new MsgpackStreamReader(ReadableStream.from([encodeMsgpack({ xs: [1, 2, 3] })]));
 * console.assert(await reader.readMapHeader("v") === 1);
 * console.assert(await reader.readValue("key") === "xs");
 * console.assert(await reader.readArrayHeader("xs") === 3);
 * console.assert((await reader.readValues(10, "xs")).length === 3);
 * await reader.end("v");
 * ```
 */
export class MsgpackStreamReader {
  #source: ReadableStreamDefaultReader<Uint8Array>;
  #chunkBytes: number;
  #buf = new Uint8Array(0);
  #pos = 0;
  #end = 0;
  #pending: Uint8Array | undefined;
  #done = false;
  #read = 0;

  /**
   * A reader of `stream` (it takes the stream's lock).
   *
   * @param stream the bytes
   * @param options `chunkBytes`: size of the buffers (default 1 MiB)
   */
  constructor(stream: ReadableStream<Uint8Array>, options: { chunkBytes?: number } = {}) {
    this.#source = stream.getReader();
    this.#chunkBytes = options.chunkBytes ?? 1 << 20;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#read;
  }

  /** Reads more input into the buffer; false at the end of the stream. */
  async #more(): Promise<boolean> {
    if (this.#pending === undefined) {
      if (this.#done) return false;
      const next = await this.#source.read();
      if (next.done) {
        this.#done = true;
        return false;
      }
      this.#pending = next.value;
    }
    const incoming = this.#pending;
    if (this.#end === this.#buf.length) {
      // Full: a new buffer for the unconsumed rest (the values already handed out keep the
      // old one). A string whose header says how long it is gets a buffer of its size.
      const rest = this.#end - this.#pos;
      const head = this.#buf.subarray(this.#pos, this.#end);
      const exact = stringSize(head);
      const size = Math.max(
        this.#chunkBytes,
        exact ?? 0,
        exact === undefined ? 2 * rest : 0,
        rest + 1,
      );
      const buf = new Uint8Array(size);
      buf.set(head);
      this.#buf = buf;
      this.#pos = 0;
      this.#end = rest;
    }
    const room = this.#buf.length - this.#end;
    if (incoming.length <= room) {
      this.#buf.set(incoming, this.#end);
      this.#end += incoming.length;
      this.#pending = undefined;
    } else {
      this.#buf.set(incoming.subarray(0, room), this.#end);
      this.#end += room;
      this.#pending = incoming.subarray(room);
    }
    return true;
  }

  /** The end of the value at the read position, reading more input as needed. */
  async #valueEnd(what: string): Promise<number> {
    while (true) {
      const end = valueEndOrMore(this.#buf.subarray(0, this.#end), this.#pos, what);
      if (end >= 0) return end;
      if (!(await this.#more())) {
        throw new InvalidInputError(
          `Value '${what}' is truncated msgpack (the input ends after ${
            this.#read + this.#end - this.#pos
          } bytes)`,
        );
      }
    }
  }

  /** The error for a value the input ends inside (as the whole-value reader says it). */
  #truncated(what: string): InvalidInputError {
    return new InvalidInputError(
      `Value '${what}' is truncated msgpack (the input ends after ${
        this.#read + this.#end - this.#pos
      } bytes)`,
    );
  }

  /** At least `n` bytes at the read position; false when the input ends first. */
  async #have(n: number): Promise<boolean> {
    while (this.#end - this.#pos < n) {
      if (!(await this.#more())) return false;
    }
    return true;
  }

  #header(what: string, kind: "map" | "array"): number | undefined {
    const b = this.#buf[this.#pos]!;
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos);
    const [fix, b16, b32] = kind === "map" ? [0x80, 0xde, 0xdf] : [0x90, 0xdc, 0xdd];
    if (b >= fix && b <= fix + 0x0f) {
      this.#consume(1);
      return b & 0x0f;
    }
    if (b === b16) {
      const count = view.getUint16(1);
      this.#consume(3);
      return count;
    }
    if (b === b32) {
      const count = view.getUint32(1);
      this.#consume(5);
      return count;
    }
    void what;
    return undefined;
  }

  #consume(n: number) {
    this.#pos += n;
    this.#read += n;
  }

  async #containerHeader(what: string, kind: "map" | "array"): Promise<number> {
    if (!(await this.#have(1))) {
      throw new InvalidInputError(`Value '${what}' is truncated msgpack (the input ends)`);
    }
    const b = this.#buf[this.#pos]!;
    const long = kind === "map" ? (b === 0xdf ? 5 : b === 0xde ? 3 : 1) : (
      b === 0xdd ? 5 : b === 0xdc ? 3 : 1
    );
    if (!(await this.#have(long))) {
      throw new InvalidInputError(`Value '${what}' is truncated msgpack (the input ends)`);
    }
    const count = this.#header(what, kind);
    if (count === undefined) {
      const value = await this.readValue(what);
      throw new InvalidInputError(
        `Value '${what}' must be ${kind === "map" ? "a record" : "an array"}, got ${
          Array.isArray(value) ? "an array" : value === null ? "null" : typeof value
        }`,
      );
    }
    return count;
  }

  /**
   * Reads a map header.
   *
   * @param what names the value in errors
   * @returns the number of entries (each a key then a value)
   * @throws {InvalidInputError} when the next value is not a map or the input ends
   */
  readMapHeader(what: string): Promise<number> {
    return this.#containerHeader(what, "map");
  }

  /**
   * Reads an array header.
   *
   * @param what names the value in errors
   * @returns the number of elements that follow
   * @throws {InvalidInputError} when the next value is not an array or the input ends
   */
  readArrayHeader(what: string): Promise<number> {
    return this.#containerHeader(what, "array");
  }

  /**
   * Decodes the next whole value.
   *
   * @param what names the value in errors
   * @returns the value (byte strings are views into the reader's buffer)
   * @throws {InvalidInputError} when the value is malformed or the input ends inside it
   */
  async readValue(what: string): Promise<unknown> {
    const end = await this.#valueEnd(what);
    const [value] = decodeMsgpackSequence(this.#buf.subarray(this.#pos, end), what);
    this.#consume(end - this.#pos);
    return value;
  }

  /**
   * Decodes up to `max` consecutive values (at least one): those already buffered, or the
   * next one.
   *
   * @param max most values to decode
   * @param what names the values in errors
   * @param ends when given, receives the stream offset just past each value (its framing
   *   can be checked: a file reader maps fixed-size values in place)
   * @returns the values (byte strings are views into one buffer)
   * @throws {InvalidInputError} when a value is malformed or the input ends inside it
   */
  async readValues(max: number, what: string, ends?: number[]): Promise<unknown[]> {
    let end = await this.#valueEnd(what);
    const start = this.#pos; // after #valueEnd, which may move to a new buffer
    const base = this.#read - start;
    ends?.push(base + end);
    let count = 1;
    const buffered = this.#buf.subarray(0, this.#end);
    while (count < max && end < this.#end) {
      const next = valueEndOrMore(buffered, end, what);
      if (next < 0) break;
      end = next;
      ends?.push(base + end);
      count++;
    }
    const values = decodeMsgpackSequence(this.#buf.subarray(start, end), what);
    this.#consume(end - start);
    return values;
  }

  /**
   * Up to `max` consecutive values (at least one) as their bytes, not decoded: those already
   * buffered, or the next one (issue 17: a reader that checks items from their bytes).
   *
   * @param max most values to read
   * @param what names the values in errors
   * @returns `bytes` (a view into the reader's buffer, valid until the next read) and
   *   `ends`: where each value ends in `bytes` (the first starts at 0)
   * @throws {InvalidInputError} when the input ends inside the first value
   */
  async readRawValues(max: number, what: string): Promise<{ bytes: Uint8Array; ends: number[] }> {
    let end = await this.#valueEnd(what);
    const start = this.#pos;
    const ends = [end - start];
    const buffered = this.#buf.subarray(0, this.#end);
    while (ends.length < max && end < this.#end) {
      const next = valueEndOrMore(buffered, end, what);
      if (next < 0) break;
      end = next;
      ends.push(end - start);
    }
    const bytes = this.#buf.subarray(start, end);
    this.#consume(end - start);
    return { bytes, ends };
  }

  /**
   * Skips up to `max` consecutive values that are each exactly `header` followed by `size`
   * bytes (e.g. byte strings of one size with the shortest `bin` header), without decoding
   * them; stops at the first value that is framed otherwise or that the input ends inside,
   * leaving it to be read (and its error given) by {@linkcode readValues}.
   *
   * @param max most values to skip
   * @param header the bytes each value starts with
   * @param size the bytes that follow the header in each value
   * @returns how many values were skipped
   */
  async skipFramed(max: number, header: Uint8Array, size: number): Promise<number> {
    const stride = header.length + size;
    let count = 0;
    while (count < max) {
      if (this.#end - this.#pos < stride && !(await this.#more())) return count;
      const buf = this.#buf;
      let pos = this.#pos;
      const stop = Math.min(this.#end - stride, pos + (max - count - 1) * stride);
      while (pos <= stop) {
        for (let k = 0; k < header.length; k++) {
          if (buf[pos + k] !== header[k]) {
            this.#consume(pos - this.#pos);
            return count;
          }
        }
        pos += stride;
        count++;
      }
      this.#consume(pos - this.#pos);
    }
    return count;
  }

  /**
   * Reads the header of a byte string (msgpack `bin 8/16/32`), leaving the read position at
   * its first byte; nothing is read when the next value is something else.
   *
   * @param what names the value in errors
   * @returns the byte string's length, or undefined when the next value is not one
   * @throws {InvalidInputError} when the input ends
   */
  async readBinHeader(what: string): Promise<number | undefined> {
    if (!(await this.#have(1))) {
      throw this.#truncated(what);
    }
    const b = this.#buf[this.#pos]!;
    const size = b === 0xc4 ? 1 : b === 0xc5 ? 2 : b === 0xc6 ? 4 : 0;
    if (size === 0) return undefined;
    if (!(await this.#have(1 + size))) {
      throw this.#truncated(what);
    }
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos + 1, size);
    const length = size === 1
      ? view.getUint8(0)
      : size === 2
      ? view.getUint16(0)
      : view.getUint32(0);
    this.#consume(1 + size);
    return length;
  }

  /**
   * Skips `n` bytes (e.g. a byte string's payload after {@linkcode readBinHeader}), holding no
   * more than a buffer of them.
   *
   * @param n bytes to skip
   * @param what names the value in errors
   * @throws {InvalidInputError} when the input ends first
   */
  async skip(n: number, what: string): Promise<void> {
    await this.readPieces(n, what, () => {});
  }

  /**
   * Reads the next `n` bytes in pieces (e.g. a byte string's payload after
   * {@linkcode readBinHeader}, copied into a file), holding no more than a buffer of them.
   *
   * @param n bytes to read
   * @param what names the value in errors
   * @param onPiece receives each piece in order (a view, valid only until it returns)
   * @throws {InvalidInputError} when the input ends first
   */
  async readPieces(
    n: number,
    what: string,
    onPiece: (piece: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#pos < this.#end) {
        const take = Math.min(left, this.#end - this.#pos);
        await onPiece(this.#buf.subarray(this.#pos, this.#pos + take));
        this.#consume(take);
        left -= take;
        continue;
      }
      // Nothing buffered: input straight from the source, never into the buffer (values
      // already handed out are views of it).
      let incoming = this.#pending;
      this.#pending = undefined;
      if (incoming === undefined) {
        const next = this.#done ? undefined : await this.#source.read();
        if (next === undefined || next.done) {
          this.#done = true;
          throw new InvalidInputError(
            `Value '${what}' is truncated msgpack (the input ends after ${this.#read} bytes)`,
          );
        }
        incoming = next.value;
      }
      const take = Math.min(left, incoming.length);
      if (take < incoming.length) this.#pending = incoming.subarray(take);
      await onPiece(incoming.subarray(0, take));
      this.#read += take;
      left -= take;
    }
  }

  /**
   * Checks that the input ends here, and releases the stream.
   *
   * @param what names the whole input in errors
   * @throws {InvalidInputError} when bytes follow
   */
  async end(what: string): Promise<void> {
    if (await this.#have(1)) {
      await this.cancel();
      throw new InvalidInputError(`Input '${what}' has trailing bytes after its value`);
    }
    this.#source.releaseLock();
  }

  /** Stops reading (the stream is cancelled). */
  async cancel(): Promise<void> {
    await this.#source.cancel().catch(() => {});
  }
}
