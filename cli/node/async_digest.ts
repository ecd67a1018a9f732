/**
 * Digests of big inputs off the event loop (issue 11 §10): the same SHA-256 and
 * labelled SHA-512 digests as `sha256Digest` and `labelledDigest` (transcript framing of
 * `core/transcript.ts`, docs/transcript.md), computed with WebCrypto, which hashes on a
 * runtime thread. A 10 MiB post body then costs the event loop a copy (~10 ms), not the
 * ~350 ms of a hash in JavaScript. Small inputs are hashed in place (no thread hop).
 *
 * @module
 */

import { labelledDigest } from "../../core/transcript.ts";
import { sha256Digest } from "./identity.ts";

/** Inputs shorter than this are hashed synchronously (faster than a thread hop). */
export const ASYNC_DIGEST_BYTES = 64 * 1024;

const encoder = new TextEncoder();
// Must match core/transcript.ts (DOMAIN and the framing of Transcript).
const TRANSCRIPT_DOMAIN = "panoramix/transcript/v1";

function frame(label: string, data: Uint8Array): Uint8Array[] {
  const name = encoder.encode(label);
  const head = new Uint8Array(4 + name.length + 8);
  const view = new DataView(head.buffer);
  view.setUint32(0, name.length);
  head.set(name, 4);
  view.setBigUint64(4 + name.length, BigInt(data.length));
  return [head, data];
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * SHA-256 of bytes, hashed off the event loop when they are big.
 *
 * @param bytes the bytes
 * @returns the 32-byte digest (equal to `sha256Digest(bytes)`)
 * @example
 * ```ts
 * import { sha256Async } from "./async_digest.ts";
 * console.assert((await sha256Async(new Uint8Array(100_000))).length === 32);
 * ```
 */
export async function sha256Async(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < ASYNC_DIGEST_BYTES) return sha256Digest(bytes);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/**
 * `labelledDigest(protocol, parts)` (SHA-512 over the transcript framing: domain,
 * protocol, each part framed as "part", then the "challenge:digest" label), hashed off
 * the event loop when the parts are big.
 *
 * @param protocol domain-separation label with version
 * @param parts the byte strings
 * @returns 64 bytes (equal to `labelledDigest(protocol, parts)`)
 * @example
 * ```ts
 * import { labelledDigestAsync } from "./async_digest.ts";
 * console.assert((await labelledDigestAsync("example/v1", [new Uint8Array(1)])).length === 64);
 * ```
 */
export async function labelledDigestAsync(
  protocol: string,
  parts: readonly Uint8Array[],
): Promise<Uint8Array> {
  if (parts.reduce((n, p) => n + p.length, 0) < ASYNC_DIGEST_BYTES) {
    return labelledDigest(protocol, parts);
  }
  const challenge = encoder.encode("challenge:digest");
  const tail = new Uint8Array(4 + challenge.length);
  new DataView(tail.buffer).setUint32(0, challenge.length);
  tail.set(challenge, 4);
  const framed = concat([
    ...frame("domain", encoder.encode(TRANSCRIPT_DOMAIN)),
    ...frame("protocol", encoder.encode(protocol)),
    ...parts.flatMap((p) => frame("part", p)),
    tail,
  ]);
  return new Uint8Array(await crypto.subtle.digest("SHA-512", framed));
}
