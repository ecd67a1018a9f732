/**
 * Threshold decryption: each trustee publishes, per ciphertext, the shares
 * dₖ = c1ₖ^{xᵢ} with a Chaum–Pedersen proof (Chaum–Pedersen 1992, "Wallet databases
 * with observers", §3.2) that log_g(yᵢ) = log_{c1ₖ}(dₖ) for every element k, where
 * yᵢ = g^{xᵢ} is the trustee's public verification key. Any t verified shares combine
 * by Lagrange interpolation at 0 (Shamir 1979): mₖ = c2ₖ / ∏ dᵢₖ^{λᵢ}.
 *
 * Proof transcript "panoramix/reencrypt/decryption-share/v1": group, trustee index,
 * verification key, ciphertext bytes, the shares, the commitments A = g^ω and Bₖ = c1ₖ^ω;
 * the proof is (e, z) with z = ω + e·xᵢ.
 *
 * @module
 */

import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import { Transcript } from "../../core/transcript.ts";
import type { Ciphertext } from "./elgamal.ts";
import {
  BASE_POINT,
  fixedBase,
  GROUP_LABEL,
  IDENTITY,
  invertScalar,
  modL,
  multiplyPoint,
  packPoints,
  type Point,
  randomScalar,
  scalarFromWide,
} from "./group.ts";

/** Protocol label of decryption share proofs. */
export const DECRYPTION_SHARE_LABEL = "panoramix/reencrypt/decryption-share/v1";

/** A trustee's secret key share: its index (1..n) and xᵢ. */
export interface SecretShare {
  /** Trustee index, 1..n (the evaluation point of the sharing polynomial). */
  index: number;
  /** Secret scalar xᵢ. */
  secret: bigint;
}

/** One trustee's decryption share of one ciphertext, with its proof. */
export interface DecryptionShare {
  /** Trustee index, 1..n. */
  trustee: number;
  /** dₖ = c1ₖ^{xᵢ}, one per element. */
  shares: Point[];
  /** Chaum–Pedersen challenge e. */
  challenge: bigint;
  /** Chaum–Pedersen response z. */
  response: bigint;
}

function shareChallenge(
  trustee: number,
  verificationKey: Point,
  ciphertext: Ciphertext,
  shares: readonly Point[],
  a: Point,
  b: readonly Point[],
): bigint {
  const t = new Transcript(DECRYPTION_SHARE_LABEL);
  t.append("group", new TextEncoder().encode(GROUP_LABEL));
  t.appendNumber("trustee", trustee);
  t.append("verification-key", verificationKey.toBytes());
  t.append("ciphertext", ciphertext.bytes);
  t.append("shares", packPoints(shares));
  t.append("commitment-g", a.toBytes());
  t.append("commitments-c1", packPoints(b));
  return scalarFromWide(t.challenge("e", 64));
}

/**
 * Creates a trustee's decryption share of one ciphertext with its proof.
 *
 * @param key the trustee's secret share
 * @param ciphertext the ciphertext
 * @param options randomness for the proof
 * @returns the share
 * @example
 * ```ts
 * import { createDecryptionShare, combineDecryptionShares } from "./decryption.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { decodeInteger, encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = encrypt(keys.publicKey, [encodeInteger(5)]);
 * const share = createDecryptionShare({ index: 1, secret: keys.secretKey }, ct);
 * console.assert(decodeInteger(combineDecryptionShares(ct, [share])[0]!) === 5);
 * ```
 */
export function createDecryptionShare(
  key: SecretShare,
  ciphertext: Ciphertext,
  options: { random?: RandomSource } = {},
): DecryptionShare {
  const w = ciphertext.width;
  const shares: Point[] = [];
  const b: Point[] = [];
  const omega = randomScalar(options.random);
  const x = modL(key.secret);
  for (let k = 0; k < w; k++) {
    shares.push(mulSecret(ciphertext.c1(k), x)); // dₖ = c1ₖ^{xᵢ}
    b.push(mulSecret(ciphertext.c1(k), omega)); // Bₖ = c1ₖ^ω
  }
  const a = fixedBase(BASE_POINT).multiply(omega); // A = g^ω
  const vk = fixedBase(BASE_POINT).multiply(x);
  const e = shareChallenge(key.index, vk, ciphertext, shares, a, b);
  return { trustee: key.index, shares, challenge: e, response: modL(omega + e * x) };
}

/**
 * Checks a decryption share against the trustee's verification key.
 *
 * @param share the share
 * @param options the ciphertext and the trustee's verification key yᵢ = g^{xᵢ}
 * @throws {VerificationError} naming the trustee whose share fails
 * @example
 * ```ts
 * import { createDecryptionShare, verifyDecryptionShare } from "./decryption.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ciphertext = encrypt(keys.publicKey, [encodeInteger(5)]);
 * const share = createDecryptionShare({ index: 1, secret: keys.secretKey }, ciphertext);
 * verifyDecryptionShare(share, { ciphertext, verificationKey: keys.publicKey });
 * ```
 */
export function verifyDecryptionShare(
  share: DecryptionShare,
  options: { ciphertext: Ciphertext; verificationKey: Point },
): void {
  const { ciphertext, verificationKey } = options;
  if (share.shares.length !== ciphertext.width) {
    throw new VerificationError(
      `Decryption share of trustee ${share.trustee} has ${share.shares.length} elements, the ciphertext ${ciphertext.width}`,
    );
  }
  // Recompute A = g^z·yᵢ^{−e} and Bₖ = c1ₖ^z·dₖ^{−e} (Chaum–Pedersen verification).
  const e = share.challenge, z = share.response;
  const a = fixedBase(BASE_POINT).multiply(z).add(verificationKey.multiplyUnsafe(modL(-e)));
  const b = share.shares.map((d, k) =>
    ciphertext.c1(k).multiplyUnsafe(z).add(d.multiplyUnsafe(modL(-e)))
  );
  const expected = shareChallenge(share.trustee, verificationKey, ciphertext, share.shares, a, b);
  if (expected !== e) {
    throw new VerificationError(`Decryption share of trustee ${share.trustee} is invalid`);
  }
}

/**
 * Lagrange coefficient at 0 of index `index` within the set `indices` (Shamir 1979).
 *
 * @param index one of the indices
 * @param indices distinct non-zero indices
 * @returns λ = ∏_{m≠index} m / (m − index) mod ℓ
 * @example
 * ```ts
 * import { lagrangeAtZero } from "./decryption.ts";
 * console.assert(lagrangeAtZero(1, [1]) === 1n);
 * ```
 */
export function lagrangeAtZero(index: number, indices: readonly number[]): bigint {
  let num = 1n, den = 1n;
  for (const m of indices) {
    if (m === index) continue;
    num = modL(num * BigInt(m));
    den = modL(den * BigInt(m - index));
  }
  return modL(num * invertScalar(den));
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * n·P for a small signed integer n by binary double-and-add (a few group operations for
 * the small Lagrange numerators of usual trustee sets). Variable time: public n only.
 */
function smallMultiple(point: Point, n: bigint): Point {
  const negative = n < 0n;
  const m = negative ? -n : n;
  if (m >= 1n << 128n) return multiplyPoint(point, n);
  let acc = IDENTITY;
  let started = false;
  for (let bit = BigInt(m.toString(2).length - 1); bit >= 0n; bit--) {
    if (started) acc = acc.double();
    if ((m >> bit) & 1n) {
      acc = started ? acc.add(point) : point;
      started = true;
    }
  }
  return negative ? acc.negate() : acc;
}

/**
 * Share combination for one set of trustees, with the Lagrange coefficients at 0 as exact
 * rationals over a common denominator: λⱼ = nⱼ / D (Shamir 1979), D > 0 and the nⱼ small
 * integers (for trustees 1..t, D = 1 and λⱼ = (−1)^{j−1}·C(t, j)). Combining then costs a
 * few group additions per share instead of a full scalar multiplication, plus one
 * multiplication by D⁻¹ when D ≠ 1; checking a published plaintext m against the shares,
 * D·(c2 − m) = Σ nⱼ·dⱼ, needs no full multiplication at all.
 *
 * @example
 * ```ts
 * import { LagrangeCombiner } from "./decryption.ts";
 * const combiner = new LagrangeCombiner([1, 2]);
 * console.assert(combiner.denominator === 1n && combiner.numerators.join() === "2,-1");
 * ```
 */
export class LagrangeCombiner {
  /** The trustee indices, in the order shares are given. */
  readonly indices: readonly number[];
  /** nⱼ, one per index (signed). */
  readonly numerators: readonly bigint[];
  /** The common denominator D ≥ 1. */
  readonly denominator: bigint;
  readonly #inverse: bigint;

  /**
   * Prepares the coefficients of a trustee set.
   *
   * @param indices distinct positive trustee indices (the shares' order)
   * @throws {InvalidInputError} on an empty set, a duplicate or a non-positive index
   */
  constructor(indices: readonly number[]) {
    if (indices.length === 0) throw new InvalidInputError("No decryption shares to combine");
    if (new Set(indices).size !== indices.length) {
      throw new InvalidInputError("Decryption shares must come from distinct trustees");
    }
    for (const i of indices) {
      if (!Number.isSafeInteger(i) || i < 1) {
        throw new InvalidInputError(`Trustee index '${i}' must be a positive integer`);
      }
    }
    // λⱼ = ∏_{m≠j} m / (m − j) as a reduced fraction, then over the least common denominator.
    const fractions = indices.map((j) => {
      let num = 1n, den = 1n;
      for (const m of indices) {
        if (m === j) continue;
        num *= BigInt(m);
        den *= BigInt(m - j);
      }
      if (den < 0n) [num, den] = [-num, -den];
      const g = gcd(num, den);
      return { num: num / g, den: den / g };
    });
    let lcm = 1n;
    for (const f of fractions) lcm = (lcm * f.den) / gcd(lcm, f.den);
    this.indices = [...indices];
    this.numerators = fractions.map((f) => f.num * (lcm / f.den));
    this.denominator = lcm;
    this.#inverse = lcm === 1n ? 1n : invertScalar(modL(lcm));
  }

  /** Σ nⱼ·dⱼ. */
  #numeratorSum(shares: readonly Point[]): Point {
    if (shares.length !== this.numerators.length) {
      throw new InvalidInputError(
        `Expected ${this.numerators.length} decryption shares, got ${shares.length}`,
      );
    }
    let sum = IDENTITY;
    shares.forEach((d, j) => {
      sum = sum.add(smallMultiple(d, this.numerators[j]!));
    });
    return sum;
  }

  /**
   * The message element m = c2 − Σ λⱼ·dⱼ of one ciphertext element.
   *
   * @param c2 the element's c2
   * @param shares dⱼ = c1^{xⱼ}, one per index, in index order
   * @returns m
   * @throws {InvalidInputError} when the number of shares is wrong
   */
  decrypt(c2: Point, shares: readonly Point[]): Point {
    const sum = this.#numeratorSum(shares);
    // Σ λⱼ·dⱼ = D⁻¹·Σ nⱼ·dⱼ (Lagrange interpolation at 0 in the exponent).
    return c2.subtract(this.denominator === 1n ? sum : multiplyPoint(sum, this.#inverse));
  }

  /**
   * Whether a published message element m is the decryption of c2 with these shares:
   * D·(c2 − m) = Σ nⱼ·dⱼ (no full scalar multiplication).
   *
   * @param statement the element's c2, the shares (index order) and the claimed m
   * @returns true when m = c2 − Σ λⱼ·dⱼ
   * @throws {InvalidInputError} when the number of shares is wrong
   */
  matches(statement: { c2: Point; shares: readonly Point[]; plaintext: Point }): boolean {
    const left = smallMultiple(statement.c2.subtract(statement.plaintext), this.denominator);
    return left.equals(this.#numeratorSum(statement.shares));
  }
}

/**
 * Combines decryption shares (already verified) of one ciphertext into its messages.
 *
 * @param ciphertext the ciphertext
 * @param shares at least t shares from distinct trustees (exactly the ones to use)
 * @returns the w message elements
 * @throws {InvalidInputError} on duplicate trustees or mismatched widths
 * @example
 * ```ts
 * import { combineDecryptionShares, createDecryptionShare } from "./decryption.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { decodeInteger, encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const ct = encrypt(keys.publicKey, [encodeInteger(9)]);
 * const share = createDecryptionShare({ index: 1, secret: keys.secretKey }, ct);
 * console.assert(decodeInteger(combineDecryptionShares(ct, [share])[0]!) === 9);
 * ```
 */
export function combineDecryptionShares(
  ciphertext: Ciphertext,
  shares: readonly DecryptionShare[],
): Point[] {
  const combiner = new LagrangeCombiner(shares.map((s) => s.trustee));
  const out: Point[] = [];
  for (let k = 0; k < ciphertext.width; k++) {
    const ds = shares.map((s) => {
      const d = s.shares[k];
      if (d === undefined) {
        throw new InvalidInputError(`Decryption share of trustee ${s.trustee} is too narrow`);
      }
      return d;
    });
    // mₖ = c2ₖ − Σ λⱼ·dⱼₖ with small integer numerators (LagrangeCombiner).
    out.push(combiner.decrypt(ciphertext.c2(k), ds));
  }
  return out;
}

/**
 * Decrypts a batch with verified shares: checks every share against its trustee's
 * verification key, then combines the first `threshold` valid trustees' shares.
 *
 * @param ciphertexts the ciphertexts
 * @param options `shares[j][i]` is trustee j's share of ciphertext i; `verificationKeys` maps
 *   trustee index → yᵢ; `threshold` t
 * @returns messages per ciphertext
 * @throws {VerificationError} naming the first trustee whose share fails
 * @example
 * ```ts
 * import { createDecryptionShare, thresholdDecrypt } from "./decryption.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { decodeInteger, encodeInteger } from "./encoding.ts";
 * const keys = generateKeyPair();
 * const cts = [encrypt(keys.publicKey, [encodeInteger(2)])];
 * const shares = [cts.map((ct) => createDecryptionShare({ index: 1, secret: keys.secretKey }, ct))];
 * const out = thresholdDecrypt(cts, {
 *   shares, verificationKeys: new Map([[1, keys.publicKey]]), threshold: 1,
 * });
 * console.assert(decodeInteger(out[0]![0]!) === 2);
 * ```
 */
export function thresholdDecrypt(
  ciphertexts: readonly Ciphertext[],
  options: {
    shares: readonly (readonly DecryptionShare[])[];
    verificationKeys: ReadonlyMap<number, Point>;
    threshold: number;
  },
): Point[][] {
  const { shares, verificationKeys, threshold } = options;
  if (shares.length < threshold) {
    throw new InvalidInputError(
      `Decryption needs shares from ${threshold} trustees, got ${shares.length}`,
    );
  }
  for (const trusteeShares of shares) {
    if (trusteeShares.length !== ciphertexts.length) {
      throw new InvalidInputError(
        `Trustee ${
          trusteeShares[0]?.trustee ?? "?"
        } sent ${trusteeShares.length} shares for ${ciphertexts.length} ciphertexts`,
      );
    }
    trusteeShares.forEach((share, i) => {
      const vk = verificationKeys.get(share.trustee);
      if (vk === undefined) {
        throw new VerificationError(`Trustee ${share.trustee} has no verification key`);
      }
      verifyDecryptionShare(share, { ciphertext: ciphertexts[i]!, verificationKey: vk });
    });
  }
  const chosen = shares.slice(0, threshold);
  return ciphertexts.map((ct, i) => combineDecryptionShares(ct, chosen.map((s) => s[i]!)));
}

function mulSecret(point: Point, scalar: bigint): Point {
  return scalar === 0n ? IDENTITY : point.multiply(scalar);
}
