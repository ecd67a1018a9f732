/**
 * What `panoramix vote tally` runs (issue 17 point 2: bounded memory): the stored box replayed
 * a chunk at a time into a box whose ballots are kept in a file, the counted ciphertexts, every
 * mixer's outputs and proof lists, the trustees' shares and the plaintexts in record files of
 * a spool, and a transcript made of those lists — written with
 * `writeElectionTranscriptRecords`, a chunk at a time. With local mixers and local trustee
 * keys nothing proportional to the number of ballots is held but the box's indexes and the
 * mixers' permutations. A cascade of mix nodes and shares posted to a board are streamed
 * from the board into the same sinks (cli/vote_board_records.ts).
 *
 * @module
 */

import { assertBatchSize } from "../../core/batcher.ts";
import { InvalidInputError } from "../../core/errors.ts";
import type { RecordSinkFactory, RecordSource } from "../../core/records.ts";
import type { ElectionCascadeRecords } from "../vote_nodes.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  type BallotStore,
  type CeremonyElection,
  type CeremonyPosts,
  decryptElectionSharesRecords,
  type ElectionBallot,
  type ElectionDecryptionRecords,
  type ElectionKey,
  type ElectionMixRecords,
  type ElectionPublicInfo,
  type ElectionTranscriptRecords,
  type ItemChunks,
  MIN_ELECTION_BALLOTS,
  mixElectionRecords,
  replayBallotBoxRecords,
  type SecretShare,
  tallyElectionRecords,
} from "../../plugins/vote/mod.ts";

/** Options of {@linkcode tallyBallotBox}. */
export interface TallyBallotBoxOptions {
  /** The key ceremony's posts (they go into the transcript). */
  ceremony: CeremonyPosts;
  /** The election key the ceremony resolved. */
  key: ElectionKey;
  /** The stored box's ballots, read a chunk at a time. */
  ballots: ItemChunks<ElectionBallot>;
  /** Where the replayed box keeps the ballots it accepts (a file in a spool). */
  store: BallotStore;
  /** Where the record lists go (a spool's files). */
  sinks: RecordSinkFactory;
  /** Mix through this cascade of mix nodes (its lists streamed into `sinks`) instead of local mixers. */
  cascade?: ElectionCascadeRecords;
  /** The decrypting trustees' secret keys (t of them), in the order of their posts. */
  trusteeKeys?: readonly SecretShare[];
  /**
   * Without `trusteeKeys`: the decryption posts the trustees published, read once the mix is
   * done (streamed from the board into `sinks`).
   */
  postedDecryption?: () => Promise<readonly ElectionDecryptionRecords[]>;
  /** Randomness of the local mixers (default the system CSPRNG; tests seed it). */
  random?: RandomSource;
  /** Workers (default the shared pool's size). */
  workers?: number;
  /** Progress callback. */
  onProgress?: ProgressReporter;
}

/**
 * Replays a stored box, mixes, decrypts and tallies on record lists (issue 17): the same
 * transcript as the in-memory path (`replayBallotBox`, `mixElection`, `decryptElectionShares`,
 * `tallyElection`) for the same box and randomness, as record lists in `sinks` and `store`.
 * Every trustee's batch proof is checked before the tally is trusted.
 *
 * @param election the election (definition and fingerprint)
 * @param options ceremony, key, ballots, store, sinks, and either `trusteeKeys` or
 *   `postedDecryption`; optionally a cascade, randomness, workers, progress
 * @returns the transcript as record lists (write it with `writeElectionTranscriptRecords`)
 * @throws {VerificationError} "Ballot N: reason" when the box holds a ballot its rules reject,
 *   or a trustee's shares are invalid
 * @throws {BatchTooSmallError} with fewer than two counted ballots
 * @example
 * ```ts ignore
 * const transcript = await tallyBallotBox(ce, {
 *   ceremony: posts, key, ballots: await openBoxFile(stdin, election, "box.msgpack", spool),
 *   store: FileBallotStore.inSpool(spool, ce.fingerprint), sinks: spool.sinks, trusteeKeys,
 * });
 * ```
 */
export async function tallyBallotBox(
  election: CeremonyElection,
  options: TallyBallotBoxOptions,
): Promise<ElectionTranscriptRecords> {
  const { key, sinks } = options;
  const info: ElectionPublicInfo = { ...election, publicKey: key.publicKey };
  const common = {
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
  const { box, counted } = await replayBallotBoxRecords(info, options.ballots, {
    ...common,
    store: options.store,
    sinks,
  });
  // Mixer nodes (a cascade) take the mix input; their lists are streamed into the sinks.
  const mixes = options.cascade === undefined
    ? await mixElectionRecords(info, {
      inputs: counted,
      sinks,
      ...common,
      ...(options.random === undefined ? {} : { random: options.random }),
    })
    : await cascadeMixes(info, options.cascade, counted, sinks);
  const final = mixes[mixes.length - 1]!.outputs;
  let decryption: ElectionDecryptionRecords[];
  if (options.trusteeKeys !== undefined) {
    // The trustees' chunks share the worker pool (no worker idles between two trustees).
    decryption = await Promise.all(
      options.trusteeKeys.map((secret) =>
        decryptElectionSharesRecords(secret, {
          ciphertexts: final,
          fingerprint: election.fingerprint,
          sinks,
          ...common,
        })
      ),
    );
  } else if (options.postedDecryption !== undefined) {
    decryption = [...await options.postedDecryption()];
  } else {
    throw new TypeError("tallyBallotBox needs trusteeKeys or postedDecryption");
  }
  const results = await tallyElectionRecords(info, {
    key,
    ciphertexts: final,
    decryption,
    sinks,
    ...common,
  });
  return {
    ...election,
    ceremony: options.ceremony,
    key,
    ballots: box.ballotChunks(),
    mixInput: counted,
    mixes,
    decryption,
    ...results,
  };
}

/** The mixes of a cascade of mix nodes, named after the definition's mixers. */
async function cascadeMixes(
  election: ElectionPublicInfo,
  cascade: ElectionCascadeRecords,
  inputs: RecordSource,
  sinks: RecordSinkFactory,
): Promise<ElectionMixRecords[]> {
  const names = election.definition.mixers;
  assertBatchSize(inputs.count, MIN_ELECTION_BALLOTS);
  const steps = await cascade(inputs, { election, sinks });
  if (steps.length !== names.length) {
    throw new InvalidInputError(
      `Election defines ${names.length} mixers, the cascade returned ${steps.length} mixes`,
    );
  }
  return steps.map((step, m) => ({ mixer: names[m]!, ...step }));
}
