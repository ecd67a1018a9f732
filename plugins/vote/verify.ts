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
 * {@linkcode verifyElectionRecords} is the verifier, over a transcript whose long lists are
 * record lists read a chunk at a time (issue 17); {@linkcode verifyElection} is its wrapper
 * for a transcript in memory.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { ProgressEvent, ProgressReporter } from "../../core/mixer.ts";
import {
  DEFAULT_ITEM_CHUNK,
  type ItemChunks,
  memoryRecords,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import {
  ELEMENT_BYTES,
  verifyShuffleChainRecords,
  verifyShuffleRecords,
} from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import type { ElectionPublicInfo } from "./ballot.ts";
import { verifyElectionKey } from "./ceremony.ts";
import { electionFingerprint } from "./definition.ts";
import { MIN_ELECTION_BALLOTS, verifyTrusteeSharesRecords } from "./election.ts";
import { type ElectionTranscriptRecords, electionTranscriptRecords } from "./election_records.ts";
import type { ElectionTranscript } from "./election_transcript.ts";
import { replayBallotBoxRecords } from "./ballot_box.ts";
import type { BallotStore } from "./ballot_store.ts";
import { electionTalliesEqual, tallyAccumulator } from "./tally.ts";
import { VOTE_ITEM_MALFORMED, VOTE_ITEM_OK, voteCheckPlaintextsRecords } from "./tasks.ts";

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

/** Options of {@linkcode verifyElection} and {@linkcode verifyElectionRecords}. */
export interface VerifyElectionOptions {
  /** Workers for the shuffle proofs (default the shared pool size). */
  workers?: number;
  /** Progress callback. */
  onProgress?: ProgressReporter;
  /** Voter roll the ballots must come from (default: not checked). */
  voters?: Iterable<string>;
  /**
   * Where the replayed box keeps the ballots it accepts (default their encodings in memory,
   * about 150 bytes a ballot: a command line replaying a million ballots gives a file).
   */
  store?: BallotStore;
  /** Where the counted ciphertexts of the replayed box go (default in memory). */
  sinks?: RecordSinkFactory;
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
 * Verifies a whole election transcript held in memory: the wrapper of
 * {@linkcode verifyElectionRecords}.
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
export function verifyElection(
  transcript: ElectionTranscript,
  options: VerifyElectionOptions = {},
): Promise<ElectionVerificationReport> {
  return verifyElectionRecords(electionTranscriptRecords(transcript), options);
}

/**
 * Verifies a whole election transcript whose O(N) lists are record lists and item chunks
 * (issue 17: in memory or in files), reading each list a chunk at a time, so memory is
 * proportional to a chunk, not to the election. The steps, their order and their failure
 * messages are those of the module docs. Kept in memory besides a chunk of each list: a
 * verdict byte per final ciphertext for the plaintexts and for each trustee's shares, and the
 * decoded answers of the chunks the workers finished before the published ones were read.
 *
 * @param transcript the transcript as record lists (e.g. `electionTranscriptRecords`, or a
 *   transcript file opened by the command line)
 * @param options workers, progress, an optional voter roll, and where the replayed box keeps
 *   its ballots (`store`) and counted ciphertexts (`sinks`)
 * @returns a summary when everything verifies
 * @throws {VerificationError} naming the first failing step (see module docs)
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * import { runLocalElection } from "./election.ts";
 * import { electionTranscriptRecords } from "./election_records.ts";
 * import { simulateElectionBallots } from "./simulate.ts";
 * import { verifyElectionRecords } from "./verify.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const { transcript } = await runLocalElection(definition, {
 *   workers: 1,
 *   ballots: (e) => simulateElectionBallots(e, { count: 4 }).ballots,
 * });
 * const report = await verifyElectionRecords(electionTranscriptRecords(transcript), { workers: 1 });
 * console.assert(report.counted === 4);
 * ```
 */
export async function verifyElectionRecords(
  transcript: ElectionTranscriptRecords,
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
  // can be made now (counts, sizes: the records' count and recordBytes) have passed; all are
  // settled before anything is thrown.
  const mixesValid = transcript.mixes.length === definition.mixers.length;
  const last: RecordSource = mixesValid
    ? transcript.mixes.at(-1)?.outputs ?? transcript.mixInput
    : memoryRecords(new Uint8Array(0), 2 * ELEMENT_BYTES);
  // A plaintext or share holds one element per ciphertext element (32·w bytes).
  const plaintextBytes = last.count > 0 ? last.recordBytes / 2 : ELEMENT_BYTES;
  const sharesShaped = mixesValid &&
    new Set(transcript.decryption.map((d) => d.trustee)).size === transcript.decryption.length &&
    transcript.decryption.length >= definition.threshold &&
    transcript.decryption.every((post) =>
      post.trustee >= 1 && post.trustee <= definition.trustees.length &&
      post.shares.count === last.count &&
      (last.count === 0 || post.shares.recordBytes === plaintextBytes)
    );
  const { plaintexts } = transcript;
  const plaintextsShaped = sharesShaped && plaintexts.count === last.count &&
    (last.count === 0 || plaintexts.recordBytes === plaintextBytes);

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
  const boxRun = replayBallotBoxRecords(election, transcript.ballots, {
    ...(options.voters === undefined ? {} : { voters: options.voters }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.sinks === undefined ? {} : { sinks: options.sinks }),
    ...workers,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // 5. All the shuffle proofs at once (backend: one joint equation, each ciphertext between
  // two mixers decoded once); only when that fails, mixer by mixer to name the first failure.
  const labelled = mixesValid &&
    transcript.mixes.every((mix, m) => mix.mixer === definition.mixers[m]);
  const chainRun = labelled
    ? verifyShuffleChainRecords({
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
      verifyTrusteeSharesRecords(election, {
        key: transcript.key,
        ciphertexts: last,
        post,
        ...workers,
        onProgress: (e) => queues[t]!.push(e),
      })
    )
    : [];
  // 7. The published plaintexts against the shares, without recombining them; 8. the answers
  // the workers decode from them, compared with the published ones and counted as they come.
  const tallied = tallyAccumulator(definition);
  const answers = plaintextsShaped && transcript.answers.count === last.count
    ? compareAnswers(transcript.answers)
    : undefined;
  const checkRun = plaintextsShaped
    ? voteCheckPlaintextsRecords(
      transcript.decryption.map((d) => ({ trustee: d.trustee, shares: d.shares })),
      {
        ciphertexts: last,
        plaintexts,
        definition, // the workers decode the answers too
        ...workers,
        onChunk: (done, total) => checkQueue.push({ phase: "check plaintexts", done, total }),
        onAnswers: (lo, decoded) => {
          tallied.add(decoded);
          answers?.add(lo, decoded);
        },
      },
    )
    : undefined;
  const [boxOutcome, chainOutcome, checkOutcome, ...shareOutcomes] = await Promise.allSettled([
    boxRun,
    chainRun,
    checkRun,
    ...shareRuns,
  ]);
  answers?.close();
  const box = outcomeOf(boxOutcome!);

  // 4. Cleansing, a chunk at a time.
  const counted = box.counted;
  const { mixInput } = transcript;
  if (counted.count !== mixInput.count) {
    fail(
      `Cleansing: mix input holds ${mixInput.count} ciphertexts, the box counts ${counted.count} ballots`,
    );
  }
  const differs = firstDifference(counted, mixInput);
  if (differs !== undefined) {
    fail(
      `Cleansing: mix input ${differs + 1} is not the ciphertext of counted ballot ${differs + 1}`,
    );
  }
  if (counted.count < MIN_ELECTION_BALLOTS) {
    fail(`Cleansing: ${counted.count} counted ballots, at least ${MIN_ELECTION_BALLOTS} needed`);
  }

  // 5. Mixes.
  if (!mixesValid) {
    fail(
      `Mixing: the election defines ${definition.mixers.length} mixers, the transcript holds ${transcript.mixes.length} mixes`,
    );
  }
  let current = mixInput;
  // A malformed element stops the joint check; the mixer-by-mixer pass below names its mixer.
  const chained = chainOutcome!.status === "rejected" &&
      chainOutcome!.reason instanceof InvalidInputError
    ? false
    : outcomeOf(chainOutcome!);
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
      await verifyShuffleRecords(
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
      if (error instanceof InvalidInputError) {
        throw new InvalidInputError(`${label}: ${error.message}`, { cause: error });
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
    if (post.shares.count !== current.count) {
      fail(
        `Trustee ${post.trustee}: ${post.shares.count} decryption shares for ${current.count} ciphertexts`,
      );
    }
    if (current.count > 0 && post.shares.recordBytes !== plaintextBytes) {
      fail(
        `Trustee ${post.trustee}: decryption shares of ${post.shares.recordBytes} bytes, expected ${plaintextBytes}`,
      );
    }
  }
  shareOutcomes.forEach((outcome, t) => {
    outcomeOf(outcome);
    flush(queues[t]!);
  });

  // 7. Plaintexts.
  if (plaintexts.count !== current.count) {
    fail(`Plaintexts: ${plaintexts.count} published for ${current.count} ciphertexts`);
  }
  if (plaintexts.count > 0 && plaintexts.recordBytes !== plaintextBytes) {
    fail(`Plaintext 1: ${plaintexts.recordBytes} bytes, expected ${plaintextBytes}`);
  }
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
  if (transcript.answers.count !== current.count) {
    fail(
      `Decoded ballots: ${transcript.answers.count} published for ${current.count} plaintexts`,
    );
  }
  const mismatch = await answers!.result();
  if (mismatch !== undefined) fail(`Decoded ballot ${mismatch + 1}: does not match its plaintext`);
  const tally = tallied.result();

  // 9. Tally.
  if (!electionTalliesEqual(tally, transcript.tally)) {
    fail("Tally does not match the decrypted ballots");
  }
  return {
    election: definition.id,
    ballots: box.ballots,
    counted: counted.count,
    mixers: transcript.mixes.length,
    trustees,
    valid: tally.valid,
    invalid: tally.invalid,
  };
}

/**
 * The first record where two lists of the same count differ, read a chunk at a time.
 *
 * @param a first list
 * @param b second list (records of another size differ from the first)
 * @returns the 0-based index, or undefined when they are equal
 */
function firstDifference(a: RecordSource, b: RecordSource): number | undefined {
  if (a.count > 0 && a.recordBytes !== b.recordBytes) return 0;
  const size = a.recordBytes;
  for (let lo = 0; lo < a.count; lo += DEFAULT_ITEM_CHUNK) {
    const hi = Math.min(a.count, lo + DEFAULT_ITEM_CHUNK);
    const x = a.read(lo, hi), y = b.read(lo, hi);
    if (constantTimeEqual(x, y)) continue;
    for (let i = 0; i < hi - lo; i++) {
      const at = i * size;
      if (!constantTimeEqual(x.subarray(at, at + size), y.subarray(at, at + size))) return lo + i;
    }
  }
  return undefined;
}

type Answers = ElectionAnswer[] | null;

/**
 * Compares decoded answers, handed chunk by chunk (in any order of chunks) as the workers
 * decode them, with the published answers read a chunk at a time alongside: only the
 * decoded chunks not yet compared are held (the published list is read as fast as the
 * workers decode), never the whole list.
 *
 * @param published the published answers (as many as the plaintexts)
 * @returns `add` for each decoded chunk, `close` once no more come, and `result`: the index of
 *   the first answer that differs (undefined: all equal), or the reading's error thrown
 */
function compareAnswers(published: ItemChunks<Answers>): {
  add(lo: number, decoded: Answers[]): void;
  close(): void;
  result(): Promise<number | undefined>;
} {
  const early = new Map<number, Answers[]>(); // chunks decoded ahead of the next expected one
  const ready: Answers[][] = []; // chunks in order, not yet compared
  let next = 0, closed = false, done = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const take = async (): Promise<Answers[] | undefined> => {
    while (ready.length === 0 && !closed) await new Promise<void>((r) => wake = r);
    return ready.shift();
  };
  const run = (async (): Promise<number | undefined> => {
    let i = 0, chunk: Answers[] = [], at = 0;
    for await (const items of published.chunks()) {
      for (const item of items) {
        while (at >= chunk.length) {
          const more = await take();
          // The check ended early (it failed, reported by its own step); nothing to compare.
          if (more === undefined) return undefined;
          chunk = more, at = 0;
        }
        if (JSON.stringify(chunk[at]) !== JSON.stringify(item ?? null)) return i;
        at++, i++;
      }
    }
    return undefined;
  })();
  const outcome = run.then(
    (v) => ({ ok: true as const, v }),
    (error: unknown) => ({ ok: false as const, error }),
  ).finally(() => {
    done = true;
    ready.length = 0;
    early.clear();
  });
  return {
    add(lo, decoded) {
      if (done) return;
      early.set(lo, decoded);
      for (let c = early.get(next); c !== undefined; c = early.get(next)) {
        early.delete(next);
        ready.push(c);
        next += c.length;
      }
      signal();
    },
    close() {
      closed = true;
      signal();
    },
    async result() {
      const o = await outcome;
      if (!o.ok) throw o.error;
      return o.v;
    },
  };
}
