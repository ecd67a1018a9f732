/**
 * Reading and independently verifying a job from a bulletin board over HTTP: fetch
 * every post, check each post's signature and the hash chain, rebuild each stage's
 * inputs and outputs, and run the backend's `verify` on every mix. Anyone can do this
 * with only the board URL — the board's own check on arrival is not trusted.
 *
 * @module
 */

import { decodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord } from "../../core/fields.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { labelledDigest } from "../../core/transcript.ts";
import type { NodeClient } from "./client.ts";
import { numberPart, SIGNING_LABELS } from "./identity.ts";
import { type JobSpec, type Post, postDigest, readJobSpec, readPost, verifyPost } from "./posts.ts";

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
 * Reads the whole board log, checking every signature and the hash chain. The inputs
 * and mixes of archived jobs have no body left: their digests are chained, and they are
 * left out of the result (their jobs are added to `options.archived`).
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
  const pruned = new Set<string>();
  let chain: Uint8Array = new Uint8Array(64);
  let after = 0;
  for (;;) {
    const { posts } = await client.getJson(`/v1/board/posts?after=${after}&limit=1000`) as {
      posts: unknown[];
    };
    if (posts.length === 0) break;
    for (const value of posts) {
      const record = readRecord(value, "post");
      const seq = readInteger(record.seq, "post.seq");
      if (seq !== after + 1) throw new VerificationError(`Board log skips from ${after} to ${seq}`);
      if (record.pruned === true) {
        // An archived job's inputs or mix: only its digest is left, which the chain covers.
        const digest = readBytes(record.digest, `post ${seq}.digest`, { length: 64 });
        chain = labelledDigest(SIGNING_LABELS.chain, [chain, numberPart(seq), digest]);
        const claimed = readBytes(record.chain, `post ${seq}.chain`, { length: 64 });
        if (!claimed.every((b, i) => b === chain[i])) {
          throw new VerificationError(`Board hash chain breaks at post ${seq}`);
        }
        pruned.add(String(record.job));
        options.archived?.add(String(record.job));
        after = seq;
        continue;
      }
      const post = readPost(value, `post ${seq}`);
      verifyPost(post);
      // Recompute chain_n = H(chain_{n-1}, seq, digest) and compare with what the board says.
      chain = labelledDigest(SIGNING_LABELS.chain, [chain, numberPart(seq), postDigest(post)]);
      const claimed = readBytes(record.chain, `post ${seq}.chain`, { length: 64 });
      if (!claimed.every((b, i) => b === chain[i])) {
        throw new VerificationError(`Board hash chain breaks at post ${seq}`);
      }
      out.push(post);
      after = seq;
    }
  }
  // A board may leave out a post's body only for a job an `archive` post archived.
  for (const job of pruned) {
    if (!out.some((p) => p.job === job && p.type === "archive")) {
      throw new VerificationError(
        `Board serves pruned posts of job '${job}', which is not archived`,
      );
    }
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
  const mixes = mine.filter((p) => p.type === "mix");
  for (const [i, p] of mixes.entries()) {
    const body = decodeMsgpack(p.body, "mix") as Envelope;
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
