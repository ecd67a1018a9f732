/**
 * Test support: byte streams cut into pieces, to test readers that take a stream a chunk at
 * a time (every cut point of a message must read alike).
 *
 * @module
 */

/**
 * A stream that hands out `bytes` in pieces of `piece` bytes (the last one shorter).
 *
 * @param bytes the whole content
 * @param piece bytes per piece (≥ 1)
 * @returns the stream
 * @example
 * ```ts
 * import { streamInPieces } from "./byte_stream_test_support.ts";
 * const reader = streamInPieces(new Uint8Array(5), 2).getReader();
 * console.assert((await reader.read()).value!.length === 2);
 * ```
 */
export function streamInPieces(bytes: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + piece));
      at += piece;
    },
  });
}
