/**
 * Elections through mix nodes and their bulletin board. One job id (default
 * `vote-<election id>`) names everything of an election on the board:
 *
 * - the definition (post `election`, by a board admin), which names the trustees' keys;
 * - the trustees' signed ceremony posts and decryption shares (posts `ceremony`, each by
 *   its trustee; the board checks author, signature and, for shares, the batch proof);
 * - the mixing job: the election's mix input as a `reencrypt` cascade job, one stage per
 *   mixer node keyed with the election public key and the fingerprint as `context`.
 *
 * Every step is idempotent so an interrupted step is resumed by running it again: a job
 * that already exists with the same spec is reused, inputs already on the board are not
 * sent twice, a closed job is not closed again, a post already on the board is not posted
 * again. Readers check the board log's signatures and hash chain (board_reader.ts).
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { encodeMsgpack, type Envelope } from "../core/envelope.ts";
import { ConfigError, NotFoundError, VerificationError } from "../core/errors.ts";
import { memoryRecordSinks, type RecordSinkFactory, type RecordSource } from "../core/records.ts";
import {
  type Ciphertext,
  encodeCiphertext,
  encodePublicKey,
  type ShuffleProof,
  shuffleProofFromRecords,
} from "../backends/reencrypt/mod.ts";
import {
  type CeremonyElection,
  type CeremonyPosts,
  ciphertextRecords,
  DECRYPTION_POST_KIND,
  type ElectionCascade,
  type ElectionDecryption,
  electionDefinitionToEnvelope,
  type ElectionPublicInfo,
  readCiphertexts,
} from "../plugins/vote/mod.ts";
import { boardLogEntries, type BoardLogEntry } from "./node/board_reader.ts";
import { postBodyStream, STREAMED_BODY_BYTES } from "./node/board_stream.ts";
import type { JobSummary } from "./node/board.ts";
import { NodeHttpError } from "./node/client.ts";
import type { NodeClient } from "./node/client.ts";
import {
  checkCeremonyBody,
  type CheckedCeremonyPost,
  collectCeremony,
} from "./node/election_board.ts";
import type { Identity } from "./node/identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./node/job_client.ts";
import { createPost, createPostFromBody, jobBody, type JobSpec, type Post } from "./node/posts.ts";
import { signStreamedPost, type StreamedPostBody, submitStreamedPost } from "./node/post_stream.ts";
import {
  type BoardMixRecords,
  bodyKind,
  postedInputs,
  readElectionCascadeRecords,
} from "./vote_board_records.ts";

/** Inputs per `inputs` post of `vote close` (a post of 500 width-1 ciphertexts is ~55 KB). */
export const INPUTS_PER_POST = 500;

/**
 * The default board job id of an election.
 *
 * @param electionId the election id
 * @returns `vote-<id>` (at most 64 characters)
 * @example
 * ```ts
 * import { electionJobId } from "./vote_nodes.ts";
 * console.assert(electionJobId("board-2026") === "vote-board-2026");
 * ```
 */
export function electionJobId(electionId: string): string {
  return `vote-${electionId}`.slice(0, 64);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Posts the election definition to the board (admin). Posting the same definition again
 * is a no-op; another definition under the same job id is refused.
 *
 * @param client board client signed with the admin identity
 * @param options job id, admin identity, election
 * @returns "posted" or "already" (the same definition was on the board)
 * @throws {ConfigError} when the job id holds another election
 * @example
 * ```ts ignore
 * await publishElection(client, { job, admin, election });
 * ```
 */
export async function publishElection(
  client: NodeClient,
  options: { job: string; admin: Identity; election: CeremonyElection },
): Promise<"posted" | "already"> {
  const body = electionDefinitionToEnvelope(options.election.definition);
  const bytes = encodeMsgpack(body);
  let existing: Uint8Array | undefined;
  for await (const entry of boardLogEntries(client, { bodyLimit: STREAMED_BODY_BYTES })) {
    if (entry.post.job === options.job && entry.post.type === "election") {
      existing = entry.post.body ?? await readWholeBody(client, entry);
      break;
    }
  }
  if (existing !== undefined) {
    if (sameBytes(existing, bytes)) return "already";
    throw new ConfigError(
      `Board job '${options.job}' holds another election; choose another --job`,
    );
  }
  await client.submitPost(
    createPost(options.admin, { job: options.job, type: "election", body }),
  );
  return "posted";
}

/** What the board holds of an election: its checked ceremony posts and decryption shares. */
export interface BoardElectionPosts {
  /** Dealings, complaints and answers, in board order. */
  ceremony: CeremonyPosts;
  /**
   * Trustees' decryption posts short enough to come with the log's pages, in board order
   * (read every one, as record lists, with `readDecryptionRecords`).
   */
  decryption: ElectionDecryption[];
  /** Every trustee who posted decryption shares (those in `decryption` and the longer ones). */
  decrypted: number[];
}

/**
 * Reads an election's posts from the board, checking the log's chain, each post's
 * signature, and that each ceremony post is its trustee's (author key and signature). The
 * log is read a page at a time and long bodies stay on the board: a long decryption post is
 * only named in `decrypted` (its kind read from the first bytes of its streamed body).
 *
 * @param client board client
 * @param options job id, election, and `bodyLimit`: longer bodies are streamed (default 64 KiB)
 * @returns the ceremony posts and decryption shares
 * @throws {NotFoundError} when the board holds no such election
 * @throws {VerificationError} when a post or the chain does not verify
 * @example
 * ```ts ignore
 * const { ceremony } = await readElectionBoard(client, { job, election });
 * ```
 */
export async function readElectionBoard(
  client: NodeClient,
  options: { job: string; election: CeremonyElection; bodyLimit?: number },
): Promise<BoardElectionPosts> {
  const expected = encodeMsgpack(electionDefinitionToEnvelope(options.election.definition));
  let registered: Uint8Array | undefined;
  const checked: CheckedCeremonyPost[] = [];
  const decrypted = new Set<number>();
  const keys = options.election.definition.trusteeKeys ?? [];
  const bodyLimit = options.bodyLimit ?? STREAMED_BODY_BYTES;
  for await (const entry of boardLogEntries(client, { bodyLimit })) {
    const { post } = entry;
    if (post.job !== options.job) continue;
    if (post.type === "election") {
      // The definition is small; one longer than the page limit is read whole.
      registered ??= post.body ?? await readWholeBody(client, entry);
      continue;
    }
    if (post.type !== "ceremony") continue;
    let body = post.body;
    if (body === undefined) {
      if (await bodyKind(client, entry) === DECRYPTION_POST_KIND) {
        const trustee = keys.findIndex((k) => sameBytes(k, post.author)) + 1;
        if (trustee === 0) {
          throw new VerificationError(
            `Board post ${entry.seq} is a decryption post by no trustee of this election`,
          );
        }
        decrypted.add(trustee);
        continue;
      }
      body = await readWholeBody(client, entry);
    }
    const c = checkCeremonyBody(options.election, post.author, body);
    if (c.kind === DECRYPTION_POST_KIND) decrypted.add(c.trustee);
    checked.push(c);
  }
  if (registered === undefined) {
    throw new NotFoundError(
      `Board holds no election under job '${options.job}' (post it with vote publish)`,
    );
  }
  if (!sameBytes(registered, expected)) {
    throw new VerificationError(
      `Board job '${options.job}' holds another election than '${options.election.definition.id}'`,
    );
  }
  return { ...collectCeremony(checked), decrypted: [...decrypted].sort((a, b) => a - b) };
}

/** A streamed post body read whole (checked against its digest and signature). */
async function readWholeBody(client: NodeClient, entry: BoardLogEntry): Promise<Uint8Array> {
  const body = new Uint8Array(entry.bodyBytes);
  let at = 0;
  for await (const piece of await postBodyStream(client, entry)) {
    body.set(piece, at);
    at += piece.length;
  }
  return body;
}

/**
 * Posts a trustee's ceremony step or decryption shares. Re-posting the same body is a
 * no-op; a different post of the same kind by the same trustee is refused by the board.
 *
 * @param client board client signed with the trustee's identity
 * @param options job id, trustee identity, the signed body envelope
 * @returns "posted" or "already"
 * @throws {NodeHttpError} when the board refuses the post (reason in the message)
 * @example
 * ```ts ignore
 * await postCeremony(client, { job, identity, body: encodeCeremonyPost(election, { dealing }) });
 * ```
 */
export async function postCeremony(
  client: NodeClient,
  options: { job: string; identity: Identity; body: Envelope | Uint8Array | StreamedPostBody },
): Promise<"posted" | "already"> {
  const { body } = options;
  if (!(body instanceof Uint8Array) && isStreamedBody(body)) {
    return await postCeremonyStreamed(client, { ...options, body });
  }
  const bytes = options.body instanceof Uint8Array ? options.body : encodeMsgpack(options.body);
  // The log a page at a time; only this author's ceremony posts of that length are compared.
  for await (const entry of boardLogEntries(client, { bodyLimit: STREAMED_BODY_BYTES })) {
    const { post } = entry;
    if (
      post.job !== options.job || post.type !== "ceremony" || entry.bodyBytes !== bytes.length ||
      !sameBytes(post.author, options.identity.publicKey)
    ) continue;
    if (sameBytes(post.body ?? await readWholeBody(client, entry), bytes)) return "already";
  }
  await client.submitPost(
    createPostFromBody(options.identity, { job: options.job, type: "ceremony", body: bytes }),
  );
  return "posted";
}

function isStreamedBody(body: Envelope | StreamedPostBody): body is StreamedPostBody {
  return typeof (body as StreamedPostBody).pieces === "function";
}

/**
 * {@linkcode postCeremony} of a body given as pieces (issue 17: a trustee's decryption post,
 * encoded a chunk at a time from its spool file): signed and hashed a piece at a time, compared
 * by SHA-256 with this author's posts of that length already on the board (each body streamed),
 * and sent as a stream.
 */
async function postCeremonyStreamed(
  client: NodeClient,
  options: { job: string; identity: Identity; body: StreamedPostBody },
): Promise<"posted" | "already"> {
  const post = await signStreamedPost(options.identity, {
    job: options.job,
    type: "ceremony",
    body: options.body,
  });
  for await (const entry of boardLogEntries(client, { bodyLimit: STREAMED_BODY_BYTES })) {
    const { post: logged } = entry;
    if (
      logged.job !== options.job || logged.type !== "ceremony" ||
      entry.bodyBytes !== options.body.bytes ||
      !sameBytes(logged.author, options.identity.publicKey)
    ) continue;
    const hash = sha256.create();
    for await (const piece of await postBodyStream(client, entry)) hash.update(piece);
    if (sameBytes(hash.digest(), post.bodySha256)) return "already";
  }
  await submitStreamedPost(client, post);
  return "posted";
}

async function jobSummary(client: NodeClient, job: string): Promise<JobSummary | undefined> {
  try {
    return await client.getJson(`/v1/board/jobs/${encodeURIComponent(job)}`) as JobSummary;
  } catch (error) {
    if (error instanceof NodeHttpError && error.status === 404) return undefined;
    throw error;
  }
}

/** Options of {@linkcode openElectionMix}. */
export interface ElectionMixOptions {
  /** Board client signed with the admin identity. */
  client: NodeClient;
  /** A board admin identity (creates and closes the job, submits the inputs). */
  admin: Identity;
  /** Identity public keys of the mixer nodes, in cascade order (one per election mixer). */
  mixers: readonly Uint8Array[];
  /** Job id on the board (default `vote-<election id>`). */
  job?: string;
  /** Progress lines (what was done, what was resumed). */
  log?: (line: string) => void;
}

/**
 * Closes the election's mix input onto the board: creates the cascade job, submits the
 * inputs and closes the job, skipping whatever an earlier run already did (so a retry
 * after an interruption resumes instead of failing with "already exists"). The inputs are
 * read from the record list and posted {@linkcode INPUTS_PER_POST} a post, and the inputs
 * already on the board are compared with them a chunk at a time (issue 17 point 2).
 *
 * @param election the election (with its public key)
 * @param inputs the cleansed mix input (counted ballots' ciphertexts in box order): a
 *   record list of 64·w-byte records, or an array
 * @param options board client, admin, mixer nodes, job id
 * @returns the job id
 * @throws {ConfigError} when the job exists with another spec or other inputs
 * @example
 * ```ts ignore
 * const job = await openElectionMix(election, mixInput, { client, admin, mixers });
 * ```
 */
export async function openElectionMix(
  election: ElectionPublicInfo,
  inputs: RecordSource | readonly Ciphertext[],
  options: ElectionMixOptions,
): Promise<string> {
  const records = "read" in inputs ? inputs : ciphertextRecords(inputs, inputs[0]?.width ?? 1);
  const id = options.job ?? electionJobId(election.definition.id);
  const log = options.log ?? (() => {});
  const key = encodePublicKey(election.publicKey);
  if (options.mixers.length !== election.definition.mixers.length) {
    throw new ConfigError(
      `The election defines ${election.definition.mixers.length} mixers; got ${options.mixers.length} mixer nodes`,
    );
  }
  const spec: JobSpec = {
    backend: "reencrypt",
    stages: options.mixers.map((mixer) => ({ mixer, key })),
    minInputs: records.count,
    submitters: [options.admin.publicKey],
    context: election.fingerprint, // every shuffle proof binds the election
  };
  let summary = await jobSummary(options.client, id);
  if (summary === undefined) {
    await createJob(options.client, { id, admin: options.admin, spec });
    log(`job '${id}' created on the board (${options.mixers.length} mixer nodes)`);
    summary = (await jobSummary(options.client, id))!;
  } else {
    let jobPost: Post | undefined;
    for await (const entry of boardLogEntries(options.client, { bodyLimit: STREAMED_BODY_BYTES })) {
      if (entry.post.job === id && entry.post.type === "job") {
        jobPost = entry.post as Post;
        break;
      }
    }
    if (jobPost === undefined || !sameBytes(jobPost.body, encodeMsgpack(jobBody(spec)))) {
      throw new ConfigError(
        `Board job '${id}' exists with another spec (mixers, key, ballots or election); ` +
          "pass another --job to start over",
      );
    }
    log(`job '${id}' already on the board (${summary.state}); resuming`);
  }
  // The inputs already posted must be a prefix of ours; post the rest.
  let posted: number;
  try {
    posted = await postedInputs(options.client, { job: id, expected: records });
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    throw new ConfigError(`Board job '${id}' holds other inputs than this ballot box's`, {
      cause: error,
    });
  }
  if (summary.state === "open") {
    for (let lo = posted; lo < records.count; lo += INPUTS_PER_POST) {
      const hi = Math.min(records.count, lo + INPUTS_PER_POST);
      await submitInputs(options.client, {
        id,
        submitter: options.admin,
        items: readCiphertexts(records, lo, hi).map(encodeCiphertext),
        chunk: INPUTS_PER_POST,
      });
    }
    if (posted < records.count) {
      log(
        posted === 0
          ? `${records.count} ballots posted`
          : `${records.count - posted} ballots posted (${posted} were already)`,
      );
    }
    await closeJob(options.client, { id, admin: options.admin });
    log(`job '${id}' closed; the mixer nodes mix it in turn`);
  } else if (posted !== records.count) {
    throw new ConfigError(`Board job '${id}' was closed with other inputs than this box's`);
  }
  return id;
}

/**
 * Waits for the mixer nodes, reporting each stage and any failure a mixer posts.
 *
 * @param client board client
 * @param options job id, timeout, progress callback
 * @returns the final summary
 * @throws {PanoramixError} (unavailable) on timeout, with the mixer's posted reason
 * @example
 * ```ts ignore
 * await waitForElectionMix(client, { job, timeoutMs: 600_000, onProgress });
 * ```
 */
export async function waitForElectionMix(
  client: NodeClient,
  options: { job: string; timeoutMs?: number; onProgress?: (summary: JobSummary) => void },
): Promise<JobSummary> {
  return await waitForJob(client, {
    id: options.job,
    timeoutMs: options.timeoutMs ?? 600_000,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** Options of {@linkcode boardElectionCascade}. */
export interface BoardCascadeOptions extends ElectionMixOptions {
  /** How long to wait for the nodes (default 10 minutes). */
  timeoutMs?: number;
  /** Called with each new job summary while waiting. */
  onProgress?: (summary: JobSummary) => void;
}

/** A cascade of mixer nodes on record lists: the mix input in, each mixer's lists out. */
export type ElectionCascadeRecords = (
  inputs: RecordSource,
  context: { election: ElectionPublicInfo; sinks: RecordSinkFactory },
) => Promise<BoardMixRecords[]>;

/**
 * A cascade that mixes through nodes via a bulletin board job, on record lists:
 * {@linkcode openElectionMix} (resumable, posting from the list), {@linkcode waitForElectionMix},
 * then `readElectionCascadeRecords` (each mix streamed into the sinks; the board's inputs
 * checked against the mix input a chunk at a time).
 *
 * @param options board client, admin identity, mixer node keys, job id, timeout, progress
 * @returns the cascade
 * @example
 * ```ts ignore
 * const mixes = await boardElectionCascadeRecords(options)(counted, { election, sinks: spool.sinks });
 * ```
 */
export function boardElectionCascadeRecords(options: BoardCascadeOptions): ElectionCascadeRecords {
  return async (inputs, { election, sinks }) => {
    const job = await openElectionMix(election, inputs, options);
    await waitForElectionMix(options.client, {
      job,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return (await readElectionCascadeRecords(options.client, {
      job,
      sinks,
      inputs,
      mixers: options.mixers,
    })).mixes;
  };
}

/**
 * An {@linkcode ElectionCascade} that mixes through nodes via a bulletin board job: the
 * array form of {@linkcode boardElectionCascadeRecords} (its lists read into memory).
 *
 * @param options board client, admin identity, mixer node keys, job id, timeout, progress
 * @returns the cascade
 * @example
 * ```ts ignore
 * const mixes = await mixElection(election, { inputs, cascade: boardElectionCascade(options) });
 * ```
 */
export function boardElectionCascade(options: BoardCascadeOptions): ElectionCascade {
  const cascade = boardElectionCascadeRecords(options);
  return async (inputs, { election }) => {
    const records = ciphertextRecords(inputs, inputs[0]?.width ?? 1);
    return (await cascade(records, { election, sinks: memoryRecordSinks })).map(mixToArrays);
  };
}

function mixToArrays(mix: BoardMixRecords): { outputs: Ciphertext[]; proof: ShuffleProof } {
  return {
    outputs: readCiphertexts(mix.outputs, 0, mix.outputs.count),
    proof: shuffleProofFromRecords(mix.proof),
  };
}

/**
 * Reads every stage of a finished election cascade from the board (log signatures and
 * chain checked), and checks the board holds exactly the given mix input when one is given.
 *
 * @param client board client
 * @param options job id and, optionally, the expected mix input
 * @returns the posted mix input and each stage's outputs and proof
 * @throws {VerificationError} when the board's inputs differ or a stage is out of order
 * @example
 * ```ts ignore
 * const { mixes } = await readElectionMixes(client, { job });
 * ```
 */
export async function readElectionMixes(
  client: NodeClient,
  options: { job: string; inputs?: readonly Ciphertext[] },
): Promise<Array<{ outputs: Ciphertext[]; proof: ShuffleProof }>> {
  return (await readElectionCascade(client, options)).mixes;
}

/**
 * Like {@linkcode readElectionMixes}, and also returns the mix input the board holds: the
 * array form of `readElectionCascadeRecords` (lists read into memory).
 *
 * @param client board client
 * @param options job id and, optionally, the expected mix input
 * @returns the mix input and the stages
 * @example
 * ```ts ignore
 * const { inputs, mixes } = await readElectionCascade(client, { job });
 * ```
 */
export async function readElectionCascade(
  client: NodeClient,
  options: { job: string; inputs?: readonly Ciphertext[] },
): Promise<{ inputs: Ciphertext[]; mixes: Array<{ outputs: Ciphertext[]; proof: ShuffleProof }> }> {
  const read = await readElectionCascadeRecords(client, {
    job: options.job,
    sinks: memoryRecordSinks,
    ...(options.inputs === undefined
      ? {}
      : { inputs: ciphertextRecords(options.inputs, options.inputs[0]?.width ?? 1) }),
  });
  return {
    inputs: readCiphertexts(read.inputs, 0, read.inputs.count),
    mixes: read.mixes.map(mixToArrays),
  };
}
