/**
 * The board log as a reader sees it: read a page at a time, the hash chain checked over
 * every entry and the signature of every post that comes with its body (longer bodies may
 * be left on the board and streamed with `postBodyStream`, board_stream.ts).
 *
 * @module
 */

import { VerificationError } from "../../core/errors.ts";
import { readBytes, readInteger, readRecord } from "../../core/fields.ts";
import { labelledDigest } from "../../core/transcript.ts";
import type { NodeClient } from "./client.ts";
import { numberPart, SIGNING_LABELS } from "./identity.ts";
import { MAX_POST_BODY, type Post, postDigest, readPost, verifyPostDigest } from "./posts.ts";

/**
 * One entry of the board log as {@linkcode boardLogEntries} gives it: the post, whose body
 * is absent when it was longer than the page's body limit (stream it with
 * `postBodyStream`, board_stream.ts, which checks it hashes to `digest`).
 */
export interface BoardLogEntry {
  /** Position in the log. */
  seq: number;
  /** The post; `body` is absent when it is streamed separately. */
  post: Omit<Post, "body"> & { body?: Uint8Array };
  /** Length of the body in bytes. */
  bodyBytes: number;
  /**
   * The post digest: computed from the body when it came with the page (and the signature
   * checked), else the board's, which the hash chain covers.
   */
  digest: Uint8Array;
}

/**
 * Reads the board log a page at a time, checking the hash chain over every entry and the
 * signature of every post that comes with its body. With `bodyLimit`, longer bodies stay
 * on the board: such an entry's signature is checked when its body is streamed (a reader
 * that never streams it has checked the chain over its digest only, as for a pruned post).
 * The inputs and mixes of archived jobs have no body left: their digests are chained and
 * they are not yielded (their jobs are added to `options.archived`).
 *
 * @param client client of the board
 * @param options `archived` collects the ids of archived jobs; `bodyLimit` leaves longer
 *   bodies out of the pages
 * @returns the entries in log order
 * @throws {VerificationError} when a signature or the chain does not verify
 * @example
 * ```ts ignore
 * for await (const entry of boardLogEntries(client, { bodyLimit: 65536 })) console.log(entry.seq);
 * ```
 */
export async function* boardLogEntries(
  client: NodeClient,
  options: { archived?: Set<string>; bodyLimit?: number } = {},
): AsyncGenerator<BoardLogEntry> {
  const pruned = new Set<string>();
  const archives = new Set<string>();
  let chain: Uint8Array = new Uint8Array(64);
  let after = 0;
  const limit = options.bodyLimit === undefined ? "" : `&bodyLimit=${options.bodyLimit}`;
  for (;;) {
    const { posts } = await client.getJson(
      `/v1/board/posts?after=${after}&limit=1000${limit}`,
    ) as {
      posts: unknown[];
    };
    if (posts.length === 0) break;
    for (const value of posts) {
      const record = readRecord(value, "post");
      const seq = readInteger(record.seq, "post.seq");
      if (seq !== after + 1) throw new VerificationError(`Board log skips from ${after} to ${seq}`);
      const claimed = readBytes(record.chain, `post ${seq}.chain`, { length: 64 });
      if (record.pruned === true) {
        // An archived job's inputs or mix: only its digest is left, which the chain covers.
        const digest = readBytes(record.digest, `post ${seq}.digest`, { length: 64 });
        chain = labelledDigest(SIGNING_LABELS.chain, [chain, numberPart(seq), digest]);
        if (!claimed.every((b, i) => b === chain[i])) {
          throw new VerificationError(`Board hash chain breaks at post ${seq}`);
        }
        pruned.add(String(record.job));
        options.archived?.add(String(record.job));
        after = seq;
        continue;
      }
      let entry: BoardLogEntry;
      if (options.bodyLimit !== undefined && record.body === undefined) {
        // A body over the limit: the board gives its length and the post's digest.
        const bodyBytes = readInteger(record.bodyBytes, `post ${seq}.bodyBytes`, {
          min: options.bodyLimit + 1,
          max: MAX_POST_BODY,
        });
        const post = readPost({ ...record, body: new Uint8Array(0) }, `post ${seq}`);
        const { body: _, ...rest } = post;
        entry = {
          seq,
          post: rest,
          bodyBytes,
          digest: readBytes(record.digest, `post ${seq}.digest`, { length: 64 }),
        };
      } else {
        const post = readPost(value, `post ${seq}`);
        const digest = postDigest(post);
        verifyPostDigest(post, digest);
        entry = { seq, post, bodyBytes: post.body.length, digest };
      }
      // Recompute chain_n = H(chain_{n-1}, seq, digest) and compare with what the board says.
      chain = labelledDigest(SIGNING_LABELS.chain, [chain, numberPart(seq), entry.digest]);
      if (!claimed.every((b, i) => b === chain[i])) {
        throw new VerificationError(`Board hash chain breaks at post ${seq}`);
      }
      if (entry.post.type === "archive") archives.add(entry.post.job);
      after = seq;
      yield entry;
    }
  }
  // A board may leave out a post's body only for a job an `archive` post archived.
  for (const job of pruned) {
    if (!archives.has(job)) {
      throw new VerificationError(
        `Board serves pruned posts of job '${job}', which is not archived`,
      );
    }
  }
}

/**
 * Reads the whole board log, checking every signature and the hash chain. The inputs
 * and mixes of archived jobs have no body left: their digests are chained, and they are
 * left out of the result (their jobs are added to `options.archived`). Every post is held
 * in memory: {@linkcode boardLogEntries} reads a page at a time.
 *
 * @param client client of the board
 * @param options `archived` collects the ids of archived jobs
 * @returns the posts in order
 * @throws {VerificationError} when a signature or the chain does not verify
 * @example
 * ```ts ignore
 * const posts = await readBoardLog(new NodeClient(boardUrl));
 * ```
 */
export async function readBoardLog(
  client: NodeClient,
  options: { archived?: Set<string> } = {},
): Promise<Post[]> {
  const out: Post[] = [];
  for await (const entry of boardLogEntries(client, options)) out.push(entry.post as Post);
  return out;
}
