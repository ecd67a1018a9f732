/**
 * What `panoramix vote tally` runs (issue 17 point 2: bounded memory): the stored box replayed
 * a chunk at a time into a box whose ballots are kept in a file, the counted ciphertexts, every
 * mixer's outputs and proof lists, the trustees' shares and the plaintexts in record files of
 * a spool, and a transcript made of those lists — written with
 * `writeElectionTranscriptRecords`, a chunk at a time. With local mixers and local trustee
 * keys nothing proportional to the number of ballots is held but the box's indexes and the
 * mixers' permutations. A cascade of mix nodes and shares posted to a board come as whole
 * network messages: their lists are held in memory, then viewed as records.
 *
 * @module
 */

import { ELEMENT_BYTES } from "../../backends/reencrypt/mod.ts";
import type { RecordSinkFactory } from "../../core/records.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  type BallotStore,
  type CeremonyElection,
  type CeremonyPosts,
  decryptElectionSharesRecords,
  type ElectionBallot,
  type ElectionCascade,
  type ElectionDecryption,
  type ElectionDecryptionRecords,
  electionDecryptionRecords,
  type ElectionKey,
  type ElectionPublicInfo,
  type ElectionTranscriptRecords,
  type ItemChunks,
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
  /** Mix through this cascade (mix nodes; its lists in memory) instead of local mixers. */
  cascade?: ElectionCascade;
  /** The decrypting trustees' secret keys (t of them), in the order of their posts. */
  trusteeKeys?: readonly SecretShare[];
  /**
   * Without `trusteeKeys`: the decryption posts the trustees published, read once the mix is
   * done (in memory: they come whole from the board).
   */
  postedDecryption?: () => Promise<readonly ElectionDecryption[]>;
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
  const width = counted.recordBytes / (2 * ELEMENT_BYTES);
  // Mixer nodes (a cascade) take the mix input and return their lists as whole messages.
  const mixes = await mixElectionRecords(info, {
    inputs: counted,
    sinks,
    ...common,
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.cascade === undefined ? {} : { cascade: options.cascade }),
  });
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
    decryption = (await options.postedDecryption()).map((post) =>
      electionDecryptionRecords(post, width)
    );
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
