/**
 * Ballot casting (the voter's client; Web-standard APIs only, so it runs in a
 * browser): answers are encoded ({@linkcode encodeElectionAnswers}), embedded one
 * element per layout element, encrypted under the election key as one width-w
 * ElGamal ciphertext, and accompanied by a Schnorr proof of knowledge of the
 * encryption randomness bound to the election and the voter credential.
 *
 * Binding (label "panoramix/vote/ballot/v2"): the proof's context is the bytes
 * UTF-8(label) ‖ election fingerprint (32 bytes) ‖ credential as UTF-8 — unambiguous, as
 * the label and the fingerprint have fixed lengths, and hashed once, inside the proof's
 * own transcript (v1 hashed them into a digest first). The backend's proof hashes
 * the public key and the whole ciphertext too, so a proof cannot be moved to another
 * election, voter or ciphertext; a copied ballot needs a fresh proof, which needs the
 * randomness the copier does not know.
 *
 * The proof is in the backend's commitment form (A₁..A_w, z₁..z_w; reencrypt
 * "encryption-knowledge/v2"), so a ballot box or verifier checks thousands of proofs with
 * one multi-scalar multiplication (the ballot box's `castMany`).
 *
 * Receipt (label "panoramix/vote/receipt/v2"): the first 32 bytes of the labelled
 * digest of the canonical ballot parts (fingerprint, credential, ciphertext bytes,
 * proof commitments, proof responses), each framed with its length.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { readBytes, readString } from "../../core/fields.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import { labelledDigest, labelledDigester } from "../../core/transcript.ts";
import {
  Ciphertext,
  ELEMENT_BYTES,
  embedBytes,
  encodeScalar,
  encrypt,
  type EncryptAndProveItem,
  encryptAndProveMany,
  encryptAndProvePacked,
  type EncryptionProof,
  extractBytes,
  type Point,
  proveEncryptionKnowledge,
  randomScalars,
  scalarsFromWideInto,
  unpackScalars,
  verifyEncryptionKnowledge,
} from "../../backends/reencrypt/mod.ts";
import { type ElectionAnswer, electionBallotLayout, encodeElectionAnswers } from "./answers.ts";
import { ELECTION_FINGERPRINT_BYTES, type ElectionDefinition } from "./definition.ts";

/** Envelope kind of a ballot. */
export const BALLOT_KIND = "vote.ballot";

/** Format version of ballot envelopes: 2 carries the proof in commitment form. */
export const BALLOT_VERSION = 2;

/** Domain-separation label of the ballot proof context. */
export const BALLOT_CONTEXT_LABEL = "panoramix/vote/ballot/v2";

/** Domain-separation label of voter receipts. */
export const BALLOT_RECEIPT_LABEL = "panoramix/vote/receipt/v2";

/** Length of a receipt in bytes. */
export const BALLOT_RECEIPT_BYTES = 32;

/** Longest voter credential, in UTF-8 bytes. */
export const VOTE_MAX_CREDENTIAL_BYTES = 256;

const encoder: TextEncoder = new TextEncoder();
const CONTEXT_PREFIX: Uint8Array = encoder.encode(BALLOT_CONTEXT_LABEL);

/** What a voter (or the ballot box) needs to know about an election. */
export interface ElectionPublicInfo {
  /** The definition. */
  definition: ElectionDefinition;
  /** Its fingerprint ({@linkcode electionFingerprint}). */
  fingerprint: Uint8Array;
  /** The joint election public key from the key ceremony. */
  publicKey: Point;
}

/** An encrypted ballot. */
export interface ElectionBallot {
  /** Fingerprint of the election it was cast in. */
  election: Uint8Array;
  /** The voter credential (an opaque voter id issued by the election authority). */
  credential: string;
  /** The encrypted answers, width = number of layout elements. */
  ciphertext: Ciphertext;
  /** Proof of knowledge of the encryption randomness, bound to election and credential. */
  proof: EncryptionProof;
}

/**
 * Checks a credential: 1 to 256 UTF-8 bytes, no control characters.
 *
 * @param credential the credential
 * @returns its UTF-8 bytes
 * @throws {InvalidInputError} when it breaks the rules
 * @example
 * ```ts
 * import { checkVoterCredential } from "./ballot.ts";
 * console.assert(checkVoterCredential("voter-1").length === 7);
 * ```
 */
export function checkVoterCredential(credential: string): Uint8Array {
  return checkCredentialBytes(encoder.encode(credential), credential);
}

/** The rules of checkVoterCredential on UTF-8 bytes (the text only names it in the error). */
function checkCredentialBytes(bytes: Uint8Array, credential?: string): Uint8Array {
  let control = false;
  for (let i = 0; i < bytes.length && !control; i++) {
    control = bytes[i]! < 0x20 || bytes[i] === 0x7f;
  }
  if (bytes.length === 0 || bytes.length > VOTE_MAX_CREDENTIAL_BYTES || control) {
    const text = credential ?? new TextDecoder().decode(bytes.subarray(0, 160));
    throw new InvalidInputError(
      `Credential '${
        text.slice(0, 40)
      }' must be 1 to ${VOTE_MAX_CREDENTIAL_BYTES} bytes of printable text`,
    );
  }
  return bytes;
}

/** Room for the longest credential and a byte more (a longer one does not fit). */
const CREDENTIAL_SCRATCH = new Uint8Array(VOTE_MAX_CREDENTIAL_BYTES + 1);

/**
 * {@linkcode checkVoterCredential} into a shared scratch buffer: a view valid until the next
 * call (ballotProofContext copies it), instead of a new array per voter (issue 17).
 */
function credentialBytes(credential: string): Uint8Array {
  const { read, written } = encoder.encodeInto(credential, CREDENTIAL_SCRATCH);
  if (read !== credential.length) return checkVoterCredential(credential); // too long: its error
  return checkCredentialBytes(CREDENTIAL_SCRATCH.subarray(0, written), credential);
}

/**
 * The context bytes a ballot proof is bound to.
 *
 * @param fingerprint election fingerprint (32 bytes)
 * @param credential voter credential (text, or its UTF-8 bytes)
 * @returns UTF-8(label) ‖ fingerprint ‖ UTF-8(credential)
 * @throws {InvalidInputError} on a fingerprint of the wrong length or a bad credential
 * @example
 * ```ts
 * import { ballotProofContext, BALLOT_CONTEXT_LABEL } from "./ballot.ts";
 * console.assert(ballotProofContext(new Uint8Array(32), "v").length === BALLOT_CONTEXT_LABEL.length + 33);
 * ```
 */
export function ballotProofContext(
  fingerprint: Uint8Array,
  credential: string | Uint8Array,
): Uint8Array {
  if (fingerprint.length !== ELECTION_FINGERPRINT_BYTES) {
    throw new InvalidInputError(
      `Ballot election fingerprint must be ${ELECTION_FINGERPRINT_BYTES} bytes`,
    );
  }
  const cred = typeof credential === "string"
    ? credentialBytes(credential)
    : checkCredentialBytes(credential);
  const out = new Uint8Array(CONTEXT_PREFIX.length + ELECTION_FINGERPRINT_BYTES + cred.length);
  writeContext(out, 0, fingerprint, cred);
  return out;
}

/**
 * Writes a ballot proof's context at `at` of `out`: prefix ‖ fingerprint ‖ credential bytes.
 *
 * @returns where it ends
 */
function writeContext(
  out: Uint8Array,
  at: number,
  fingerprint: Uint8Array,
  cred: Uint8Array,
): number {
  // Binds the proof to the election and the voter (non-malleable ballots, Bernhard–Pereira–Warinschi 2012).
  out.set(CONTEXT_PREFIX, at);
  out.set(fingerprint, at + CONTEXT_PREFIX.length);
  out.set(cred, at + CONTEXT_PREFIX.length + ELECTION_FINGERPRINT_BYTES);
  return at + CONTEXT_PREFIX.length + ELECTION_FINGERPRINT_BYTES + cred.length;
}

/**
 * {@linkcode ballotProofContext} of many voters, as views of one buffer (the contexts of a
 * chunk are used while it is encrypted, then dropped together; no array per voter).
 */
function ballotProofContexts(
  fingerprint: Uint8Array,
  voters: readonly { credential: string }[],
): Uint8Array[] {
  if (fingerprint.length !== ELECTION_FINGERPRINT_BYTES) {
    return voters.map((v) => ballotProofContext(fingerprint, v.credential)); // its error
  }
  const head = CONTEXT_PREFIX.length + ELECTION_FINGERPRINT_BYTES;
  let size = 0; // UTF-8 takes at most 3 bytes per UTF-16 unit
  for (const v of voters) {
    size += head + Math.min(3 * v.credential.length, VOTE_MAX_CREDENTIAL_BYTES);
  }
  const buffer = new Uint8Array(size), out: Uint8Array[] = [];
  let at = 0;
  for (const v of voters) {
    const end = writeContext(buffer, at, fingerprint, credentialBytes(v.credential));
    out.push(buffer.subarray(at, end));
    at = end;
  }
  return out;
}

/**
 * {@linkcode ballotProofContext} of ballots given by their credentials' UTF-8 bytes, as views
 * of one buffer: the ballots' check on a worker makes no array per ballot (issue 17). A
 * credential the rules refuse gets its error in place of its context.
 *
 * @param fingerprint election fingerprint (32 bytes)
 * @param credentials each ballot's credential, UTF-8
 * @returns per ballot its context, or the error its credential gives
 * @throws {InvalidInputError} on a fingerprint of the wrong length
 * @example
 * ```ts
 * import { ballotProofContext, ballotProofContextsOf } from "./ballot.ts";
 * const fp = new Uint8Array(32), v = new TextEncoder().encode("v");
 * const [context, refused] = ballotProofContextsOf(fp, [v, new Uint8Array(0)]);
 * console.assert(String(context) === String(ballotProofContext(fp, "v")));
 * console.assert(refused instanceof Error);
 * ```
 */
export function ballotProofContextsOf(
  fingerprint: Uint8Array,
  credentials: readonly Uint8Array[],
): (Uint8Array | InvalidInputError)[] {
  if (fingerprint.length !== ELECTION_FINGERPRINT_BYTES) {
    return [ballotProofContext(fingerprint, new Uint8Array(1))]; // throws its error
  }
  const head = CONTEXT_PREFIX.length + ELECTION_FINGERPRINT_BYTES;
  let size = 0;
  for (const c of credentials) size += head + c.length;
  const buffer = new Uint8Array(size);
  let at = 0;
  return credentials.map((c) => {
    try {
      const end = writeContext(buffer, at, fingerprint, checkCredentialBytes(c));
      const out = buffer.subarray(at, end);
      at = end;
      return out;
    } catch (error) {
      if (error instanceof InvalidInputError) return error;
      throw error;
    }
  });
}

/** Options for {@linkcode encryptElectionBallot}. */
export interface EncryptBallotOptions {
  /** The voter credential. */
  credential: string;
  /** One answer per question: chosen choice indices (in preference order for ranked). */
  answers: readonly (readonly number[])[];
  /** Randomness (default the system CSPRNG); seeded only for tests and simulations. */
  random?: RandomSource;
}

/**
 * Encrypts a voter's answers into a ballot (runs in browsers).
 *
 * @param election definition, fingerprint and public key
 * @param options credential, answers and randomness
 * @returns the ballot
 * @throws {InvalidInputError} when the answers break the question rules
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
 * import { encryptElectionBallot, verifyElectionBallot } from "./ballot.ts";
 * const ballot = encryptElectionBallot(election, { credential: "voter-7", answers: [[1]] });
 * verifyElectionBallot(election, ballot);
 * ```
 */
export function encryptElectionBallot(
  election: ElectionPublicInfo,
  options: EncryptBallotOptions,
): ElectionBallot {
  const context = ballotProofContext(election.fingerprint, options.credential);
  const parts = encodeElectionAnswers(election.definition, options.answers);
  // One embedded element per layout element (docs/vote.md, "Answer encoding").
  const messages = parts.map((p) => embedBytes(p));
  const randomness = randomScalars(messages.length, options.random);
  const ciphertext = encrypt(
    election.publicKey,
    messages,
    options.random ? { randomness, random: options.random } : { randomness },
  );
  const proof = proveEncryptionKnowledge(
    { publicKey: election.publicKey, ciphertext, context },
    options.random ? { randomness, random: options.random } : { randomness },
  );
  return {
    election: election.fingerprint.slice(),
    credential: options.credential,
    ciphertext,
    proof,
  };
}

/** Embedded answer parts by their bytes, for {@linkcode encryptElectionBallots}. */
const embeddedParts = new Map<number | string, Point>();
const EMBEDDED_LIMIT = 4096;

/**
 * Encrypts many voters' answers into ballots at once: the same ballots as
 * {@linkcode encryptElectionBallot} voter by voter with the same randomness (each voter's
 * source gives its encryption randomness, then its proof nonces, as there), with the
 * fixed-base products of every ballot computed together, all elements encoded in one pass
 * (backend `encryptAndProveMany`) and each distinct answer part embedded once. The ballots'
 * ciphertext bytes and proof commitments are views of one buffer of the call, and their
 * fingerprint one copy shared by all: do not write to them; copy what is kept alone.
 *
 * @param election definition, fingerprint and public key
 * @param voters per voter its credential, answers and randomness
 * @returns the ballots, in voter order
 * @throws {InvalidInputError} when answers break the question rules or a credential is bad
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony } from "./ceremony.ts";
 * import { encryptElectionBallots, verifyElectionBallot } from "./ballot.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const fingerprint = electionFingerprint(definition);
 * const { key } = runLocalKeyCeremony({ definition, fingerprint });
 * const election = { definition, fingerprint, publicKey: key.publicKey };
 * const ballots = encryptElectionBallots(election, [
 *   { credential: "voter-1", answers: [[0]] },
 *   { credential: "voter-2", answers: [[1]] },
 * ]);
 * ballots.forEach((b) => verifyElectionBallot(election, b));
 * ```
 */
export function encryptElectionBallots(
  election: ElectionPublicInfo,
  voters: readonly EncryptBallotOptions[],
): ElectionBallot[] {
  const { items, secrets } = ballotItems(election, voters);
  // One copy of the fingerprint for every ballot of the call (ballots are not mutated).
  const fingerprint = election.fingerprint.slice();
  const made = encryptAndProveMany(election.publicKey, items);
  secrets.fill(0); // the voters' randomness and nonces do not stay behind
  const ballots: ElectionBallot[] = [];
  for (let i = 0; i < made.length; i++) {
    const { ciphertext, proof } = made[i]!;
    ballots.push({ election: fingerprint, credential: voters[i]!.credential, ciphertext, proof });
  }
  return ballots;
}

/** Ballots of one election as bytes ({@linkcode encryptElectionBallotsPacked}). */
export interface PackedElectionBallots {
  /**
   * Per voter its proof context, UTF-8(label) ‖ fingerprint ‖ UTF-8(credential)
   * ({@linkcode ballotProofContext}): its credential's bytes are its end, from byte
   * {@linkcode BALLOT_CONTEXT_CREDENTIAL_AT} on.
   */
  contexts: Uint8Array[];
  /** Elements per ballot (the election's ballot width). */
  width: number;
  /**
   * The ciphertexts in voter order (c1ₖ ‖ c2ₖ, 64 bytes per element), then the proof commitments of every ballot (32 bytes per element).
   */
  bytes: Uint8Array;
  /** The proof responses in voter order, 32 little-endian bytes per element. */
  responses: Uint8Array;
}

/** Where a ballot proof context's credential bytes start. */
export const BALLOT_CONTEXT_CREDENTIAL_AT: number = CONTEXT_PREFIX.length +
  ELECTION_FINGERPRINT_BYTES;

/**
 * {@linkcode encryptElectionBallots} as bytes: the same ciphertexts and proofs for the same
 * randomness, in buffers (backend `encryptAndProvePacked`), with no ballot, ciphertext or
 * proof object and no bigint per ballot (issue 17: workers write simulated voters' ballots
 * straight into stored records, ballot_store.ts `encryptStoredBallots`).
 *
 * @param election definition, fingerprint and public key
 * @param voters per voter its credential, answers and randomness
 * @returns the contexts, the width, and the ballots' bytes
 * @throws {InvalidInputError} when answers break the question rules or a credential is bad
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony } from "./ceremony.ts";
 * import { encryptElectionBallotsPacked } from "./ballot.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * const fingerprint = electionFingerprint(definition);
 * const { key } = runLocalKeyCeremony({ definition, fingerprint });
 * const election = { definition, fingerprint, publicKey: key.publicKey };
 * const packed = encryptElectionBallotsPacked(election, [{ credential: "v", answers: [[0]] }]);
 * console.assert(packed.width === 1 && packed.bytes.length === 96);
 * ```
 */
export function encryptElectionBallotsPacked(
  election: ElectionPublicInfo,
  voters: readonly EncryptBallotOptions[],
): PackedElectionBallots {
  const { items, secrets } = ballotItems(election, voters);
  try {
    const { bytes, responses } = encryptAndProvePacked(election.publicKey, items);
    const contexts: Uint8Array[] = [];
    for (let i = 0; i < items.length; i++) contexts.push(items[i]!.context);
    const width = electionBallotLayout(election.definition).elements.length;
    return { contexts, width, bytes, responses };
  } finally {
    secrets.fill(0); // the voters' randomness and nonces do not stay behind
  }
}

/**
 * The items of {@linkcode encryptElectionBallots} for the backend: per voter its embedded
 * answer parts, randomness and nonces (drawn from its source in that order) and its proof
 * context; the randomness and nonces are views of `secrets` (zero it after use).
 */
function ballotItems(
  election: ElectionPublicInfo,
  voters: readonly EncryptBallotOptions[],
): { items: EncryptAndProveItem[]; secrets: Uint8Array } {
  // embedBytes is deterministic: one embedding per distinct part (a few per election), the
  // same point objects from one call to the next (the backend keeps their halves). Loops
  // with arrays built by push, no closure per call: one array shape whether this runs in the
  // interpreter or optimized (issue 17: each worker compiles this, and a changed shape of the
  // items made the compiled backend code deoptimize and compile again).
  const contexts = ballotProofContexts(election.fingerprint, voters);
  const messageLists: Point[][] = [];
  let elements = 0;
  for (let i = 0; i < voters.length; i++) {
    const parts = encodeElectionAnswers(election.definition, voters[i]!.answers);
    const messages: Point[] = [];
    for (let k = 0; k < parts.length; k++) messages.push(embedded(parts[k]!));
    messageLists.push(messages);
    elements += messages.length;
  }
  // The scalars as bytes in one buffer for the call (no bigint per scalar), reduced from
  // the voters' random bytes in one call for all (issue 17: no call into the scalar
  // arithmetic per voter for each worker to compile with this loop).
  const secrets = new Uint8Array(2 * ELEMENT_BYTES * elements);
  const wide = new Uint8Array(2 * 64 * elements);
  let scratch = new Uint8Array(64);
  const items: EncryptAndProveItem[] = [];
  for (let i = 0, at = 0; i < voters.length; i++) {
    const messages = messageLists[i]!, w = messages.length;
    // The order encryptElectionBallot draws them in: randomness, then the proof's nonces
    // (64·w bytes from the source each, as randomScalars(w, random) there), each draw into
    // one scratch buffer (not a new array per draw: small arrays cost the GC most).
    const random = voters[i]!.random ?? systemRandom;
    if (scratch.length !== 64 * w) scratch = new Uint8Array(64 * w);
    random(scratch);
    wide.set(scratch, 2 * at);
    const randomness = secrets.subarray(at, at + ELEMENT_BYTES * w);
    at += ELEMENT_BYTES * w;
    random(scratch);
    wide.set(scratch, 2 * at);
    const nonces = secrets.subarray(at, at + ELEMENT_BYTES * w);
    at += ELEMENT_BYTES * w;
    items.push({ messages, randomness, nonces, context: contexts[i]! });
  }
  scratch.fill(0);
  // Each 64 bytes mod ℓ, as randomScalars makes them (RFC 9496 §4.3.4 wide reduction).
  scalarsFromWideInto(secrets, { count: 2 * elements, outAt: 0, wide });
  wide.fill(0); // the random bytes of secret scalars do not stay behind
  return { items, secrets };
}

/**
 * The embedded point of an answer part, one object per distinct part: by a number for parts
 * of up to 6 bytes (the length and the value: no string per part), else by a string.
 */
function embedded(part: Uint8Array): Point {
  let key: number | string;
  if (part.length <= 6) {
    let value = part.length;
    for (let b = 0; b < part.length; b++) value = value * 256 + part[b]!;
    key = value;
  } else key = String.fromCharCode(...part);
  let point = embeddedParts.get(key);
  if (point === undefined) {
    point = embedBytes(part);
    if (embeddedParts.size >= EMBEDDED_LIMIT) embeddedParts.clear();
    embeddedParts.set(key, point);
  }
  return point;
}

/**
 * Checks a ballot's shape against the election (fingerprint, credential, width) without
 * the proof.
 *
 * @param election the election
 * @param ballot the ballot
 * @throws {InvalidInputError} naming what is wrong
 * @example
 * ```ts ignore
 * checkBallotShape(election, ballot);
 * ```
 */
export function checkBallotShape(election: ElectionPublicInfo, ballot: ElectionBallot): void {
  if (ballot.election.length !== ELECTION_FINGERPRINT_BYTES) {
    throw new InvalidInputError(
      `Ballot election fingerprint must be ${ELECTION_FINGERPRINT_BYTES} bytes`,
    );
  }
  if (!constantTimeEqual(ballot.election, election.fingerprint)) {
    throw new InvalidInputError(
      `Ballot of '${ballot.credential.slice(0, 40)}' was made for another election`,
    );
  }
  checkVoterCredential(ballot.credential);
  const width = electionBallotLayout(election.definition).elements.length;
  if (ballot.ciphertext.width !== width) {
    throw new InvalidInputError(
      `Ballot ciphertext has width ${ballot.ciphertext.width}, this election's ballots have width ${width}`,
    );
  }
  if (
    ballot.proof.responses.length !== width ||
    ballot.proof.commitments.length !== width * ELEMENT_BYTES
  ) {
    throw new InvalidInputError(
      `Ballot proof has ${ballot.proof.responses.length} responses and ${
        ballot.proof.commitments.length / ELEMENT_BYTES
      } commitments, expected ${width} of each`,
    );
  }
}

/**
 * Verifies a ballot: shape and proof of knowledge bound to election and credential.
 *
 * @param election the election
 * @param ballot the ballot
 * @throws {InvalidInputError} on a malformed ballot
 * @throws {VerificationError} when the proof does not verify
 * @example
 * ```ts ignore
 * verifyElectionBallot(election, ballot);
 * ```
 */
export function verifyElectionBallot(election: ElectionPublicInfo, ballot: ElectionBallot): void {
  checkBallotShape(election, ballot);
  try {
    verifyEncryptionKnowledge(
      {
        publicKey: election.publicKey,
        ciphertext: ballot.ciphertext,
        context: ballotProofContext(election.fingerprint, ballot.credential),
      },
      ballot.proof,
    );
  } catch (error) {
    if (error instanceof VerificationError) {
      throw new VerificationError(
        `Ballot proof of '${
          ballot.credential.slice(0, 40)
        }' is invalid (not bound to this election, credential and ciphertext)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The voter's receipt: 32 bytes identifying the exact ballot (see module docs).
 *
 * @param ballot the ballot
 * @returns the receipt
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
 * import { ballotReceipt, encryptElectionBallot } from "./ballot.ts";
 * const ballot = encryptElectionBallot(election, { credential: "voter-7", answers: [[0]] });
 * console.assert(ballotReceipt(ballot).length === 32);
 * ```
 */
export function ballotReceipt(ballot: ElectionBallot): Uint8Array {
  return labelledDigest(BALLOT_RECEIPT_LABEL, [
    ballot.election,
    encoder.encode(ballot.credential),
    ballot.ciphertext.bytes,
    ballot.proof.commitments,
    ...ballot.proof.responses.map(encodeScalar),
  ]).slice(0, BALLOT_RECEIPT_BYTES);
}

/**
 * Receipts of many ballots of one election straight from their bytes, the receipt label and
 * the fingerprint hashed once: the same 32 bytes as {@linkcode ballotReceipt}.
 *
 * @param fingerprint the election fingerprint (the ballots' `election`)
 * @returns a function of a ballot's credential (UTF-8), ciphertext bytes and packed proof
 *   (A₁..A_w ‖ z₁..z_w with canonical scalars, as {@linkcode packBallotProof} writes it)
 * @example
 * ```ts
 * import { ballotReceipt, ballotReceipter, packBallotProof } from "./ballot.ts";
 * import { Ciphertext } from "../../backends/reencrypt/mod.ts";
 * const ballot = {
 *   election: new Uint8Array(32), credential: "v",
 *   ciphertext: Ciphertext.unchecked(new Uint8Array(64).fill(2)),
 *   proof: { commitments: new Uint8Array(32).fill(3), responses: [4n] },
 * };
 * const receipt = ballotReceipter(ballot.election)(
 *   new TextEncoder().encode("v"), ballot.ciphertext.bytes, packBallotProof(ballot.proof),
 * );
 * console.assert(receipt.join() === ballotReceipt(ballot).join());
 * ```
 */
export function ballotReceipter(
  fingerprint: Uint8Array,
): (credential: Uint8Array, ciphertext: Uint8Array, proof: Uint8Array) => Uint8Array {
  const digest = labelledDigester(BALLOT_RECEIPT_LABEL, [fingerprint]);
  return (credential, ciphertext, proof) => {
    const half = proof.length / 2;
    const parts = [credential, ciphertext, proof.subarray(0, half)];
    for (let at = half; at < proof.length; at += ELEMENT_BYTES) {
      parts.push(proof.subarray(at, at + ELEMENT_BYTES));
    }
    return digest(parts).slice(0, BALLOT_RECEIPT_BYTES);
  };
}

/**
 * Encodes a ballot as `{ v: 2, kind: "vote.ballot", election, credential, ciphertext, proof }`
 * (ciphertext: 64·w bytes; proof: A₁..A_w ‖ z₁..z_w, 64·w bytes, scalars little-endian;
 * v1 ballots carried e ‖ z₁..z_w and are no longer read).
 *
 * @param ballot the ballot
 * @returns the envelope
 * @example
 * ```ts ignore
 * const env = electionBallotToEnvelope(ballot);
 * ```
 */
export function electionBallotToEnvelope(ballot: ElectionBallot): Envelope {
  return {
    v: BALLOT_VERSION,
    kind: BALLOT_KIND,
    election: ballot.election,
    credential: ballot.credential,
    ciphertext: ballot.ciphertext.bytes,
    proof: packBallotProof(ballot.proof),
  };
}

/** Options of {@linkcode electionBallotFromEnvelope}. */
export interface DecodeBallotOptions {
  /** Names the ballot in errors (default "ballot"). */
  what?: string;
  /**
   * Defer decoding the ciphertext's points until first use (they are then validated
   * all the same); bulk readers use it so validation happens on worker threads.
   */
  deferPoints?: boolean;
  /**
   * Keep the ciphertext and proof bytes as views into the decoded buffer instead of copies
   * (bulk readers of a transcript nobody writes to again: no backing store per ballot).
   */
  view?: boolean;
}

/**
 * Packs a ballot proof as A₁..A_w ‖ z₁..z_w (commitment form).
 *
 * @param proof the proof
 * @returns 64·w bytes
 * @example
 * ```ts
 * import { packBallotProof, unpackBallotProof } from "./ballot.ts";
 * const proof = { commitments: new Uint8Array(32).fill(1), responses: [2n] };
 * console.assert(unpackBallotProof(packBallotProof(proof), "p").responses[0] === 2n);
 * ```
 */
export function packBallotProof(proof: EncryptionProof): Uint8Array {
  const out = new Uint8Array(proof.commitments.length + ELEMENT_BYTES * proof.responses.length);
  out.set(proof.commitments, 0);
  proof.responses.forEach((z, k) => {
    out.set(encodeScalar(z), proof.commitments.length + k * ELEMENT_BYTES);
  });
  return out;
}

/**
 * Unpacks a ballot proof, rejecting non-canonical scalars (the commitments are decoded
 * when the proof is verified).
 *
 * @param bytes 64·w bytes
 * @param what names it in errors
 * @param options `view`: the commitments are a view into `bytes` instead of a copy (for
 *   buffers nobody writes to again, so a chunk of ballots shares one backing store)
 * @returns the proof
 * @throws {InvalidInputError} when malformed
 * @example
 * ```ts
 * import { unpackBallotProof } from "./ballot.ts";
 * try { unpackBallotProof(new Uint8Array(3), "p"); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function unpackBallotProof(
  bytes: Uint8Array,
  what: string,
  options: { view?: boolean } = {},
): EncryptionProof {
  if (bytes.length === 0 || bytes.length % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(`Ballot proof '${what}' must be a non-empty multiple of 64 bytes`);
  }
  const half = bytes.length / 2;
  return {
    commitments: options.view === true ? bytes.subarray(0, half) : bytes.slice(0, half),
    responses: unpackScalars(bytes.subarray(half), what),
  };
}

/**
 * Decodes a ballot envelope (msgpack or JSON view), checking every encoding.
 *
 * @param value decoded value
 * @param options error naming and deferred point decoding
 * @returns the ballot
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const ballot = electionBallotFromEnvelope(JSON.parse(text));
 * ```
 */
export function electionBallotFromEnvelope(
  value: unknown,
  options: DecodeBallotOptions = {},
): ElectionBallot {
  const what = options.what ?? "ballot";
  const env = readEnvelope(value, BALLOT_KIND, { what, versions: [BALLOT_VERSION] });
  const credential = readString(env.credential, `${what}.credential`);
  checkVoterCredential(credential);
  const ctBytes = readBytes(env.ciphertext, `${what}.ciphertext`);
  if (ctBytes.length === 0 || ctBytes.length % (2 * ELEMENT_BYTES) !== 0) {
    throw new InvalidInputError(`Value '${what}.ciphertext' must be a multiple of 64 bytes`);
  }
  const proof = unpackBallotProof(readBytes(env.proof, `${what}.proof`), `${what}.proof`, {
    view: options.view === true,
  });
  return {
    election: readBytes(env.election, `${what}.election`, { length: ELECTION_FINGERPRINT_BYTES }),
    credential,
    ciphertext: options.deferPoints
      ? Ciphertext.unchecked(options.view === true ? ctBytes : ctBytes.slice())
      : Ciphertext.fromBytes(ctBytes, `${what}.ciphertext`),
    proof,
  };
}

/**
 * Reads the answers' element bytes back from decrypted group elements; an element
 * that embeds no message gives undefined (the ballot then counts as invalid).
 *
 * @param elements decrypted elements of one ballot
 * @returns the embedded byte strings
 * @example
 * ```ts ignore
 * const parts = extractBallotParts(plaintextPoints);
 * ```
 */
export function extractBallotParts(elements: readonly Point[]): (Uint8Array | undefined)[] {
  return elements.map((p) => {
    try {
      return extractBytes(p);
    } catch (error) {
      if (error instanceof InvalidInputError) return undefined;
      throw error;
    }
  });
}

/** Re-exported answer type for ballot callers. */
export type { ElectionAnswer };
