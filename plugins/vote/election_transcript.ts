/**
 * The published election transcript: everything a stand-alone verifier needs and
 * nothing secret, as one `vote.transcript` envelope (msgpack file, JSON view for
 * people). Every field is documented in docs/vote.md.
 *
 * @module
 */

import { writeJsonViewStream } from "../../core/json_stream.ts";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import {
  EncodedItems,
  type EncodedRun,
  msgpackBinHeader,
  msgpackChunks,
  StreamedArray,
  StreamedBytes,
  StreamedMap,
  writeMsgpackStream,
} from "../../core/msgpack_stream.ts";
import type { ItemChunks, RecordSource } from "../../core/records.ts";
import {
  Ciphertext,
  decodeScalar,
  decodeShuffleProof,
  ELEMENT_BYTES,
  encodeScalar,
  encodeShuffleProof,
  SHUFFLE_PROOF_LISTS,
  type ShuffleProof,
  type ShuffleProofRecords,
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
import { type ElectionTranscriptRecords, electionTranscriptRecords } from "./election_records.ts";
import { storedBallotEnvelopes } from "./ballot_envelope_bytes.ts";
import { answersRun, hasEncodedAnswers } from "./answer_bytes.ts";
import { hasEncodedChunks, type StoredBallotChunks } from "./ballot_store.ts";
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

/** Records read per chunk by the transcript writer. */
const WRITE_CHUNK = 4096;

/** The records of a list one at a time (views of one read per chunk). */
function* recordItems(source: RecordSource): Generator<Uint8Array> {
  const size = source.recordBytes;
  for (let lo = 0; lo < source.count; lo += WRITE_CHUNK) {
    const hi = Math.min(source.count, lo + WRITE_CHUNK);
    const bytes = source.read(lo, hi);
    for (let i = 0; i < hi - lo; i++) yield bytes.subarray(i * size, (i + 1) * size);
  }
}

/** The records of a list as consecutive pieces of bytes (one read per chunk). */
function* recordPieces(source: RecordSource): Generator<Uint8Array> {
  for (let lo = 0; lo < source.count; lo += WRITE_CHUNK) {
    yield source.read(lo, Math.min(source.count, lo + WRITE_CHUNK));
  }
}

/**
 * A record list as msgpack array elements, a chunk at a time: each record after the shortest
 * `bin` header of its size (the bytes `encodeMsgpack` gives each record), no object per record.
 */
function* framedRecords(source: RecordSource): Generator<EncodedRun> {
  const size = source.recordBytes;
  const header = msgpackBinHeader(size);
  const stride = header.length + size;
  for (let lo = 0; lo < source.count; lo += WRITE_CHUNK) {
    const hi = Math.min(source.count, lo + WRITE_CHUNK);
    const n = hi - lo;
    const out = new Uint8Array(n * stride);
    // The records at the end of `out` in one copy, then each moved down to its place after
    // its header (memmove within one buffer: no object per record).
    const tail = n * header.length;
    out.set(source.read(lo, hi), tail);
    for (let i = 0; i < n; i++) {
      const at = i * stride;
      out.copyWithin(at + header.length, tail + i * size, tail + (i + 1) * size);
      for (let k = 0; k < header.length; k++) out[at + k] = header[k]!;
    }
    yield { count: n, bytes: out };
  }
}

/**
 * The envelopes of a ballot store's ballots as msgpack bytes, a chunk at a time, made from
 * the stored records without ballot objects (issue 17; ballot_envelope_bytes.ts).
 */
async function* storedEnvelopes(ballots: StoredBallotChunks): AsyncGenerator<EncodedRun> {
  // Every ballot of a store has the store's fingerprint: the first one read says which.
  let fingerprint: Uint8Array | undefined;
  for await (const chunk of ballots.chunks(1)) {
    fingerprint = chunk[0]?.election;
    break;
  }
  if (fingerprint === undefined) return;
  for await (const chunk of ballots.encodedChunks(WRITE_CHUNK)) {
    yield storedBallotEnvelopes(chunk, fingerprint);
  }
}

/**
 * Decoded answers as msgpack array elements, a chunk at a time: from the source's own runs
 * where it has them (answers decoded from slots), else encoded here (answer_bytes.ts).
 */
async function* encodedAnswers(
  answers: ItemChunks<ElectionAnswer[] | null>,
): AsyncGenerator<EncodedRun> {
  if (hasEncodedAnswers(answers)) {
    yield* answers.encodedChunks(WRITE_CHUNK);
    return;
  }
  for await (const chunk of answers.chunks(WRITE_CHUNK)) yield answersRun(chunk);
}

/** Every item of item chunks, mapped, one at a time. */
async function* chunkItems<T, U>(items: ItemChunks<T>, f: (item: T) => U): AsyncGenerator<U> {
  for await (const chunk of items.chunks()) for (const item of chunk) yield f(item);
}

function* mapIterable<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

/** A shuffle proof envelope whose per-ciphertext lists are streamed from their records. */
function streamedShuffleProof(proof: ShuffleProofRecords): StreamedMap {
  const empty = new Uint8Array(0);
  const lists = new Map<string, RecordSource>(SHUFFLE_PROOF_LISTS.map((k) => [k, proof[k]]));
  const env = encodeShuffleProof({
    ...proof,
    ...Object.fromEntries(SHUFFLE_PROOF_LISTS.map((k) => [k, empty])),
  } as unknown as ShuffleProof);
  env.count = proof.permutationCommitments.count;
  return new StreamedMap(
    Object.entries(env).map(([k, v]) => {
      const list = lists.get(k);
      return list === undefined
        ? [k, v]
        : [k, new StreamedBytes(list.count * list.recordBytes, recordPieces(list))];
    }),
  );
}

/**
 * The `vote.transcript` envelope with its O(N) lists streamed from record lists (issue 17):
 * what {@linkcode writeElectionTranscriptRecords} encodes. Same keys, same order, same values
 * as {@linkcode electionTranscriptToEnvelope}. Ballots and answers come from `items` (arrays
 * for the synchronous encoder) or else from their item chunks. With `encoded` (the msgpack
 * writers), records, stored ballots and answers are given as their msgpack bytes
 * ({@linkcode EncodedItems}: the same bytes, no object per item); the JSON view needs values.
 */
function streamedTranscript(
  transcript: ElectionTranscriptRecords,
  items?: {
    ballots: readonly ElectionBallot[];
    answers: readonly (ElectionAnswer[] | null)[];
  },
  encoded = false,
): StreamedMap {
  const whole = electionTranscriptToEnvelope({
    ...transcript,
    ballots: [],
    mixInput: [],
    mixes: [],
    decryption: [],
    plaintexts: [],
    answers: [],
  });
  // The msgpack writers take records and stored ballots as their bytes (issue 17: no object
  // per item on the main thread); the JSON view takes them as values.
  const records = (source: RecordSource) =>
    encoded
      ? new EncodedItems(source.count, framedRecords(source))
      : new StreamedArray(source.count, recordItems(source));
  const ballots = transcript.ballots;
  const big: Record<string, unknown> = {
    ballots: items === undefined && encoded && hasEncodedChunks(ballots)
      ? new EncodedItems(ballots.count, storedEnvelopes(ballots))
      : new StreamedArray(
        ballots.count,
        items === undefined
          ? chunkItems(ballots, electionBallotToEnvelope)
          : mapIterable(items.ballots, electionBallotToEnvelope),
      ),
    mixInput: records(transcript.mixInput),
    mixes: new StreamedArray(
      transcript.mixes.length,
      transcript.mixes.map((m) =>
        new StreamedMap([
          ["mixer", m.mixer],
          ["outputs", records(m.outputs)],
          ["proof", streamedShuffleProof(m.proof)],
        ])
      ),
    ),
    decryption: new StreamedArray(
      transcript.decryption.length,
      transcript.decryption.map((d) =>
        new StreamedMap(
          Object.entries(decryptionFields({ ...d, shares: [] })).map(([k, v]) =>
            k === "shares" ? [k, records(d.shares)] : [k, v]
          ),
        )
      ),
    ),
    plaintexts: records(transcript.plaintexts),
    answers: items === undefined && encoded
      ? new EncodedItems(transcript.answers.count, encodedAnswers(transcript.answers))
      : new StreamedArray(
        transcript.answers.count,
        items === undefined ? chunkItems(transcript.answers, (a) => a) : items.answers,
      ),
  };
  return new StreamedMap(Object.entries(whole).map(([k, v]) => [k, k in big ? big[k] : v]));
}

/**
 * Encodes a transcript in chunks (issue 17): the concatenation of the chunks is exactly
 * `encodeMsgpack(electionTranscriptToEnvelope(transcript))`, but only about one chunk of
 * the encoding is held at a time (a 1,000,000-ballot transcript is over 1 GB).
 *
 * @param transcript the transcript
 * @param options `chunkBytes`: size of the chunks (default 1 MiB)
 * @returns the chunks in order (big byte strings of the transcript are yielded as they are)
 * @example
 * ```ts ignore
 * for (const chunk of electionTranscriptChunks(transcript)) await writer.write(chunk);
 * ```
 */
export function electionTranscriptChunks(
  transcript: ElectionTranscript,
  options: { chunkBytes?: number } = {},
): Generator<Uint8Array> {
  return msgpackChunks(
    streamedTranscript(electionTranscriptRecords(transcript), transcript, true),
    options,
  );
}

/**
 * Writes a transcript's msgpack encoding to a stream (a file's `writable`, an HTTP body)
 * a chunk at a time: the same bytes as `encodeMsgpack(electionTranscriptToEnvelope(t))`
 * (via {@linkcode writeElectionTranscriptRecords}).
 *
 * @param transcript the transcript
 * @param writable where the bytes go (left open; close it after)
 * @returns the number of bytes written
 * @example
 * ```ts ignore
 * const file = await Deno.open("t.msgpack", { write: true, create: true });
 * await writeElectionTranscript(transcript, file.writable);
 * ```
 */
export function writeElectionTranscript(
  transcript: ElectionTranscript,
  writable: WritableStream<Uint8Array>,
): Promise<number> {
  return writeElectionTranscriptRecords(electionTranscriptRecords(transcript), writable);
}

/**
 * Writes a transcript held as record lists (issue 17: e.g. files of a million-ballot run)
 * to a stream, reading each list a chunk at a time (4,096 records; ballots and answers a
 * chunk of their {@linkcode ItemChunks}): exactly the bytes
 * {@linkcode writeElectionTranscript} writes for the same transcript in memory.
 *
 * @param transcript the transcript with record lists
 * @param writable where the bytes go (left open; close it after)
 * @returns the number of bytes written
 * @throws {RangeError} when a list yields another number of items than its count says
 * @example
 * ```ts ignore
 * const file = await Deno.open("t.msgpack", { write: true, create: true });
 * await writeElectionTranscriptRecords(electionTranscriptRecords(transcript), file.writable);
 * ```
 */
export function writeElectionTranscriptRecords(
  transcript: ElectionTranscriptRecords,
  writable: WritableStream<Uint8Array>,
): Promise<number> {
  return writeMsgpackStream(streamedTranscript(transcript, undefined, true), writable);
}

/**
 * Writes the JSON view of a transcript held as record lists to a stream, a chunk at a time
 * (issue 17: ballots and answers a chunk of their item chunks, every other list 4,096
 * records at a time, the shuffle proofs' long byte strings a piece at a time): exactly
 * `JSON.stringify(toJsonView(electionTranscriptToEnvelope(t)), null, 2) + "\n"`, the bytes
 * the command line's JSON view file holds (`writeEnvelopeFile`).
 *
 * @param transcript the transcript with record lists
 * @param writable where the bytes go (left open; close it after)
 * @returns the number of bytes written
 * @throws {RangeError} when a list yields another number of items than its count says
 * @example
 * ```ts ignore
 * await writeElectionTranscriptJsonRecords(electionTranscriptRecords(transcript), file.writable);
 * ```
 */
export function writeElectionTranscriptJsonRecords(
  transcript: ElectionTranscriptRecords,
  writable: WritableStream<Uint8Array>,
): Promise<number> {
  return writeJsonViewStream(streamedTranscript(transcript), writable, { suffix: "\n" });
}

/**
 * One ciphertext of the mix input or of a mix's outputs (issue 17: a view, not a copy).
 *
 * @param raw the decoded bytes
 * @param what names it in errors
 * @param width elements per ciphertext
 * @returns the ciphertext (points validated on first use)
 * @throws {InvalidInputError} when it is not 64·w bytes
 * @example
 * ```ts ignore
 * const c = readTranscriptCiphertext(raw, "transcript.mixInput[0]", 1);
 * ```
 */
export function readTranscriptCiphertext(raw: unknown, what: string, width: number): Ciphertext {
  // Points are decoded and validated on first use (the verifier's proof checks). A view
  // into the decoded buffer, not a copy: no backing store per ciphertext (issue 17).
  return Ciphertext.unchecked(readBytes(raw, what, { length: 2 * ELEMENT_BYTES * width }));
}

function ciphertexts(value: unknown, what: string, width: number): Ciphertext[] {
  return readArray(value, what).map((raw, i) =>
    readTranscriptCiphertext(raw, `${what}[${i}]`, width)
  );
}

/**
 * One ballot of a transcript's box (points checked by the verifier; views, not copies).
 *
 * @param raw the decoded ballot envelope
 * @param what names it in errors
 * @returns the ballot
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const b = readTranscriptBallot(raw, "transcript.ballots[0]");
 * ```
 */
export function readTranscriptBallot(raw: unknown, what: string): ElectionBallot {
  return electionBallotFromEnvelope(raw, { what, deferPoints: true, view: true });
}

/**
 * One plaintext of a transcript (32·w bytes).
 *
 * @param raw the decoded bytes
 * @param what names it in errors
 * @param width elements per ciphertext
 * @returns the bytes (a view)
 * @throws {InvalidInputError} when it is not 32·w bytes
 * @example
 * ```ts ignore
 * const p = readTranscriptPlaintext(raw, "transcript.plaintexts[0]", 1);
 * ```
 */
export function readTranscriptPlaintext(raw: unknown, what: string, width: number): Uint8Array {
  return readBytes(raw, what, { length: ELEMENT_BYTES * width });
}

/**
 * One ballot's decoded answers of a transcript.
 *
 * @param value the decoded answers (arrays of integers), or null
 * @param what names it in errors
 * @returns the answers; null for an invalid ballot
 * @throws {InvalidInputError} naming the malformed entry
 * @example
 * ```ts ignore
 * const a = readTranscriptAnswers([[1]], "transcript.answers[0]");
 * ```
 */
export function readTranscriptAnswers(value: unknown, what: string): ElectionAnswer[] | null {
  if (value === null || value === undefined) return null;
  return readArray(value, what).map((a, q) =>
    readArray(a, `${what}[${q}]`).map((c, k) => readInteger(c, `${what}[${q}][${k}]`))
  );
}

/** A transcript's first fields, decoded (what every other part is checked against). */
export interface TranscriptHead {
  /** The definition. */
  definition: ElectionDefinition;
  /** Its fingerprint. */
  fingerprint: Uint8Array;
  /** Public key-ceremony posts. */
  ceremony: CeremonyPosts;
  /** The election key. */
  key: ElectionKey;
}

/**
 * Checks a transcript envelope's kind and version and decodes its definition, fingerprint,
 * ceremony and key (the big arrays are not looked at).
 *
 * @param value the envelope, or a record of its small fields (streaming reader)
 * @param what names it in errors
 * @returns the head
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const { definition, key } = readTranscriptHead(envelope, "transcript");
 * ```
 */
export function readTranscriptHead(value: unknown, what: string): TranscriptHead {
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
  };
}

/**
 * One trustee's decryption entry of a transcript (shares of 32·w bytes).
 *
 * @param raw the decoded entry
 * @param what names it in errors
 * @param width elements per ciphertext
 * @returns the decryption
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const d = readTranscriptDecryption(raw, "transcript.decryption[0]", 1);
 * ```
 */
export function readTranscriptDecryption(
  raw: unknown,
  what: string,
  width: number,
): ElectionDecryption {
  return readDecryption(raw, what, width);
}

/**
 * One mix entry of a transcript.
 *
 * @param raw the decoded entry (its outputs may be given already decoded)
 * @param what names it in errors
 * @param width elements per ciphertext
 * @param outputs the outputs, when a streaming reader decoded them already
 * @returns the mix
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const m = readTranscriptMix(raw, "transcript.mixes[0]", 1);
 * ```
 */
export function readTranscriptMix(
  raw: unknown,
  what: string,
  width: number,
  outputs?: Ciphertext[],
): ElectionMix {
  const r = readRecord(raw, what);
  return {
    mixer: readString(r.mixer, `${what}.mixer`),
    outputs: outputs ?? ciphertexts(r.outputs, `${what}.outputs`, width),
    proof: decodeShuffleProof(r.proof, `${what}.proof`),
  };
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
  const head = readTranscriptHead(value, what);
  const env = value as Record<string, unknown>;
  const width = (bytes: number) => bytes / (2 * ELEMENT_BYTES);
  const ballots = readArray(env.ballots, `${what}.ballots`).map((b, i) =>
    readTranscriptBallot(b, `${what}.ballots[${i}]`)
  );
  const mixInputRaw = readArray(env.mixInput, `${what}.mixInput`);
  const w = ballots[0]?.ciphertext.width ??
    (mixInputRaw[0] instanceof Uint8Array ? width(mixInputRaw[0].length) : 1);
  return {
    ...head,
    ballots,
    mixInput: ciphertexts(mixInputRaw, `${what}.mixInput`, w),
    mixes: readArray(env.mixes, `${what}.mixes`).map((raw, m) =>
      readTranscriptMix(raw, `${what}.mixes[${m}]`, w)
    ),
    decryption: readArray(env.decryption, `${what}.decryption`).map((raw, d) =>
      readDecryption(raw, `${what}.decryption[${d}]`, w)
    ),
    plaintexts: readArray(env.plaintexts, `${what}.plaintexts`).map((p, i) =>
      readTranscriptPlaintext(p, `${what}.plaintexts[${i}]`, w)
    ),
    answers: readArray(env.answers, `${what}.answers`).map((a, i) =>
      readTranscriptAnswers(a, `${what}.answers[${i}]`)
    ),
    tally: readElectionTally(env.tally, `${what}.tally`),
  };
}
