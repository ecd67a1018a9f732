/**
 * Pedersen distributed key generation for t-of-n threshold ElGamal (Pedersen 1991,
 * "A threshold cryptosystem without a trusted party", §3; the Joint-Feldman protocol of
 * Gennaro–Jarecki–Krawczyk–Rabin 1999, Fig. 1), with Feldman verifiable secret sharing
 * (Feldman 1987), complaints and disqualification. n-of-n is the case t = n.
 *
 * Round 1: dealer i picks fᵢ(z) = Σ aᵢₖ zᵏ of degree t−1, publishes Cᵢₖ = g^{aᵢₖ} and
 * sends sᵢⱼ = fᵢ(j) privately to trustee j. Round 2: trustee j checks
 * g^{sᵢⱼ} = ∏ₖ Cᵢₖ^{jᵏ} and complains about dealer i if not. Round 3: dealer i answers
 * each complaint by publishing sᵢⱼ; a dealer is disqualified if its commitments are
 * malformed, an answer is missing, or an answer fails the check. QUAL is the rest.
 * Public key y = ∏_{i∈QUAL} Cᵢ₀; trustee j's share xⱼ = Σ_{i∈QUAL} sᵢⱼ; its verification
 * key yⱼ = g^{xⱼ} = ∏_{i∈QUAL} ∏ₖ Cᵢₖ^{jᵏ} is computable by anyone.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import type { RandomSource } from "../../core/random.ts";
import type { SecretShare } from "./decryption.ts";
import { BASE_POINT, fixedBase, modL, multiScalarMul, type Point, randomScalars } from "./group.ts";

/** Threshold parameters: any `threshold` of `trustees` can decrypt. */
export interface DkgParameters {
  /** t, 1 ≤ t ≤ n. */
  threshold: number;
  /** n ≥ 1. */
  trustees: number;
}

/** A dealer's round-1 output: public commitments and private shares. */
export interface Dealing {
  /** Dealer index, 1..n. */
  dealer: number;
  /** Feldman commitments Cᵢ₀..Cᵢ,ₜ₋₁ (public). */
  commitments: Point[];
  /** sᵢⱼ = fᵢ(j) for j = 1..n at position j−1 (each sent privately to trustee j). */
  shares: bigint[];
}

/** Trustee `complainant` says dealer `dealer` sent it a share failing the Feldman check. */
export interface DkgComplaint {
  /** The accused dealer. */
  dealer: number;
  /** The complaining trustee. */
  complainant: number;
}

/** Dealer's public answer to a complaint: the disputed share. */
export interface DkgComplaintAnswer {
  /** The dealer. */
  dealer: number;
  /** The complainant. */
  complainant: number;
  /** sᵢⱼ, now public. */
  share: bigint;
}

/** Outcome of the DKG. */
export interface DkgResult {
  /** Dealers that were not disqualified. */
  qualified: number[];
  /** Disqualified dealers with the reason. */
  disqualified: Array<{ dealer: number; reason: string }>;
  /** The joint public key. */
  publicKey: Point;
  /** Verification key yⱼ of every trustee j = 1..n (index j−1). */
  verificationKeys: Point[];
}

/**
 * Validates threshold parameters.
 *
 * @param params t and n
 * @throws {InvalidInputError} unless 1 ≤ t ≤ n ≤ 255
 * @example
 * ```ts
 * import { checkDkgParameters } from "./dkg.ts";
 * checkDkgParameters({ threshold: 2, trustees: 3 });
 * ```
 */
export function checkDkgParameters(params: DkgParameters): void {
  const { threshold: t, trustees: n } = params;
  if (!Number.isInteger(n) || n < 1 || n > 255) {
    throw new InvalidInputError(`Trustee count '${n}' must be an integer from 1 to 255`);
  }
  if (!Number.isInteger(t) || t < 1 || t > n) {
    throw new InvalidInputError(`Threshold '${t}' must be an integer from 1 to ${n}`);
  }
}

/**
 * Round 1 for one dealer: a random polynomial, its commitments and the n shares.
 *
 * @param dealer dealer index 1..n
 * @param options parameters and randomness
 * @returns the dealing (shares must be sent privately)
 * @example
 * ```ts
 * import { createDealing, verifyDealtShare } from "./dkg.ts";
 * const d = createDealing(1, { params: { threshold: 2, trustees: 3 } });
 * console.assert(verifyDealtShare(d.commitments, { recipient: 2, share: d.shares[1]! }));
 * ```
 */
export function createDealing(
  dealer: number,
  options: { params: DkgParameters; random?: RandomSource },
): Dealing {
  checkDkgParameters(options.params);
  const { threshold: t, trustees: n } = options.params;
  const coefficients = randomScalars(t, options.random);
  const g = fixedBase(BASE_POINT);
  const commitments = coefficients.map((a) => g.multiply(a)); // Cᵢₖ = g^{aᵢₖ} (Feldman 1987)
  const shares: bigint[] = [];
  for (let j = 1; j <= n; j++) shares.push(evaluate(coefficients, BigInt(j)));
  return { dealer, commitments, shares };
}

function evaluate(coefficients: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = modL(acc * x + coefficients[k]!);
  return acc;
}

function expectedShareImage(commitments: readonly Point[], recipient: number): Point {
  const powers: bigint[] = [];
  let p = 1n;
  for (let k = 0; k < commitments.length; k++) {
    powers.push(p);
    p = modL(p * BigInt(recipient));
  }
  return multiScalarMul(commitments, powers); // ∏ₖ Cᵢₖ^{jᵏ}
}

/**
 * Feldman check of a dealt share: g^{sᵢⱼ} = ∏ₖ Cᵢₖ^{jᵏ}.
 *
 * @param commitments the dealer's commitments
 * @param options recipient index j and the share sᵢⱼ
 * @returns true when the share is consistent with the commitments
 * @example
 * ```ts
 * import { createDealing, verifyDealtShare } from "./dkg.ts";
 * const d = createDealing(1, { params: { threshold: 1, trustees: 2 } });
 * console.assert(!verifyDealtShare(d.commitments, { recipient: 1, share: d.shares[0]! + 1n }));
 * ```
 */
export function verifyDealtShare(
  commitments: readonly Point[],
  options: { recipient: number; share: bigint },
): boolean {
  if (commitments.length === 0) return false;
  return fixedBase(BASE_POINT).multiply(options.share).equals(
    expectedShareImage(commitments, options.recipient),
  );
}

/**
 * Rounds 2–3 bookkeeping: decides the qualified set and computes the public key and
 * every trustee's verification key.
 *
 * @param params t and n
 * @param transcript published commitments per dealer, complaints and answers
 * @returns the qualified set, the disqualified dealers with reasons, and the keys
 * @throws {InvalidInputError} when fewer than t dealers qualify
 * @example
 * ```ts
 * import { createDealing, resolveDkg } from "./dkg.ts";
 * const params = { threshold: 2, trustees: 2 };
 * const dealings = [1, 2].map((i) => createDealing(i, { params }));
 * const result = resolveDkg(params, {
 *   commitments: new Map(dealings.map((d) => [d.dealer, d.commitments])),
 *   complaints: [], answers: [],
 * });
 * console.assert(result.qualified.length === 2);
 * ```
 */
export function resolveDkg(
  params: DkgParameters,
  transcript: {
    commitments: ReadonlyMap<number, readonly Point[]>;
    complaints: readonly DkgComplaint[];
    answers: readonly DkgComplaintAnswer[];
  },
): DkgResult {
  checkDkgParameters(params);
  const { threshold: t, trustees: n } = params;
  const disqualified: Array<{ dealer: number; reason: string }> = [];
  const qualified: number[] = [];
  for (let i = 1; i <= n; i++) {
    const commitments = transcript.commitments.get(i);
    if (commitments === undefined) {
      disqualified.push({ dealer: i, reason: "published no commitments" });
      continue;
    }
    if (commitments.length !== t) {
      disqualified.push({
        dealer: i,
        reason: `published ${commitments.length} commitments, expected ${t}`,
      });
      continue;
    }
    let reason: string | undefined;
    for (const complaint of transcript.complaints.filter((c) => c.dealer === i)) {
      const answer = transcript.answers.find((a) =>
        a.dealer === i && a.complainant === complaint.complainant
      );
      if (answer === undefined) {
        reason = `did not answer the complaint of trustee ${complaint.complainant}`;
        break;
      }
      // GJKR99 Fig. 1 step 1(c)–(d): a revealed share failing the check disqualifies.
      if (!verifyDealtShare(commitments, { recipient: answer.complainant, share: answer.share })) {
        reason = `answered the complaint of trustee ${complaint.complainant} with an invalid share`;
        break;
      }
    }
    if (reason !== undefined) disqualified.push({ dealer: i, reason });
    else qualified.push(i);
  }
  if (qualified.length < t) {
    throw new InvalidInputError(
      `Key generation failed: only ${qualified.length} dealers qualified, threshold is ${t}`,
    );
  }
  const qualCommitments = qualified.map((i) => transcript.commitments.get(i)!);
  let publicKey = qualCommitments[0]![0]!;
  for (let q = 1; q < qualCommitments.length; q++) {
    publicKey = publicKey.add(qualCommitments[q]![0]!);
  }
  const verificationKeys: Point[] = [];
  for (let j = 1; j <= n; j++) {
    let acc = expectedShareImage(qualCommitments[0]!, j);
    for (let q = 1; q < qualCommitments.length; q++) {
      acc = acc.add(expectedShareImage(qualCommitments[q]!, j));
    }
    verificationKeys.push(acc);
  }
  if (publicKey.is0()) throw new InvalidInputError("Key generation produced the identity key");
  return { qualified, disqualified, publicKey, verificationKeys };
}

/**
 * Trustee j's secret share: the sum of the shares it received from qualified dealers
 * (for a complained dealer, the publicly answered share).
 *
 * @param recipient trustee index j
 * @param options qualified dealers and the shares received, by dealer
 * @returns the secret share xⱼ
 * @throws {InvalidInputError} when a qualified dealer's share is missing
 * @example
 * ```ts
 * import { combineReceivedShares } from "./dkg.ts";
 * const x = combineReceivedShares(1, { qualified: [1, 2], received: new Map([[1, 2n], [2, 3n]]) });
 * console.assert(x.secret === 5n && x.index === 1);
 * ```
 */
export function combineReceivedShares(
  recipient: number,
  options: { qualified: readonly number[]; received: ReadonlyMap<number, bigint> },
): SecretShare {
  let secret = 0n;
  for (const i of options.qualified) {
    const s = options.received.get(i);
    if (s === undefined) {
      throw new InvalidInputError(`Trustee ${recipient} has no share from dealer ${i}`);
    }
    secret = modL(secret + s);
  }
  return { index: recipient, secret };
}

/**
 * Runs the whole DKG among honest simulated trustees in one process (tests, demos,
 * `generateKeys` with settings). Real deployments run the rounds across machines.
 *
 * @param params t and n
 * @param options randomness
 * @returns the DKG result and each trustee's secret share
 * @example
 * ```ts
 * import { simulateDkg } from "./dkg.ts";
 * const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 });
 * console.assert(secretShares.length === 3 && result.qualified.length === 3);
 * ```
 */
export function simulateDkg(
  params: DkgParameters,
  options: { random?: RandomSource } = {},
): { result: DkgResult; secretShares: SecretShare[] } {
  checkDkgParameters(params);
  const dealings: Dealing[] = [];
  for (let i = 1; i <= params.trustees; i++) {
    dealings.push(
      createDealing(i, { params, ...(options.random ? { random: options.random } : {}) }),
    );
  }
  const result = resolveDkg(params, {
    commitments: new Map(dealings.map((d) => [d.dealer, d.commitments])),
    complaints: [],
    answers: [],
  });
  const secretShares: SecretShare[] = [];
  for (let j = 1; j <= params.trustees; j++) {
    secretShares.push(
      combineReceivedShares(j, {
        qualified: result.qualified,
        received: new Map(dealings.map((d) => [d.dealer, d.shares[j - 1]!])),
      }),
    );
  }
  return { result, secretShares };
}
