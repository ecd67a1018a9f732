/**
 * Reading and independently verifying a job from a bulletin board over HTTP: fetch
 * every post, check each post's signature and the hash chain, rebuild each stage's
 * inputs and outputs, and run the backend's `verify` on every mix. Anyone can do this
 * with only the board URL — the board's own check on arrival is not trusted.
 *
 * @module
 */

import { joinBytes } from "../../core/bytes.ts";
import { decodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord } from "../../core/fields.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { labelledDigest } from "../../core/transcript.ts";
import type { NodeClient } from "./client.ts";
import {
  Ciphertext,
  ELEMENT_BYTES,
  encodeCiphertext,
  SHUFFLE_PROOF_LISTS,
  SHUFFLE_PROOF_VERSION,
} from "../../backends/reencrypt/mod.ts";
import {
  MIX_PART_KIND,
  MIX_PARTS_VERSION,
  MixPartsState,
  readMixFinal,
  readMixPart,
} from "./mix_parts.ts";
import { numberPart, SIGNING_LABELS } from "./identity.ts";
import {
  type JobSpec,
  MAX_POST_BODY,
  type Post,
  postDigest,
  readJobSpec,
  readPost,
  verifyPostDigest,
} from "./posts.ts";

/** One verified mixing stage. */
export interface VerifiedStage {
  /** Stage number. */
  stage: number;
  /** Inputs the mixer took. */
  inputs: number;
  /** Outputs it posted. */
  outputs: number;
}

/** The result of {@linkcode verifyJobFromBoard}. */
export interface VerifiedJob {
  /** The job spec. */
  spec: JobSpec;
  /** Every stage, verified. */
  stages: VerifiedStage[];
  /** The final outputs (envelopes, JSON view or msgpack form). */
  outputs: unknown[];
  /** Number of posts read (whole board log, chain checked). */
  posts: number;
  /** Set when a stage's check cannot rule out substituted outputs (issue 11 §15). */
  unverifiable?: string;
}

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

/**
 * The mix posts of a job as whole mixes: a mix in one post as it is, a mix in parts
 * (mix_parts.ts) put together in memory from its parts and final post, with the board's
 * rules (order, offsets, the parts the final post names).
 */
function wholeMixes(posts: Post[]): { author: Uint8Array; body: Envelope }[] {
  const out: { author: Uint8Array; body: Envelope }[] = [];
  let state: MixPartsState | undefined;
  let parts: ReturnType<typeof readMixPart>[] = [];
  for (const p of posts) {
    const body = decodeMsgpack(p.body, "mix") as Envelope;
    const what = `mix post ${out.length}`;
    if (body.kind === MIX_PART_KIND) {
      const part = readMixPart(body, `${what} part`);
      state ??= new MixPartsState(out.length);
      state.checkNext(part, p.author, what);
      state.take(part, part.count, postDigest(p), p.author, what);
      parts.push(part);
    } else if (body.v === MIX_PARTS_VERSION) {
      const final = readMixFinal(body, what);
      if (state === undefined) {
        throw new VerificationError(`${what}: the mix of stage ${final.stage} has no parts`);
      }
      state.checkFinal(final, p.author, what);
      const size = 2 * ELEMENT_BYTES * final.proof.width;
      const outputs: unknown[] = [];
      for (const part of parts) {
        for (let i = 0; i < part.count; i++) {
          outputs.push(encodeCiphertext(
            Ciphertext.unchecked(part.outputs.slice(i * size, (i + 1) * size), "output"),
          ));
        }
      }
      const proof: Envelope = {
        v: SHUFFLE_PROOF_VERSION,
        kind: "reencrypt.shuffle-proof",
        count: final.proof.count,
        width: final.proof.width,
        commitments: final.proof.commitments,
        challenge: final.proof.challenge,
        responses: final.proof.responses,
      };
      for (const l of SHUFFLE_PROOF_LISTS) proof[l] = joinBytes(parts.map((x) => x.lists[l]));
      out.push({
        author: p.author,
        body: { v: 1, kind: "node.mix", stage: final.stage, outputs, proof },
      });
      state = undefined;
      parts = [];
    } else out.push({ author: p.author, body });
  }
  if (state !== undefined) {
    throw new VerificationError(
      `Parts of the mix of stage ${out.length} end the log with no final post naming them`,
    );
  }
  return out;
}

/**
 * Verifies a job end to end from the board's public data.
 *
 * @param client client of the board
 * @param options job id and backend lookup
 * @returns the verified stages and final outputs
 * @throws {VerificationError} when any post, the chain or any mix proof fails
 * @example
 * ```ts ignore
 * const result = await verifyJobFromBoard(client, { job: "j1", backendByName });
 * ```
 */
export async function verifyJobFromBoard(
  client: NodeClient,
  options: { job: string; backendByName: (name: string) => AnyMixBackend },
): Promise<VerifiedJob> {
  const archived = new Set<string>();
  const posts = await readBoardLog(client, { archived });
  if (archived.has(options.job)) {
    throw new VerificationError(
      `Job '${options.job}' is archived on the board: its inputs and mixes were pruned, ` +
        "so it cannot be verified from the board any more",
    );
  }
  const mine = posts.filter((p) => p.job === options.job);
  const jobPost = mine.find((p) => p.type === "job");
  if (!jobPost) throw new VerificationError(`Job '${options.job}' has no job post on the board`);
  const spec = readJobSpec(decodeMsgpack(jobPost.body, "job"), "job");
  const backend = options.backendByName(spec.backend);
  let current: unknown[] = [];
  for (const p of mine) {
    if (p.type === "inputs") {
      const body = decodeMsgpack(p.body, "inputs") as Envelope;
      current.push(...readArray(body.items, "inputs.items"));
    }
    if (p.type === "close") break;
  }
  const stages: VerifiedStage[] = [];
  let unverifiable: string | undefined;
  const mixes = wholeMixes(mine.filter((p) => p.type === "mix"));
  for (const [i, p] of mixes.entries()) {
    const body = p.body;
    const stage = readInteger(body.stage, "mix.stage");
    const expected = spec.stages[stage];
    if (stage !== i || !expected || !expected.mixer.every((b, j) => b === p.author[j])) {
      throw new VerificationError(`Mix post ${i} is not stage ${i} by its mixer`);
    }
    const outputs = readArray(body.outputs, "mix.outputs");
    const report = await backend.verify(
      current.map((v, j) => backend.input.decode(v, `stage ${stage} input ${j + 1}`)),
      outputs.map((v, j) => backend.output.decode(v, `stage ${stage} output ${j + 1}`)),
      readRecord(body.proof, "mix.proof") as Envelope,
      { key: expected.key, ...(spec.context === undefined ? {} : { context: spec.context }) },
    );
    unverifiable ??= report.unverifiable;
    stages.push({ stage, inputs: current.length, outputs: outputs.length });
    current = outputs;
  }
  return {
    spec,
    stages,
    outputs: current,
    posts: posts.length,
    ...(unverifiable === undefined ? {} : { unverifiable }),
  };
}
