/**
 * LIONESS wide-block cipher (Anderson & Biham, "Two practical and provably secure block
 * ciphers: BEAR and LION", FSE 1996) with ChaCha20 as the stream cipher (./chacha20.ts)
 * and keyed BLAKE2b-256 as the hash (./blake2b.ts). Any change to a ciphertext bit scrambles the whole block
 * on decryption, which is what lets the Sphinx exit detect payload tampering
 * (D&G 2009 §3.4).
 *
 * Block = L (32 bytes) ‖ R (the rest). Keys K1..K4 are 32 bytes each.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { keyedBlake2b256 } from "./blake2b.ts";
import { chacha20XorInPlace } from "./chacha20.ts";

/** Bytes of the LIONESS key (K1 ‖ K2 ‖ K3 ‖ K4). */
export const LIONESS_KEY_SIZE = 128;
/** Bytes of the left half L. */
const LEFT = 32;

function check(key: Uint8Array, block: Uint8Array): void {
  if (key.length !== LIONESS_KEY_SIZE) {
    throw new InvalidInputError(`LIONESS key must be ${LIONESS_KEY_SIZE} bytes, got ${key.length}`);
  }
  if (block.length <= LEFT) {
    throw new InvalidInputError(
      `LIONESS block must be longer than ${LEFT} bytes, got ${block.length}`,
    );
  }
}

// R ← R ⊕ ChaCha20(L ⊕ K)
function streamRound(left: Uint8Array, right: Uint8Array, k: Uint8Array): void {
  const key = new Uint8Array(LEFT);
  for (let i = 0; i < LEFT; i++) key[i] = left[i]! ^ k[i]!;
  chacha20XorInPlace(key, right);
}

// L ← L ⊕ BLAKE2b-256_K(R)
function hashRound(left: Uint8Array, right: Uint8Array, k: Uint8Array): void {
  const h = keyedBlake2b256(k, right);
  for (let i = 0; i < LEFT; i++) left[i]! ^= h[i]!;
}

/**
 * Encrypts one block with LIONESS.
 *
 * @param key 128-byte key K1‖K2‖K3‖K4
 * @param block plaintext, longer than 32 bytes
 * @returns a new ciphertext array of the same length
 * @throws {InvalidInputError} on wrong key or block length
 * @example
 * ```ts
 * import { lionessDecrypt, lionessEncrypt } from "./lioness.ts";
 * const key = new Uint8Array(128).fill(1);
 * const block = new Uint8Array(64).fill(2);
 * console.assert(lionessDecrypt(key, lionessEncrypt(key, block)).join() === block.join());
 * ```
 */
export function lionessEncrypt(key: Uint8Array, block: Uint8Array): Uint8Array {
  const out = block.slice();
  lionessEncryptInPlace(key, out);
  return out;
}

/**
 * Encrypts one block with LIONESS in place (no copy: packet creation layers every hop's
 * encryption on one buffer).
 *
 * @param key 128-byte key K1‖K2‖K3‖K4
 * @param block plaintext, longer than 32 bytes; replaced by the ciphertext
 * @throws {InvalidInputError} on wrong key or block length
 * @example
 * ```ts
 * import { lionessDecrypt, lionessEncryptInPlace } from "./lioness.ts";
 * const key = new Uint8Array(128).fill(5);
 * const block = new Uint8Array(48).fill(6);
 * lionessEncryptInPlace(key, block);
 * console.assert(lionessDecrypt(key, block).every((b) => b === 6));
 * ```
 */
export function lionessEncryptInPlace(key: Uint8Array, block: Uint8Array): void {
  check(key, block);
  const left = block.subarray(0, LEFT), right = block.subarray(LEFT);
  streamRound(left, right, key.subarray(0, 32));
  hashRound(left, right, key.subarray(32, 64));
  streamRound(left, right, key.subarray(64, 96));
  hashRound(left, right, key.subarray(96, 128));
}

/**
 * Decrypts one block with LIONESS (the rounds of {@linkcode lionessEncrypt} in reverse).
 *
 * @param key 128-byte key K1‖K2‖K3‖K4
 * @param block ciphertext, longer than 32 bytes
 * @returns a new plaintext array of the same length
 * @throws {InvalidInputError} on wrong key or block length
 * @example
 * ```ts
 * import { lionessDecrypt, lionessEncrypt } from "./lioness.ts";
 * const key = new Uint8Array(128).fill(3);
 * const block = new Uint8Array(40).fill(4);
 * console.assert(lionessEncrypt(key, lionessDecrypt(key, block)).join() === block.join());
 * ```
 */
export function lionessDecrypt(key: Uint8Array, block: Uint8Array): Uint8Array {
  const out = block.slice();
  lionessDecryptInPlace(key, out);
  return out;
}

/**
 * Decrypts one block with LIONESS in place (a node decrypts the payload straight into the
 * packet it forwards).
 *
 * @param key 128-byte key K1‖K2‖K3‖K4
 * @param block ciphertext, longer than 32 bytes; replaced by the plaintext
 * @throws {InvalidInputError} on wrong key or block length
 * @example
 * ```ts
 * import { lionessDecryptInPlace, lionessEncrypt } from "./lioness.ts";
 * const key = new Uint8Array(128).fill(7);
 * const block = lionessEncrypt(key, new Uint8Array(48).fill(8));
 * lionessDecryptInPlace(key, block);
 * console.assert(block.every((b) => b === 8));
 * ```
 */
export function lionessDecryptInPlace(key: Uint8Array, block: Uint8Array): void {
  check(key, block);
  const left = block.subarray(0, LEFT), right = block.subarray(LEFT);
  hashRound(left, right, key.subarray(96, 128));
  streamRound(left, right, key.subarray(64, 96));
  hashRound(left, right, key.subarray(32, 64));
  streamRound(left, right, key.subarray(0, 32));
}
