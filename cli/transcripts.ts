/**
 * The static registry of published transcripts `panoramix verify FILE` can check,
 * by envelope kind. Each entry re-checks every proof in the file and returns a
 * one-line summary; a failed check throws a VerificationError naming the step.
 *
 * @module
 */

import type { Envelope } from "../core/envelope.ts";
import { InvalidInputError } from "../core/errors.ts";
import type { ProgressReporter } from "../core/mixer.ts";
import {
  decodeCascadeTranscript,
  REENCRYPT_KINDS,
  verifyCascade,
} from "../backends/reencrypt/mod.ts";
import {
  ELECTION_TRANSCRIPT_KIND,
  electionTranscriptFromEnvelope,
  verifyElection,
} from "../plugins/vote/mod.ts";

/** Options passed to a transcript verifier. */
export interface TranscriptVerifyOptions {
  /** Names the file in errors. */
  what: string;
  /** Worker count (default: all cores). */
  workers?: number;
  /** Progress callback. */
  onProgress?: ProgressReporter;
}

/** Verifies one kind of transcript. */
export interface TranscriptVerifier {
  /** What the transcript is, for `--help` and errors. */
  readonly summary: string;
  /**
   * Re-checks every proof in the transcript.
   *
   * @param envelope the decoded transcript envelope
   * @param options file name, workers and progress
   * @returns a one-line summary of what was verified
   * @throws {VerificationError} naming the failing step
   */
  verify(envelope: Envelope, options: TranscriptVerifyOptions): Promise<string>;
}

const workersOf = (options: TranscriptVerifyOptions) =>
  options.workers === undefined ? {} : { workers: options.workers };

/** Every transcript kind `panoramix verify FILE` understands. */
export const TRANSCRIPT_VERIFIERS: ReadonlyMap<string, TranscriptVerifier> = new Map<
  string,
  TranscriptVerifier
>([
  [REENCRYPT_KINDS.cascadeTranscript, {
    summary: "re-encryption mix cascade (panoramix cascade)",
    async verify(envelope, options) {
      const transcript = decodeCascadeTranscript(envelope, options.what);
      await verifyCascade(transcript, workersOf(options));
      return `re-encryption cascade of ${transcript.steps.length} mixers over ` +
        `${transcript.inputs.length} ciphertexts: every shuffle proof verified`;
    },
  }],
  [ELECTION_TRANSCRIPT_KIND, {
    summary: "election (panoramix vote); `panoramix vote verify` also checks a voter roll",
    async verify(envelope, options) {
      const transcript = electionTranscriptFromEnvelope(envelope, options.what);
      const report = await verifyElection(transcript, {
        ...workersOf(options),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      return `election '${report.election}': ${report.ballots} ballots (${report.counted} counted), ` +
        `${report.mixers} mixes, decryption shares and tally verified`;
    },
  }],
]);

/**
 * Looks up the verifier of a transcript kind.
 *
 * @param kind the envelope kind of the file
 * @param what names the file in the error
 * @returns the verifier
 * @throws {InvalidInputError} listing the kinds that can be verified (exit 4, as `vote verify`
 * of a file of the wrong kind)
 */
export function transcriptVerifierFor(kind: string, what: string): TranscriptVerifier {
  const verifier = TRANSCRIPT_VERIFIERS.get(kind);
  if (verifier === undefined) {
    throw new InvalidInputError(
      `File '${what}' holds a '${kind}', which is not a transcript (verifiable kinds: ${
        [...TRANSCRIPT_VERIFIERS.keys()].join(", ")
      }); to check one mix pass --backend, --key, --inputs and --outputs`,
    );
  }
  return verifier;
}
