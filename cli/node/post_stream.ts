/**
 * Posts whose body is never held whole by their author (issue 17): the body is given as
 * pieces that can be made again (e.g. a trustee's decryption post encoded a chunk at a time
 * from its share records in a spool file). It is read once to sign the post (the post digest
 * hashed as the pieces come) and to take its SHA-256 (to compare it with posts already on
 * the board), then the post envelope is hashed for the request signature and sent, each a
 * chunk at a time ({@linkcode NodeClient.postMsgpackStream}). The bytes on the wire are those
 * of `encodeMsgpack(postToEnvelope(post))` for the same post.
 *
 * What stays whole: the board reads a post into one buffer and holds it while it checks it.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { StreamedBytes, StreamedMap } from "../../core/msgpack_stream.ts";
import { labelledDigestStream } from "./async_digest.ts";
import type { NodeClient } from "./client.ts";
import { type Identity, numberPart, SIGNING_LABELS, textPart } from "./identity.ts";
import { MAX_POST_BODY, type PostType } from "./posts.ts";
import { InvalidInputError } from "../../core/errors.ts";

/** A post body given as pieces, made afresh at each call of `pieces`. */
export interface StreamedPostBody {
  /** Its length in bytes. */
  bytes: number;
  /** Its bytes in order (the same at every call). */
  pieces: () => AsyncIterable<Uint8Array>;
}

/** A signed post whose body is a {@linkcode StreamedPostBody}. */
export interface StreamedPost {
  /** Job id. */
  job: string;
  /** What the body is. */
  type: PostType;
  /** The author's public key. */
  author: Uint8Array;
  /** Time in ms since the epoch. */
  time: number;
  /** The body. */
  body: StreamedPostBody;
  /** The author's signature over the post digest. */
  signature: Uint8Array;
  /** The post digest (what the author signed; `postDigest` of the post). */
  digest: Uint8Array;
  /** SHA-256 of the body's bytes. */
  bodySha256: Uint8Array;
}

/**
 * Signs a post whose body is read as pieces: the post digest (`postDigest`, label
 * "panoramix/node/post/v1") hashed a piece at a time, and the body's SHA-256 beside it.
 *
 * @param author the signer
 * @param content job, type, body, time (default now)
 * @returns the signed post
 * @throws {InvalidInputError} when the body is over `MAX_POST_BODY` or its pieces do not
 *   hold `bytes` bytes
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPostFromBody } from "./posts.ts";
 * import { signStreamedPost } from "./post_stream.ts";
 * const author = generateIdentity();
 * const bytes = Uint8Array.of(0x90);
 * const post = await signStreamedPost(author, {
 *   job: "j", type: "ceremony", time: 1,
 *   body: { bytes: 1, pieces: async function* () { yield bytes; } },
 * });
 * const whole = createPostFromBody(author, { job: "j", type: "ceremony", body: bytes, time: 1 });
 * console.assert(post.signature.join() === whole.signature.join());
 * ```
 */
export async function signStreamedPost(
  author: Identity,
  content: { job: string; type: PostType; body: StreamedPostBody; time?: number },
): Promise<StreamedPost> {
  const { job, type, body } = content;
  if (body.bytes > MAX_POST_BODY) {
    throw new InvalidInputError(
      `Post body of ${body.bytes} bytes is over the ${MAX_POST_BODY} bytes a board post holds`,
    );
  }
  const time = Math.floor(content.time ?? Date.now());
  const post = labelledDigestStream(
    SIGNING_LABELS.post,
    [textPart(job), textPart(type), author.publicKey, numberPart(time)],
    body.bytes,
  );
  const plain = sha256.create();
  let seen = 0;
  for await (const piece of body.pieces()) {
    seen += piece.length;
    if (seen > body.bytes) break;
    post.update(piece);
    plain.update(piece);
  }
  if (seen !== body.bytes) {
    throw new InvalidInputError(`Post body pieces hold ${seen} bytes, not the ${body.bytes} given`);
  }
  const digest = post.digest();
  // Ed25519 over the post digest, as signParts signs (RFC 8032 §5.1.6).
  const signature = ed25519.sign(digest, author.secretKey);
  return {
    job,
    type,
    author: author.publicKey,
    time,
    body,
    signature,
    digest,
    bodySha256: plain.digest(),
  };
}

/**
 * The post's envelope with its body as pieces: written by `msgpackChunksAsync`, the same
 * bytes as `encodeMsgpack(postToEnvelope(post))`.
 *
 * @param post the signed post
 * @returns the value to write
 * @example
 * ```ts ignore
 * await client.postMsgpackStream("/v1/board/posts", () => streamedPostEnvelope(post));
 * ```
 */
export function streamedPostEnvelope(post: StreamedPost): StreamedMap {
  return new StreamedMap([
    ["v", 1],
    ["kind", "node.post"],
    ["job", post.job],
    ["type", post.type],
    ["author", post.author],
    ["time", post.time],
    ["body", new StreamedBytes(post.body.bytes, post.body.pieces())],
    ["signature", post.signature],
  ]);
}

/**
 * Submits a post whose body is read as pieces, sent as a stream.
 *
 * @param client the board client, signing as the post's author
 * @param post the signed post
 * @returns the board's receipt
 * @throws {NodeHttpError} when the board refuses the post (reason in the message)
 * @example
 * ```ts ignore
 * await submitStreamedPost(client, await signStreamedPost(identity, { job, type: "ceremony", body }));
 * ```
 */
export async function submitStreamedPost(
  client: NodeClient,
  post: StreamedPost,
): Promise<{ seq: number; digest: string; chain: string }> {
  return await client.postMsgpackStream("/v1/board/posts", () => streamedPostEnvelope(post)) as {
    seq: number;
    digest: string;
    chain: string;
  };
}
