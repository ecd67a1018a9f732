/**
 * Signed ceremony posts: each trustee signs its public posts (dealing, complaints,
 * complaint answers, decryption shares) with its Ed25519 identity key, named in the
 * election definition (v 2, `trusteeKeys`). Boards and the universal verifier check the
 * signature against that key, so a post's authenticity no longer rests on the channel.
 *
 * Signed message: labelledDigest("panoramix/vote/ceremony-post/v1", [fingerprint, kind,
 * u64be(trustee), …content parts]) (core transcript framing, docs/vote.md "Signed
 * ceremony posts"), signed with Ed25519 (RFC 8032 §5.1.6).
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { VerificationError } from "../../core/errors.ts";
import { labelledDigest } from "../../core/transcript.ts";
import { encodeScalar } from "../../backends/reencrypt/mod.ts";
import type {
  CeremonyElection,
  CeremonyPosts,
  ComplaintAnswers,
  TrusteeComplaints,
  TrusteeDealing,
} from "./ceremony.ts";
import type { ElectionDecryption } from "./election_transcript.ts";

/** Domain-separation label of a trustee's signature on a ceremony post. */
export const CEREMONY_SIGNATURE_LABEL = "panoramix/vote/ceremony-post/v1";

/** Length of an Ed25519 signature. */
export const CEREMONY_SIGNATURE_BYTES = 64;

/** A public post a trustee signs. */
export type SignablePost =
  | { dealing: TrusteeDealing }
  | { complaints: TrusteeComplaints }
  | { answers: ComplaintAnswers }
  | { decryption: ElectionDecryption };

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Who signs the post, what to call it in errors, and the content parts it signs. */
function describe(post: SignablePost): {
  trustee: number;
  what: string;
  parts: Uint8Array[];
  signature: Uint8Array | undefined;
} {
  if ("dealing" in post) {
    const d = post.dealing;
    return {
      trustee: d.trustee,
      what: `Dealing of trustee ${d.trustee}`,
      parts: [text("dealing"), u64(d.trustee), ...d.commitments.map((c) => c.toBytes())],
      signature: d.signature,
    };
  }
  if ("complaints" in post) {
    const c = post.complaints;
    return {
      trustee: c.trustee,
      what: `Complaints of trustee ${c.trustee}`,
      parts: [text("complaints"), u64(c.trustee), ...c.against.map(u64)],
      signature: c.signature,
    };
  }
  if ("answers" in post) {
    const a = post.answers;
    return {
      trustee: a.dealer,
      what: `Complaint answers of trustee ${a.dealer}`,
      parts: [
        text("complaint-answers"),
        u64(a.dealer),
        ...a.answers.flatMap((x) => [u64(x.complainant), encodeScalar(x.share)]),
      ],
      signature: a.signature,
    };
  }
  const d = post.decryption;
  return {
    trustee: d.trustee,
    what: `Decryption shares of trustee ${d.trustee}`,
    parts: [
      text("decryption"),
      u64(d.trustee),
      ...d.shares,
      encodeScalar(d.proof.challenge),
      encodeScalar(d.proof.response),
    ],
    signature: d.signature,
  };
}

function digest(election: CeremonyElection, parts: Uint8Array[]): Uint8Array {
  return labelledDigest(CEREMONY_SIGNATURE_LABEL, [election.fingerprint, ...parts]);
}

/**
 * Signs a trustee's public post with its identity key.
 *
 * @param election the election (its fingerprint is signed)
 * @param post the post, whose trustee index must be the signer's
 * @param secretKey the trustee's 32-byte Ed25519 secret key (seed)
 * @returns the 64-byte signature to store in the post's `signature`
 * @example
 * ```ts
 * import { ed25519 } from "@noble/curves/ed25519.js";
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * import { createTrusteeDealing } from "./ceremony.ts";
 * import { signCeremonyPost, verifyCeremonySignature } from "./signing.ts";
 * const secret = ed25519.utils.randomSecretKey();
 * const definition = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 *   trusteeKeys: [ed25519.getPublicKey(secret)],
 * });
 * const election = { definition, fingerprint: electionFingerprint(definition) };
 * const { dealing } = createTrusteeDealing(election, { trustee: 1 });
 * dealing.signature = signCeremonyPost(election, { dealing }, secret);
 * verifyCeremonySignature(election, { dealing });
 * ```
 */
export function signCeremonyPost(
  election: CeremonyElection,
  post: SignablePost,
  secretKey: Uint8Array,
): Uint8Array {
  const { parts, trustee } = describe(post);
  const expected = election.definition.trusteeKeys?.[trustee - 1];
  if (expected !== undefined) {
    const own = ed25519.getPublicKey(secretKey);
    if (own.some((b, i) => b !== expected[i])) {
      throw new VerificationError(
        `This identity key is not trustee ${trustee}'s key in the election definition`,
      );
    }
  }
  return ed25519.sign(digest(election, parts), secretKey);
}

/**
 * Checks a post's signature against its trustee's key in the definition. An election
 * without trustee keys (definition v 1) has unsigned posts and nothing is checked.
 *
 * @param election the election
 * @param post the post
 * @throws {VerificationError} "… is not signed" or "… signature does not verify with
 *   trustee N's key"
 * @example
 * ```ts ignore
 * verifyCeremonySignature(election, { dealing });
 * ```
 */
export function verifyCeremonySignature(election: CeremonyElection, post: SignablePost): void {
  const keys = election.definition.trusteeKeys;
  if (keys === undefined) return;
  const { parts, trustee, what, signature } = describe(post);
  const key = keys[trustee - 1];
  if (key === undefined) throw new VerificationError(`${what}: not a trustee of this election`);
  if (signature === undefined) {
    throw new VerificationError(`${what} is not signed (the election names trustee keys)`);
  }
  let ok = false;
  try {
    ok = signature.length === CEREMONY_SIGNATURE_BYTES &&
      ed25519.verify(signature, digest(election, parts), key);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VerificationError(
      `${what}: signature does not verify with trustee ${trustee}'s key`,
    );
  }
}

/**
 * Checks the signatures of every public ceremony post.
 *
 * @param election the election
 * @param posts dealings, complaints and answers
 * @throws {VerificationError} naming the first post whose signature is missing or wrong
 * @example
 * ```ts ignore
 * verifyCeremonySignatures(election, posts);
 * ```
 */
export function verifyCeremonySignatures(election: CeremonyElection, posts: CeremonyPosts): void {
  if (election.definition.trusteeKeys === undefined) return;
  for (const dealing of posts.dealings) verifyCeremonySignature(election, { dealing });
  for (const complaints of posts.complaints) verifyCeremonySignature(election, { complaints });
  for (const answers of posts.answers) verifyCeremonySignature(election, { answers });
}
