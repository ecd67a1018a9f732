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
  decodePoint,
  decodeScalar,
  ELEMENT_BYTES,
  encodePoint,
  multiplyPoint,
  multiScalarMul,
  type Point,
  unpackPoints,
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

/** Decodes the c1 elements of a chunk of ciphertexts (64·w bytes each), named globally. */
function c1Points(bytes: Uint8Array, options: { width: number; start: number }): Point[] {
  const out: Point[] = [];
  const n = bytes.length / (2 * ELEMENT_BYTES);
  for (let e = 0; e < n; e++) {
    const at = 2 * e * ELEMENT_BYTES;
    const i = options.start + Math.floor(e / options.width), k = e % options.width;
    out.push(decodePoint(bytes.subarray(at, at + ELEMENT_BYTES), `ciphertext ${i}.c1[${k}]`));
  }
  return out;
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
  const c1 = c1Points(arg(args, 2), { width, start });
  const out = new Uint8Array(c1.length * ELEMENT_BYTES);
  // dᵢₖ = c1ᵢₖ^{xⱼ} (constant-time ladder: xⱼ is secret).
  c1.forEach((p, e) => out.set(encodePoint(multiplyPoint(p, x)), e * ELEMENT_BYTES));
  return [out];
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
    const c1 = c1Points(arg(args, 1), { width, start });
    const sharesBytes = arg(args, 2);
    const c = multiScalarMul(c1, rho);
    if (sharesBytes.length === 0) return [c.toBytes(), new Uint8Array(0)];
    const d = unpackPoints(sharesBytes, "share", { offset: start * width });
    return [c.toBytes(), multiScalarMul(d, rho).toBytes()];
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
