/**
 * ElGamal encryption and decryption of many ciphertexts at once, split into contiguous
 * chunks over the worker pool (one worker = this thread). Inputs and outputs are packed
 * canonical bytes, so no array of points is built on the calling thread.
 *
 * Packing: messages and plaintexts are 32·w bytes per item (w encoded elements); ciphertexts
 * are 64·w bytes (c1₁ ‖ c2₁ ‖ … as {@linkcode Ciphertext.bytes}).
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { joinBytes } from "../../core/bytes.ts";
import {
  registerWorkerTask,
  runWorkerJobs,
  splitRange,
  workerCount,
} from "../../core/worker_pool.ts";
import { Ciphertext } from "./elgamal.ts";
import {
  BASE_POINT,
  decodePoint,
  decodeScalar,
  ELEMENT_BYTES,
  encodePoint,
  encodeScalar,
  fixedBase,
  modL,
  multiplyEncodedMany,
  packPoints,
  type Point,
  randomScalars,
  unpackPoints,
} from "./group.ts";

/** Task: encrypt a chunk. Args: u32be(width), public key, messages (count·32w). */
export const ENCRYPT_BATCH_TASK = "reencrypt/encrypt-batch";
/**
 * Task: decrypt a chunk. Args: u32be(width), secret key (32 bytes), ciphertexts (count·64w),
 * u32be(position of the chunk's first ciphertext).
 */
export const DECRYPT_BATCH_TASK = "reencrypt/decrypt-batch";

function arg(args: Uint8Array[], i: number): Uint8Array {
  const a = args[i];
  if (a === undefined) throw new InvalidInputError(`Worker task argument ${i} is missing`);
  return a;
}

function readWidth(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function encryptChunk(args: Uint8Array[]): Uint8Array[] {
  const width = readWidth(arg(args, 0));
  const publicKey = decodePoint(arg(args, 1), "public key");
  const messages = arg(args, 2);
  const size = ELEMENT_BYTES * width;
  const count = messages.length / size;
  const out = new Uint8Array(count * 2 * size);
  const ms: Point[][] = [];
  for (let i = 0; i < count; i++) {
    ms.push(unpackPoints(messages.subarray(i * size, (i + 1) * size), `message ${i}`, {
      allowIdentity: true,
    }));
  }
  // c1 = g^r, c2 = m·pk^r with fresh r (elgamal.ts encrypt), the products two at a time.
  const r = randomScalars(count * width);
  const [gr, yr] = [fixedBase(BASE_POINT).multiplyMany(r), fixedBase(publicKey).multiplyMany(r)];
  for (let i = 0; i < count; i++) {
    const c1 = gr.slice(i * width, (i + 1) * width);
    const c2 = ms[i]!.map((m, k) => m.add(yr[i * width + k]!));
    out.set(Ciphertext.fromPoints(c1, c2).bytes, i * 2 * size);
  }
  return [out];
}

function decryptChunk(args: Uint8Array[]): Uint8Array[] {
  const width = readWidth(arg(args, 0));
  const secretKey = decodeScalar(arg(args, 1), "secret key");
  const cts = arg(args, 2);
  const start = readWidth(arg(args, 3)); // the chunk's first position, to name errors
  const size = 2 * ELEMENT_BYTES * width;
  const count = cts.length / size;
  const c2: Point[] = [];
  const c1Bytes = new Uint8Array(count * width * ELEMENT_BYTES);
  for (let i = 0; i < count; i++) {
    const ct = Ciphertext.fromBytes(
      cts.subarray(i * size, (i + 1) * size),
      `ciphertext ${start + i}`,
    );
    for (let k = 0; k < width; k++) {
      c1Bytes.set(
        ct.bytes.subarray(2 * k * ELEMENT_BYTES, (2 * k + 1) * ELEMENT_BYTES),
        (i * width + k) * ELEMENT_BYTES,
      );
      c2.push(ct.c2(k));
    }
  }
  // mₖ = c2ₖ − x·c1ₖ (elgamal.ts decrypt), the products x·c1ₖ two at a time.
  const shares = multiplyEncodedMany(c1Bytes, secretKey, (e) => `share ${e}`, {
    allowIdentity: true,
  });
  const xc1 = unpackPoints(shares, "share", { allowIdentity: true });
  return [packPoints(c2.map((m, e) => m.subtract(xc1[e]!)))];
}

registerWorkerTask(ENCRYPT_BATCH_TASK, encryptChunk);
registerWorkerTask(DECRYPT_BATCH_TASK, decryptChunk);

/** Options of the batch functions. */
export interface ElGamalBatchOptions {
  /** Workers (default the shared pool size; 1 = this thread). */
  workers?: number;
  /** Called after each round of chunks with items done and total. */
  onChunk?: (done: number, total: number) => void;
}

/** Runs `task` over chunks of `count` items, a few chunks per worker, in rounds for progress. */
async function runBatch(
  task: string,
  count: number,
  makeArgs: (lo: number, hi: number) => Uint8Array[],
  options: ElGamalBatchOptions,
): Promise<Uint8Array> {
  const workers = options.workers ?? workerCount();
  // Chunks of at most ~4096 items so each message stays small; at least 4 per worker.
  const ranges = splitRange(count, Math.max(4 * workers, Math.ceil(count / 4096)));
  // A sliding window of chunks built on demand (issue 17: no rounds, no all-chunk copies).
  let items = 0;
  const results = await runWorkerJobs(task, {
    count: ranges.length,
    args: (k) => makeArgs(...ranges[k]!),
  }, {
    workers,
    onJobDone: (done) => {
      const [lo, hi] = ranges[done - 1]!;
      items += hi - lo;
      options.onChunk?.(items, count);
    },
  });
  return joinBytes(results.map(([out]) => out!));
}

/**
 * Encrypts many messages (each w group elements, packed) under one public key, in
 * parallel on the worker pool.
 *
 * @param publicKey the public key
 * @param batch `width` w and `messages`: count·32w bytes of encoded elements
 * @param options workers and progress
 * @returns the ciphertexts, packed (count·64w bytes, in message order)
 * @throws {InvalidInputError} when the messages are not whole items or not group elements
 * @example
 * ```ts
 * import { decryptPackedBatch, encryptPackedBatch } from "./elgamal_batch.ts";
 * import { generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { encodePoint } from "./group.ts";
 * const keys = generateKeyPair();
 * const messages = encodePoint(encodeInteger(5));
 * const cts = await encryptPackedBatch(keys.publicKey, { width: 1, messages }, { workers: 1 });
 * const plain = await decryptPackedBatch(keys.secretKey, { width: 1, ciphertexts: cts }, { workers: 1 });
 * console.assert(plain.join() === messages.join());
 * ```
 */
export async function encryptPackedBatch(
  publicKey: Point,
  batch: { width: number; messages: Uint8Array },
  options: ElGamalBatchOptions = {},
): Promise<Uint8Array> {
  const size = ELEMENT_BYTES * batch.width;
  if (batch.width < 1 || batch.messages.length % size !== 0) {
    throw new InvalidInputError(`Messages must be a multiple of ${size} bytes`);
  }
  const pk = encodePoint(publicKey);
  return await runBatch(ENCRYPT_BATCH_TASK, batch.messages.length / size, (lo, hi) => [
    u32(batch.width),
    pk.slice(),
    batch.messages.slice(lo * size, hi * size),
  ], options);
}

/**
 * Decrypts many ciphertexts (packed) with the full secret key, in parallel on the worker pool.
 *
 * @param secretKey the secret scalar
 * @param batch `width` w and `ciphertexts`: count·64w bytes
 * @param options workers and progress
 * @returns the plaintext elements, packed (count·32w bytes, in ciphertext order)
 * @throws {InvalidInputError} when a ciphertext is malformed (named by its 0-based position)
 * @example
 * ```ts
 * import { decryptPackedBatch } from "./elgamal_batch.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = encrypt(keys.publicKey, [encodeInteger(2)]);
 * const plain = await decryptPackedBatch(keys.secretKey, { width: 1, ciphertexts: ct.bytes }, { workers: 1 });
 * console.assert(plain.length === 32);
 * ```
 */
export async function decryptPackedBatch(
  secretKey: bigint,
  batch: { width: number; ciphertexts: Uint8Array },
  options: ElGamalBatchOptions = {},
): Promise<Uint8Array> {
  const size = 2 * ELEMENT_BYTES * batch.width;
  if (batch.width < 1 || batch.ciphertexts.length % size !== 0) {
    throw new InvalidInputError(`Ciphertexts must be a multiple of ${size} bytes`);
  }
  const sk = encodeScalar(modL(secretKey));
  return await runBatch(DECRYPT_BATCH_TASK, batch.ciphertexts.length / size, (lo, hi) => [
    u32(batch.width),
    sk.slice(),
    batch.ciphertexts.slice(lo * size, hi * size),
    u32(lo),
  ], options);
}
