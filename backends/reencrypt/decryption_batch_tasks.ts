/**
 * Worker tasks of batched decryption shares (see decryption_batch.ts), over byte arrays,
 * registered statically so the compiled binary and the bundle hold them. Each task
 * handles one contiguous chunk of ciphertexts.
 *
 * @module
 */

import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { registerWorkerTask } from "../../core/worker_pool.ts";
import {
  decodeScalar,
  ELEMENT_BYTES,
  encodePoint,
  multiplyEncodedMany,
  multiScalarMulNamed,
  unpackScalars,
} from "./group.ts";
import { chunkHeader } from "./shuffle_tasks.ts";

/** Task: dᵢₖ = xⱼ·c1ᵢₖ for a chunk of ciphertexts (secret scalar, constant-time multiply). */
export const SHARE_BATCH_CREATE_TASK = "reencrypt/decryption-share-batch-create";
/** Task: partial sums Σ ρᵢₖ·c1ᵢₖ and Σ ρᵢₖ·dᵢₖ for a chunk. */
export const SHARE_BATCH_COMBINE_TASK = "reencrypt/decryption-share-batch-combine";

export { chunkHeader };

function arg(args: Uint8Array[], i: number): Uint8Array {
  const a = args[i];
  if (a === undefined) throw new InvalidInputError(`Worker task argument ${i} is missing`);
  return a;
}

function readHeader(bytes: Uint8Array): { width: number; start: number; count: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(0), start: view.getUint32(4), count: view.getUint32(8) };
}

/** The c1 encodings of a chunk of ciphertexts (64·w bytes each), packed. */
function c1Bytes(cts: Uint8Array): Uint8Array {
  if (cts.length % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(
      `Ciphertext chunk must be a multiple of 64 bytes, got ${cts.length}`,
    );
  }
  const c1 = new Uint8Array(cts.length / 2);
  for (let e = 0; e < c1.length; e += ELEMENT_BYTES) {
    c1.set(cts.subarray(2 * e, 2 * e + ELEMENT_BYTES), e);
  }
  return c1;
}

/** Names c1 element e of a chunk globally: `ciphertext i.c1[k]`. */
function c1Name(width: number, start: number): (e: number) => string {
  return (e) => `ciphertext ${start + Math.floor(e / width)}.c1[${e % width}]`;
}

/**
 * Creates the shares of a chunk. Args: header, secret scalar xⱼ (32 bytes), ciphertexts
 * (count·64w). Result: the shares dᵢₖ = xⱼ·c1ᵢₖ (count·32w).
 *
 * @param args see above
 * @returns see above
 */
export function createShareChunk(args: Uint8Array[]): Uint8Array[] {
  const { width, start } = readHeader(arg(args, 0));
  const x = decodeScalar(arg(args, 1), "secret share");
  if (x === 0n) throw new InvalidInputError("Secret share 'secret' must not be zero");
  // dᵢₖ = c1ᵢₖ^{xⱼ} (constant-time table scan: xⱼ is secret), two at a time.
  return [multiplyEncodedMany(c1Bytes(arg(args, 2)), x, c1Name(width, start))];
}

/**
 * Partial random linear combinations of a chunk. Args: header, ciphertexts (count·64w),
 * shares (count·32w, or empty to skip D), ρ (count·w scalars). Result: Σ ρ·c1 and Σ ρ·d
 * (identity allowed; the second is the identity when the shares are empty).
 *
 * @param args see above
 * @returns see above
 * @throws {VerificationError} when an element is not a valid non-identity group element
 */
export function combineShareChunk(args: Uint8Array[]): Uint8Array[] {
  const { width, start } = readHeader(arg(args, 0));
  try {
    const rho = unpackScalars(arg(args, 3), "rho");
    const sharesBytes = arg(args, 2);
    // Straight from the encodings (decoded two at a time), errors as one-by-one decoding.
    const c = multiScalarMulNamed(c1Bytes(arg(args, 1)), rho, c1Name(width, start));
    if (sharesBytes.length === 0) return [encodePoint(c), new Uint8Array(0)];
    if (sharesBytes.length % ELEMENT_BYTES !== 0) {
      throw new InvalidInputError("Element list 'share' must be a multiple of 32 bytes");
    }
    const offset = start * width;
    const d = multiScalarMulNamed(sharesBytes, rho, (e) => `share[${offset + e}]`);
    return [encodePoint(c), encodePoint(d)];
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new VerificationError(`Decryption share batch rejected: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

registerWorkerTask(SHARE_BATCH_CREATE_TASK, createShareChunk);
registerWorkerTask(SHARE_BATCH_COMBINE_TASK, combineShareChunk);
