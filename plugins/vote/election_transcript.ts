/**
 * The published election transcript: everything a stand-alone verifier needs and
 * nothing secret, as one `vote.transcript` envelope (msgpack file, JSON view for
 * people). Every field is documented in docs/vote.md.
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import {
  Ciphertext,
  decodeScalar,
  decodeShuffleProof,
  ELEMENT_BYTES,
  encodeScalar,
  encodeShuffleProof,
  type ShuffleProof,
} from "../../backends/reencrypt/mod.ts";
import type { ElectionAnswer } from "./answers.ts";
import {
  type ElectionBallot,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
} from "./ballot.ts";
import {
  type CeremonyPosts,
  decodeComplaintAnswers,
  decodeElectionKey,
  decodeTrusteeComplaints,
  decodeTrusteeDealing,
  type ElectionKey,
  encodeCeremonyPost,
} from "./ceremony.ts";
import {
  ELECTION_FINGERPRINT_BYTES,
  type ElectionDefinition,
  electionDefinitionFromEnvelope,
  electionDefinitionToEnvelope,
} from "./definition.ts";
import { type ElectionTally, readElectionTally } from "./tally.ts";

/** Envelope kind of a transcript. */
export const ELECTION_TRANSCRIPT_KIND = "vote.transcript";

/**
 * Format version of election transcripts: 2 holds one batched decryption proof per
 * trustee; 3 holds ballots whose proofs are in commitment form (ballot envelopes v2);
 * 4 adds the trustees' signatures on ceremony posts and decryption shares (and holds
 * definitions v 2, which name the trustees' identity keys).
 */
export const ELECTION_TRANSCRIPT_VERSION = 4;

/** Envelope kind of one trustee's decryption post on a board. */
export const DECRYPTION_POST_KIND = "vote.decryption";

/** One mixer's published output. */
export interface ElectionMix {
  /** Mixer name (from the definition). */
  mixer: string;
  /** Its re-encrypted, permuted outputs. */
  outputs: Ciphertext[];
  /** Its Terelius–Wikström proof. */
  proof: ShuffleProof;
}

/**
 * One trustee's decryption shares of the last mixer's outputs with ONE batched
 * Chaum–Pedersen proof for all of them (backend `createPackedDecryptionShareBatch`).
 */
export interface ElectionDecryption {
  /** Trustee index 1..n. */
  trustee: number;
  /** One share per final ciphertext, in order: d₁..d_w (32·w bytes). */
  shares: Uint8Array[];
  /** The batch proof (e, z) over all the shares. */
  proof: { challenge: bigint; response: bigint };
  /** The trustee's Ed25519 signature (signing.ts), when the election names trustee keys. */
  signature?: Uint8Array;
}

function decryptionFields(d: ElectionDecryption): Record<string, unknown> {
  return {
    trustee: d.trustee,
    shares: d.shares,
    challenge: encodeScalar(d.proof.challenge),
    response: encodeScalar(d.proof.response),
    ...(d.signature === undefined ? {} : { signature: d.signature }),
  };
}

function readDecryption(raw: unknown, what: string, width: number): ElectionDecryption {
  const r = readRecord(raw, what);
  return {
    trustee: readInteger(r.trustee, `${what}.trustee`, { min: 1 }),
    shares: readArray(r.shares, `${what}.shares`).map((s, i) =>
      readBytes(s, `${what}.shares[${i}]`, { length: ELEMENT_BYTES * width })
    ),
    proof: {
      challenge: decodeScalar(
        readBytes(r.challenge, `${what}.challenge`, { length: 32 }),
        `${what}.challenge`,
      ),
      response: decodeScalar(
        readBytes(r.response, `${what}.response`, { length: 32 }),
        `${what}.response`,
      ),
    },
    ...(r.signature === undefined || r.signature === null
      ? {}
      : { signature: readBytes(r.signature, `${what}.signature`, { length: 64 }).slice() }),
  };
}

/**
 * Encodes one trustee's decryption shares as a board post (`vote.decryption`).
 *
 * @param election the election (its fingerprint goes in the post)
 * @param decryption the trustee's shares, batch proof and signature
 * @returns the envelope
 * @example
 * ```ts ignore
 * await post(encodeDecryptionPost(election, await decryptElectionShares(key, options)));
 * ```
 */
export function encodeDecryptionPost(
  election: { fingerprint: Uint8Array },
  decryption: ElectionDecryption,
): Envelope {
  return {
    v: 1,
    kind: DECRYPTION_POST_KIND,
    election: election.fingerprint,
    ...decryptionFields(decryption),
  };
}

/**
 * Decodes a `vote.decryption` post (structure only; the tally and the verifier check the
 * signature and the batch proof).
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the decryption
 * @throws {InvalidInputError} for another election or a malformed field
 * @example
 * ```ts ignore
 * const d = decodeDecryptionPost(election, env, "post 7");
 * ```
 */
export function decodeDecryptionPost(
  election: { definition: ElectionDefinition; fingerprint: Uint8Array },
  value: unknown,
  what = "decryption",
): ElectionDecryption {
  const env = readEnvelope(value, DECRYPTION_POST_KIND, { what });
  const fp = readBytes(env.election, `${what}.election`, { length: ELECTION_FINGERPRINT_BYTES });
  if (fp.some((b, i) => b !== election.fingerprint[i])) {
    throw new InvalidInputError(`Post '${what}' belongs to another election`);
  }
  const shares = readArray(env.shares, `${what}.shares`);
  const first = shares[0];
  const width = first instanceof Uint8Array ? Math.max(1, first.length / ELEMENT_BYTES) : 1;
  const d = readDecryption(env, what, width);
  if (d.trustee > election.definition.trustees.length) {
    throw new InvalidInputError(`Value '${what}.trustee' is not a trustee of this election`);
  }
  return d;
}

/** A complete election transcript. */
export interface ElectionTranscript {
  /** The definition. */
  definition: ElectionDefinition;
  /** Its fingerprint (recomputed and compared by verifiers). */
  fingerprint: Uint8Array;
  /** Public key-ceremony posts. */
  ceremony: CeremonyPosts;
  /** The election key the posts resolve to. */
  key: ElectionKey;
  /** Every accepted ballot in box order (superseded ones included). */
  ballots: ElectionBallot[];
  /** The cleansed mix input: counted ballots' ciphertexts in box order. */
  mixInput: Ciphertext[];
  /** One entry per mixer, in cascade order. */
  mixes: ElectionMix[];
  /** At least t trustees' shares. */
  decryption: ElectionDecryption[];
  /** Decrypted elements per final ciphertext (32·w bytes: the w element encodings). */
  plaintexts: Uint8Array[];
  /** Decoded answers per final ciphertext; null for an invalid ballot. */
  answers: (ElectionAnswer[] | null)[];
  /** The tally. */
  tally: ElectionTally;
}

/**
 * Encodes a transcript as its `vote.transcript` envelope.
 *
 * @param transcript the transcript
 * @returns the envelope (write it with `encodeMsgpack`)
 * @example
 * ```ts ignore
 * const bytes = encodeMsgpack(electionTranscriptToEnvelope(transcript));
 * ```
 */
export function electionTranscriptToEnvelope(transcript: ElectionTranscript): Envelope {
  const election = { definition: transcript.definition, fingerprint: transcript.fingerprint };
  return {
    v: ELECTION_TRANSCRIPT_VERSION,
    kind: ELECTION_TRANSCRIPT_KIND,
    election: electionDefinitionToEnvelope(transcript.definition),
    fingerprint: transcript.fingerprint,
    ceremony: {
      dealings: transcript.ceremony.dealings.map((dealing) =>
        encodeCeremonyPost(election, { dealing })
      ),
      complaints: transcript.ceremony.complaints.map((complaints) =>
        encodeCeremonyPost(election, { complaints })
      ),
      answers: transcript.ceremony.answers.map((answers) =>
        encodeCeremonyPost(election, { answers })
      ),
    },
    key: encodeCeremonyPost(election, { key: transcript.key }),
    ballots: transcript.ballots.map(electionBallotToEnvelope),
    mixInput: transcript.mixInput.map((c) => c.bytes),
    mixes: transcript.mixes.map((m) => ({
      mixer: m.mixer,
      outputs: m.outputs.map((c) => c.bytes),
      proof: encodeShuffleProof(m.proof),
    })),
    decryption: transcript.decryption.map(decryptionFields),
    plaintexts: transcript.plaintexts,
    answers: transcript.answers,
    tally: transcript.tally,
  };
}

function ciphertexts(value: unknown, what: string, width: number): Ciphertext[] {
  return readArray(value, what).map((raw, i) => {
    // Points are decoded and validated on first use (the verifier's proof checks). A view
    // into the decoded buffer, not a copy: no backing store per ciphertext (issue 17).
    return Ciphertext.unchecked(
      readBytes(raw, `${what}[${i}]`, { length: 2 * ELEMENT_BYTES * width }),
    );
  });
}

function answersOf(value: unknown, what: string): ElectionAnswer[] | null {
  if (value === null || value === undefined) return null;
  return readArray(value, what).map((a, q) =>
    readArray(a, `${what}[${q}]`).map((c, k) => readInteger(c, `${what}[${q}][${k}]`))
  );
}

/**
 * Decodes and structurally validates a transcript (every point and scalar canonical);
 * the cryptographic checks are {@linkcode verifyElection}'s job.
 *
 * @param value decoded envelope (msgpack or JSON view)
 * @param what names it in errors
 * @returns the transcript
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const transcript = electionTranscriptFromEnvelope(decodeMsgpack(bytes, "transcript"));
 * ```
 */
export function electionTranscriptFromEnvelope(
  value: unknown,
  what = "transcript",
): ElectionTranscript {
  const env = readEnvelope(value, ELECTION_TRANSCRIPT_KIND, {
    what,
    versions: [ELECTION_TRANSCRIPT_VERSION],
  });
  const definition = electionDefinitionFromEnvelope(env.election, `${what}.election`);
  const fingerprint = readBytes(env.fingerprint, `${what}.fingerprint`, {
    length: ELECTION_FINGERPRINT_BYTES,
  });
  const election = { definition, fingerprint };
  const ceremony = readRecord(env.ceremony, `${what}.ceremony`);
  const width = (bytes: number) => bytes / (2 * ELEMENT_BYTES);
  const ballots = readArray(env.ballots, `${what}.ballots`).map((b, i) =>
    electionBallotFromEnvelope(b, { what: `${what}.ballots[${i}]`, deferPoints: true, view: true })
  );
  const mixInputRaw = readArray(env.mixInput, `${what}.mixInput`);
  const w = ballots[0]?.ciphertext.width ??
    (mixInputRaw[0] instanceof Uint8Array ? width(mixInputRaw[0].length) : 1);
  return {
    definition,
    fingerprint,
    ceremony: {
      dealings: readArray(ceremony.dealings, `${what}.ceremony.dealings`).map((d, i) =>
        decodeTrusteeDealing(election, d, `${what}.ceremony.dealings[${i}]`)
      ),
      complaints: readArray(ceremony.complaints, `${what}.ceremony.complaints`).map((d, i) =>
        decodeTrusteeComplaints(election, d, `${what}.ceremony.complaints[${i}]`)
      ),
      answers: readArray(ceremony.answers, `${what}.ceremony.answers`).map((d, i) =>
        decodeComplaintAnswers(election, d, `${what}.ceremony.answers[${i}]`)
      ),
    },
    key: decodeElectionKey(election, env.key, `${what}.key`),
    ballots,
    mixInput: ciphertexts(mixInputRaw, `${what}.mixInput`, w),
    mixes: readArray(env.mixes, `${what}.mixes`).map((raw, m) => {
      const r = readRecord(raw, `${what}.mixes[${m}]`);
      return {
        mixer: readString(r.mixer, `${what}.mixes[${m}].mixer`),
        outputs: ciphertexts(r.outputs, `${what}.mixes[${m}].outputs`, w),
        proof: decodeShuffleProof(r.proof, `${what}.mixes[${m}].proof`),
      };
    }),
    decryption: readArray(env.decryption, `${what}.decryption`).map((raw, d) =>
      readDecryption(raw, `${what}.decryption[${d}]`, w)
    ),
    plaintexts: readArray(env.plaintexts, `${what}.plaintexts`).map((p, i) =>
      readBytes(p, `${what}.plaintexts[${i}]`, { length: ELEMENT_BYTES * w })
    ),
    answers: readArray(env.answers, `${what}.answers`).map((a, i) =>
      answersOf(a, `${what}.answers[${i}]`)
    ),
    tally: readElectionTally(env.tally, `${what}.tally`),
  };
}
