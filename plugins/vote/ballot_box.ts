/**
 * The ballot box: accepts well-formed ballots with valid proofs and rejects the rest
 * with a typed error and a clear reason. Rules, checked in this order (docs/vote.md):
 *
 * 1. the box is open, the ballot is for this election and well formed (InvalidInputError);
 * 2. replay — the exact same ballot (same receipt) was cast before (ReplayError);
 * 3. copy — an element c1 of its ciphertext appears in an earlier ballot (ReplayError;
 *    honest ballots never share encryption randomness);
 * 4. eligibility — with a voter roll, the credential must be on it (InvalidInputError);
 * 5. duplicate — the credential already voted: rejected (ReplayError) under re-voting
 *    policy `reject`, or accepted and superseding the earlier ballot under `last`;
 * 6. proof — the proof of knowledge must verify for this election and credential
 *    (VerificationError).
 * Closing the box cleanses it: the counted ballots are the accepted ones not superseded,
 * in box order, and their ciphertexts are the input of the first mixer.
 *
 * @module
 */

import { constantTimeEqual, toHex } from "../../core/bytes.ts";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { readArray, readBytes } from "../../core/fields.ts";
import { InvalidInputError, ReplayError, VerificationError } from "../../core/errors.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import { splitRange } from "../../core/worker_pool.ts";
import type { Ciphertext } from "../../backends/reencrypt/mod.ts";
import { electionBallotLayout } from "./answers.ts";
import {
  ballotReceipt,
  checkBallotShape,
  type ElectionBallot,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
  verifyElectionBallot,
} from "./ballot.ts";
import { VOTE_ITEM_INVALID, VOTE_ITEM_OK, voteVerifyBallotProofs } from "./tasks.ts";

/** What the box answers to an accepted ballot. */
export interface CastResult {
  /** Position of the ballot in the box (0-based). */
  index: number;
  /** The voter's receipt. */
  receipt: Uint8Array;
  /** Position of the ballot of the same voter it replaces (policy `last`). */
  supersedes?: number;
}

/** Options of the box. */
export interface BallotBoxOptions {
  /** The voter roll: eligible credentials (default: any credential). */
  voters?: Iterable<string>;
}

/** Options of {@linkcode ElectionBallotBox.castMany}. */
export interface CastManyOptions {
  /** Workers for the proof checks (default the shared pool size). */
  workers?: number;
  /** Progress callback (phases "verify ballot proofs", "cast"). */
  onProgress?: ProgressReporter;
  /**
   * Compute the receipts with the proof checks, on the workers (default true); false defers
   * each receipt until it is read (a verifier replaying a published box reads none).
   */
  receipts?: boolean;
  /**
   * Ballots per batch (default 8,192): the rules are applied to one batch while the proofs
   * of the next two are checked on the workers.
   */
  batch?: number;
}

/** Outcome of one ballot of {@linkcode ElectionBallotBox.castMany}. */
export type CastOutcome = { ok: true; result: CastResult } | { ok: false; error: Error };

const C1_BYTES = 32;

/** Whether two ballots of one election are byte for byte the same (what a receipt identifies). */
function sameBallot(a: ElectionBallot, b: ElectionBallot): boolean {
  return a.credential === b.credential &&
    constantTimeEqual(a.ciphertext.bytes, b.ciphertext.bytes) &&
    constantTimeEqual(a.proof.commitments, b.proof.commitments) &&
    a.proof.responses.length === b.proof.responses.length &&
    a.proof.responses.every((z, k) => z === b.proof.responses[k]);
}

/**
 * An election's ballot box.
 *
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony } from "./ceremony.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const fingerprint = electionFingerprint(definition);
 * const { key } = runLocalKeyCeremony({ definition, fingerprint });
 * const election = { definition, fingerprint, publicKey: key.publicKey };
 * import { encryptElectionBallot } from "./ballot.ts";
 * import { ElectionBallotBox } from "./ballot_box.ts";
 * const box = new ElectionBallotBox(election);
 * const { receipt } = box.cast(encryptElectionBallot(election, { credential: "v1", answers: [[1]] }));
 * console.assert(receipt.length === 32 && box.close().length === 1);
 * ```
 */
export class ElectionBallotBox {
  readonly #election: ElectionPublicInfo;
  readonly #voters: Set<string> | undefined;
  readonly #ballots: ElectionBallot[] = [];
  readonly #receipts: (Uint8Array | undefined)[] = [];
  readonly #byC1 = new Map<string, number>();
  readonly #byCredential = new Map<string, number>();
  readonly #superseded = new Set<number>();
  #closed = false;

  /**
   * Opens an empty box.
   *
   * @param election the election the box collects ballots for
   * @param options voter roll
   */
  constructor(election: ElectionPublicInfo, options: BallotBoxOptions = {}) {
    this.#election = election;
    this.#voters = options.voters === undefined ? undefined : new Set(options.voters);
  }

  /** Accepted ballots, in box order (superseded ones included). */
  get ballots(): readonly ElectionBallot[] {
    return this.#ballots;
  }

  /** Receipts of the accepted ballots, in box order (computed on first use where deferred). */
  get receipts(): readonly Uint8Array[] {
    return this.#ballots.map((_, i) => this.#receiptOf(i));
  }

  #receiptOf(index: number): Uint8Array {
    let receipt = this.#receipts[index];
    if (receipt === undefined) {
      receipt = ballotReceipt(this.#ballots[index]!);
      this.#receipts[index] = receipt;
    }
    return receipt;
  }

  /** Whether the box is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Checks a ballot against rules 1–5 and, unless told otherwise, rule 6, then accepts it.
   *
   * @param ballot the ballot
   * @param options `proofValid`: the verdict of a batch proof check already made (rule 6
   *   then uses it; an invalid verdict is re-checked here for a precise message)
   * @returns the position, receipt and any superseded ballot
   * @throws {InvalidInputError} box closed, wrong election, malformed, not on the roll
   * @throws {ReplayError} replayed, copied, or duplicate under policy `reject`
   * @throws {VerificationError} invalid proof
   */
  cast(ballot: ElectionBallot, options: { proofValid?: boolean } = {}): CastResult {
    return this.#admit(ballot, { proofValid: options.proofValid === true });
  }

  /**
   * Rules 1–6. `receipt`: the receipt the batch check computed for a valid ballot, or
   * `"defer"` to compute it only when asked for (a verifier replaying a box needs none).
   */
  #admit(
    ballot: ElectionBallot,
    options: { proofValid: boolean; receipt?: Uint8Array | "defer"; shapeChecked?: boolean },
  ): CastResult {
    if (this.#closed) throw new InvalidInputError("Ballot box is closed; no more ballots accepted");
    // castMany checked the shape of every ballot whose proof it found valid.
    if (options.shapeChecked !== true) checkBallotShape(this.#election, ballot);
    const bytes = ballot.ciphertext.bytes;
    // Replay: the exact same ballot (same receipt) was accepted. Accepted ballots never share
    // a c1, so the only candidate is the ballot holding this ballot's first c1.
    const firstKey = toHex(bytes.subarray(0, C1_BYTES));
    const candidate = this.#byC1.get(firstKey);
    if (candidate !== undefined && sameBallot(this.#ballots[candidate]!, ballot)) {
      throw new ReplayError(
        `Ballot was already cast (replay of ballot ${candidate + 1}, receipt ${
          toHex(this.#receiptOf(candidate)).slice(0, 16)
        }…)`,
      );
    }
    const c1Keys: string[] = [];
    for (let k = 0; k < ballot.ciphertext.width; k++) {
      const key = k === 0
        ? firstKey
        : toHex(bytes.subarray(2 * k * C1_BYTES, (2 * k + 1) * C1_BYTES));
      const source = this.#byC1.get(key);
      if (source !== undefined || c1Keys.includes(key)) {
        throw new ReplayError(
          `Ballot of '${ballot.credential.slice(0, 40)}' copies the ciphertext of ballot ${
            (source ?? this.#ballots.length) + 1
          }`,
        );
      }
      c1Keys.push(key);
    }
    if (this.#voters !== undefined && !this.#voters.has(ballot.credential)) {
      throw new InvalidInputError(
        `Credential '${ballot.credential.slice(0, 40)}' is not on the voter roll`,
      );
    }
    const previous = this.#byCredential.get(ballot.credential);
    if (previous !== undefined && this.#election.definition.revote === "reject") {
      throw new ReplayError(
        `Voter '${ballot.credential.slice(0, 40)}' has already voted (ballot ${
          previous + 1
        }); this election does not allow re-voting`,
      );
    }
    if (!options.proofValid) verifyElectionBallot(this.#election, ballot);
    const index = this.#ballots.length;
    this.#ballots.push(ballot);
    this.#receipts.push(
      options.receipt === "defer" ? undefined : options.receipt ?? ballotReceipt(ballot),
    );
    for (const key of c1Keys) this.#byC1.set(key, index);
    this.#byCredential.set(ballot.credential, index);
    const receiptOf = () => this.#receiptOf(index);
    const result: CastResult = {
      index,
      get receipt() {
        return receiptOf();
      },
    };
    if (previous !== undefined) {
      this.#superseded.add(previous);
      result.supersedes = previous;
    }
    return result;
  }

  /**
   * Casts many ballots: their proofs are checked in parallel first, with one batch
   * equation per chunk of ballots (a chunk whose equation fails is checked ballot by
   * ballot), then each ballot goes through the rules in order, exactly as
   * {@linkcode ElectionBallotBox.cast}; a ballot whose proof failed is re-checked alone so
   * its error gives the precise reason.
   *
   * @param ballots the ballots, in arrival order
   * @param options workers and progress
   * @returns one outcome per ballot (accepted with its receipt, or the typed error)
   */
  async castMany(
    ballots: readonly ElectionBallot[],
    options: CastManyOptions = {},
  ): Promise<CastOutcome[]> {
    // In batches: the proofs of the next two batches are checked on the workers while this
    // thread applies the rules to the current one (issue 17: the rules are serial, and would
    // otherwise leave the workers idle at the end).
    const batch = Math.max(1, Math.floor(options.batch ?? CAST_BATCH));
    const parts = splitRange(ballots.length, Math.ceil(ballots.length / batch));
    // Ballots whose proofs are checked, per batch: progress is their sum (batches overlap).
    const checked = parts.map(() => 0);
    const report = (p: number, done: number) => {
      if (checked[p] === done) return;
      checked[p] = done;
      options.onProgress?.({
        phase: "verify ballot proofs",
        done: checked.reduce((a, b) => a + b, 0),
        total: ballots.length,
      });
    };
    const start = (p: number) => {
      const [lo, hi] = parts[p]!;
      // The malformed ballots (not sent to the workers) count once their batch is done.
      return verifyBallotProofs(
        this.#election,
        ballots.slice(lo, hi),
        options,
        (done, of) => report(p, done === of ? hi - lo : done),
      );
    };
    const running = parts.slice(0, 2).map((_, p) => start(p));
    const outcomes: CastOutcome[] = [];
    try {
      for (let p = 0; p < parts.length; p++) {
        const { verdicts, receipts } = await running[p]!;
        report(p, parts[p]![1] - parts[p]![0]); // a batch of malformed ballots only
        if (p + 2 < parts.length) running.push(start(p + 2));
        const [lo, hi] = parts[p]!;
        for (let i = lo; i < hi; i++) {
          outcomes.push(
            this.#castChecked(ballots[i]!, verdicts[i - lo]!, receipts[i - lo], options),
          );
          if ((i + 1) % 5000 === 0 || i + 1 === ballots.length) {
            options.onProgress?.({ phase: "cast", done: i + 1, total: ballots.length });
          }
        }
      }
    } finally {
      // Nothing left running behind an unexpected error.
      await Promise.allSettled(running);
    }
    return outcomes;
  }

  /** Rules 1–6 for a ballot whose proof verdict is known, as an outcome. */
  #castChecked(
    ballot: ElectionBallot,
    verdict: number,
    batchReceipt: Uint8Array | undefined,
    options: CastManyOptions,
  ): CastOutcome {
    try {
      const proofValid = verdict === VOTE_ITEM_OK;
      const receipt = options.receipts === false ? "defer" : proofValid ? batchReceipt : undefined;
      return {
        ok: true,
        result: this.#admit(
          ballot,
          receipt === undefined
            ? { proofValid, shapeChecked: proofValid }
            : { proofValid, receipt, shapeChecked: proofValid },
        ),
      };
    } catch (error) {
      if (!(error instanceof Error) || !("code" in error)) throw error;
      return { ok: false, error };
    }
  }

  /**
   * Positions of the counted ballots: accepted and not superseded, in box order.
   *
   * @returns 0-based positions
   */
  countedIndices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#ballots.length; i++) if (!this.#superseded.has(i)) out.push(i);
    return out;
  }

  /**
   * Closes the box and returns the cleansed mix input: the counted ballots' ciphertexts
   * (proofs and credentials stripped), in box order.
   *
   * @returns the first mixer's input
   */
  close(): Ciphertext[] {
    this.#closed = true;
    return this.countedIndices().map((i) => this.#ballots[i]!.ciphertext);
  }
}

/** Ballots per batch of {@linkcode ElectionBallotBox.castMany}. */
const CAST_BATCH = 8192;

async function verifyBallotProofs(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
  options: CastManyOptions,
  onChecked: (done: number, total: number) => void,
): Promise<{ verdicts: Uint8Array; receipts: (Uint8Array | undefined)[] }> {
  // Malformed or foreign ballots are left to the rules (their verdict is re-checked).
  const picked: number[] = [];
  ballots.forEach((b, i) => {
    try {
      checkBallotShape(election, b);
      picked.push(i);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
    }
  });
  const width = electionBallotLayout(election.definition).elements.length;
  const checked = await voteVerifyBallotProofs({
    publicKey: election.publicKey,
    fingerprint: election.fingerprint,
    width,
    ballots: picked.map((i) => ballots[i]!),
    receipts: options.receipts ?? true,
  }, {
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    onChunk: (done, total) => onChecked(done, total),
  });
  const verdicts = new Uint8Array(ballots.length).fill(VOTE_ITEM_INVALID);
  const receipts: (Uint8Array | undefined)[] = ballots.map(() => undefined);
  picked.forEach((i, j) => {
    verdicts[i] = checked.verdicts[j]!;
    receipts[i] = checked.receipts[j];
  });
  return { verdicts, receipts };
}

/**
 * Replays a published list of ballots through a fresh box, as a verifier does; every
 * ballot must be accepted in order. Proofs are checked in parallel first.
 *
 * @param election the election
 * @param ballots the published ballots
 * @param options voter roll, workers and progress
 * @returns the box holding them
 * @throws {VerificationError} "Ballot N: reason" for the first ballot the rules reject
 * @example
 * ```ts ignore
 * const box = await replayBallotBox(election, transcript.ballots);
 * ```
 */
export async function replayBallotBox(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
  options: BallotBoxOptions & CastManyOptions = {},
): Promise<ElectionBallotBox> {
  const box = new ElectionBallotBox(election, options);
  // Receipts are not needed to check the rules: deferred.
  const outcomes = await box.castMany(ballots, { ...options, receipts: false });
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) return;
    const error = outcome.error;
    if (
      error instanceof InvalidInputError || error instanceof ReplayError ||
      error instanceof VerificationError
    ) {
      throw new VerificationError(`Ballot ${i + 1}: ${error.message}`, { cause: error });
    }
    throw error;
  });
  return box;
}

/** Envelope kind of a stored ballot box. */
export const BALLOT_BOX_KIND = "vote.ballot-box";

/**
 * Encodes the accepted ballots of a box as `{ v: 1, kind: "vote.ballot-box", election, ballots }`.
 *
 * @param election the election (its fingerprint is stamped on the file)
 * @param ballots the accepted ballots in box order
 * @returns the envelope
 * @example
 * ```ts ignore
 * const env = ballotBoxToEnvelope(election, box.ballots);
 * ```
 */
export function ballotBoxToEnvelope(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
): Envelope {
  return {
    v: 1,
    kind: BALLOT_BOX_KIND,
    election: election.fingerprint,
    ballots: ballots.map(electionBallotToEnvelope),
  };
}

/**
 * Decodes a stored ballot box (ballots only; replay them into an {@linkcode ElectionBallotBox}).
 *
 * @param election the election it must belong to
 * @param value decoded envelope
 * @returns the ballots in box order
 * @throws {InvalidInputError} when malformed or for another election
 * @example
 * ```ts ignore
 * const ballots = ballotBoxFromEnvelope(election, env);
 * ```
 */
export function ballotBoxFromEnvelope(
  election: ElectionPublicInfo,
  value: unknown,
): ElectionBallot[] {
  const env = readEnvelope(value, BALLOT_BOX_KIND, { what: "ballot box" });
  const fp = readBytes(env.election, "ballot box.election", {
    length: election.fingerprint.length,
  });
  if (!constantTimeEqual(fp, election.fingerprint)) {
    throw new InvalidInputError("Ballot box belongs to another election");
  }
  return readArray(env.ballots, "ballot box.ballots").map((b, i) =>
    electionBallotFromEnvelope(b, { what: `ballot box.ballots[${i}]`, deferPoints: true })
  );
}
