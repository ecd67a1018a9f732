/**
 * Ballot envelopes as msgpack bytes without objects (issue 17: writing and opening a
 * 1,000,000-ballot transcript must not decode and encode every ballot on the main thread).
 *
 * `encodeMsgpack(electionBallotToEnvelope(b))` is always laid out the same way: a map of six
 * entries `v`, `kind`, `election` (bin 8 of 32 bytes), `credential` (str), `ciphertext` (bin)
 * and `proof` (bin), each with the shortest header. A stored ballot (ballot_store.ts) holds the
 * credential's UTF-8, the ciphertext and the packed proof as they are in the envelope, so
 * {@linkcode storedBallotEnvelopes} copies them between fixed header bytes; and
 * {@linkcode checkedBallotEnvelope} accepts an envelope laid out so whose every field
 * `electionBallotFromEnvelope` would accept. Anything else (a non-ASCII credential, a scalar
 * close to the group order, another layout) takes the object path, which gives the same bytes,
 * or the same error.
 *
 * @module
 */

import { encodeMsgpack } from "../../core/envelope.ts";
import { joinBytes } from "../../core/bytes.ts";
import { type EncodedRun, msgpackBinHeaderLength } from "../../core/msgpack_stream.ts";
import { ELEMENT_BYTES } from "../../backends/reencrypt/mod.ts";
import {
  BALLOT_KIND,
  BALLOT_VERSION,
  electionBallotToEnvelope,
  VOTE_MAX_CREDENTIAL_BYTES,
} from "./ballot.ts";
import { decodeStoredBallot, type EncodedBallotChunk } from "./ballot_store.ts";
import { ELECTION_FINGERPRINT_BYTES } from "./definition.ts";

/** 0x86 ‖ "v" 2 ‖ "kind" "vote.ballot" ‖ "election" ‖ bin 8 header of 32 bytes. */
const ENVELOPE_HEAD = joinBytes([
  Uint8Array.of(0x86),
  encodeMsgpack("v"),
  encodeMsgpack(BALLOT_VERSION),
  encodeMsgpack("kind"),
  encodeMsgpack(BALLOT_KIND),
  encodeMsgpack("election"),
  Uint8Array.of(0xc4, ELECTION_FINGERPRINT_BYTES),
]);
const CREDENTIAL_KEY = encodeMsgpack("credential");
const CIPHERTEXT_KEY = encodeMsgpack("ciphertext");
const PROOF_KEY = encodeMsgpack("proof");

/** Bytes of the shortest msgpack header of a str (credential) of `n` bytes. */
function strHeaderBytes(n: number): number {
  return n < 0x20 ? 1 : n < 0x100 ? 2 : 3;
}

function writeStrHeader(out: Uint8Array, at: number, n: number): number {
  if (n < 0x20) out[at++] = 0xa0 | n;
  else if (n < 0x100) {
    out[at++] = 0xd9;
    out[at++] = n;
  } else {
    out[at++] = 0xda;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  }
  return at;
}

function writeBinHeader(out: Uint8Array, at: number, n: number): number {
  if (n < 0x100) {
    out[at++] = 0xc4;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0xc5;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  } else {
    out[at++] = 0xc6;
    out[at++] = n >>> 24;
    out[at++] = (n >> 16) & 0xff;
    out[at++] = (n >> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  return at;
}

/**
 * Whether `count` scalars of 32 bytes (little-endian) from `at` are all below 2²⁵², hence
 * canonical (the group order ℓ = 2²⁵² + δ, RFC 9496 §4): their last byte is below 0x10.
 */
function scalarsClearlyCanonical(bytes: Uint8Array, at: number, count: number): boolean {
  for (let k = 0; k < count; k++) {
    if (bytes[at + k * ELEMENT_BYTES + ELEMENT_BYTES - 1]! >= 0x10) return false;
  }
  return true;
}

/** Whether the bytes are 1 to 256 bytes of printable ASCII (a credential of one byte a character). */
function printableAscii(bytes: Uint8Array, from: number, to: number): boolean {
  if (to <= from || to - from > VOTE_MAX_CREDENTIAL_BYTES) return false;
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b >= 0x7f) return false;
  }
  return true;
}

/**
 * The msgpack bytes of the envelopes of a chunk of stored ballots: exactly
 * `encodeMsgpack(electionBallotToEnvelope(b))` of each ballot `b` the store decodes, one after
 * another, made from the records' bytes (fixed header bytes and copies of the credential,
 * ciphertext and proof). A record this cannot vouch for (a non-ASCII credential, a proof
 * response whose last byte is 0x10 or more, a malformed record) is decoded and encoded as an
 * object: the same bytes, or the store's error.
 *
 * @param chunk ballots as the store keeps them
 * @param fingerprint the store's election fingerprint (every ballot's `election`)
 * @returns the envelopes' bytes and how many ballots they are
 * @throws {InvalidInputError} when a record is malformed (as `decodeStoredBallot` says)
 * @example
 * ```ts ignore
 * for await (const chunk of ballots.encodedChunks()) parts.push(storedBallotEnvelopes(chunk, fp));
 * ```
 */
export function storedBallotEnvelopes(
  chunk: EncodedBallotChunk,
  fingerprint: Uint8Array,
): EncodedRun {
  const { bytes, offsets } = chunk;
  const count = offsets.length - 1;
  const fixed = ENVELOPE_HEAD.length + ELECTION_FINGERPRINT_BYTES + CREDENTIAL_KEY.length +
    CIPHERTEXT_KEY.length + PROOF_KEY.length;
  // Where each record's envelope is not made here: its bytes from the object path.
  const slow = new Map<number, Uint8Array>();
  let total = 0;
  for (let j = 0; j < count; j++) {
    const from = offsets[j]! + 4, to = offsets[j + 1]!;
    const n = to - from >= 2 ? (bytes[from]! << 8) | bytes[from + 1]! : -1;
    const rest = to - from - 2 - n;
    const half = rest / 2;
    if (
      n > 0 && rest > 0 && rest % (4 * ELEMENT_BYTES) === 0 &&
      printableAscii(bytes, from + 2, from + 2 + n) &&
      scalarsClearlyCanonical(bytes, from + 2 + n + half + half / 2, half / (2 * ELEMENT_BYTES))
    ) {
      total += fixed + strHeaderBytes(n) + n + 2 * (msgpackBinHeaderLength(half) + half);
    } else {
      const ballot = decodeStoredBallot(bytes.subarray(from, to), fingerprint);
      const encoded = encodeMsgpack(electionBallotToEnvelope(ballot));
      slow.set(j, encoded);
      total += encoded.length;
    }
  }
  // The chunk's records at the end of `out` in one copy, then each record's credential,
  // ciphertext and proof moved down to their places (memmove within one buffer, in order:
  // every envelope is longer than its record, so no move or header overwrites bytes still to
  // be moved), then the header bytes written around them. No object per ballot.
  // Every envelope's first bytes: the fixed head, the fingerprint and the credential's key.
  const prefix = joinBytes([ENVELOPE_HEAD, fingerprint, CREDENTIAL_KEY]);
  const head = prefix.length;
  // (Only the records' bytes are staged: offsets[0] to offsets[count].)
  const first = offsets[0]!, last = offsets[count]!;
  const out = new Uint8Array(total);
  const tail = total - (last - first) - first;
  out.set(bytes.subarray(first, last), tail + first);
  let at = 0;
  for (let j = 0; j < count; j++) {
    const done = slow.get(j);
    if (done !== undefined) {
      out.set(done, at);
      at += done.length;
      continue;
    }
    const from = offsets[j]! + 4, to = offsets[j + 1]!;
    const n = (bytes[from]! << 8) | bytes[from + 1]!;
    const ct = from + 2 + n, half = (to - ct) / 2;
    const credAt = at + head + strHeaderBytes(n);
    const ctAt = credAt + n + CIPHERTEXT_KEY.length + msgpackBinHeaderLength(half);
    const proofAt = ctAt + half + PROOF_KEY.length + msgpackBinHeaderLength(half);
    out.copyWithin(credAt, tail + from + 2, tail + ct);
    out.copyWithin(ctAt, tail + ct, tail + ct + half);
    out.copyWithin(proofAt, tail + ct + half, tail + to);
    out.set(prefix, at);
    writeStrHeader(out, at + head, n);
    out.set(CIPHERTEXT_KEY, credAt + n);
    writeBinHeader(out, credAt + n + CIPHERTEXT_KEY.length, half);
    out.set(PROOF_KEY, ctAt + half);
    writeBinHeader(out, ctAt + half + PROOF_KEY.length, half);
    at = proofAt + half;
  }
  return { count, bytes: out };
}

/** Whether `bytes[at..]` starts with `expected`. */
function startsWith(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at + expected.length > bytes.length) return false;
  for (let k = 0; k < expected.length; k++) if (bytes[at + k] !== expected[k]) return false;
  return true;
}

/**
 * Checks the msgpack bytes of one ballot envelope without decoding them: when they are laid
 * out as `encodeMsgpack(electionBallotToEnvelope(b))` lays them out (see the module
 * documentation), with a credential of 1 to 256 printable ASCII bytes, a ciphertext and a
 * proof of the same non-zero multiple of 64 bytes and every proof response below 2²⁵², every
 * check of `electionBallotFromEnvelope` (with deferred points) holds. Returns the number of
 * elements of its ciphertext then, and 0 when the bytes are anything else: decode them (they
 * may still be valid, e.g. another encoder's layout, or get the decoder's error).
 *
 * @param bytes the buffer
 * @param from where the envelope starts
 * @param to where it ends
 * @returns the ciphertext's width, or 0 when the envelope must be decoded to be checked
 * @example
 * ```ts ignore
 * if (checkedBallotEnvelope(bytes, 0, bytes.length) === 0) readTranscriptBallot(decodeMsgpack(bytes, w), w);
 * ```
 */
export function checkedBallotEnvelope(bytes: Uint8Array, from: number, to: number): number {
  let at = from;
  if (!startsWith(bytes, at, ENVELOPE_HEAD)) return 0;
  at += ENVELOPE_HEAD.length + ELECTION_FINGERPRINT_BYTES;
  if (!startsWith(bytes, at, CREDENTIAL_KEY)) return 0;
  at += CREDENTIAL_KEY.length;
  if (at >= to) return 0;
  const h = bytes[at]!;
  let n: number;
  if ((h & 0xe0) === 0xa0) {
    n = h & 0x1f;
    at += 1;
  } else if (h === 0xd9 && at + 1 < to) {
    n = bytes[at + 1]!;
    at += 2;
  } else if (h === 0xda && at + 2 < to) {
    n = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    at += 3;
  } else return 0;
  if (at + n > to || !printableAscii(bytes, at, at + n)) return 0;
  at += n;
  if (!startsWith(bytes, at, CIPHERTEXT_KEY)) return 0;
  at += CIPHERTEXT_KEY.length;
  const half = binAt(bytes, at, to);
  if (half <= 0 || half % (2 * ELEMENT_BYTES) !== 0) return 0;
  at += msgpackBinHeaderLength(half) + half;
  if (!startsWith(bytes, at, PROOF_KEY)) return 0;
  at += PROOF_KEY.length;
  if (binAt(bytes, at, to) !== half) return 0;
  at += msgpackBinHeaderLength(half);
  if (at + half !== to) return 0;
  if (!scalarsClearlyCanonical(bytes, at + half / 2, half / (2 * ELEMENT_BYTES))) return 0;
  return half / (2 * ELEMENT_BYTES);
}

/** The length of the bin with the shortest header at `at` (ending by `to`), else -1. */
function binAt(bytes: Uint8Array, at: number, to: number): number {
  const h = bytes[at];
  let n = -1;
  if (h === 0xc4 && at + 1 < to) n = bytes[at + 1]!;
  else if (h === 0xc5 && at + 2 < to) n = (bytes[at + 1]! << 8) | bytes[at + 2]!;
  else if (h === 0xc6 && at + 4 < to) {
    n = ((bytes[at + 1]! << 24) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 8) |
      bytes[at + 4]!) >>> 0;
  }
  // Only the shortest header is the encoder's.
  return n >= 0 && msgpackBinHeaderLength(n) === (h === 0xc4 ? 2 : h === 0xc5 ? 3 : 5) ? n : -1;
}
