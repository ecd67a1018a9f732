/**
 * The universal verifier: rechecks every step of a published election transcript and
 * throws a VerificationError whose message names the first failing step:
 *
 * 1. `Election: …` — the fingerprint is the definition's;
 * 2. `Key ceremony: …` — the posts resolve to the published election key;
 * 3. `Ballot N: …` — every ballot passes the box rules and its proof verifies (1-based);
 * 4. `Cleansing: …` — the mix input is exactly the counted ballots' ciphertexts;
 * 5. `Mixer M (name): …` — every shuffle proof verifies, each mixer taking the previous
 *    mixer's outputs;
 * 6. `Trustee J: decryption share batch invalid` — each trustee's batched Chaum–Pedersen
 *    proof over all its shares;
 * 7. `Plaintext I: …` — the published plaintext is the Lagrange combination of the
 *    verified shares (checked as D·(c2 − m) = Σ nⱼ·dⱼ, without recombining);
 * 8. `Decoded ballot I: …` — decoding the plaintext gives the published answers;
 * 9. `Tally does not match the decrypted ballots`.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { VerificationError } from "../../core/errors.ts";
import type { ProgressEvent, ProgressReporter } from "../../core/mixer.ts";
import { ELEMENT_BYTES, verifyShuffle, verifyShuffleChain } from "../../backends/reencrypt/mod.ts";
import type { ElectionPublicInfo } from "./ballot.ts";
import { replayBallotBox } from "./ballot_box.ts";
import { verifyElectionKey } from "./ceremony.ts";
import { electionFingerprint } from "./definition.ts";
import { MIN_ELECTION_BALLOTS, verifyTrusteeShares } from "./election.ts";
import type { ElectionTranscript } from "./election_transcript.ts";
import { computeElectionTally, electionTalliesEqual } from "./tally.ts";
import { VOTE_ITEM_MALFORMED, VOTE_ITEM_OK, voteCheckPlaintexts } from "./tasks.ts";

/** Summary of a verified transcript. */
export interface ElectionVerificationReport {
  /** Election id. */
  election: string;
  /** Ballots in the box. */
  ballots: number;
  /** Ballots counted after cleansing. */
  counted: number;
  /** Mixers whose proofs verified. */
  mixers: number;
  /** Trustees whose decryption shares verified. */
  trustees: number[];
  /** Valid and invalid decrypted ballots. */
  valid: number;
  /** Invalid decrypted ballots. */
  invalid: number;
}

/** Options of {@linkcode verifyElection}. */
export interface VerifyElectionOptions {
  /** Workers for the shuffle proofs (default the shared pool size). */
  workers?: number;
  /** Progress callback. */
  onProgress?: ProgressReporter;
  /** Voter roll the ballots must come from (default: not checked). */
  voters?: Iterable<string>;
}

/** A settled step's value, or its error thrown (in the order the caller reads them). */
function outcomeOf<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === "rejected") throw outcome.reason;
  return outcome.value;
}

function fail(message: string, cause?: unknown): never {
  throw new VerificationError(message, cause === undefined ? {} : { cause });
}

/**
 * Verifies a whole election transcript.
 *
 * @param transcript the decoded transcript
 * @param options workers, progress and an optional voter roll
 * @returns a summary when everything verifies
 * @throws {VerificationError} naming the first failing step (see module docs)
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { runLocalElection } from "./election.ts";
 * import { simulateElectionBallots } from "./simulate.ts";
 * import { verifyElection } from "./verify.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const { transcript } = await runLocalElection(definition, {
 *   workers: 1,
 *   ballots: (e) => simulateElectionBallots(e, { count: 4 }).ballots,
 * });
 * const report = await verifyElection(transcript, { workers: 1 });
 * console.assert(report.counted === 4);
 * ```
 */
export async function verifyElection(
  transcript: ElectionTranscript,
  options: VerifyElectionOptions = {},
): Promise<ElectionVerificationReport> {
  const { definition } = transcript;
  const progress = (phase: string, done: number, total: number) =>
    options.onProgress?.({ phase, done, total });
  const workers = options.workers === undefined ? {} : { workers: options.workers };

  // 1. The fingerprint every proof binds to.
  if (!constantTimeEqual(electionFingerprint(definition), transcript.fingerprint)) {
    fail("Election: fingerprint does not match the definition");
  }
  const ceremonyElection = { definition, fingerprint: transcript.fingerprint };

  // 2. Key ceremony.
  verifyElectionKey(ceremonyElection, { posts: transcript.ceremony, key: transcript.key });
  const election: ElectionPublicInfo = {
    definition,
    fingerprint: transcript.fingerprint,
    publicKey: transcript.key.publicKey,
  };
  progress("key ceremony", 1, 1);

  // Steps 3, 5, 6 and 7 are independent: they start together on the worker pool (issue 17:
  // no worker idles at a step's end, and this thread's hashing overlaps the workers), and
  // their outcomes are read below in this order, so the first failing step is named as when
  // they ran one after another. Each starts only once the checks that precede it in order and
  // can be made now (counts, sizes) have passed; all are settled before anything is thrown.
  const mixesValid = transcript.mixes.length === definition.mixers.length;
  const last = mixesValid ? transcript.mixes.at(-1)?.outputs ?? transcript.mixInput : [];
  const sharesShaped = mixesValid &&
    new Set(transcript.decryption.map((d) => d.trustee)).size === transcript.decryption.length &&
    transcript.decryption.length >= definition.threshold &&
    transcript.decryption.every((post) =>
      post.trustee >= 1 && post.trustee <= definition.trustees.length &&
      post.shares.length === last.length
    );
  const plaintextBytes = ELEMENT_BYTES * (last[0]?.width ?? 1);
  const plaintextsShaped = sharesShaped && transcript.plaintexts.length === last.length &&
    transcript.plaintexts.every((p) => p.length === plaintextBytes);

  // Progress in the order of the steps, as when they ran one after another (a page marks each
  // step passed as the next one reports): the box's events as they come, the joint shuffle
  // check's chunks as phase "shuffle proofs" (a phase of its own), and the events of the later
  // steps queued until the steps before them are read below.
  const queues = transcript.decryption.map(() => [] as ProgressEvent[]);
  const checkQueue: ProgressEvent[] = [];
  const flush = (queue: ProgressEvent[]) => {
    for (const e of queue.splice(0)) options.onProgress?.(e);
  };

  // 3. Ballot box: every ballot accepted in order, every proof valid.
  const boxRun = replayBallotBox(election, transcript.ballots, {
    ...(options.voters === undefined ? {} : { voters: options.voters }),
    ...workers,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // 5. All the shuffle proofs at once (backend: one joint equation, each ciphertext between
  // two mixers decoded once); only when that fails, mixer by mixer to name the first failure.
  const labelled = mixesValid &&
    transcript.mixes.every((mix, m) => mix.mixer === definition.mixers[m]);
  const chainRun = labelled
    ? verifyShuffleChain({
      publicKey: election.publicKey,
      inputs: transcript.mixInput,
      steps: transcript.mixes,
      context: election.fingerprint,
    }, {
      ...workers,
      onProgress: (e) => progress("shuffle proofs", e.done, e.total),
    })
    : Promise.resolve(false);
  // 6. Every trustee's batched Chaum–Pedersen proof (backend, two MSMs on the workers).
  const shareRuns = sharesShaped
    ? transcript.decryption.map((post, t) =>
      verifyTrusteeShares(election, {
        key: transcript.key,
        ciphertexts: last,
        post,
        ...workers,
        onProgress: (e) => queues[t]!.push(e),
      })
    )
    : [];
  // 7. The published plaintexts against the shares, without recombining them.
  const checkRun = plaintextsShaped
    ? voteCheckPlaintexts(
      transcript.decryption.map((d) => ({ trustee: d.trustee, shares: d.shares })),
      {
        ciphertexts: last,
        plaintexts: transcript.plaintexts,
        definition, // the workers decode the answers too
        ...workers,
        onChunk: (done, total) => checkQueue.push({ phase: "check plaintexts", done, total }),
      },
    )
    : undefined;
  const [boxOutcome, chainOutcome, checkOutcome, ...shareOutcomes] = await Promise.allSettled([
    boxRun,
    chainRun,
    checkRun,
    ...shareRuns,
  ]);
  const box = outcomeOf(boxOutcome!);

  // 4. Cleansing.
  const counted = box.close();
  if (counted.length !== transcript.mixInput.length) {
    fail(
      `Cleansing: mix input holds ${transcript.mixInput.length} ciphertexts, the box counts ${counted.length} ballots`,
    );
  }
  counted.forEach((ct, i) => {
    if (!constantTimeEqual(ct.bytes, transcript.mixInput[i]!.bytes)) {
      fail(`Cleansing: mix input ${i + 1} is not the ciphertext of counted ballot ${i + 1}`);
    }
  });
  if (counted.length < MIN_ELECTION_BALLOTS) {
    fail(`Cleansing: ${counted.length} counted ballots, at least ${MIN_ELECTION_BALLOTS} needed`);
  }

  // 5. Mixes.
  if (!mixesValid) {
    fail(
      `Mixing: the election defines ${definition.mixers.length} mixers, the transcript holds ${transcript.mixes.length} mixes`,
    );
  }
  let current = transcript.mixInput;
  const chained = outcomeOf(chainOutcome!);
  if (chained) {
    current = last;
    for (let m = 1; m <= transcript.mixes.length; m++) {
      progress("mixes", m, transcript.mixes.length);
    }
  }
  for (let m = 0; m < transcript.mixes.length && !chained; m++) {
    const mix = transcript.mixes[m]!;
    const label = `Mixer ${m + 1} (${definition.mixers[m]})`;
    if (mix.mixer !== definition.mixers[m]) {
      fail(`${label}: mix is labelled '${mix.mixer}'`);
    }
    try {
      // Terelius–Wikström verification (backend, Haenni et al. Alg. 8.5).
      await verifyShuffle(
        {
          publicKey: election.publicKey,
          inputs: current,
          outputs: mix.outputs,
          context: election.fingerprint,
        },
        mix.proof,
        workers,
      );
    } catch (error) {
      if (error instanceof VerificationError) {
        fail(`${label}: shuffle proof invalid (${error.message})`, error);
      }
      throw error;
    }
    current = mix.outputs;
    progress("mixes", m + 1, transcript.mixes.length);
  }

  // 6. Decryption shares.
  const trustees = transcript.decryption.map((d) => d.trustee);
  if (new Set(trustees).size !== trustees.length) {
    fail("Decryption: a trustee published two sets of shares");
  }
  if (trustees.length < definition.threshold) {
    fail(
      `Decryption: shares from ${trustees.length} trustees, the threshold is ${definition.threshold}`,
    );
  }
  for (const post of transcript.decryption) {
    if (post.trustee < 1 || post.trustee > definition.trustees.length) {
      fail(`Trustee ${post.trustee}: not a trustee of this election`);
    }
    if (post.shares.length !== current.length) {
      fail(
        `Trustee ${post.trustee}: ${post.shares.length} decryption shares for ${current.length} ciphertexts`,
      );
    }
  }
  shareOutcomes.forEach((outcome, t) => {
    outcomeOf(outcome);
    flush(queues[t]!);
  });

  // 7. Plaintexts.
  if (transcript.plaintexts.length !== current.length) {
    fail(`Plaintexts: ${transcript.plaintexts.length} published for ${current.length} ciphertexts`);
  }
  transcript.plaintexts.forEach((p, i) => {
    if (p.length !== plaintextBytes) {
      fail(`Plaintext ${i + 1}: ${p.length} bytes, expected ${plaintextBytes}`);
    }
  });
  const checked = outcomeOf(checkOutcome!)!;
  flush(checkQueue);
  transcript.decryption.forEach((d, t) => {
    const bad = checked.verdicts[t]!.findIndex((v) => v !== VOTE_ITEM_OK);
    if (bad >= 0) fail(`Trustee ${d.trustee}: decryption share ${bad + 1} malformed`);
  });
  checked.plaintextVerdicts.forEach((v, i) => {
    if (v === VOTE_ITEM_MALFORMED) fail(`Plaintext ${i + 1}: not a valid group element`);
    if (v !== VOTE_ITEM_OK) {
      fail(`Plaintext ${i + 1}: does not match the combined decryption shares`);
    }
  });

  // 8. Decoding.
  const answers = checked.answers!;
  if (transcript.answers.length !== answers.length) {
    fail(
      `Decoded ballots: ${transcript.answers.length} published for ${answers.length} plaintexts`,
    );
  }
  answers.forEach((a, i) => {
    if (JSON.stringify(a) !== JSON.stringify(transcript.answers[i] ?? null)) {
      fail(`Decoded ballot ${i + 1}: does not match its plaintext`);
    }
  });
  const tally = computeElectionTally(definition, answers.map((a) => a ?? undefined));

  // 9. Tally.
  if (!electionTalliesEqual(tally, transcript.tally)) {
    fail("Tally does not match the decrypted ballots");
  }
  return {
    election: definition.id,
    ballots: transcript.ballots.length,
    counted: counted.length,
    mixers: transcript.mixes.length,
    trustees,
    valid: tally.valid,
    invalid: tally.invalid,
  };
}
