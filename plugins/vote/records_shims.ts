/**
 * TEMPORARY: replaced at the merge by the real functions. The record functions other
 * branches of issue 17 write (backend `verifyShuffleRecords` / `verifyShuffleChainRecords`:
 * smix, in backends/reencrypt; `voteVerifyDecryptionSharesRecords`,
 * `voteCheckPlaintextsRecords` in tasks.ts, `tallyAccumulator` in tally.ts,
 * `verifyTrusteeSharesRecords` in election.ts: stasks; `replayBallotBoxRecords` in
 * ballot_box.ts: sbox), with their names and signatures, implemented here over the array
 * functions by reading every list into memory. The verifier imports them from this file
 * only: at the merge, delete it and point the imports at the real modules.
 *
 * @module
 */

import type { ProgressReporter } from "../../core/mixer.ts";
import {
  allRecords,
  type ItemChunks,
  memoryRecordSinks,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import {
  type Point,
  shuffleProofFromRecords,
  type ShuffleProofRecords,
  verifyShuffle,
  verifyShuffleChain,
  type VerifyShuffleOptions,
} from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import { electionBallotLayout } from "./answers.ts";
import type { ElectionBallot, ElectionPublicInfo } from "./ballot.ts";
import { type BallotBoxOptions, type CastManyOptions, replayBallotBox } from "./ballot_box.ts";
import type { ElectionKey } from "./ceremony.ts";
import type { ElectionDefinition } from "./definition.ts";
import { verifyTrusteeShares } from "./election.ts";
import {
  ciphertextRecords,
  type ElectionDecryptionRecords,
  readCiphertexts,
} from "./election_records.ts";
import { computeElectionTally, type ElectionTally } from "./tally.ts";
import { type VoteBatchOptions, voteCheckPlaintexts, voteVerifyDecryptionShares } from "./tasks.ts";

const all = (list: RecordSource) => readCiphertexts(list, 0, list.count);

function split(list: RecordSource): Uint8Array[] {
  const bytes = allRecords(list), size = list.recordBytes;
  return Array.from({ length: list.count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

/** Shim of smix's `verifyShuffleRecords`. */
export async function verifyShuffleRecords(
  statement: {
    publicKey: Point;
    inputs: RecordSource;
    outputs: RecordSource;
    context?: Uint8Array;
  },
  proof: ShuffleProofRecords,
  options: VerifyShuffleOptions = {},
): Promise<void> {
  await verifyShuffle(
    { ...statement, inputs: all(statement.inputs), outputs: all(statement.outputs) },
    shuffleProofFromRecords(proof),
    options,
  );
}

/** Shim of smix's `verifyShuffleChainRecords`. */
export function verifyShuffleChainRecords(
  statement: {
    publicKey: Point;
    inputs: RecordSource;
    steps: ReadonlyArray<{ outputs: RecordSource; proof: ShuffleProofRecords }>;
    context?: Uint8Array;
  },
  options: VerifyShuffleOptions = {},
): Promise<boolean> {
  return verifyShuffleChain({
    ...statement,
    inputs: all(statement.inputs),
    steps: statement.steps.map((s) => ({
      outputs: all(s.outputs),
      proof: shuffleProofFromRecords(s.proof),
    })),
  }, options);
}

/** Shim of stasks' `voteVerifyDecryptionSharesRecords`. */
export function voteVerifyDecryptionSharesRecords(
  trustee: { index: number; verificationKey: Point },
  options: VoteBatchOptions & {
    ciphertexts: RecordSource;
    shares: RecordSource;
    proof: { challenge: bigint; response: bigint };
    context: Uint8Array;
  },
): Promise<boolean> {
  return voteVerifyDecryptionShares(trustee, {
    ...options,
    ciphertexts: all(options.ciphertexts),
    shares: split(options.shares),
  });
}

/** Shim of stasks' `voteCheckPlaintextsRecords`. */
export async function voteCheckPlaintextsRecords(
  posts: ReadonlyArray<{ trustee: number; shares: RecordSource }>,
  options: VoteBatchOptions & {
    ciphertexts: RecordSource;
    plaintexts: RecordSource;
    definition?: ElectionDefinition;
    onAnswers?: (lo: number, answers: (ElectionAnswer[] | null)[]) => void;
  },
): Promise<{ plaintextVerdicts: Uint8Array; verdicts: Uint8Array[] }> {
  const { onAnswers, ...rest } = options;
  const checked = await voteCheckPlaintexts(
    posts.map((p) => ({ trustee: p.trustee, shares: split(p.shares) })),
    { ...rest, ciphertexts: all(options.ciphertexts), plaintexts: split(options.plaintexts) },
  );
  if (checked.answers !== undefined) onAnswers?.(0, checked.answers);
  return { plaintextVerdicts: checked.plaintextVerdicts, verdicts: checked.verdicts };
}

/** Shim of stasks' `tallyAccumulator`. */
export function tallyAccumulator(definition: ElectionDefinition): {
  add(answers: (ElectionAnswer[] | null)[]): void;
  result(): ElectionTally;
} {
  const seen: (ElectionAnswer[] | undefined)[] = [];
  return {
    add: (answers) => answers.forEach((a) => seen.push(a ?? undefined)),
    result: () => computeElectionTally(definition, seen),
  };
}

/**
 * Shim of sbox's box replay over item chunks: the counted ciphertexts as records (written to
 * `sinks`; the shim's box keeps its ballots in memory whatever `store` says).
 */
export async function replayBallotBoxRecords(
  election: ElectionPublicInfo,
  ballots: ItemChunks<ElectionBallot>,
  options: BallotBoxOptions & CastManyOptions & { store?: unknown; sinks?: RecordSinkFactory } = {},
): Promise<{ counted: RecordSource; ballots: number }> {
  const list: ElectionBallot[] = [];
  for await (const chunk of ballots.chunks()) list.push(...chunk);
  const { store: _, sinks, ...rest } = options;
  const box = await replayBallotBox(election, list, rest);
  const width = electionBallotLayout(election.definition).elements.length;
  const counted = ciphertextRecords(box.close(), width);
  const sink = (sinks ?? memoryRecordSinks)("counted", counted.count, counted.recordBytes);
  sink.write(0, allRecords(counted));
  return { counted: sink.finish(), ballots: list.length };
}

/** Shim of stasks' `verifyTrusteeSharesRecords` (election.ts). */
export function verifyTrusteeSharesRecords(
  election: ElectionPublicInfo,
  options: {
    key: ElectionKey;
    ciphertexts: RecordSource;
    post: ElectionDecryptionRecords;
    workers?: number;
    onProgress?: ProgressReporter;
  },
): Promise<void> {
  return verifyTrusteeShares(election, {
    ...options,
    ciphertexts: all(options.ciphertexts),
    post: { ...options.post, shares: split(options.post.shares) },
  });
}
