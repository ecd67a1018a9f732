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
import { readArray, readInteger, readRecord } from "../../core/fields.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import {
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import type { JobSummary } from "./board.ts";
import type { NodeClient } from "./client.ts";
import {
  Ciphertext,
  decodePublicKey,
  ELEMENT_BYTES,
  encodeCiphertext,
  SHUFFLE_PROOF_LISTS,
  SHUFFLE_PROOF_VERSION,
  verifyShuffleRecords,
} from "../../backends/reencrypt/mod.ts";
import {
  MIX_PART_KIND,
  MIX_PARTS_VERSION,
  MixPartsState,
  readMixFinal,
  readMixPart,
} from "./mix_parts.ts";
import { type JobSpec, type Post, postDigest, readJobSpec } from "./posts.ts";
import { boardLogEntries } from "./board_log.ts";
import { readElectionCascadeRecords } from "../vote_board_records.ts";

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
  /**
   * The final outputs (envelopes, JSON view or msgpack form); absent when `sinks` was given
   * for a re-encryption job (then read `outputRecords`).
   */
  outputs?: unknown[];
  /**
   * A re-encryption job's final outputs as 64·w-byte records (in the `sinks` given, or in
   * memory), when it was read and verified on record lists.
   */
  outputRecords?: RecordSource;
  /** Number of posts read (whole board log, chain checked). */
  posts: number;
  /** Set when a stage's check cannot rule out substituted outputs (issue 11 §15). */
  unverifiable?: string;
}

export { boardLogEntries, type BoardLogEntry, readBoardLog } from "./board_log.ts";

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

/** Options of {@linkcode verifyJobFromBoard}. */
export interface VerifyJobFromBoardOptions {
  /** The job's id. */
  job: string;
  /** The backend of a name (the job's spec names it). */
  backendByName: (name: string) => AnyMixBackend;
  /**
   * Where a re-encryption job's lists go (e.g. a spool's files, `Spool.sinks`): with it the
   * final outputs are left there (`outputRecords`) instead of decoded into `outputs`.
   */
  sinks?: RecordSinkFactory;
  /** A re-encryption job's ciphertexts decoded at a time as they are read (default 4,096). */
  chunk?: number;
  /** Workers that check a re-encryption job's shuffle proofs (default: the pool's). */
  workers?: number;
}

/**
 * Verifies a job end to end from the board's public data.
 *
 * A re-encryption job that is closed and has inputs is read the way the election readers
 * read one (`readElectionCascadeRecords`): the log a page at a time, each inputs and mix
 * post's body streamed, checked against the digest the chain covers and its signature, and
 * decoded a chunk at a time into record lists (`options.sinks`, else memory), then each
 * shuffle proof checked on those lists (`verifyShuffleRecords`), no object per ciphertext.
 * Other jobs (other backends, an open job) are read whole: the log a page at a time with
 * every post of the job kept, and each stage's inputs and outputs as lists of objects for
 * the backend's `verify`.
 *
 * @param client client of the board
 * @param options job id, backend lookup, sinks for a re-encryption job's lists
 * @returns the verified stages and final outputs
 * @throws {VerificationError} when any post, the chain or any mix proof fails
 * @example
 * ```ts ignore
 * const result = await verifyJobFromBoard(client, { job: "j1", backendByName });
 * ```
 */
export async function verifyJobFromBoard(
  client: NodeClient,
  options: VerifyJobFromBoardOptions & { sinks?: undefined },
): Promise<VerifiedJob & { outputs: unknown[] }>;
/**
 * Verifies a job end to end from the board's public data; given `sinks`, a re-encryption
 * job's lists go there and its final outputs are left in them (`outputRecords`).
 *
 * @param client client of the board
 * @param options job id, backend lookup, sinks for a re-encryption job's lists
 * @returns the verified stages and final outputs
 * @throws {VerificationError} when any post, the chain or any mix proof fails
 * @example
 * ```ts ignore
 * const { outputRecords } = await verifyJobFromBoard(client, { job: "j1", backendByName, sinks: spool.sinks });
 * ```
 */
export async function verifyJobFromBoard(
  client: NodeClient,
  options: VerifyJobFromBoardOptions,
): Promise<VerifiedJob>;
export async function verifyJobFromBoard(
  client: NodeClient,
  options: VerifyJobFromBoardOptions,
): Promise<VerifiedJob> {
  // The board's summary only picks the way to read (the signed job post decides the
  // backend); a closed job's inputs no longer change while they are read.
  const summary = await client.getJson(
    `/v1/board/jobs/${encodeURIComponent(options.job)}`,
  ).catch(() => undefined) as JobSummary | undefined;
  if (
    summary?.backend === "reencrypt" && summary.state !== "open" && summary.inputs > 0 &&
    summary.archived !== true
  ) {
    return await verifyReencryptJobRecords(client, options);
  }
  return await verifyJobWhole(client, options);
}

/** {@linkcode verifyJobFromBoard} of a closed re-encryption job, on record lists. */
async function verifyReencryptJobRecords(
  client: NodeClient,
  options: VerifyJobFromBoardOptions,
): Promise<VerifiedJob> {
  const read = await readElectionCascadeRecords(client, {
    job: options.job,
    sinks: options.sinks ?? memoryRecordSinks,
    ...(options.chunk === undefined ? {} : { chunk: options.chunk }),
  });
  const spec = read.spec;
  if (spec === undefined) {
    throw new VerificationError(`Job '${options.job}' has no job post on the board`);
  }
  if (spec.backend !== "reencrypt") {
    throw new VerificationError(
      `Job '${options.job}' is of backend '${spec.backend}' in its job post; the board's summary says 'reencrypt'`,
    );
  }
  const stages: VerifiedStage[] = [];
  let current = read.inputs;
  for (const [stage, mix] of read.mixes.entries()) {
    await verifyShuffleRecords(
      {
        publicKey: decodePublicKey(spec.stages[stage]!.key, `stage ${stage} key`),
        inputs: current,
        outputs: mix.outputs,
        ...(spec.context === undefined ? {} : { context: spec.context }),
      },
      mix.proof,
      options.workers === undefined ? {} : { workers: options.workers },
    );
    stages.push({ stage, inputs: current.count, outputs: mix.outputs.count });
    current = mix.outputs;
  }
  return {
    spec,
    stages,
    ...(options.sinks === undefined ? { outputs: ciphertextEnvelopes(current) } : {}),
    outputRecords: current,
    posts: read.posts,
  };
}

/** Ciphertext records as envelopes (their bytes were checked by the proof's verification). */
function ciphertextEnvelopes(records: RecordSource): unknown[] {
  const out: unknown[] = [];
  const size = records.recordBytes;
  for (let lo = 0; lo < records.count; lo += 4096) {
    const hi = Math.min(records.count, lo + 4096);
    const bytes = records.read(lo, hi);
    for (let i = 0; i < hi - lo; i++) {
      out.push(
        encodeCiphertext(Ciphertext.unchecked(bytes.slice(i * size, (i + 1) * size), "output")),
      );
    }
  }
  return out;
}

/** {@linkcode verifyJobFromBoard} with the job's posts and lists in memory. */
async function verifyJobWhole(
  client: NodeClient,
  options: VerifyJobFromBoardOptions,
): Promise<VerifiedJob> {
  const archived = new Set<string>();
  // The log a page at a time (chain and signatures checked); only this job's posts are kept.
  const mine: Post[] = [];
  let posts = 0;
  for await (const entry of boardLogEntries(client, { archived })) {
    posts++;
    if (entry.post.job === options.job) mine.push(entry.post as Post);
  }
  if (archived.has(options.job)) {
    throw new VerificationError(
      `Job '${options.job}' is archived on the board: its inputs and mixes were pruned, ` +
        "so it cannot be verified from the board any more",
    );
  }
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
    posts,
    ...(unverifiable === undefined ? {} : { unverifiable }),
  };
}
