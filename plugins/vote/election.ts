/**
 * The phases of an election after the key ceremony: close the box, mix through k
 * mixers, threshold-decrypt with proofs, decode and tally; and a one-call local
 * election that runs them all and assembles the transcript.
 *
 * Mixers are functions, so a mixer may run locally (the default: the backend's
 * verifiable shuffle in this process) or on a remote node that returns outputs and proof.
 *
 * @module
 */

import { assertBatchSize } from "../../core/batcher.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  DEFAULT_ITEM_CHUNK,
  type ItemChunks,
  memoryItemChunks,
  memoryRecords,
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import {
  type Ciphertext,
  ELEMENT_BYTES,
  type SecretShare,
  shuffleAndProve,
  shuffleAndProveRecords,
  type ShuffleOptions,
  type ShuffleProof,
  shuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionBallot, ElectionPublicInfo } from "./ballot.ts";
import { ElectionBallotBox } from "./ballot_box.ts";
import { type CeremonyElection, type ElectionKey, runLocalKeyCeremony } from "./ceremony.ts";
import { signCeremonyPost, verifyCeremonySignature } from "./signing.ts";
import { type ElectionDefinition, electionFingerprint } from "./definition.ts";
import type { ElectionDecryption, ElectionMix, ElectionTranscript } from "./election_transcript.ts";
import { type ElectionTally, tallyAccumulator } from "./tally.ts";
import {
  VOTE_ITEM_OK,
  voteCombineDecryptionSharesRecords,
  voteCreateDecryptionSharesRecords,
  voteSlotBytes,
  voteSlotMessages,
  voteVerifyDecryptionSharesRecords,
} from "./tasks.ts";
import {
  ciphertextRecords,
  type ElectionDecryptionRecords,
  type ElectionMixRecords,
  electionTranscriptFromRecords,
  type ElectionTranscriptRecords,
  readCiphertexts,
  recordViews,
} from "./election_records.ts";
import { type BallotStore, encodedBallotAt, hasEncodedChunks } from "./ballot_store.ts";
import { decodeElectionAnswers } from "./answers.ts";
import { answersMsgpack, type EncodedAnswerChunks } from "./answer_bytes.ts";
import { VOTE_NO_MESSAGE, VOTE_SLOT_BYTES } from "./slot_tally.ts";

/** Smallest number of counted ballots that is mixed (one ballot has no anonymity). */
export const MIN_ELECTION_BALLOTS = 2;

/** A mixer: shuffles and re-encrypts its inputs and proves it. */
export type ElectionMixer = (
  inputs: readonly Ciphertext[],
  context: { election: ElectionPublicInfo; index: number; name: string },
) => Promise<{ outputs: Ciphertext[]; proof: ShuffleProof }>;

/**
 * A whole cascade run elsewhere (e.g. by mix nodes through a bulletin board): takes the
 * mix input and returns every mixer's outputs and proof, in definition order. The
 * results are checked by the verifier like local mixes.
 */
export type ElectionCascade = (
  inputs: readonly Ciphertext[],
  context: { election: ElectionPublicInfo },
) => Promise<Array<{ outputs: Ciphertext[]; proof: ShuffleProof }>>;

/** Options shared by the heavy phases. */
export interface ElectionPhaseOptions {
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** Workers for proofs (default the shared pool size; 1 = this thread). */
  workers?: number;
  /** Progress callback. */
  onProgress?: ProgressReporter;
}

/**
 * A mixer running the backend's verifiable shuffle in this process.
 *
 * @param options randomness and workers
 * @returns the mixer
 * @example
 * ```ts ignore
 * const mixers = [localElectionMixer(), localElectionMixer()];
 * ```
 */
export function localElectionMixer(options: ElectionPhaseOptions = {}): ElectionMixer {
  return async (inputs, context) =>
    // Terelius–Wikström shuffle with proof (backend, Haenni et al. Alg. 8.4).
    await shuffleAndProve(
      context.election.publicKey,
      inputs,
      localShuffleOptions(context.election, context.name, options),
    );
}

/** The shuffle options of a local mixer: the proof binds the election's fingerprint. */
function localShuffleOptions(
  election: ElectionPublicInfo,
  name: string,
  options: ElectionPhaseOptions,
): ShuffleOptions {
  return {
    context: election.fingerprint, // the proof binds the election
    ...(options.random ? { random: options.random } : {}),
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.onProgress
      ? { onProgress: (e) => options.onProgress!({ ...e, phase: `${name}: ${e.phase}` }) }
      : {}),
  };
}

/**
 * Mixes the cleansed ballots (a record list) through every mixer of the definition in this
 * process, a chunk at a time (issue 17): each mixer reads its inputs from the previous list
 * and writes its outputs and proof lists to `sinks` ("mix-m-outputs", "mix-m-chainCommitments",
 * …), so a million-ballot cascade holds a few chunks, not the lists.
 *
 * @param election the election
 * @param options the mix input (64·w-byte records), `sinks` (default memory), randomness,
 *   workers, progress, or a remote `cascade` (whose lists arrive whole, then viewed as records)
 * @returns one entry per mixer, its lists as records
 * @throws {BatchTooSmallError} with fewer than two counted ballots
 * @example
 * ```ts ignore
 * const mixes = await mixElectionRecords(election, { inputs: mixInput, sinks: spool.sinks });
 * ```
 */
export async function mixElectionRecords(
  election: ElectionPublicInfo,
  options: ElectionPhaseOptions & {
    inputs: RecordSource;
    sinks?: RecordSinkFactory;
    cascade?: ElectionCascade;
  },
): Promise<ElectionMixRecords[]> {
  assertBatchSize(options.inputs.count, MIN_ELECTION_BALLOTS);
  if (options.cascade !== undefined) {
    // A remote cascade takes the mix input and returns its lists as whole messages.
    const { inputs } = options;
    const width = inputs.recordBytes / (2 * ELEMENT_BYTES);
    const steps = await mixElection(election, {
      ...options,
      inputs: readCiphertexts(inputs, 0, inputs.count),
    });
    return steps.map((m) => ({
      mixer: m.mixer,
      outputs: ciphertextRecords(m.outputs, width),
      proof: shuffleProofRecords(m.proof),
    }));
  }
  const sinks = options.sinks ?? memoryRecordSinks;
  const mixes: ElectionMixRecords[] = [];
  let current = options.inputs;
  for (const [m, name] of election.definition.mixers.entries()) {
    // Terelius–Wikström shuffle with proof (backend, Haenni et al. Alg. 8.4).
    const { outputs, proof } = await shuffleAndProveRecords(election.publicKey, current, {
      ...localShuffleOptions(election, name, options),
      sinks: (list, count, bytes) => sinks(`mix-${m + 1}-${list}`, count, bytes),
    });
    mixes.push({ mixer: name, outputs, proof });
    current = outputs;
  }
  return mixes;
}

/**
 * Mixes the cleansed ballots through every mixer of the definition, in order.
 *
 * @param election the election
 * @param options the mix input, optional mixer implementations (default local) or a whole
 *   remote cascade, randomness, workers
 * @returns one entry per mixer
 * @throws {BatchTooSmallError} with fewer than two counted ballots
 * @example
 * ```ts ignore
 * const mixes = await mixElection(election, { inputs: box.close() });
 * ```
 */
export async function mixElection(
  election: ElectionPublicInfo,
  options: ElectionPhaseOptions & {
    inputs: readonly Ciphertext[];
    mixers?: ElectionMixer[];
    cascade?: ElectionCascade;
  },
): Promise<ElectionMix[]> {
  assertBatchSize(options.inputs.length, MIN_ELECTION_BALLOTS);
  const names = election.definition.mixers;
  if (options.cascade !== undefined) {
    const steps = await options.cascade(options.inputs, { election });
    if (steps.length !== names.length) {
      throw new InvalidInputError(
        `Election defines ${names.length} mixers, the cascade returned ${steps.length} mixes`,
      );
    }
    return steps.map((step, m) => ({ mixer: names[m]!, ...step }));
  }
  const mixers = options.mixers ?? names.map(() => localElectionMixer(options));
  if (mixers.length !== names.length) {
    throw new InvalidInputError(
      `Election defines ${names.length} mixers, ${mixers.length} mixer implementations given`,
    );
  }
  const mixes: ElectionMix[] = [];
  let current = options.inputs;
  for (let m = 0; m < mixers.length; m++) {
    const { outputs, proof } = await mixers[m]!(current, {
      election,
      index: m,
      name: names[m]!,
    });
    mixes.push({ mixer: names[m]!, outputs, proof });
    current = outputs;
  }
  return mixes;
}

/**
 * One trustee's decryption shares of the final ciphertexts (a record list) with one batched
 * Chaum–Pedersen proof, computed in parallel on the worker pool a chunk at a time: the
 * ciphertexts are read as each job starts and the shares written to the sink
 * "trustee-j-shares" (issue 17). The signature hashes the shares a chunk at a time too.
 *
 * @param key the trustee's secret share
 * @param options the ciphertexts (last mixer's outputs, 64·w-byte records), the election
 *   fingerprint, `sinks` (default memory), workers, progress, and `sign`: the election and
 *   the trustee's Ed25519 identity secret key to sign the post with
 * @returns the trustee's decryption post (shares as 32·w-byte records, batch proof, signature)
 * @throws {InvalidInputError} on an empty list
 * @example
 * ```ts ignore
 * const post = await decryptElectionSharesRecords(trusteeKey, { ciphertexts, fingerprint, sinks: spool.sinks });
 * ```
 */
export async function decryptElectionSharesRecords(
  key: SecretShare,
  options: ElectionPhaseOptions & {
    ciphertexts: RecordSource;
    fingerprint: Uint8Array;
    sign?: { election: CeremonyElection; identity: Uint8Array };
    sinks?: RecordSinkFactory;
  },
): Promise<ElectionDecryptionRecords> {
  const { sinks } = options;
  const { shares, proof } = await voteCreateDecryptionSharesRecords(key, {
    ciphertexts: options.ciphertexts,
    context: options.fingerprint,
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(sinks === undefined
      ? {}
      : { sinks: (name, count, size) => sinks(`trustee-${key.index}-${name}`, count, size) }),
    onChunk: (done, total) =>
      options.onProgress?.({ phase: `trustee ${key.index}: decrypt`, done, total }),
  });
  const post: ElectionDecryptionRecords = { trustee: key.index, shares, proof };
  if (options.sign !== undefined) {
    post.signature = signCeremonyPost(
      options.sign.election,
      { decryptionRecords: post },
      options.sign.identity,
    );
  }
  return post;
}

/**
 * One trustee's decryption shares of the final ciphertexts with one batched
 * Chaum–Pedersen proof, computed in parallel on the worker pool (a wrapper of
 * {@linkcode decryptElectionSharesRecords} over lists in memory).
 *
 * @param key the trustee's secret share
 * @param options the ciphertexts (last mixer's outputs), workers, progress, and `sign`: the
 *   election and the trustee's Ed25519 identity secret key to sign the post with
 * @returns the trustee's decryption post (shares, batch proof, signature)
 * @example
 * ```ts ignore
 * const post = await decryptElectionShares(trusteeKey, { ciphertexts: mixes.at(-1)!.outputs });
 * ```
 */
export async function decryptElectionShares(
  key: SecretShare,
  options: ElectionPhaseOptions & {
    ciphertexts: readonly Ciphertext[];
    fingerprint: Uint8Array;
    sign?: { election: CeremonyElection; identity: Uint8Array };
  },
): Promise<ElectionDecryption> {
  const width = options.ciphertexts[0]?.width ?? 1;
  const post = await decryptElectionSharesRecords(key, {
    ...options,
    ciphertexts: ciphertextRecords(options.ciphertexts, width),
  });
  return { ...post, shares: recordViews(post.shares) };
}

/**
 * A decryption post's shares as records of 32·w bytes. A share of another length becomes a
 * record of 0xff bytes, which is no element encoding: it fails the batch proof and the
 * combination names it malformed, as the joined bytes of the list failed before.
 *
 * @param post the post as decoded (shares in memory)
 * @param width ballot width w
 * @returns the post with its shares as one record list
 * @example
 * ```ts ignore
 * const records = electionDecryptionRecords(post, width);
 * ```
 */
export function electionDecryptionRecords(
  post: ElectionDecryption,
  width: number,
): ElectionDecryptionRecords {
  const size = ELEMENT_BYTES * width;
  const out = new Uint8Array(post.shares.length * size);
  post.shares.forEach((share, i) => {
    if (share.length === size) out.set(share, i * size);
    else out.fill(0xff, i * size, (i + 1) * size);
  });
  return { ...post, shares: memoryRecords(out, size) };
}

/** What decryption and counting produce. */
export interface ElectionResults {
  /** Decrypted elements per ciphertext (32·w bytes). */
  plaintexts: Uint8Array[];
  /** Decoded answers per ciphertext (null: invalid ballot). */
  answers: (ElectionAnswer[] | null)[];
  /** The tally. */
  tally: ElectionTally;
}

/** What {@linkcode tallyElectionRecords} produces: record lists and the tally. */
export interface ElectionResultsRecords {
  /** Decrypted elements per ciphertext (32·w-byte records). */
  plaintexts: RecordSource;
  /** The tally. */
  tally: ElectionTally;
  /** Decoded answers per ciphertext (null: invalid ballot), decoded again when read. */
  answers: ItemChunks<ElectionAnswer[] | null>;
}

/**
 * The decoded answers of slot records, read and decoded a chunk at a time each time they
 * are read (the slots are the embedded messages the combination extracted: a length byte and
 * 30 bytes per element, so decoding is byte arithmetic, no group operation).
 */
function slotAnswers(
  definition: ElectionDefinition,
  slots: RecordSource,
  width: number,
): EncodedAnswerChunks {
  const decode = (parts: (Uint8Array | undefined)[]) =>
    decodeElectionAnswers(definition, parts) ?? null;
  return {
    count: slots.count,
    async *chunks(size = DEFAULT_ITEM_CHUNK) {
      for (let lo = 0; lo < slots.count; lo += size) {
        const hi = Math.min(slots.count, lo + size);
        yield voteSlotMessages(slots.read(lo, hi), width).map(decode);
      }
    },
    // The transcript writer's runs (issue 17): each distinct slot content decoded and
    // encoded once, its bytes copied for every ballot that has it.
    async *encodedChunks(size = DEFAULT_ITEM_CHUNK) {
      const stride = VOTE_SLOT_BYTES * width;
      const cache = new Map<number | string, Uint8Array>();
      for (let lo = 0; lo < slots.count; lo += size) {
        const hi = Math.min(slots.count, lo + size);
        const bytes = slots.read(lo, hi);
        const items: Uint8Array[] = new Array(hi - lo);
        let total = 0;
        for (let i = 0; i < hi - lo; i++) {
          const at = i * stride;
          const key = slotKey(bytes, at, width);
          let item = cache.get(key);
          if (item === undefined) {
            const slot = bytes.subarray(at, at + stride);
            item = answersMsgpack(decode(voteSlotMessages(slot, width)[0]!));
            if (cache.size < MAX_CACHED_SLOTS) cache.set(key, item);
          }
          items[i] = item;
          total += item.length;
        }
        const out = new Uint8Array(total);
        let to = 0;
        for (const item of items) {
          for (let k = 0; k < item.length; k++) out[to++] = item[k]!;
        }
        yield { count: hi - lo, bytes: out };
      }
    },
  };
}

/** Most distinct slot contents whose answers' bytes are kept while writing them. */
const MAX_CACHED_SLOTS = 65_536;

/**
 * A key equal for two ballots' slots exactly when their messages are: for one element with
 * a message of at most 6 bytes a number (length·2⁴⁸ + the bytes), else a string of the
 * length bytes and messages.
 */
function slotKey(bytes: Uint8Array, at: number, width: number): number | string {
  const len = bytes[at]!;
  if (width === 1 && (len <= 6 || len === VOTE_NO_MESSAGE)) {
    if (len === VOTE_NO_MESSAGE) return -1;
    let key = 0;
    for (let k = len; k >= 1; k--) key = key * 256 + bytes[at + k]!;
    return len * 2 ** 48 + key;
  }
  let key = "";
  for (let e = 0; e < width; e++) {
    const from = at + e * VOTE_SLOT_BYTES;
    const n = bytes[from]!;
    const end = from + 1 + (n === VOTE_NO_MESSAGE ? 0 : n);
    for (let k = from; k < Math.min(end, bytes.length); k++) key += String.fromCharCode(bytes[k]!);
  }
  return key;
}

/**
 * Combines the trustees' shares (Lagrange at 0), decodes every ballot and counts, a chunk at
 * a time over record lists (issue 17): each chunk's ciphertexts and shares are read when its
 * worker job starts, its plaintexts written to the sink "plaintexts", its answers counted on
 * the workers straight from the extracted messages (slot_tally.ts: each distinct element value
 * decoded once per chunk, no object per ballot) and the chunk's counts added to a
 * {@linkcode tallyAccumulator} in order. Memory holds the chunks in flight and one verdict
 * byte per ciphertext and trustee.
 *
 * The answers are not collected: the extracted messages of each chunk (31·w bytes per ballot,
 * a length byte and 30 bytes per element) are written to the sink "answer-slots", and the
 * returned `answers` decode them again a chunk at a time whenever they are read. Decoding
 * slots is byte arithmetic (no group operation, unlike decoding from the plaintexts, which
 * costs one element decoding each), and a slot record is of fixed size whatever the answers,
 * which msgpack-encoded answers are not.
 *
 * @param election the election
 * @param options the election key, the final ciphertexts (64·w-byte records), the decryption
 *   posts (≥ t trustees; shares as 32·w-byte records), `verifyShares` (default true: check every
 *   trustee's batch proof and signature first), `sinks` (default memory), workers, progress
 * @returns plaintexts, decoded answers (read as chunks) and the tally
 * @throws {InvalidInputError} with fewer than t trustees' posts, or share lists of another count
 * @throws {VerificationError} "Trustee j: decryption share batch invalid" (or "decryption
 *   share i malformed")
 * @example
 * ```ts ignore
 * const { tally, plaintexts, answers } = await tallyElectionRecords(election, { key, ciphertexts, decryption, sinks });
 * ```
 */
export async function tallyElectionRecords(
  election: ElectionPublicInfo,
  options: {
    key: ElectionKey;
    ciphertexts: RecordSource;
    decryption: readonly ElectionDecryptionRecords[];
    verifyShares?: boolean;
    workers?: number;
    onProgress?: ProgressReporter;
    sinks?: RecordSinkFactory;
  },
): Promise<ElectionResultsRecords> {
  const { definition } = election;
  const { ciphertexts } = options;
  const trustees = new Set(options.decryption.map((d) => d.trustee));
  if (trustees.size !== options.decryption.length) {
    throw new InvalidInputError("Decryption posts must come from distinct trustees");
  }
  if (trustees.size < definition.threshold) {
    throw new InvalidInputError(
      `Decryption needs shares from ${definition.threshold} trustees, got ${trustees.size}`,
    );
  }
  const width = ciphertexts.recordBytes / (2 * ELEMENT_BYTES);
  const workers = options.workers === undefined ? {} : { workers: options.workers };
  const verify = options.verifyShares ?? true;
  for (const d of options.decryption) {
    if (d.trustee < 1 || d.trustee > definition.trustees.length) {
      throw new InvalidInputError(`Trustee index '${d.trustee}' is not in this election`);
    }
    if (d.shares.count !== ciphertexts.count) {
      throw new InvalidInputError(
        `Trustee ${d.trustee} sent ${d.shares.count} shares for ${ciphertexts.count} ciphertexts`,
      );
    }
  }
  // One batched Chaum–Pedersen check per trustee (backend, two MSMs on the workers), all
  // trustees at once; the Lagrange combination at 0 (backend) runs on the same workers at the
  // same time (issue 17: no barrier between the two), and nothing it computes is used unless
  // every trustee's proof holds (the first failing trustee in order is reported).
  const checks = verify
    ? options.decryption.map((post) =>
      verifyTrusteeSharesRecords(election, {
        key: options.key,
        ciphertexts,
        post,
        ...workers,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      })
    )
    : [];
  const sinks = options.sinks ?? memoryRecordSinks;
  const slots = sinks("answer-slots", ciphertexts.count, voteSlotBytes(width));
  const tally = tallyAccumulator(definition);
  const combination = voteCombineDecryptionSharesRecords(
    options.decryption.map((d) => ({ trustee: d.trustee, shares: d.shares })),
    {
      ciphertexts,
      definition, // the workers count the answers too, straight from the slots
      sinks,
      onCounts: (_lo, counts) => tally.addCounts(counts),
      onSlots: (lo, bytes) => slots.write(lo, bytes),
      ...workers,
      onChunk: (done, total) => options.onProgress?.({ phase: "combine shares", done, total }),
    },
  );
  // Marked handled now: a failure of the combination while the proofs are being checked is
  // reported below only if every proof holds (else the proof failure is).
  combination.catch(() => {});
  const outcomes = await Promise.allSettled(checks);
  for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
  const { plaintexts, verdicts } = await combination;
  options.decryption.forEach((d, t) => {
    const bad = verdicts[t]!.findIndex((v) => v !== VOTE_ITEM_OK);
    if (bad >= 0) {
      throw new VerificationError(`Trustee ${d.trustee}: decryption share ${bad + 1} malformed`);
    }
  });
  return {
    plaintexts,
    tally: tally.result(),
    answers: slotAnswers(definition, slots.finish(), width),
  };
}

/**
 * Combines the trustees' shares (Lagrange at 0), decodes every ballot and counts (a wrapper
 * of {@linkcode tallyElectionRecords} over lists in memory).
 *
 * @param election the election
 * @param options the election key, the final ciphertexts, the decryption posts (≥ t
 *   trustees), `verifyShares` (default true: check every trustee's batch proof first), workers
 * @returns plaintexts, decoded answers and the tally
 * @throws {InvalidInputError} with fewer than t trustees' posts
 * @throws {VerificationError} "Trustee j: decryption share batch invalid" (or "decryption
 *   share i malformed")
 * @example
 * ```ts ignore
 * const { tally } = await tallyElection(election, { key, ciphertexts, decryption });
 * ```
 */
export async function tallyElection(
  election: ElectionPublicInfo,
  options: {
    key: ElectionKey;
    ciphertexts: readonly Ciphertext[];
    decryption: readonly ElectionDecryption[];
    verifyShares?: boolean;
    workers?: number;
    onProgress?: ProgressReporter;
  },
): Promise<ElectionResults> {
  const width = options.ciphertexts[0]?.width ?? 1;
  const results = await tallyElectionRecords(election, {
    ...options,
    ciphertexts: ciphertextRecords(options.ciphertexts, width),
    decryption: options.decryption.map((d) => electionDecryptionRecords(d, width)),
  });
  const answers: (ElectionAnswer[] | null)[] = [];
  for await (const chunk of results.answers.chunks()) answers.push(...chunk);
  return { plaintexts: recordViews(results.plaintexts), answers, tally: results.tally };
}

/** What {@linkcode verifyTrusteeSharesRecords} checks: a trustee's post against the ciphertexts. */
export interface TrusteeSharesCheck {
  /** The election key (its verification keys). */
  key: ElectionKey;
  /** The final ciphertexts (64·w-byte records). */
  ciphertexts: RecordSource;
  /** The trustee's post (shares as 32·w-byte records). */
  post: ElectionDecryptionRecords;
  /** Workers (default the shared pool size). */
  workers?: number;
  /** Progress callback. */
  onProgress?: ProgressReporter;
}

/**
 * Checks one trustee's decryption shares (a record list) against its verification key with
 * the trustee's batched Chaum–Pedersen proof (two MSMs, in parallel on the worker pool, fed a
 * chunk of ciphertexts and shares at a time) and its signature (the shares hashed a chunk at a
 * time).
 *
 * @param election the election
 * @param options election key, ciphertexts (64·w-byte records), the trustee's post (shares as
 *   32·w-byte records), workers, progress
 * @throws {VerificationError} "Trustee j: decryption share batch invalid", or "Decryption
 *   shares of trustee j …" when its signature is missing or wrong (elections with trustee keys)
 * @example
 * ```ts ignore
 * await verifyTrusteeSharesRecords(election, { key, ciphertexts, post });
 * ```
 */
export async function verifyTrusteeSharesRecords(
  election: ElectionPublicInfo,
  options: TrusteeSharesCheck,
): Promise<void> {
  // Signed by the trustee's identity key when the election names keys (signing.ts).
  verifyCeremonySignature(election, { decryptionRecords: options.post });
  await checkTrusteeShares(election, options);
}

/** The checks of a trustee's shares after its signature: trustee, count, batch proof. */
async function checkTrusteeShares(
  election: ElectionPublicInfo,
  options: TrusteeSharesCheck,
  malformed = false,
): Promise<void> {
  const { post, ciphertexts } = options;
  const vk = options.key.verificationKeys[post.trustee - 1];
  if (vk === undefined || post.trustee > election.definition.trustees.length) {
    throw new VerificationError(`Trustee ${post.trustee}: not a trustee of this election`);
  }
  if (post.shares.count !== ciphertexts.count) {
    throw new VerificationError(
      `Trustee ${post.trustee}: ${post.shares.count} decryption shares for ${ciphertexts.count} ciphertexts`,
    );
  }
  // Batched Chaum–Pedersen: log_g yⱼ = log_C D over all shares (backend, on workers).
  const ok = !malformed && await voteVerifyDecryptionSharesRecords(
    { index: post.trustee, verificationKey: vk },
    {
      ciphertexts,
      context: election.fingerprint,
      shares: post.shares,
      proof: post.proof,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onChunk: (done, total) =>
        options.onProgress?.({ phase: `trustee ${post.trustee}: verify shares`, done, total }),
    },
  );
  if (!ok) throw new VerificationError(`Trustee ${post.trustee}: decryption share batch invalid`);
}

/**
 * Checks one trustee's decryption shares against its verification key with the
 * trustee's batched Chaum–Pedersen proof (a wrapper of {@linkcode verifyTrusteeSharesRecords}
 * over lists in memory).
 *
 * @param election the election
 * @param options election key, ciphertexts, the trustee's post, workers, progress
 * @throws {VerificationError} "Trustee j: decryption share batch invalid", or "Decryption
 *   shares of trustee j …" when its signature is missing or wrong (elections with trustee keys)
 * @example
 * ```ts ignore
 * await verifyTrusteeShares(election, { key, ciphertexts, post });
 * ```
 */
export async function verifyTrusteeShares(
  election: ElectionPublicInfo,
  options: {
    key: ElectionKey;
    ciphertexts: readonly Ciphertext[];
    post: ElectionDecryption;
    workers?: number;
    onProgress?: ProgressReporter;
  },
): Promise<void> {
  const { post } = options;
  // Signed by the trustee's identity key when the election names keys (signing.ts), over the
  // shares as published.
  verifyCeremonySignature(election, { decryption: post });
  const width = options.ciphertexts[0]?.width ?? 1;
  await checkTrusteeShares(
    election,
    {
      ...options,
      ciphertexts: ciphertextRecords(options.ciphertexts, width),
      post: electionDecryptionRecords(post, width),
    },
    post.shares.some((s) => s.length !== ELEMENT_BYTES * width), // cannot verify
  );
}

/** Times of the phases of {@linkcode runLocalElection}, in milliseconds. */
export type ElectionPhaseTimes = Record<string, number>;

/** Options of {@linkcode runLocalElection}. */
export interface LocalElectionOptions extends ElectionPhaseOptions {
  /**
   * Produces the ballots to cast once the election key exists (may be async, e.g.
   * `simulateElectionBallotsInParallel` on the worker pool).
   */
  ballots: (
    election: ElectionPublicInfo,
  ) => Iterable<ElectionBallot> | Promise<Iterable<ElectionBallot>>;
  /** Voter roll (default: any credential). */
  voters?: Iterable<string>;
  /** Mix through this cascade (e.g. mix nodes) instead of local mixers. */
  cascade?: ElectionCascade;
  /** Trustees that decrypt, 1-based (default the first t). */
  decryptingTrustees?: number[];
  /** Each trustee's Ed25519 identity secret key, to sign its posts (elections with trustee keys). */
  trusteeIdentities?: readonly Uint8Array[];
  /** Called when a phase ends, with its duration in ms. */
  onPhase?: (phase: string, ms: number) => void;
  /**
   * Compute and return the cast ballots' receipts (default true); false returns none and
   * saves one receipt per ballot of memory (benchmarks, simulations).
   */
  receipts?: boolean;
}

/** Options of {@linkcode runLocalElectionRecords}. */
export interface LocalElectionRecordsOptions extends Omit<LocalElectionOptions, "ballots"> {
  /**
   * Produces the ballots to cast once the election key exists, read a chunk at a time (e.g. a
   * file of submitted ballots): the box casts them chunk by chunk.
   */
  ballots: (
    election: ElectionPublicInfo,
  ) => ItemChunks<ElectionBallot> | Promise<ItemChunks<ElectionBallot>>;
  /** Where the mix input, the mixes, the shares and the plaintexts go (default memory). */
  sinks?: RecordSinkFactory;
  /** Where the box keeps the ballots it accepts (default memory). */
  store?: BallotStore;
}

/** Phase timer: each call ends a phase, records its duration and reports it. */
function phaseTimer(times: ElectionPhaseTimes, onPhase?: (phase: string, ms: number) => void) {
  let t0 = performance.now();
  return (name: string) => {
    const now = performance.now();
    times[name] = now - t0;
    onPhase?.(name, now - t0);
    t0 = now;
  };
}

/**
 * Runs a whole election in this process with every O(N) list a record list (issue 17): the
 * ballots are cast a chunk at a time into a box whose store the caller chooses, and the mix
 * input, every mixer's outputs and proof lists, the trustees' shares and the plaintexts go to
 * `sinks` — with a file-backed store and sinks (the command line's spool) a million-ballot
 * election holds a few chunks, not the election. Phases as {@linkcode runLocalElection}.
 *
 * @param definition the election definition
 * @param options ballot chunks, `store`, `sinks`, randomness, workers, progress
 * @returns the transcript as record lists, receipts (unless `receipts: false`), rejections,
 *   and phase times
 * @example
 * ```ts ignore
 * const run = await runLocalElectionRecords(definition, {
 *   ballots: () => submitted, store: FileBallotStore.inSpool(spool, fp), sinks: spool.sinks,
 * });
 * await writeElectionTranscriptRecords(run.transcript, file.writable);
 * ```
 */
export async function runLocalElectionRecords(
  definition: ElectionDefinition,
  options: LocalElectionRecordsOptions,
): Promise<{
  transcript: ElectionTranscriptRecords;
  receipts: Uint8Array[];
  rejected: Array<{ credential: string; reason: string }>;
  times: ElectionPhaseTimes;
}> {
  const times: ElectionPhaseTimes = {};
  const phase = phaseTimer(times, options.onPhase);
  const rnd = options.random ? { random: options.random } : {};
  const workers = options.workers === undefined ? {} : { workers: options.workers };
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  const sinks = options.sinks ?? memoryRecordSinks;
  const fingerprint = electionFingerprint(definition);
  const ceremony = runLocalKeyCeremony({ definition, fingerprint }, {
    ...rnd,
    ...(options.trusteeIdentities ? { identities: options.trusteeIdentities } : {}),
  });
  const election: ElectionPublicInfo = {
    definition,
    fingerprint,
    publicKey: ceremony.key.publicKey,
  };
  phase("key ceremony");
  const ballots = await options.ballots(election);
  phase("encrypt ballots");
  const box = new ElectionBallotBox(election, {
    ...(options.voters === undefined ? {} : { voters: options.voters }),
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  const rejected: Array<{ credential: string; reason: string }> = [];
  const cast = {
    ...workers,
    ...progress,
    total: ballots.count,
    ...(options.receipts === false ? { receipts: false } : {}),
  };
  if (hasEncodedChunks(ballots)) {
    // Ballots read back from a store of encodings are cast as they are (issue 17).
    await box.castEncodedChunks(ballots.encodedChunks(), {
      ...cast,
      onOutcomes: (_lo, batch, outcomes) =>
        outcomes.forEach((o, i) => {
          if (o.ok) return;
          const { credential } = encodedBallotAt(batch, i, fingerprint);
          rejected.push({ credential, reason: o.error.message });
        }),
    });
  } else {
    await box.castChunks(ballots.chunks(), {
      ...cast,
      onOutcomes: (_lo, batch, outcomes) =>
        outcomes.forEach((o, i) => {
          if (!o.ok) rejected.push({ credential: batch[i]!.credential, reason: o.error.message });
        }),
    });
  }
  const mixInput = box.closeRecords(sinks);
  phase("cast and close");
  const mixes = await mixElectionRecords(election, { ...options, inputs: mixInput, sinks });
  phase("mix");
  const final = mixes[mixes.length - 1]!.outputs;
  const decrypting = options.decryptingTrustees ??
    Array.from({ length: definition.threshold }, (_, i) => i + 1);
  const keys = decrypting.map((j) => {
    const key = ceremony.trusteeKeys[j - 1];
    if (key === undefined) throw new InvalidInputError(`Trustee '${j}' is not in this election`);
    return key;
  });
  // The trustees decrypt at once, as they would on their own machines: their chunks share
  // the worker pool, so no worker idles at the end of one trustee's batch (issue 17).
  const decryption = await Promise.all(keys.map((key, t) => {
    const j = decrypting[t]!;
    return decryptElectionSharesRecords(key, {
      ...options,
      ciphertexts: final,
      fingerprint,
      sinks,
      ...(options.trusteeIdentities?.[j - 1] === undefined ? {} : {
        sign: {
          election: { definition, fingerprint },
          identity: options.trusteeIdentities[j - 1]!,
        },
      }),
    });
  }));
  phase("decrypt");
  const results = await tallyElectionRecords(election, {
    key: ceremony.key,
    ciphertexts: final,
    decryption,
    verifyShares: false,
    sinks,
    ...workers,
    ...progress,
  });
  phase("tally");
  return {
    transcript: {
      definition,
      fingerprint,
      ceremony: ceremony.posts,
      key: ceremony.key,
      ballots: box.ballotChunks(),
      mixInput,
      mixes,
      decryption,
      ...results,
    },
    receipts: options.receipts === false ? [] : [...box.receipts],
    rejected,
    times,
  };
}

/**
 * Runs a whole election in this process: key ceremony (simulated trustees), casting
 * (every ballot through the box rules), closing, mixing through all mixers, threshold
 * decryption by t trustees, decoding and tallying. Everything is held in memory: the
 * in-memory form of {@linkcode runLocalElectionRecords}.
 *
 * @param definition the election definition
 * @param options ballot source, randomness, workers, progress
 * @returns the transcript, receipts of the cast ballots, rejections, and phase times
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { runLocalElection } from "./election.ts";
 * import { simulateElectionBallots } from "./simulate.ts";
 * import { verifyElection } from "./verify.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 2, mixers: 2, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const { transcript } = await runLocalElection(definition, {
 *   workers: 1,
 *   ballots: (e) => simulateElectionBallots(e, { count: 5 }).ballots,
 * });
 * await verifyElection(transcript, { workers: 1 });
 * console.assert(transcript.tally.ballots === 5);
 * ```
 */
export async function runLocalElection(
  definition: ElectionDefinition,
  options: LocalElectionOptions,
): Promise<{
  transcript: ElectionTranscript;
  receipts: Uint8Array[];
  rejected: Array<{ credential: string; reason: string }>;
  times: ElectionPhaseTimes;
}> {
  const run = await runLocalElectionRecords(definition, {
    ...options,
    ballots: async (election) => memoryItemChunks([...await options.ballots(election)]),
  });
  return { ...run, transcript: await electionTranscriptFromRecords(run.transcript) };
}
