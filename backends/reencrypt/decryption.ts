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
  linearCombination,
  modL,
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
  const indices = shares.map((s) => s.trustee);
  if (new Set(indices).size !== indices.length) {
    throw new InvalidInputError("Decryption shares must come from distinct trustees");
  }
  if (shares.length === 0) throw new InvalidInputError("No decryption shares to combine");
  const lambdas = indices.map((i) => lagrangeAtZero(i, indices));
  const out: Point[] = [];
  for (let k = 0; k < ciphertext.width; k++) {
    const ds = shares.map((s) => {
      const d = s.shares[k];
      if (d === undefined) {
        throw new InvalidInputError(`Decryption share of trustee ${s.trustee} is too narrow`);
      }
      return d;
    });
    // Σ λⱼ·dⱼₖ with one shared doubling chain (Straus), then mₖ = c2ₖ − Σ λⱼ·dⱼₖ.
    out.push(ciphertext.c2(k).subtract(linearCombination(ds, lambdas)));
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
