/**
 * Schnorr proof of knowledge of the encryption randomness of a ciphertext
 * (Schnorr 1991; one proof over all w elements c1ₖ = g^{rₖ}), bound to the public
 * key, the whole ciphertext and caller context bytes (election id, voter credential),
 * so a proof cannot be copied to another ciphertext or context (non-malleable ballots,
 * as in Bernhard–Pereira–Warinschi 2012 for Helios).
 *
 * Transcript "panoramix/reencrypt/encryption-knowledge/v2": group, public key,
 * ciphertext bytes, context, commitments Aₖ = g^{aₖ} (canonical bytes); challenge e;
 * zₖ = aₖ + e·rₖ. The proof is in commitment form (A₁..A_w, z₁..z_w) — v1 published
 * (e, z) instead — so that many proofs verify at once:
 * {@linkcode verifyEncryptionKnowledgeBatch} checks
 * (Σ ρᵢₖ·zᵢₖ)·g = Σ ρᵢₖ·Aᵢₖ + Σ (ρᵢₖ·eᵢ)·c1ᵢₖ with fresh 128-bit weights ρ from the
 * verifier's CSPRNG (small-exponent batching, Bellare–Garay–Rabin 1998, "Fast batch
 * verification for modular exponentiation and digital signatures", §3.2): one
 * multi-scalar multiplication for the whole batch; a bad proof survives with
 * probability ≤ 2⁻¹²⁸. When the batch equation fails, every proof is checked alone
 * so the caller learns exactly which ones are bad.
 *
 * @module
 */

import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { type RandomSource, systemRandom } from "../../core/random.ts";
import { Transcript } from "../../core/transcript.ts";
import { Ciphertext, MAX_WIDTH } from "./elgamal.ts";
import {
  BASE_POINT,
  bytesToNumberLE,
  ELEMENT_BYTES,
  encodeEncryptionElements,
  encodePoint,
  firstInvalidPoint,
  fixedBase,
  GROUP_LABEL,
  GROUP_ORDER,
  IDENTITY,
  modL,
  multiplyPoint,
  multiScalarMul,
  multiScalarMulEncoded,
  packPoints,
  type Point,
  randomScalars,
  scalarCount,
  scalarFromWide,
  unpackPoints,
  unpackScalars,
} from "./group.ts";
import {
  isCanonicalScalarAt,
  scalarBelowOrder,
  scalarDotAddInto,
  scalarMulAddInto,
  scalarsFromWideInto,
  scalarsHalfInto,
  scalarsMulAddInto,
} from "./scalar_bytes.ts";

/** Protocol label of the proof. */
export const ENCRYPTION_KNOWLEDGE_LABEL = "panoramix/reencrypt/encryption-knowledge/v2";

const GROUP_BYTES = new TextEncoder().encode(GROUP_LABEL);

/** A proof of knowledge of encryption randomness, in commitment form. */
export interface EncryptionProof {
  /** Commitments Aₖ = g^{aₖ} as canonical encodings: 32·w bytes. */
  commitments: Uint8Array;
  /** Responses zₖ = aₖ + e·rₖ, one per element. */
  responses: bigint[];
}

/**
 * A proof as its encodings, e.g. views into a stored ballot: the batch check reads the
 * responses' bytes as they are, with no bigint per response (issue 17).
 */
export interface PackedEncryptionProof {
  /** Commitments Aₖ = g^{aₖ} as canonical encodings: 32·w bytes. */
  commitments: Uint8Array;
  /** The responses zₖ as 32-byte little-endian encodings (canonical: below ℓ): 32·w bytes. */
  packedResponses: Uint8Array;
}

/** What one proof is about. */
export interface EncryptionStatement {
  /** The ciphertext (its c1 elements are g^{rₖ}). */
  ciphertext: Ciphertext;
  /** Context bytes the proof is bound to (election, voter). */
  context: Uint8Array;
}

/** Why a proof of a batch failed: malformed (bad encoding) or invalid (does not verify). */
export type EncryptionProofFailure = InvalidInputError | VerificationError;

/** The transcript up to the public key, shared by every proof under that key. */
function knowledgePrefix(publicKey: Uint8Array): Transcript {
  return new Transcript(ENCRYPTION_KNOWLEDGE_LABEL)
    .append("group", GROUP_BYTES)
    .append("public-key", publicKey);
}

/** The last challenge's spent transcript: the next copy of a prefix reuses its storage. */
let spentChallenge: Transcript | undefined;

function knowledgeChallenge(
  publicKey: Uint8Array | Transcript,
  statement: EncryptionStatement,
  commitments: Uint8Array,
): bigint {
  const t = publicKey instanceof Transcript
    ? publicKey.clone(spentChallenge)
    : knowledgePrefix(publicKey);
  t.append("ciphertext", statement.ciphertext.bytes);
  t.append("context", statement.context);
  t.append("commitments", commitments);
  // The 64-byte challenge "e" is its seed (Transcript.challenge); this copy of the
  // transcript ends here, so its state is not copied again nor the challenge appended back.
  const seed = t.finalChallengeSeed("e");
  spentChallenge = t;
  return scalarFromWide(seed);
}

/** {@linkcode knowledgeChallenge} as 32 canonical bytes into `out`, with no bigint. */
function knowledgeChallengeInto(
  prefix: Transcript,
  statement: EncryptionStatement,
  commitments: Uint8Array,
  out: Uint8Array,
): void {
  const seed = knowledgeSeedOfBytes(
    prefix,
    statement.ciphertext.bytes,
    statement.context,
    commitments,
  );
  scalarsFromWideInto(out, { count: 1, outAt: 0, wide: seed });
}

/** The 64-byte seed of {@linkcode knowledgeChallenge} (e is it mod ℓ), from the ciphertext's bytes. */
function knowledgeSeedOfBytes(
  prefix: Transcript,
  ciphertext: Uint8Array,
  context: Uint8Array,
  commitments: Uint8Array,
): Uint8Array {
  const t = prefix.clone(spentChallenge);
  t.append("ciphertext", ciphertext);
  t.append("context", context);
  t.append("commitments", commitments);
  const seed = t.finalChallengeSeed("e");
  spentChallenge = t;
  return seed;
}

/**
 * Proves knowledge of the randomness rₖ of every element of a ciphertext.
 *
 * @param statement public key, ciphertext and context bytes the proof is bound to
 * @param witness the randomness used by `encrypt` (one scalar per element) and optional random source
 * @returns the proof
 * @throws {InvalidInputError} when the randomness does not have one scalar per element
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { proveEncryptionKnowledge, verifyEncryptionKnowledge } from "./encryption_proof.ts";
 * import { randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const randomness = randomScalars(1);
 * const ciphertext = encrypt(publicKey, [encodeInteger(1)], { randomness });
 * const context = new TextEncoder().encode("election-1/voter-7");
 * const proof = proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness });
 * verifyEncryptionKnowledge({ publicKey, ciphertext, context }, proof);
 * ```
 */
export function proveEncryptionKnowledge(
  statement: { publicKey: Point; ciphertext: Ciphertext; context: Uint8Array },
  witness: { randomness: readonly bigint[]; random?: RandomSource },
): EncryptionProof {
  const { publicKey, ciphertext, context } = statement;
  const w = ciphertext.width;
  if (witness.randomness.length !== w) {
    throw new InvalidInputError(
      `Encryption proof needs ${w} randomness scalars, got ${witness.randomness.length}`,
    );
  }
  const a = randomScalars(w, witness.random);
  const g = fixedBase(BASE_POINT);
  const commitments = packPoints(a.map((ak) => g.multiply(ak))); // Aₖ = g^{aₖ}
  const e = knowledgeChallenge(encodePoint(publicKey), { ciphertext, context }, commitments);
  const responses = a.map((ak, k) => modL(ak + e * witness.randomness[k]!)); // zₖ = aₖ + e·rₖ
  return { commitments, responses };
}

/** ½ mod ℓ. */
const HALF = (GROUP_ORDER + 1n) / 2n;
/** Messages are halved when each distinct one is used by at least this many elements. */
const HALVE_MESSAGES_BELOW = 16;
/** ½·m per message point (points are immutable; entries go with their points). */
const halves = new WeakMap<Point, Point>();

/** One item of {@linkcode encryptAndProveMany}. */
export interface EncryptAndProveItem {
  /** The w message elements (1 ≤ w ≤ 64). */
  messages: readonly Point[];
  /**
   * The encryption randomness rₖ, one per element: bigints, or canonical 32-byte
   * little-endian encodings in one byte list (as group.ts `randomScalarsInto` writes them).
   */
  randomness: readonly bigint[] | Uint8Array;
  /** The proof's nonces aₖ (Aₖ = g^{aₖ}), one per element (as the randomness). */
  nonces: readonly bigint[] | Uint8Array;
  /** Context bytes the proof is bound to. */
  context: Uint8Array;
}

/**
 * Encrypts many messages under one public key and proves knowledge of each one's randomness:
 * the same ciphertexts and proofs as `encrypt` then {@linkcode proveEncryptionKnowledge} item
 * by item with the same rₖ and aₖ, with every item's fixed-base products computed together
 * (two at a time in WebAssembly SIMD where available) and all elements encoded in one pass:
 * in WebAssembly, products, sums and encodings in one call from scalars to bytes (group.ts
 * `encodeEncryptionElements`: no coordinates or point objects per element; the secret rₖ and
 * aₖ reach only the fixed-base multiplications, variable time only through which table
 * entries are read; their halves and the responses zₖ = aₖ + e·rₖ are computed on bytes in
 * constant time, ./scalar_bytes.ts); without WebAssembly, with point objects. The ciphertexts are made from
 * valid points; their points are decoded again on first use. The ciphertexts' bytes and the
 * commitments are views of one buffer of the call (96 bytes per element): do not write to
 * them, and copy one (`slice()`) to keep it alone for long or to post it to a worker.
 *
 * @param publicKey the public key (not the identity)
 * @param items per item its messages, randomness, nonces and context
 * @returns per item the ciphertext and the proof
 * @throws {InvalidInputError} for the identity as key, a width out of range, randomness or
 *   nonces not one per element, or byte randomness or nonces that are not canonical scalars
 * @example
 * ```ts
 * import { seededRandom } from "../../core/random.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { encryptAndProveMany, proveEncryptionKnowledge } from "./encryption_proof.ts";
 * import { randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const messages = [encodeInteger(4)], randomness = randomScalars(1), context = new Uint8Array([1]);
 * const nonces = randomScalars(1, seededRandom("a"));
 * const [made] = encryptAndProveMany(publicKey, [{ messages, randomness, nonces, context }]);
 * const ciphertext = encrypt(publicKey, messages, { randomness });
 * const proof = proveEncryptionKnowledge({ publicKey, ciphertext, context }, {
 *   randomness,
 *   random: seededRandom("a"),
 * });
 * console.assert(made!.ciphertext.bytes.join() === ciphertext.bytes.join());
 * console.assert(made!.proof.responses[0] === proof.responses[0]);
 * ```
 */
export function encryptAndProveMany(
  publicKey: Point,
  items: readonly EncryptAndProveItem[],
): Array<{ ciphertext: Ciphertext; proof: EncryptionProof }> {
  const { bytes, responses, elements: n } = encryptAndProvePacked(publicKey, items);
  const out: Array<{ ciphertext: Ciphertext; proof: EncryptionProof }> = [];
  let e = 0;
  for (const item of items) {
    const w = item.messages.length;
    // Views of the bytes (c1ₖ ‖ c2ₖ per element, then the commitments): no array per ballot.
    const ciphertext = Ciphertext.unchecked(bytes.subarray(64 * e, 64 * (e + w)));
    const commitments = bytes.subarray(
      64 * n + ELEMENT_BYTES * e,
      64 * n + ELEMENT_BYTES * (e + w),
    );
    const z: bigint[] = [];
    for (let k = 0; k < w; k++, e++) z.push(readScalarBytes(responses, ELEMENT_BYTES * e));
    out.push({ ciphertext, proof: { commitments, responses: z } });
  }
  return out;
}

/** What {@linkcode encryptAndProvePacked} makes, as bytes. */
export interface PackedEncryptions {
  /**
   * The ciphertexts in item order, c1ₖ ‖ c2ₖ per element (64 bytes), then the commitments Aₖ
   * of every element (32 bytes each): 96 bytes per element.
   */
  bytes: Uint8Array;
  /** The responses zₖ in element order, 32 little-endian bytes each (canonical: below ℓ). */
  responses: Uint8Array;
  /** Number of elements (the items' widths added up). */
  elements: number;
}

/**
 * {@linkcode encryptAndProveMany} with its results as bytes: the ciphertexts, commitments
 * and responses each in one buffer, no object or bigint per item (issue 17: a worker that
 * encrypts simulated voters' ballots writes them straight into stored records).
 *
 * @param publicKey the public key (not the identity)
 * @param items per item its messages, randomness, nonces and context
 * @returns the ciphertexts and commitments, and the responses, in item order
 * @throws {InvalidInputError} as {@linkcode encryptAndProveMany}
 * @example
 * ```ts
 * import { generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { encryptAndProveMany, encryptAndProvePacked } from "./encryption_proof.ts";
 * import { encodeScalar, randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const item = {
 *   messages: [encodeInteger(4)],
 *   randomness: randomScalars(1),
 *   nonces: randomScalars(1),
 *   context: new Uint8Array([1]),
 * };
 * const packed = encryptAndProvePacked(publicKey, [item]);
 * const [made] = encryptAndProveMany(publicKey, [item]);
 * console.assert(packed.bytes.subarray(0, 64).join() === made!.ciphertext.bytes.join());
 * console.assert(packed.responses.join() === encodeScalar(made!.proof.responses[0]!).join());
 * ```
 */
export function encryptAndProvePacked(
  publicKey: Point,
  items: readonly EncryptAndProveItem[],
): PackedEncryptions {
  if (publicKey.is0()) throw new InvalidInputError("Public key must not be the identity");
  // Each step a function with one loop (issue 17: each worker compiles them; one function of
  // many loops was compiled whole on the stack at each loop, then again).
  const n = itemElements(items);
  // rₖ and aₖ as 32-byte encodings, one list each, and their halves (secret: zeroed on
  // every path out). Encodings of 2·Q with one shared inversion instead of an inverse square
  // root each (group.ts doubleAndEncodeBatch): Q = ½·P, with ½ = (ℓ+1)/2, is as cheap to
  // compute as P for a fixed base, and 2·Q is P as a ristretto255 element, so the bytes are P's.
  const r = new Uint8Array(ELEMENT_BYTES * n), a = new Uint8Array(ELEMENT_BYTES * n);
  const rh = new Uint8Array(ELEMENT_BYTES * n), ah = new Uint8Array(ELEMENT_BYTES * n);
  try {
    let e = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      writeScalarList(r, e, item.randomness);
      writeScalarList(a, e, item.nonces);
      e += item.messages.length;
    }
    if (halveSecrets({ r, a, rh, ah }, n) !== 1) throw notCanonical(items);
    // ½c2 = ½m + pk^{r/2} needs ½m, one variable-base product per distinct message: worth it
    // only when messages repeat (ballots: a few distinct answer parts); else c2 is encoded.
    // (Halves are kept per message object, so a caller that reuses its message points, as
    // the ballot encryption does, halves each one once.)
    const { messages, messageOf } = distinctMessages(items, n);
    const halveMessages = messages.length * HALVE_MESSAGES_BELOW <= n;
    if (halveMessages) {
      for (let k = 0; k < messages.length; k++) {
        const m = messages[k]!;
        let half = halves.get(m);
        if (half === undefined) halves.set(m, half = multiplyPoint(m, HALF));
        messages[k] = half;
      }
    }
    // Else c2 = m + r·pk with r itself.
    const g = fixedBase(BASE_POINT), y = fixedBase(publicKey);
    // In WebAssembly: ½c1 = g^{r/2}, ½A = g^{a/2}, ½c2 (or c2) and their encodings in one call
    // per chunk, no point objects per element (group.ts encodeEncryptionElements).
    const bytes = encodeEncryptionElements(g, y, {
      s: rh,
      t: ah,
      u: halveMessages ? rh : r,
      messages,
      messageOf,
      doubleR: halveMessages,
    });
    const responses = knowledgeResponses(knowledgePrefix(encodePoint(publicKey)), {
      items,
      bytes,
      r,
      a,
      n,
    });
    return { bytes, responses, elements: n };
  } finally {
    r.fill(0), a.fill(0), rh.fill(0), ah.fill(0);
  }
}

/** The items' elements added up, each item's width and scalar counts checked. */
function itemElements(items: readonly EncryptAndProveItem[]): number {
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!, w = item.messages.length;
    if (w === 0 || w > MAX_WIDTH) {
      throw new InvalidInputError(`Ciphertext needs 1 to ${MAX_WIDTH} pairs, got ${w} and ${w}`);
    }
    if (scalarCount(item.randomness) !== w) {
      throw new InvalidInputError(
        `Randomness has ${scalarCount(item.randomness)} scalars for ${w} elements`,
      );
    }
    if (scalarCount(item.nonces) !== w) {
      throw new InvalidInputError(
        `Encryption proof needs ${w} nonces, got ${scalarCount(item.nonces)}`,
      );
    }
    n += w;
  }
  return n;
}

/**
 * ½·rₖ and ½·aₖ mod ℓ into `rh` and `ah`, and whether every rₖ and aₖ is canonical (1) or
 * not (0): byte scalars must be below ℓ (bigints were reduced). Constant time: every scalar
 * is checked and halved, the answer is known only at the end (./scalar_bytes.ts).
 */
function halveSecrets(
  s: { r: Uint8Array; a: Uint8Array; rh: Uint8Array; ah: Uint8Array },
  n: number,
): number {
  const { r, a, rh, ah } = s;
  return scalarsHalfInto(rh, { count: n, x: r }) & scalarsHalfInto(ah, { count: n, x: a });
}

/** The distinct message points in order of first use, and each element's index among them. */
function distinctMessages(
  items: readonly EncryptAndProveItem[],
  n: number,
): { messages: Point[]; messageOf: Uint32Array } {
  const index = new Map<Point, number>(), messages: Point[] = [];
  const messageOf = new Uint32Array(n);
  let e = 0;
  for (let i = 0; i < items.length; i++) {
    const list = items[i]!.messages;
    for (let k = 0; k < list.length; k++) {
      const m = list[k]!;
      let at = index.get(m);
      if (at === undefined) index.set(m, at = messages.push(m) - 1);
      messageOf[e++] = at;
    }
  }
  return { messages, messageOf };
}

/**
 * The responses zₖ = aₖ + e·rₖ of every item (e its challenge, from the transcript `prefix`
 * and the item's ciphertext, context and commitments in `bytes`), 32 bytes each, computed on
 * bytes in constant time (./scalar_bytes.ts), as {@linkcode proveEncryptionKnowledge}.
 */
function knowledgeResponses(
  prefix: Transcript,
  of: {
    items: readonly EncryptAndProveItem[];
    bytes: Uint8Array;
    r: Uint8Array;
    a: Uint8Array;
    n: number;
  },
): Uint8Array {
  const { items, bytes, r, a, n } = of;
  // Each item's challenge seed once per element of the item (public bytes), then every e
  // and every zₖ in one call each: no call into the scalar arithmetic per item (issue 17:
  // each worker compiled those calls with the loop).
  const seeds = new Uint8Array(64 * n);
  let e = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!, w = item.messages.length;
    // The bytes are in ciphertext layout (c1ₖ ‖ c2ₖ per element), then the commitments.
    const seed = knowledgeSeedOfBytes(
      prefix,
      bytes.subarray(64 * e, 64 * (e + w)),
      item.context,
      bytes.subarray(64 * n + ELEMENT_BYTES * e, 64 * n + ELEMENT_BYTES * (e + w)),
    );
    for (let k = 0; k < w; k++, e++) seeds.set(seed, 64 * e);
  }
  const challenges = new Uint8Array(ELEMENT_BYTES * n);
  scalarsFromWideInto(challenges, { count: n, outAt: 0, wide: seeds });
  const responses = new Uint8Array(ELEMENT_BYTES * n);
  scalarsMulAddInto(responses, { count: n, a: challenges, b: r, c: a });
  return responses;
}

/**
 * The error for a non-canonical byte scalar (found in variable time: the inputs are refused,
 * and the caller's own): names the list, the item and the element.
 */
function notCanonical(items: readonly EncryptAndProveItem[]): InvalidInputError {
  for (let i = 0; i < items.length; i++) {
    for (
      const [name, list] of [["randomness", items[i]!.randomness], [
        "nonces",
        items[i]!.nonces,
      ]] as const
    ) {
      if (!(list instanceof Uint8Array)) continue;
      for (let k = 0; 32 * k < list.length; k++) {
        if (scalarBelowOrder(list, 32 * k) !== 1) {
          return new InvalidInputError(
            `Item ${i}'s ${name}[${k}] is not a canonical scalar (32 bytes below ℓ)`,
          );
        }
      }
    }
  }
  return new InvalidInputError("Randomness and nonces must be canonical scalars (below ℓ)");
}

/** A scratch for one scalar's words (no DataView over a caller's array per scalar). */
const WORDS = new Uint8Array(32);
const WORDS_VIEW = new DataView(WORDS.buffer);

/** Scalars (bigints reduced mod ℓ, or 32-byte encodings) written at element `at` of `out`. */
function writeScalarList(out: Uint8Array, at: number, scalars: readonly bigint[] | Uint8Array) {
  if (scalars instanceof Uint8Array) return out.set(scalars, ELEMENT_BYTES * at);
  for (let k = 0; k < scalars.length; k++) {
    let x = scalars[k]!;
    if (!(x >= 0n && x < GROUP_ORDER)) x = modL(x);
    // setBigUint64 takes each word mod 2^64 itself.
    WORDS_VIEW.setBigUint64(0, x, true);
    WORDS_VIEW.setBigUint64(8, x >> 64n, true);
    WORDS_VIEW.setBigUint64(16, x >> 128n, true);
    WORDS_VIEW.setBigUint64(24, x >> 192n, true);
    out.set(WORDS, ELEMENT_BYTES * (at + k));
  }
  WORDS.fill(0);
}

/** The 32 little-endian bytes of `bytes` at `at` as a bigint. */
function readScalarBytes(bytes: Uint8Array, at: number): bigint {
  for (let b = 0; b < 32; b++) WORDS[b] = bytes[at + b]!;
  const v = WORDS_VIEW;
  const x = v.getBigUint64(0, true) | (v.getBigUint64(8, true) << 64n) |
    (v.getBigUint64(16, true) << 128n) | (v.getBigUint64(24, true) << 192n);
  WORDS.fill(0);
  return x;
}

/** Shape checks and decoding of one proof; throws the failure. */
function prepare(
  publicKey: Uint8Array,
  statement: EncryptionStatement,
  proof: EncryptionProof,
): { e: bigint; a: Point[]; c1: Point[] } {
  const w = statement.ciphertext.width;
  if (proof.responses.length !== w || proof.commitments.length !== w * ELEMENT_BYTES) {
    throw new VerificationError(
      `Encryption proof has ${proof.responses.length} responses and ${
        proof.commitments.length / ELEMENT_BYTES
      } commitments for ${w} elements`,
    );
  }
  const a = unpackPoints(proof.commitments, "encryption proof commitment");
  const c1: Point[] = [];
  for (let k = 0; k < w; k++) c1.push(statement.ciphertext.c1(k));
  return { e: knowledgeChallenge(publicKey, statement, proof.commitments), a, c1 };
}

/** gᶻ = A + e·c1 for every element (Schnorr verification). */
function checkOne(prepared: { e: bigint; a: Point[]; c1: Point[] }, z: readonly bigint[]): void {
  const g = fixedBase(BASE_POINT);
  const negE = modL(-prepared.e);
  for (let k = 0; k < prepared.a.length; k++) {
    // Aₖ =? g^{zₖ}·c1ₖ^{−e}
    const expected = g.multiply(modL(z[k]!)).add(multiplyPoint(prepared.c1[k]!, negE));
    if (!expected.equals(prepared.a[k]!)) {
      throw new VerificationError(
        "Encryption proof does not verify for this ciphertext and context",
      );
    }
  }
}

/**
 * Verifies a proof of knowledge of encryption randomness.
 *
 * @param statement public key, ciphertext and context bytes
 * @param proof the proof
 * @throws {VerificationError} when the proof does not verify for this statement
 * @throws {InvalidInputError} when a commitment or the ciphertext is not a valid group element
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { proveEncryptionKnowledge, verifyEncryptionKnowledge } from "./encryption_proof.ts";
 * import { randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const randomness = randomScalars(1);
 * const ciphertext = encrypt(publicKey, [encodeInteger(1)], { randomness });
 * const context = new Uint8Array([1]);
 * verifyEncryptionKnowledge(
 *   { publicKey, ciphertext, context },
 *   proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness }),
 * );
 * ```
 */
export function verifyEncryptionKnowledge(
  statement: { publicKey: Point; ciphertext: Ciphertext; context: Uint8Array },
  proof: EncryptionProof,
): void {
  checkOne(prepare(encodePoint(statement.publicKey), statement, proof), proof.responses);
}

/** Options of {@linkcode verifyEncryptionKnowledgeBatch}. */
export interface EncryptionBatchOptions {
  /** Source of the verifier's random weights (default the system CSPRNG). */
  random?: RandomSource;
}

/**
 * Verifies many proofs under one public key with one random linear combination (see the
 * module docs); when it fails, checks each proof alone. Returns, per proof, undefined
 * when it verifies or the reason it fails: an InvalidInputError for a malformed
 * ciphertext or commitment, a VerificationError for a proof that does not verify.
 *
 * @param batch the public key and, per proof, its statement and proof (with bigint responses,
 *   or packed: {@linkcode PackedEncryptionProof}, read as it is; a response not below ℓ is then
 *   an InvalidInputError)
 * @param options `random`: source of the 128-bit weights (default the system CSPRNG;
 *   the weights must be unpredictable to whoever made the proofs)
 * @returns one entry per proof: undefined (valid) or the failure
 * @example
 * ```ts
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * import { proveEncryptionKnowledge, verifyEncryptionKnowledgeBatch } from "./encryption_proof.ts";
 * import { randomScalars } from "./group.ts";
 * const { publicKey } = generateKeyPair();
 * const items = [1, 2, 3].map((v) => {
 *   const randomness = randomScalars(1);
 *   const ciphertext = encrypt(publicKey, [encodeInteger(v)], { randomness });
 *   const context = new Uint8Array([v]);
 *   const proof = proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness });
 *   return { ciphertext, context, proof };
 * });
 * console.assert(verifyEncryptionKnowledgeBatch({ publicKey, items }).every((f) => f === undefined));
 * ```
 */
export function verifyEncryptionKnowledgeBatch(
  batch: {
    publicKey: Point;
    items: ReadonlyArray<EncryptionStatement & { proof: EncryptionProof | PackedEncryptionProof }>;
  },
  options: EncryptionBatchOptions = {},
): (EncryptionProofFailure | undefined)[] {
  const pk = encodePoint(batch.publicKey);
  const failures: (EncryptionProofFailure | undefined)[] = batch.items.map(() => undefined);
  // Straight from the encodings first; any failure goes to the path that names it.
  if (batch.items.length > 1 && batchHoldsEncoded(pk, batch.items, options.random)) {
    return failures;
  }
  const prepared: Array<{ i: number; e: bigint; a: Point[]; c1: Point[] }> = [];
  const proofs: EncryptionProof[] = [];
  batch.items.forEach((item, i) => {
    try {
      const proof = unpacked(item.proof);
      proofs[i] = proof;
      prepared.push({ i, ...prepare(pk, item, proof) });
    } catch (error) {
      if (error instanceof InvalidInputError || error instanceof VerificationError) {
        failures[i] = error;
      } else throw error;
    }
  });
  if (prepared.length === 0) return failures;
  if (prepared.length > 1 && batchEquationHolds(prepared, proofs, options.random)) {
    return failures;
  }
  // The batch fails (or holds one proof): find the bad proofs one by one.
  for (const p of prepared) {
    try {
      checkOne(p, proofs[p.i]!.responses);
    } catch (error) {
      if (error instanceof VerificationError) failures[p.i] = error;
      else throw error;
    }
  }
  return failures;
}

/** A proof with bigint responses (a packed one's decoded: non-canonical ones are refused). */
function unpacked(proof: EncryptionProof | PackedEncryptionProof): EncryptionProof {
  if (!("packedResponses" in proof)) return proof;
  return {
    commitments: proof.commitments,
    responses: unpackScalars(proof.packedResponses, "encryption proof responses"),
  };
}

/** The batch check's scratch: a challenge, a response, the sum Σ ρ·z (32 bytes each). */
const CHALLENGE = new Uint8Array(32);
const RESPONSE = new Uint8Array(32);
const Z_SUM = new Uint8Array(32);

/**
 * {@linkcode batchEquationHolds} from the encodings, without point objects: the c2s checked
 * by decoding (two at a time), the Aₖ and c1ₖ decoded by the multi-scalar multiplication
 * itself. True only when every proof has its shape, every element decodes (no identity),
 * every response is canonical and the equation holds; false sends the batch to the path that
 * names each failure. The scalars mod ℓ are computed on bytes (./scalar_bytes.ts): no bigint
 * per element (issue 17).
 */
function batchHoldsEncoded(
  publicKey: Uint8Array,
  items: ReadonlyArray<EncryptionStatement & { proof: EncryptionProof | PackedEncryptionProof }>,
  random: RandomSource = systemRandom,
): boolean {
  // No loop of its own (issue 17): compiled once its calls have run whole, so its code has
  // the feedback of the checks after the loops (compiled during its first call, it left its
  // optimized code at the first check after the loops in every later call).
  const elements = batchElements(items);
  if (elements < 0) return false;
  // ρᵢₖ: fresh 128-bit weights from the verifier's randomness (small-exponent test).
  const weights = new Uint8Array(16 * elements);
  random(weights);
  // The points A₁₁…, then c1₁₁…; their scalars ρᵢₖ (the weight's 16 bytes, little-endian,
  // as they are), then ρᵢₖ·eᵢ mod ℓ.
  const points = new Uint8Array(2 * ELEMENT_BYTES * elements);
  const scalars = new Uint8Array(2 * ELEMENT_BYTES * elements);
  const c2 = new Uint8Array(ELEMENT_BYTES * elements);
  Z_SUM.fill(0);
  // The loop over the elements in a function of its own: this one, with the checks after it,
  // is compiled once it has run whole, not on the stack in its first call (issue 17).
  if (!weighBatch(knowledgePrefix(publicKey), items, { weights, points, scalars, c2 })) {
    return false;
  }
  if (firstInvalidPoint(c2) !== -1) return false;
  const sum = multiScalarMulEncoded(points, scalars);
  if (typeof sum !== "object") return false;
  const s = bytesToNumberLE(Z_SUM);
  return (s === 0n ? IDENTITY : fixedBase(BASE_POINT).multiply(s)).equals(sum);
}

/** The elements of a batch added up, or −1 when a proof does not have its ciphertext's shape. */
function batchElements(
  items: ReadonlyArray<EncryptionStatement & { proof: EncryptionProof | PackedEncryptionProof }>,
): number {
  let elements = 0;
  for (let i = 0; i < items.length; i++) {
    const { ciphertext, proof } = items[i]!;
    const w = ciphertext.width;
    const responses = "packedResponses" in proof
      ? proof.packedResponses.length / ELEMENT_BYTES
      : proof.responses.length;
    if (responses !== w || proof.commitments.length !== w * ELEMENT_BYTES) return -1;
    elements += w;
  }
  return elements;
}

/**
 * The loop of {@linkcode batchHoldsEncoded}: per element, its Aₖ and c1ₖ into `points`, c2ₖ
 * into `c2`, its weight ρ and ρ·e into `scalars`, and ρ·z added to `Z_SUM`. False when a
 * response is not canonical.
 */
function weighBatch(
  prefix: Transcript,
  items: ReadonlyArray<EncryptionStatement & { proof: EncryptionProof | PackedEncryptionProof }>,
  out: { weights: Uint8Array; points: Uint8Array; scalars: Uint8Array; c2: Uint8Array },
): boolean {
  const { weights, points, scalars, c2 } = out;
  const c1At = c2.length;
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!, proof = item.proof;
    knowledgeChallengeInto(prefix, item, proof.commitments, CHALLENGE);
    const bytes = item.ciphertext.bytes, w = item.ciphertext.width;
    // The responses as bytes (bigint ones written out: not the ballot box's case).
    const z = "packedResponses" in proof ? proof.packedResponses : responseBytes(proof.responses);
    points.set(proof.commitments, 32 * at);
    for (let k = 0; k < w; k++) {
      const e = at + k;
      // Byte copies, no view per element.
      for (let b = 0; b < 32; b++) {
        points[c1At + 32 * e + b] = bytes[64 * k + b]!;
        c2[32 * e + b] = bytes[64 * k + 32 + b]!;
      }
      for (let b = 0; b < 16; b++) scalars[32 * e + b] = weights[16 * e + b]!;
      if (!isCanonicalScalarAt(z, 32 * k)) return false;
    }
    // Σ ρ·z, and ρ·e for c1's scalar, mod ℓ on bytes: one call each for the item's elements.
    scalarDotAddInto(Z_SUM, 0, { a: scalars, aAt: 32 * at, b: z, bAt: 0, count: w });
    const rhoAt = 32 * at;
    scalarMulAddInto(scalars, c1At + rhoAt, {
      a: CHALLENGE,
      aAt: 0,
      b: scalars,
      bAt: rhoAt,
      count: w,
    });
    at += w;
  }
  return true;
}

/** Responses as 32-byte little-endian encodings, each reduced mod ℓ first. */
function responseBytes(responses: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(ELEMENT_BYTES * responses.length);
  for (let k = 0; k < responses.length; k++) {
    const zk = responses[k]!;
    writeScalarBytes(RESPONSE, zk >= 0n && zk < GROUP_ORDER ? zk : modL(zk));
    out.set(RESPONSE, ELEMENT_BYTES * k);
  }
  return out;
}

/** A scalar in [0, 2^256) as 32 little-endian bytes into `out`. */
function writeScalarBytes(out: Uint8Array, x: bigint): void {
  for (let b = 0; b < 32; b++, x >>= 8n) out[b] = Number(x & 0xffn);
}

/** (Σ ρ·z)·g =? Σ ρ·A + Σ (ρ·e)·c1 over all elements of all proofs (BGR98 §3.2). */
function batchEquationHolds(
  prepared: ReadonlyArray<{ i: number; e: bigint; a: Point[]; c1: Point[] }>,
  proofs: ReadonlyArray<EncryptionProof>,
  random: RandomSource = systemRandom,
): boolean {
  let elements = 0;
  for (const p of prepared) elements += p.a.length;
  // ρᵢₖ: fresh 128-bit weights from the verifier's randomness (small-exponent test).
  const weights = new Uint8Array(16 * elements);
  random(weights);
  const view = new DataView(weights.buffer);
  const points: Point[] = [], scalars: bigint[] = [];
  let zSum = 0n, at = 0;
  for (const p of prepared) {
    const z = proofs[p.i]!.responses;
    for (let k = 0; k < p.a.length; k++, at += 16) {
      const rho = view.getBigUint64(at, true) | (view.getBigUint64(at + 8, true) << 64n);
      zSum += rho * z[k]!;
      points.push(p.a[k]!, p.c1[k]!);
      scalars.push(rho, modL(rho * p.e));
    }
  }
  const s = modL(zSum);
  const left = s === 0n ? IDENTITY : fixedBase(BASE_POINT).multiply(s);
  return left.equals(multiScalarMul(points, scalars));
}
