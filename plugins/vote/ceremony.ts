/**
 * The key ceremony among the trustees: the backend's Pedersen DKG (Feldman VSS with
 * complaints), each step a post one trustee produces and everyone else verifies.
 *
 * 1. Each trustee i deals: publishes a `vote.dealing` post (Feldman commitments) and
 *    sends each trustee j a `vote.dealt-share` privately (a secret file; any private
 *    channel).
 * 2. Each trustee j checks the shares it received against the dealings and publishes a
 *    `vote.complaints` post naming the dealers whose share failed (or is missing).
 * 3. Each accused dealer publishes a `vote.complaint-answers` post revealing the
 *    disputed shares.
 * 4. Anyone resolves the public posts into the `vote.election-key` (qualified dealers,
 *    joint public key, every trustee's verification key); each trustee derives its
 *    secret `vote.trustee-key` from its received shares and checks it against its
 *    verification key.
 * Every post carries the election fingerprint; a post for another election is rejected.
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  BASE_POINT,
  combineReceivedShares,
  createDealing,
  decodePoint,
  decodeScalar,
  type DkgComplaint,
  type DkgComplaintAnswer,
  ELEMENT_BYTES,
  encodeScalar,
  fixedBase,
  type Point,
  resolveDkg,
  type SecretShare,
  verifyDealtShare,
} from "../../backends/reencrypt/mod.ts";
import { ELECTION_FINGERPRINT_BYTES, type ElectionDefinition } from "./definition.ts";
import {
  CEREMONY_SIGNATURE_BYTES,
  type SignablePost,
  signCeremonyPost,
  verifyCeremonySignatures,
} from "./signing.ts";

/** Envelope kinds of the ceremony posts. */
export const CEREMONY_KINDS = {
  dealing: "vote.dealing",
  dealtShare: "vote.dealt-share",
  complaints: "vote.complaints",
  answers: "vote.complaint-answers",
  electionKey: "vote.election-key",
  trusteeKey: "vote.trustee-key",
} as const;

/** The election a ceremony post belongs to. */
export interface CeremonyElection {
  /** The definition (trustees and threshold). */
  definition: ElectionDefinition;
  /** Its fingerprint. */
  fingerprint: Uint8Array;
}

/** Public round-1 post of dealer `trustee` (1-based index). */
export interface TrusteeDealing {
  /** Dealer index 1..n. */
  trustee: number;
  /** Feldman commitments, t points. */
  commitments: Point[];
  /** The trustee's Ed25519 signature (signing.ts), when the election names trustee keys. */
  signature?: Uint8Array;
}

/** A share dealer → recipient, sent privately. */
export interface DealtShare {
  /** Dealer index. */
  dealer: number;
  /** Recipient index. */
  recipient: number;
  /** sᵢⱼ. */
  share: bigint;
}

/** Public round-2 post: the dealers trustee `trustee` complains about. */
export interface TrusteeComplaints {
  /** Complaining trustee. */
  trustee: number;
  /** Accused dealers (empty when every share checked out). */
  against: number[];
  /** The trustee's Ed25519 signature (signing.ts), when the election names trustee keys. */
  signature?: Uint8Array;
}

/** Public round-3 post: a dealer's answers (revealed shares). */
export interface ComplaintAnswers {
  /** Dealer index. */
  dealer: number;
  /** One revealed share per complaint against it. */
  answers: Array<{ complainant: number; share: bigint }>;
  /** The dealer's Ed25519 signature (signing.ts), when the election names trustee keys. */
  signature?: Uint8Array;
}

/** The public outcome of the ceremony. */
export interface ElectionKey {
  /** Qualified dealers. */
  qualified: number[];
  /** Disqualified dealers with reasons. */
  disqualified: Array<{ dealer: number; reason: string }>;
  /** Joint public key. */
  publicKey: Point;
  /** Verification key of each trustee 1..n (index j − 1). */
  verificationKeys: Point[];
}

/** All public posts of a ceremony. */
export interface CeremonyPosts {
  /** Round 1. */
  dealings: TrusteeDealing[];
  /** Round 2. */
  complaints: TrusteeComplaints[];
  /** Round 3. */
  answers: ComplaintAnswers[];
}

function params(election: CeremonyElection) {
  return {
    threshold: election.definition.threshold,
    trustees: election.definition.trustees.length,
  };
}

function checkTrustee(election: CeremonyElection, index: number, what: string): number {
  return readInteger(index, what, { min: 1, max: election.definition.trustees.length });
}

function checkElection(election: CeremonyElection, value: unknown, what: string): void {
  const fp = readBytes(value, `${what}.election`, { length: ELECTION_FINGERPRINT_BYTES });
  if (fp.some((b, i) => b !== election.fingerprint[i])) {
    throw new InvalidInputError(`Post '${what}' belongs to another election`);
  }
}

/**
 * Round 1: trustee `trustee` deals (random polynomial, commitments, one share per trustee).
 *
 * @param election the election
 * @param options the dealer's index (1-based) and randomness
 * @returns the public dealing and the private shares (one per recipient, its own included)
 * @example
 * ```ts ignore
 * const { dealing, shares } = createTrusteeDealing(election, { trustee: 1 });
 * ```
 */
export function createTrusteeDealing(
  election: CeremonyElection,
  options: { trustee: number; random?: RandomSource },
): { dealing: TrusteeDealing; shares: DealtShare[] } {
  const i = checkTrustee(election, options.trustee, "trustee");
  // Pedersen DKG round 1 (GJKR99 Fig. 1 step 1a) in the backend.
  const d = createDealing(i, {
    params: params(election),
    ...(options.random ? { random: options.random } : {}),
  });
  return {
    dealing: { trustee: i, commitments: d.commitments },
    shares: d.shares.map((share, j) => ({ dealer: i, recipient: j + 1, share })),
  };
}

/**
 * Round 2: trustee `trustee` checks the shares it received (Feldman check) and lists
 * the dealers whose share is missing or fails.
 *
 * @param election the election
 * @param options the checking trustee, all public dealings and the shares it received
 * @returns its complaints post
 * @example
 * ```ts ignore
 * const complaints = checkTrusteeShares(election, { trustee: 2, dealings, shares });
 * ```
 */
export function checkTrusteeShares(
  election: CeremonyElection,
  options: { trustee: number; dealings: readonly TrusteeDealing[]; shares: readonly DealtShare[] },
): TrusteeComplaints {
  const j = checkTrustee(election, options.trustee, "trustee");
  const against: number[] = [];
  for (const dealing of options.dealings) {
    const share = options.shares.find((s) => s.dealer === dealing.trustee && s.recipient === j);
    // GJKR99 Fig. 1 step 1(b): complain when g^{sᵢⱼ} ≠ ∏ Cᵢₖ^{jᵏ}.
    if (
      share === undefined ||
      !verifyDealtShare(dealing.commitments, { recipient: j, share: share.share })
    ) {
      against.push(dealing.trustee);
    }
  }
  return { trustee: j, against };
}

/**
 * Round 3: a dealer answers every complaint against it by revealing the disputed share.
 *
 * @param election the election
 * @param options the dealer's own dealt shares and all complaints posts
 * @returns its answers post
 * @example
 * ```ts ignore
 * const answers = answerTrusteeComplaints(election, { shares: myShares, complaints });
 * ```
 */
export function answerTrusteeComplaints(
  election: CeremonyElection,
  options: { shares: readonly DealtShare[]; complaints: readonly TrusteeComplaints[] },
): ComplaintAnswers {
  const dealer = options.shares[0]?.dealer;
  if (dealer === undefined) {
    throw new InvalidInputError("Dealer has no dealt shares to answer with");
  }
  checkTrustee(election, dealer, "dealer");
  const answers: Array<{ complainant: number; share: bigint }> = [];
  for (const c of options.complaints) {
    if (!c.against.includes(dealer)) continue;
    const s = options.shares.find((x) => x.recipient === c.trustee);
    if (s === undefined) {
      throw new InvalidInputError(`Dealer ${dealer} has no share for trustee ${c.trustee}`);
    }
    answers.push({ complainant: c.trustee, share: s.share });
  }
  return { dealer, answers };
}

/**
 * Round 4 (anyone): resolves the public posts into the election key. Deterministic, so
 * every verifier recomputes the same key from the transcript.
 *
 * @param election the election
 * @param posts all dealings, complaints and answers
 * @returns the election key
 * @throws {InvalidInputError} when posts are duplicated or fewer than t dealers qualify
 * @throws {VerificationError} when the election names trustee keys and a post is unsigned
 *   or signed by another key
 * @example
 * ```ts ignore
 * const key = resolveElectionKey(election, { dealings, complaints, answers });
 * ```
 */
export function resolveElectionKey(election: CeremonyElection, posts: CeremonyPosts): ElectionKey {
  // Each post must be signed by its trustee's identity key when the election names keys.
  verifyCeremonySignatures(election, posts);
  const commitments = new Map<number, Point[]>();
  for (const d of posts.dealings) {
    checkTrustee(election, d.trustee, "dealing.trustee");
    if (commitments.has(d.trustee)) {
      throw new InvalidInputError(`Trustee ${d.trustee} published two dealings`);
    }
    commitments.set(d.trustee, d.commitments);
  }
  const complaints: DkgComplaint[] = [];
  const seen = new Set<number>();
  for (const c of posts.complaints) {
    checkTrustee(election, c.trustee, "complaints.trustee");
    if (seen.has(c.trustee)) {
      throw new InvalidInputError(`Trustee ${c.trustee} published two complaints posts`);
    }
    seen.add(c.trustee);
    for (const dealer of c.against) complaints.push({ dealer, complainant: c.trustee });
  }
  const answers: DkgComplaintAnswer[] = [];
  for (const a of posts.answers) {
    for (const x of a.answers) {
      answers.push({ dealer: a.dealer, complainant: x.complainant, share: x.share });
    }
  }
  // GJKR99 Fig. 1 steps 1(c)–2: disqualify, then y = ∏_{QUAL} Cᵢ₀ (backend).
  const result = resolveDkg(params(election), { commitments, complaints, answers });
  return {
    qualified: result.qualified,
    disqualified: result.disqualified,
    publicKey: result.publicKey,
    verificationKeys: result.verificationKeys,
  };
}

/**
 * A trustee derives its secret key share from the shares it received (answered shares
 * replace disputed ones) and checks it against its public verification key.
 *
 * @param election the election
 * @param options trustee index, the election key, the received shares and all answers
 * @returns the secret share (keep it secret)
 * @throws {VerificationError} when the derived share does not match its verification key
 * @example
 * ```ts ignore
 * const secret = deriveTrusteeKey(election, { trustee: 2, key, shares, answers });
 * ```
 */
export function deriveTrusteeKey(
  election: CeremonyElection,
  options: {
    trustee: number;
    key: ElectionKey;
    shares: readonly DealtShare[];
    answers: readonly ComplaintAnswers[];
  },
): SecretShare {
  const j = checkTrustee(election, options.trustee, "trustee");
  const received = new Map<number, bigint>();
  for (const s of options.shares) if (s.recipient === j) received.set(s.dealer, s.share);
  for (const a of options.answers) {
    for (const x of a.answers) if (x.complainant === j) received.set(a.dealer, x.share);
  }
  const secret = combineReceivedShares(j, { qualified: options.key.qualified, received });
  // xⱼ must satisfy g^{xⱼ} = yⱼ (GJKR99 Fig. 1 step 3).
  if (!fixedBase(BASE_POINT).multiply(secret.secret).equals(options.key.verificationKeys[j - 1]!)) {
    throw new VerificationError(
      `Trustee ${j}'s derived key share does not match its verification key`,
    );
  }
  return secret;
}

/**
 * Runs the whole ceremony with honest simulated trustees in one process (local
 * elections, tests, benchmarks). Real ceremonies run the steps on the trustees' machines.
 *
 * @param election the election
 * @param options randomness, and each trustee's Ed25519 identity secret key (signs its posts)
 * @returns the public posts, the election key and each trustee's secret share
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { runLocalKeyCeremony, verifyElectionKey } from "./ceremony.ts";
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 3, threshold: 2, mixers: 1, questions: [{ text: "Q", choices: ["a"] }],
 * });
 * const election = { definition, fingerprint: electionFingerprint(definition) };
 * const { posts, key, trusteeKeys } = runLocalKeyCeremony(election);
 * verifyElectionKey(election, { posts, key });
 * console.assert(trusteeKeys.length === 3);
 * ```
 */
export function runLocalKeyCeremony(
  election: CeremonyElection,
  options: { random?: RandomSource; identities?: readonly Uint8Array[] } = {},
): { posts: CeremonyPosts; key: ElectionKey; trusteeKeys: SecretShare[] } {
  const n = election.definition.trustees.length;
  const rnd = options.random ? { random: options.random } : {};
  // Each trustee signs its public posts when identities are given (signing.ts).
  const sign = <T extends { signature?: Uint8Array }>(post: T, index: number, p: SignablePost) => {
    const identity = options.identities?.[index - 1];
    if (identity !== undefined) post.signature = signCeremonyPost(election, p, identity);
    return post;
  };
  const dealt = Array.from(
    { length: n },
    (_, i) => createTrusteeDealing(election, { trustee: i + 1, ...rnd }),
  );
  const dealings = dealt.map((d) => sign(d.dealing, d.dealing.trustee, { dealing: d.dealing }));
  const allShares = dealt.flatMap((d) => d.shares);
  const complaints = Array.from({ length: n }, (_, j) => {
    const c = checkTrusteeShares(election, { trustee: j + 1, dealings, shares: allShares });
    return sign(c, c.trustee, { complaints: c });
  });
  const answers = dealt
    .map((d) => answerTrusteeComplaints(election, { shares: d.shares, complaints }))
    .filter((a) => a.answers.length > 0)
    .map((a) => sign(a, a.dealer, { answers: a }));
  const posts = { dealings, complaints, answers };
  const key = resolveElectionKey(election, posts);
  const trusteeKeys = Array.from(
    { length: n },
    (_, j) => deriveTrusteeKey(election, { trustee: j + 1, key, shares: allShares, answers }),
  );
  return { posts, key, trusteeKeys };
}

// ---------------------------------------------------------------- envelopes

function point(value: unknown, what: string): Point {
  return decodePoint(readBytes(value, what, { length: ELEMENT_BYTES }), what);
}

function scalar(value: unknown, what: string): bigint {
  return decodeScalar(readBytes(value, what, { length: ELEMENT_BYTES }), what);
}

/**
 * Encodes a ceremony object as its envelope (public posts, or secret shares and keys).
 *
 * @param election the election (its fingerprint is stamped on the post)
 * @param post `{ dealing }`, `{ share }`, `{ complaints }`, `{ answers }`, `{ key }` or `{ trusteeKey }`
 * @returns the envelope
 * @example
 * ```ts ignore
 * const env = encodeCeremonyPost(election, { dealing });
 * ```
 */
export function encodeCeremonyPost(
  election: CeremonyElection,
  post:
    | { dealing: TrusteeDealing }
    | { share: DealtShare }
    | { complaints: TrusteeComplaints }
    | { answers: ComplaintAnswers }
    | { key: ElectionKey }
    | { trusteeKey: SecretShare },
): Envelope {
  const base = { v: 1, election: election.fingerprint };
  if ("dealing" in post) {
    return {
      ...base,
      kind: CEREMONY_KINDS.dealing,
      trustee: post.dealing.trustee,
      commitments: post.dealing.commitments.map((p) => p.toBytes()),
      ...signed(post.dealing.signature),
    };
  }
  if ("share" in post) {
    return {
      ...base,
      kind: CEREMONY_KINDS.dealtShare,
      dealer: post.share.dealer,
      recipient: post.share.recipient,
      share: encodeScalar(post.share.share),
    };
  }
  if ("complaints" in post) {
    return {
      ...base,
      kind: CEREMONY_KINDS.complaints,
      trustee: post.complaints.trustee,
      against: [...post.complaints.against],
      ...signed(post.complaints.signature),
    };
  }
  if ("answers" in post) {
    return {
      ...base,
      kind: CEREMONY_KINDS.answers,
      dealer: post.answers.dealer,
      answers: post.answers.answers.map((a) => ({
        complainant: a.complainant,
        share: encodeScalar(a.share),
      })),
      ...signed(post.answers.signature),
    };
  }
  if ("key" in post) {
    return {
      ...base,
      kind: CEREMONY_KINDS.electionKey,
      qualified: [...post.key.qualified],
      disqualified: post.key.disqualified.map((d) => ({ ...d })),
      publicKey: post.key.publicKey.toBytes(),
      verificationKeys: post.key.verificationKeys.map((p) => p.toBytes()),
    };
  }
  return {
    ...base,
    kind: CEREMONY_KINDS.trusteeKey,
    trustee: post.trusteeKey.index,
    secret: encodeScalar(post.trusteeKey.secret),
  };
}

function signed(signature: Uint8Array | undefined): { signature?: Uint8Array } {
  return signature === undefined ? {} : { signature };
}

function readSignature(value: unknown, what: string): { signature?: Uint8Array } {
  return value === undefined || value === null
    ? {}
    : { signature: readBytes(value, what, { length: CEREMONY_SIGNATURE_BYTES }).slice() };
}

function header(election: CeremonyElection, value: unknown, kind: string, what: string) {
  const env = readEnvelope(value, kind, { what });
  checkElection(election, env.election, what);
  return env;
}

/**
 * Decodes a `vote.dealing` post.
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the dealing
 * @example
 * ```ts ignore
 * const dealing = decodeTrusteeDealing(election, env);
 * ```
 */
export function decodeTrusteeDealing(
  election: CeremonyElection,
  value: unknown,
  what = "dealing",
): TrusteeDealing {
  const env = header(election, value, CEREMONY_KINDS.dealing, what);
  return {
    trustee: checkTrustee(election, env.trustee as number, `${what}.trustee`),
    commitments: readArray(env.commitments, `${what}.commitments`, {
      minLength: 1,
      maxLength: election.definition.threshold,
    }).map((c, k) => point(c, `${what}.commitments[${k}]`)),
    ...readSignature(env.signature, `${what}.signature`),
  };
}

/**
 * Decodes a `vote.dealt-share` (secret) post.
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the share
 * @example
 * ```ts ignore
 * const share = decodeDealtShare(election, env);
 * ```
 */
export function decodeDealtShare(
  election: CeremonyElection,
  value: unknown,
  what = "dealt share",
): DealtShare {
  const env = header(election, value, CEREMONY_KINDS.dealtShare, what);
  return {
    dealer: checkTrustee(election, env.dealer as number, `${what}.dealer`),
    recipient: checkTrustee(election, env.recipient as number, `${what}.recipient`),
    share: scalar(env.share, `${what}.share`),
  };
}

/**
 * Decodes a `vote.complaints` post.
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the complaints
 * @example
 * ```ts ignore
 * const complaints = decodeTrusteeComplaints(election, env);
 * ```
 */
export function decodeTrusteeComplaints(
  election: CeremonyElection,
  value: unknown,
  what = "complaints",
): TrusteeComplaints {
  const env = header(election, value, CEREMONY_KINDS.complaints, what);
  const n = election.definition.trustees.length;
  return {
    trustee: checkTrustee(election, env.trustee as number, `${what}.trustee`),
    against: readArray(env.against, `${what}.against`, { maxLength: n })
      .map((d, k) => readInteger(d, `${what}.against[${k}]`, { min: 1, max: n })),
    ...readSignature(env.signature, `${what}.signature`),
  };
}

/**
 * Decodes a `vote.complaint-answers` post.
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the answers
 * @example
 * ```ts ignore
 * const answers = decodeComplaintAnswers(election, env);
 * ```
 */
export function decodeComplaintAnswers(
  election: CeremonyElection,
  value: unknown,
  what = "answers",
): ComplaintAnswers {
  const env = header(election, value, CEREMONY_KINDS.answers, what);
  const n = election.definition.trustees.length;
  return {
    dealer: checkTrustee(election, env.dealer as number, `${what}.dealer`),
    answers: readArray(env.answers, `${what}.answers`, { maxLength: n }).map((raw, k) => {
      const r = readRecord(raw, `${what}.answers[${k}]`);
      return {
        complainant: readInteger(r.complainant, `${what}.answers[${k}].complainant`, {
          min: 1,
          max: n,
        }),
        share: scalar(r.share, `${what}.answers[${k}].share`),
      };
    }),
    ...readSignature(env.signature, `${what}.signature`),
  };
}

/**
 * Decodes a `vote.election-key` post.
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the key
 * @example
 * ```ts ignore
 * const key = decodeElectionKey(election, env);
 * ```
 */
export function decodeElectionKey(
  election: CeremonyElection,
  value: unknown,
  what = "election key",
): ElectionKey {
  const env = header(election, value, CEREMONY_KINDS.electionKey, what);
  const n = election.definition.trustees.length;
  return {
    qualified: readArray(env.qualified, `${what}.qualified`, { maxLength: n })
      .map((d, k) => readInteger(d, `${what}.qualified[${k}]`, { min: 1, max: n })),
    disqualified: readArray(env.disqualified, `${what}.disqualified`, { maxLength: n })
      .map((raw, k) => {
        const r = readRecord(raw, `${what}.disqualified[${k}]`);
        return {
          dealer: readInteger(r.dealer, `${what}.disqualified[${k}].dealer`, { min: 1, max: n }),
          reason: readString(r.reason, `${what}.disqualified[${k}].reason`),
        };
      }),
    publicKey: point(env.publicKey, `${what}.publicKey`),
    verificationKeys: readArray(env.verificationKeys, `${what}.verificationKeys`, {
      minLength: n,
      maxLength: n,
    }).map((p, k) => point(p, `${what}.verificationKeys[${k}]`)),
  };
}

/**
 * Decodes a `vote.trustee-key` (secret) file.
 *
 * @param election the election
 * @param value decoded envelope
 * @param what names it in errors
 * @returns the secret share
 * @example
 * ```ts ignore
 * const secret = decodeTrusteeKey(election, env);
 * ```
 */
export function decodeTrusteeKey(
  election: CeremonyElection,
  value: unknown,
  what = "trustee key",
): SecretShare {
  const env = header(election, value, CEREMONY_KINDS.trusteeKey, what);
  return {
    index: checkTrustee(election, env.trustee as number, `${what}.trustee`),
    secret: scalar(env.secret, `${what}.secret`),
  };
}

/**
 * Checks that a published election key is exactly what the posts resolve to.
 *
 * @param election the election
 * @param options the posts and the claimed key
 * @throws {VerificationError} naming the mismatching field
 * @example
 * ```ts ignore
 * verifyElectionKey(election, { posts, key });
 * ```
 */
export function verifyElectionKey(
  election: CeremonyElection,
  options: { posts: CeremonyPosts; key: ElectionKey },
): void {
  let expected: ElectionKey;
  try {
    expected = resolveElectionKey(election, options.posts);
  } catch (error) {
    throw new VerificationError(
      `Key ceremony: posts do not resolve to a key (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (expected.qualified.join() !== options.key.qualified.join()) {
    throw new VerificationError("Key ceremony: published qualified set does not match the posts");
  }
  if (!expected.publicKey.equals(options.key.publicKey)) {
    throw new VerificationError("Key ceremony: published public key does not match the posts");
  }
  expected.verificationKeys.forEach((vk, j) => {
    if (!vk.equals(options.key.verificationKeys[j]!)) {
      throw new VerificationError(
        `Key ceremony: verification key of trustee ${j + 1} does not match the posts`,
      );
    }
  });
}
