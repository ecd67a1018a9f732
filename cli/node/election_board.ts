/**
 * Elections on the bulletin board: what the board checks before it appends an election's
 * posts. An admin registers the election definition under a job id (post type
 * `election`); each trustee then posts its ceremony steps and, once the job's cascade is
 * done, its decryption shares (post type `ceremony`). The board accepts a ceremony post
 * only when its author is the trustee's identity key named in the definition and the
 * trustee's own signature on the content verifies (plugins/vote/signing.ts), so both the
 * channel and the content are authenticated; a decryption post's batch proof is checked
 * against the final outputs of the cascade and the trustee's verification key.
 *
 * @module
 */

import { decodeMsgpack, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { readString } from "../../core/fields.ts";
import { decodeCiphertext, ELEMENT_BYTES } from "../../backends/reencrypt/mod.ts";
import {
  memoryRecords,
  type RecordSink,
  type RecordSinkFactory,
  type RecordSource,
} from "../../core/records.ts";
import { ITEM_PAGE } from "./item_pages.ts";
import {
  CEREMONY_KINDS,
  type CeremonyElection,
  type CeremonyPosts,
  decodeComplaintAnswers,
  decodeDecryptionPost,
  decodeTrusteeComplaints,
  decodeTrusteeDealing,
  DECRYPTION_POST_KIND,
  ELECTION_DEFINITION_KIND,
  type ElectionDecryption,
  type ElectionDecryptionRecords,
  electionDecryptionRecords,
  electionDefinitionFromEnvelope,
  electionFingerprint,
  resolveElectionKey,
  type SignablePost,
  verifyCeremonySignature,
  verifyTrusteeSharesRecords,
} from "../../plugins/vote/mod.ts";
import { HttpError } from "./http_error.ts";

/** Kinds of ceremony post bodies the board accepts. */
export const BOARD_CEREMONY_KINDS: readonly string[] = [
  CEREMONY_KINDS.dealing,
  CEREMONY_KINDS.complaints,
  CEREMONY_KINDS.answers,
  DECRYPTION_POST_KIND,
];

/**
 * Reads the body of an `election` post: a `vote.election` definition that names its
 * trustees' identity keys.
 *
 * @param body the post body bytes
 * @returns the election
 * @throws {InvalidInputError} when the body is not such a definition
 * @example
 * ```ts ignore
 * const election = readElectionBody(post.body);
 * ```
 */
export function readElectionBody(body: Uint8Array): CeremonyElection {
  const definition = electionDefinitionFromEnvelope(
    readEnvelope(decodeMsgpack(body, "post.body"), ELECTION_DEFINITION_KIND, {
      what: "post.body",
      versions: [1, 2],
    }),
    "post.body",
  );
  if (definition.trusteeKeys === undefined) {
    throw new InvalidInputError(
      `Election '${definition.id}' names no trustee keys; the board accepts only elections whose ` +
        "trustees sign their posts (vote init --trustee-key KEY, one per trustee)",
    );
  }
  return { definition, fingerprint: electionFingerprint(definition) };
}

/** A ceremony post the board checked. */
export interface CheckedCeremonyPost {
  /** Body kind (`vote.dealing`, …, `vote.decryption`). */
  kind: string;
  /** The trustee who posted it (1-based). */
  trustee: number;
  /** The decoded post. */
  post: SignablePost;
}

/**
 * Decodes a ceremony post body and checks it is its trustee's: the post's author is the
 * trustee's identity key in the definition and the trustee's signature on the content
 * verifies.
 *
 * @param election the registered election
 * @param author the post's author key (already checked against the post signature)
 * @param body the post body bytes
 * @returns the checked post
 * @throws {InvalidInputError} malformed body or another election
 * @throws {HttpError} 403 when the author is not that trustee
 * @throws {VerificationError} when the trustee's signature is missing or wrong
 * @example
 * ```ts ignore
 * const { kind, trustee } = checkCeremonyBody(election, post.author, post.body);
 * ```
 */
export function checkCeremonyBody(
  election: CeremonyElection,
  author: Uint8Array,
  body: Uint8Array,
): CheckedCeremonyPost {
  const value = decodeMsgpack(body, "post.body");
  const raw = readEnvelope(
    value,
    readString(
      (value as { kind?: unknown })?.kind,
      "post.body.kind",
    ),
    { what: "post.body" },
  );
  let post: SignablePost;
  let trustee: number;
  switch (raw.kind) {
    case CEREMONY_KINDS.dealing: {
      const dealing = decodeTrusteeDealing(election, raw, "post.body");
      post = { dealing };
      trustee = dealing.trustee;
      break;
    }
    case CEREMONY_KINDS.complaints: {
      const complaints = decodeTrusteeComplaints(election, raw, "post.body");
      post = { complaints };
      trustee = complaints.trustee;
      break;
    }
    case CEREMONY_KINDS.answers: {
      const answers = decodeComplaintAnswers(election, raw, "post.body");
      post = { answers };
      trustee = answers.dealer;
      break;
    }
    case DECRYPTION_POST_KIND: {
      const decryption = decodeDecryptionPost(election, raw, "post.body");
      post = { decryption };
      trustee = decryption.trustee;
      break;
    }
    default:
      throw new InvalidInputError(
        `Value 'post.body.kind' must be one of ${BOARD_CEREMONY_KINDS.join(", ")}, got '${
          String(raw.kind).slice(0, 40)
        }'`,
      );
  }
  checkTrusteeAuthor(election, trustee, author);
  verifyCeremonySignature(election, post);
  return { kind: raw.kind, trustee, post };
}

/**
 * Checks that a ceremony post's author is its trustee's identity key in the definition.
 *
 * @param election the registered election (it names its trustees' keys)
 * @param trustee the trustee the post is of (1-based)
 * @param author the post's author key
 * @throws {HttpError} 403 when the author is not that trustee
 * @example
 * ```ts ignore
 * checkTrusteeAuthor(election, 2, post.author);
 * ```
 */
export function checkTrusteeAuthor(
  election: CeremonyElection,
  trustee: number,
  author: Uint8Array,
): void {
  const key = election.definition.trusteeKeys?.[trustee - 1];
  if (key === undefined || key.length !== author.length || key.some((b, i) => b !== author[i])) {
    throw new HttpError(
      403,
      "forbidden",
      `Author is not trustee ${trustee}'s identity key in election '${election.definition.id}'`,
    );
  }
}

/**
 * Gathers decoded ceremony posts (dealings, complaints, answers) from checked posts.
 *
 * @param posts checked ceremony posts, in board order
 * @returns the ceremony posts and the decryption posts
 * @example
 * ```ts ignore
 * const { ceremony, decryption } = collectCeremony(checked);
 * ```
 */
export function collectCeremony(
  posts: readonly CheckedCeremonyPost[],
): { ceremony: CeremonyPosts; decryption: ElectionDecryption[] } {
  const ceremony: CeremonyPosts = { dealings: [], complaints: [], answers: [] };
  const decryption: ElectionDecryption[] = [];
  for (const { post } of posts) {
    if ("dealing" in post) ceremony.dealings.push(post.dealing);
    else if ("complaints" in post) ceremony.complaints.push(post.complaints);
    else if ("answers" in post) ceremony.answers.push(post.answers);
    else decryption.push(post.decryption);
  }
  return { ceremony, decryption };
}

/**
 * Checks a trustee's decryption post against the cascade's final outputs: the batch
 * Chaum–Pedersen proof must verify under the trustee's verification key, which the
 * ceremony posts already on the board resolve to. The outputs and the shares are record
 * lists (64·w and 32·w bytes a ballot), not objects per ciphertext.
 *
 * @param election the registered election
 * @param options the ceremony posts on the board, the final outputs (64·w-byte records) and
 *   the post
 * @throws {VerificationError} when the proof does not verify (or the ceremony is incomplete)
 * @example
 * ```ts ignore
 * await checkDecryptionPost(election, { ceremony, outputs, decryption });
 * ```
 */
export async function checkDecryptionPost(
  election: CeremonyElection,
  options: {
    ceremony: CeremonyPosts;
    outputs: RecordSource;
    decryption: ElectionDecryption | ElectionDecryptionRecords;
  },
): Promise<void> {
  let key;
  try {
    key = resolveElectionKey(election, options.ceremony);
  } catch (error) {
    throw new VerificationError(
      `The ceremony posts on the board do not resolve to a key (${(error as Error).message})`,
      { cause: error },
    );
  }
  const width = options.outputs.recordBytes / (2 * ELEMENT_BYTES);
  const { trustee, shares } = options.decryption;
  const wrong = Array.isArray(shares)
    ? shares.find((s) => s.length !== ELEMENT_BYTES * width)?.length
    : (shares as RecordSource).recordBytes === ELEMENT_BYTES * width
    ? undefined
    : (shares as RecordSource).recordBytes;
  if (wrong !== undefined) {
    throw new VerificationError(
      `Trustee ${trustee}: a decryption share of ${wrong} bytes for ciphertexts of ${width} elements`,
    );
  }
  await verifyTrusteeSharesRecords({ ...election, publicKey: key.publicKey }, {
    key,
    ciphertexts: options.outputs,
    post: Array.isArray(shares)
      ? electionDecryptionRecords(options.decryption as ElectionDecryption, width)
      : options.decryption as ElectionDecryptionRecords,
  });
}

/**
 * A stage's items (re-encryption ciphertext envelopes, raw msgpack) read a page at a time
 * into one record list of 64·w-byte records: the board's final outputs for
 * {@linkcode checkDecryptionPost}, without an object per ciphertext.
 *
 * @param page reads a page of rows from an index (as `BulletinBoard.itemPage`)
 * @param count the number of items
 * @param sinks when given, the records go to a sink of theirs (e.g. a spool's file), written a
 *   page at a time, and only one page is held; else one record list in memory
 * @returns the records
 * @throws {InvalidInputError} when an item is not a ciphertext of the first item's width
 * @example
 * ```ts ignore
 * const outputs = ciphertextItemRecords((from, n) => board.itemPage(job, stages, from, n), inputs);
 * ```
 */
export function ciphertextItemRecords(
  page: (fromIdx: number, limit: number) => { idx: number; item: Uint8Array }[],
  count: number,
  sinks?: RecordSinkFactory,
): RecordSource {
  let out: Uint8Array | undefined;
  let sink: RecordSink | undefined;
  let size = 0;
  let next = 0;
  while (next < count) {
    const rows = page(next, Math.min(ITEM_PAGE, count - next));
    if (rows.length === 0) break;
    const from = next;
    for (const row of rows) {
      const ct = decodeCiphertext(
        decodeMsgpack(row.item, `item ${row.idx}`),
        `output ${row.idx + 1}`,
      );
      if (out === undefined) {
        size = ct.bytes.length;
        // With sinks (e.g. a spool's files), one page is held at a time.
        sink = sinks?.("stage-items", count, size);
        out = new Uint8Array(size * (sink === undefined ? count : ITEM_PAGE));
      }
      if (ct.bytes.length !== size || row.idx !== next) {
        throw new InvalidInputError(
          `Output ${row.idx + 1} is not the next ciphertext of width ${size / 64}`,
        );
      }
      out.set(ct.bytes, (sink === undefined ? next : next - from) * size);
      next++;
    }
    sink?.write(from, out!.subarray(0, (next - from) * size));
  }
  if (out === undefined || next !== count) {
    throw new InvalidInputError(`The stage holds ${next} of its ${count} outputs`);
  }
  return sink?.finish() ?? memoryRecords(out, size);
}
