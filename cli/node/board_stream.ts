/**
 * Post bodies as streams (issue 17 point 2): a reader of the board log asks for pages whose
 * long bodies are left out (`GET /v1/board/posts?bodyLimit=B`), then reads each body it needs
 * from `GET /v1/board/posts/:seq/body` as a byte stream, hashing it as it arrives: the post
 * digest the stream hashes to must be the one the hash chain covers, and the author's
 * signature must verify over it. A reader thus decodes a mix or a trustee's shares a chunk
 * at a time into record files instead of holding the post and its decoded lists.
 *
 * What stays whole: the board reads a body's row at once to serve it (SQLite gives a blob
 * whole; a body is at most 64 MiB, `MAX_POST_BODY`), held until its response ends, with the
 * bodies being sent at once bounded ({@linkcode ServedBodies}); and a post is still sent and
 * received as one message of at most that size.
 *
 * @module
 */

import { VerificationError } from "../../core/errors.ts";
import { HttpError } from "./http_error.ts";
import { labelledDigestStream } from "./async_digest.ts";
import type { BoardLogEntry } from "./board_log.ts";
import type { NodeClient } from "./client.ts";
import { numberPart, SIGNING_LABELS, textPart, verifyDigest } from "./identity.ts";

/** Bytes per piece of a streamed body. */
const BODY_PIECE = 256 * 1024;

/** Bodies longer than this are streamed by the election readers (shorter ones come in pages). */
export const STREAMED_BODY_BYTES = 64 * 1024;

/** Most bytes of post bodies one node holds at once to send them (then 503; one always goes). */
export const MAX_SERVED_BODY_BYTES = 256 * 1024 * 1024;

/** Seconds a reader refused by {@linkcode ServedBodies} is asked to wait (`Retry-After`). */
export const SERVED_BODIES_RETRY_SECONDS = 1;

/**
 * Bounds the bytes of the bodies `GET /v1/board/posts/:seq/body` holds at once: each is held
 * from its row's read until its response ends or is cancelled, so slow or many concurrent
 * readers cannot make a node hold one 64 MiB row each. Over the budget a request gets 503
 * with `Retry-After` (1 s; `NodeClient` waits and tries again); a body alone is always sent,
 * whatever its size.
 */
export class ServedBodies {
  #used = 0;
  #sending = 0;

  /**
   * Creates the budget.
   *
   * @param max most body bytes held at once
   */
  constructor(readonly max: number = MAX_SERVED_BODY_BYTES) {}

  /** Body bytes held by responses not yet ended. */
  get used(): number {
    return this.#used;
  }

  /**
   * The response for a body, counted against the budget until it ends.
   *
   * @param read reads the body (its row)
   * @returns the 200 response
   * @throws {HttpError} 503 when the budget is taken by other responses
   * @example
   * ```ts
   * import { ServedBodies } from "./board_stream.ts";
   * const served = new ServedBodies(100);
   * const a = served.respond(() => new Uint8Array(80));
   * // 503 while the first is held
   * const second = (() => {
   *   try {
   *     return served.respond(() => new Uint8Array(80)).status;
   *   } catch (error) {
   *     return (error as { status: number }).status;
   *   }
   * })();
   * console.assert(second === 503);
   * await a.arrayBuffer();
   * console.assert(served.used === 0);
   * ```
   */
  respond(read: () => Uint8Array): Response {
    const body = read();
    if (this.#sending > 0 && this.#used + body.length > this.max) {
      throw new HttpError(
        503,
        "unavailable",
        `This node is sending ${this.#used} bytes of post bodies (limit ${this.max}); retry later`,
        { "retry-after": String(SERVED_BODIES_RETRY_SECONDS) },
      );
    }
    this.#used += body.length;
    this.#sending++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#used -= body.length;
      this.#sending--;
    };
    return postBodyResponse(body, release);
  }
}

/**
 * The response of `GET /v1/board/posts/:seq/body`: the body bytes, in pieces.
 *
 * @param body the body (held by the caller)
 * @param onDone called once when the stream ends or is cancelled
 * @returns a 200 `application/msgpack` response
 * @example
 * ```ts
 * import { postBodyResponse } from "./board_stream.ts";
 * const response = postBodyResponse(new Uint8Array(10));
 * console.assert((await response.arrayBuffer()).byteLength === 10);
 * ```
 */
export function postBodyResponse(body: Uint8Array, onDone?: () => void): Response {
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= body.length) {
        controller.close();
        onDone?.();
        return;
      }
      const end = Math.min(body.length, offset + BODY_PIECE);
      controller.enqueue(body.slice(offset, end));
      offset = end;
    },
    cancel() {
      onDone?.();
    },
  }, { highWaterMark: 1 });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "application/msgpack",
      "content-length": String(body.length),
    },
  });
}

/**
 * The body of a logged post as a stream. A body that came with its page is given as it is
 * (its signature was checked); a streamed one is hashed as it is read, and once it ends the
 * stream errors unless it had the listed length, hashes to the entry's digest (the one the
 * chain covers) and the author's signature verifies over that digest. A reader that decodes
 * the stream to its end (`MsgpackStreamReader.end`) therefore never accepts a changed body.
 *
 * @param client board client
 * @param entry the log entry
 * @returns the body's bytes
 * @throws {VerificationError} (from the stream's reads) "Board post N's body …" when it is
 *   short, long, or does not match the digest or the signature
 * @example
 * ```ts ignore
 * const reader = new MsgpackStreamReader(await postBodyStream(client, entry));
 * ```
 */
export async function postBodyStream(
  client: NodeClient,
  entry: BoardLogEntry,
): Promise<ReadableStream<Uint8Array>> {
  if (entry.post.body !== undefined) return ReadableStream.from([entry.post.body]);
  const { post, seq, bodyBytes } = entry;
  const hash = labelledDigestStream(
    SIGNING_LABELS.post,
    [textPart(post.job), textPart(post.type), post.author, numberPart(post.time)],
    bodyBytes,
  );
  let seen = 0;
  const what = `Board post ${seq}'s body`;
  return (await client.getStream(`/v1/board/posts/${seq}/body`)).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(piece, out) {
        seen += piece.length;
        if (seen > bodyBytes) {
          throw new VerificationError(`${what} is longer than the ${bodyBytes} bytes listed`);
        }
        hash.update(piece);
        out.enqueue(piece);
      },
      flush() {
        if (seen < bodyBytes) {
          throw new VerificationError(
            `${what} is short: ${seen} of the ${bodyBytes} bytes listed`,
          );
        }
        const digest = hash.digest();
        if (!digest.every((b, i) => b === entry.digest[i])) {
          throw new VerificationError(`${what} does not match the digest the hash chain covers`);
        }
        verifyDigest(post.author, {
          digest,
          signature: post.signature,
          what: `post '${post.type}' of job '${post.job}'`,
        });
      },
    }),
  );
}
