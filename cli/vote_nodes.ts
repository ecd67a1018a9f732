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

import { decodeMsgpack, encodeMsgpack, type Envelope } from "../core/envelope.ts";
import { ConfigError, NotFoundError, VerificationError } from "../core/errors.ts";
import { readArray, readInteger, readRecord } from "../core/fields.ts";
import {
  type Ciphertext,
  decodeCiphertext,
  decodeShuffleProof,
  encodeCiphertext,
  encodePublicKey,
  type ShuffleProof,
} from "../backends/reencrypt/mod.ts";
import {
  type CeremonyElection,
  type CeremonyPosts,
  type ElectionCascade,
  type ElectionDecryption,
  electionDefinitionToEnvelope,
  type ElectionPublicInfo,
} from "../plugins/vote/mod.ts";
import { readBoardLog } from "./node/board_reader.ts";
import type { JobSummary } from "./node/board.ts";
import { NodeHttpError } from "./node/client.ts";
import type { NodeClient } from "./node/client.ts";
import { checkCeremonyBody, collectCeremony } from "./node/election_board.ts";
import type { Identity } from "./node/identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./node/job_client.ts";
import { createPost, jobBody, type JobSpec, type Post } from "./node/posts.ts";

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
  const existing = (await readBoardLog(client)).find((p) =>
    p.job === options.job && p.type === "election"
  );
  if (existing !== undefined) {
    if (sameBytes(existing.body, bytes)) return "already";
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
  /** Trustees' decryption posts, in board order. */
  decryption: ElectionDecryption[];
  /** Every post of the job (mix job posts included), signatures and chain checked. */
  posts: Post[];
}

/**
 * Reads an election's posts from the board, checking the log's chain, each post's
 * signature, and that each ceremony post is its trustee's (author key and signature).
 *
 * @param client board client
 * @param options job id and election
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
  options: { job: string; election: CeremonyElection },
): Promise<BoardElectionPosts> {
  const posts = (await readBoardLog(client)).filter((p) => p.job === options.job);
  const registered = posts.find((p) => p.type === "election");
  if (registered === undefined) {
    throw new NotFoundError(
      `Board holds no election under job '${options.job}' (post it with vote publish)`,
    );
  }
  const expected = encodeMsgpack(electionDefinitionToEnvelope(options.election.definition));
  if (!sameBytes(registered.body, expected)) {
    throw new VerificationError(
      `Board job '${options.job}' holds another election than '${options.election.definition.id}'`,
    );
  }
  const checked = posts.filter((p) => p.type === "ceremony").map((p) =>
    checkCeremonyBody(options.election, p.author, p.body)
  );
  return { ...collectCeremony(checked), posts };
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
  options: { job: string; identity: Identity; body: Envelope },
): Promise<"posted" | "already"> {
  const bytes = encodeMsgpack(options.body);
  const mine = (await readBoardLog(client)).filter((p) =>
    p.job === options.job && p.type === "ceremony" &&
    sameBytes(p.author, options.identity.publicKey)
  );
  if (mine.some((p) => sameBytes(p.body, bytes))) return "already";
  await client.submitPost(
    createPost(options.identity, { job: options.job, type: "ceremony", body: options.body }),
  );
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
 * after an interruption resumes instead of failing with "already exists").
 *
 * @param election the election (with its public key)
 * @param inputs the cleansed mix input (counted ballots' ciphertexts in box order)
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
  inputs: readonly Ciphertext[],
  options: ElectionMixOptions,
): Promise<string> {
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
    minInputs: inputs.length,
    submitters: [options.admin.publicKey],
    context: election.fingerprint, // every shuffle proof binds the election
  };
  let summary = await jobSummary(options.client, id);
  if (summary === undefined) {
    await createJob(options.client, { id, admin: options.admin, spec });
    log(`job '${id}' created on the board (${options.mixers.length} mixer nodes)`);
    summary = (await jobSummary(options.client, id))!;
  } else {
    const jobPost = (await readBoardLog(options.client)).find((p) =>
      p.job === id && p.type === "job"
    );
    if (jobPost === undefined || !sameBytes(jobPost.body, encodeMsgpack(jobBody(spec)))) {
      throw new ConfigError(
        `Board job '${id}' exists with another spec (mixers, key, ballots or election); ` +
          "pass another --job to start over",
      );
    }
    log(`job '${id}' already on the board (${summary.state}); resuming`);
  }
  // The inputs already posted must be a prefix of ours; post the rest.
  const { inputs: posted } = await readElectionCascade(options.client, { job: id });
  if (
    posted.length > inputs.length ||
    posted.some((c, i) => !sameBytes(c.bytes, inputs[i]!.bytes))
  ) {
    throw new ConfigError(`Board job '${id}' holds other inputs than this ballot box's`);
  }
  if (summary.state === "open") {
    if (posted.length < inputs.length) {
      await submitInputs(options.client, {
        id,
        submitter: options.admin,
        items: inputs.slice(posted.length).map(encodeCiphertext),
      });
      log(
        posted.length === 0
          ? `${inputs.length} ballots posted`
          : `${inputs.length - posted.length} ballots posted (${posted.length} were already)`,
      );
    }
    await closeJob(options.client, { id, admin: options.admin });
    log(`job '${id}' closed; the mixer nodes mix it in turn`);
  } else if (posted.length !== inputs.length) {
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

/**
 * An {@linkcode ElectionCascade} that mixes through nodes via a bulletin board job:
 * {@linkcode openElectionMix} (resumable), {@linkcode waitForElectionMix}, then
 * {@linkcode readElectionMixes}.
 *
 * @param options board client, admin identity, mixer node keys, job id, timeout, progress
 * @returns the cascade
 * @example
 * ```ts ignore
 * const mixes = await mixElection(election, { inputs, cascade: boardElectionCascade(options) });
 * ```
 */
export function boardElectionCascade(options: BoardCascadeOptions): ElectionCascade {
  return async (inputs, { election }) => {
    const job = await openElectionMix(election, inputs, options);
    await waitForElectionMix(options.client, {
      job,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return await readElectionMixes(options.client, { job, inputs });
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
 * Like {@linkcode readElectionMixes}, and also returns the mix input the board holds.
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
  const posts = (await readBoardLog(client)).filter((p) => p.job === options.job);
  const posted: Ciphertext[] = [];
  for (const p of posts) {
    if (p.type === "close") break;
    if (p.type !== "inputs") continue;
    const body = decodeMsgpack(p.body, "inputs") as Envelope;
    readArray(body.items, "inputs.items").forEach((item) =>
      posted.push(decodeCiphertext(item, `board input ${posted.length + 1}`))
    );
  }
  // The board must hold exactly the election's mix input, in order.
  if (
    options.inputs !== undefined &&
    (posted.length !== options.inputs.length ||
      posted.some((c, i) => !sameBytes(c.bytes, options.inputs![i]!.bytes)))
  ) {
    throw new VerificationError(
      `Board job '${options.job}' does not hold the election's mix input`,
    );
  }
  const steps: Array<{ outputs: Ciphertext[]; proof: ShuffleProof }> = [];
  for (const p of posts.filter((x) => x.type === "mix")) {
    const body = readRecord(decodeMsgpack(p.body, "mix"), "mix");
    const stage = readInteger(body.stage, "mix.stage");
    if (stage !== steps.length) {
      throw new VerificationError(`Board job '${options.job}' has mix stage ${stage} out of order`);
    }
    steps.push({
      outputs: readArray(body.outputs, "mix.outputs").map((o, i) =>
        decodeCiphertext(o, `stage ${stage + 1} output ${i + 1}`)
      ),
      proof: decodeShuffleProof(body.proof, `stage ${stage + 1} proof`),
    });
  }
  return { inputs: posted, mixes: steps };
}
