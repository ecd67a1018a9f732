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
import { createSha512 } from "../../core/sha512_wasm.ts";

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

/**
 * `labelledDigest(protocol, [...parts, last])` where `last`, of `lastBytes` bytes, arrives
 * in pieces (a post body read as a stream): nothing of it is held.
 *
 * @param protocol domain-separation label with version
 * @param parts the parts before the streamed one
 * @param lastBytes length of the streamed last part
 * @returns `update(piece)` to absorb the next piece, `digest()` when all of it was given
 * @throws {RangeError} from `update` or `digest` when the pieces add up to another length
 * @example
 * ```ts
 * import { labelledDigest } from "../../core/transcript.ts";
 * import { labelledDigestStream } from "./async_digest.ts";
 * const d = labelledDigestStream("example/v1", [Uint8Array.of(1)], 3);
 * d.update(Uint8Array.of(2, 3));
 * d.update(Uint8Array.of(4));
 * const direct = labelledDigest("example/v1", [Uint8Array.of(1), Uint8Array.of(2, 3, 4)]);
 * console.assert(d.digest().join() === direct.join());
 * ```
 */
export function labelledDigestStream(
  protocol: string,
  parts: readonly Uint8Array[],
  lastBytes: number,
): { update(piece: Uint8Array): void; digest(): Uint8Array } {
  const hash = createSha512();
  const framed = [
    ...frame("domain", encoder.encode(TRANSCRIPT_DOMAIN)),
    ...frame("protocol", encoder.encode(protocol)),
    ...parts.flatMap((p) => frame("part", p)),
  ];
  for (const piece of framed) hash.update(piece);
  // The last part's frame header (label and length), then its bytes as they come.
  const [head] = frame("part", new Uint8Array(0));
  new DataView(head!.buffer).setBigUint64(head!.length - 8, BigInt(lastBytes));
  hash.update(head!);
  let seen = 0;
  return {
    update(piece) {
      seen += piece.length;
      if (seen > lastBytes) throw new RangeError(`More than ${lastBytes} bytes were hashed`);
      hash.update(piece);
    },
    digest() {
      if (seen !== lastBytes) throw new RangeError(`${seen} of ${lastBytes} bytes were hashed`);
      const challenge = encoder.encode("challenge:digest");
      const tail = new Uint8Array(4 + challenge.length);
      new DataView(tail.buffer).setUint32(0, challenge.length);
      tail.set(challenge, 4);
      return hash.update(tail).digest();
    },
  };
}
