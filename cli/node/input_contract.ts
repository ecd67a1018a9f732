/**
 * The input contract of a board job (issue 11 §5, §6), checked when inputs are posted so
 * that no accepted item can stop a mixer later and no copy enters a job:
 *
 * - every item decodes with the backend's input codec (kind, canonical group elements);
 * - re-encryption items all have the job's width (`spec.width`, else the width of the
 *   job's first input);
 * - an item whose canonical bytes are already in the job (or twice in one post) is refused;
 * - a re-encryption job open to any submitter requires, per item, a proof of knowledge of
 *   its encryption randomness (Schnorr, as ballots have) bound to the job id and the
 *   author's key, so a re-randomised copy of someone else's ciphertext cannot be posted.
 *
 * @module
 */

import { encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { InvalidInputError, ReplayError, VerificationError } from "../../core/errors.ts";
import { readArray } from "../../core/fields.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { labelledDigest } from "../../core/transcript.ts";
import {
  type Ciphertext,
  decodeEncryptionProof,
  decodePublicKey,
  encodeCiphertext,
  encodeEncryptionProof,
  encodeInteger,
  encrypt,
  proveEncryptionKnowledge,
  randomScalars,
  verifyEncryptionKnowledgeBatch,
} from "../../backends/reencrypt/mod.ts";
import { textPart } from "./identity.ts";
import { Slicer } from "./chunked_msgpack.ts";
import type { JobSpec } from "./posts.ts";

/** Domain-separation label of the input proof context (job id, author key). */
export const INPUT_KNOWLEDGE_LABEL = "panoramix/node/input-knowledge/v1";

/**
 * The context an input's proof of knowledge is bound to.
 *
 * @param job job id
 * @param author the submitter's identity key
 * @returns 64 bytes
 * @example
 * ```ts ignore
 * const context = inputProofContext("job-1", identity.publicKey);
 * ```
 */
export function inputProofContext(job: string, author: Uint8Array): Uint8Array {
  return labelledDigest(INPUT_KNOWLEDGE_LABEL, [textPart(job), author]);
}

/**
 * Whether a job's inputs must carry proofs of knowledge (re-encryption, open submitters).
 *
 * @param spec the job spec
 * @returns true when `node.inputs` posts need `proofs`
 */
export function inputsNeedProofs(spec: JobSpec): boolean {
  return spec.backend === "reencrypt" && spec.submitters.length === 0;
}

/** Domain-separation label of an input's digest (duplicate detection within a job). */
export const INPUT_DIGEST_LABEL = "panoramix/node/input-digest/v1";

/**
 * The digest a job remembers of one stored input (its canonical msgpack bytes).
 *
 * @param bytes the input's canonical encoding
 * @returns 64 bytes
 * @example
 * ```ts ignore
 * const d = inputDigest(encodeMsgpack(backend.input.encode(item)));
 * ```
 */
export function inputDigest(bytes: Uint8Array): Uint8Array {
  return labelledDigest(INPUT_DIGEST_LABEL, [bytes]);
}

/** Items checked between two yields to the event loop (issue 11 §10). */
export const CHECK_CHUNK = 2000;

/** Proofs of knowledge batch-verified between two yields (a batch of 256 takes ~10 ms). */
const PROOF_CHUNK = 256;

/** Lets timers and other requests run (a macrotask boundary). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Width of an item when the backend has one (re-encryption ciphertexts). */
function widthOf(backend: AnyMixBackend, item: unknown): number | undefined {
  return backend.name === "reencrypt" ? (item as Ciphertext).width : undefined;
}

/**
 * Checks the items of one `node.inputs` post against the job's contract.
 *
 * @param args the job, the author, the backend, the body's items and proofs, the job's
 *   width so far (undefined when the job has no input yet) and a lookup of stored digests
 * @returns the canonical encodings and digests to store
 * @throws {InvalidInputError} a malformed item or proof, a wrong width
 * @throws {ReplayError} a copy of an input already in the job
 * @throws {VerificationError} a proof of knowledge that does not verify
 */
export async function checkInputs(args: {
  job: string;
  spec: JobSpec;
  author: Uint8Array;
  backend: AnyMixBackend;
  items: unknown;
  proofs: unknown;
  firstWidth: number | undefined;
  seen: (digest: Uint8Array) => boolean;
}): Promise<{ encoded: Uint8Array[]; digests: Uint8Array[] }> {
  const { backend, spec, job } = args;
  const values = readArray(args.items, "inputs.items", { minLength: 1, maxLength: 1_000_000 });
  // Checked in chunks with yields in between: a big post does not stall the node (§10).
  const decoded: unknown[] = [];
  const slicer = new Slicer(CHECK_CHUNK);
  for (let i = 0; i < values.length; i++) {
    await slicer.next();
    decoded.push(backend.input.decode(values[i], `inputs.items[${i}]`));
  }
  const width = spec.width ?? args.firstWidth ?? widthOf(backend, decoded[0]);
  const encoded: Uint8Array[] = [];
  const digests: Uint8Array[] = [];
  const inPost = new Set<string>();
  for (let i = 0; i < decoded.length; i++) {
    await slicer.next();
    const item = decoded[i];
    const w = widthOf(backend, item);
    if (w !== undefined && w !== width) {
      throw new InvalidInputError(
        `Value 'inputs.items[${i}]' has width ${w}; job '${job}' takes width ${width}`,
      );
    }
    const bytes = encodeMsgpack(backend.input.encode(item));
    const d = inputDigest(bytes);
    const hex = Array.from(d.subarray(0, 32), (b) => b.toString(16).padStart(2, "0")).join("");
    if (inPost.has(hex) || args.seen(d)) {
      throw new ReplayError(
        `Value 'inputs.items[${i}]' is a copy of an input already in job '${job}'`,
      );
    }
    inPost.add(hex);
    encoded.push(bytes);
    digests.push(d);
  }
  if (inputsNeedProofs(spec)) {
    if (args.proofs === undefined) {
      throw new InvalidInputError(
        `Job '${job}' is open to any submitter: 'inputs.proofs' (a proof of knowledge per item) is required`,
      );
    }
    const proofs = readArray(args.proofs, "inputs.proofs", {
      minLength: values.length,
      maxLength: values.length,
    }).map((p, i) => decodeEncryptionProof(p, `inputs.proofs[${i}]`));
    const publicKey = decodePublicKey(spec.stages[0]!.key, "job key");
    const context = inputProofContext(job, args.author);
    for (let from = 0; from < decoded.length; from += PROOF_CHUNK) {
      if (from > 0) await yieldToEventLoop();
      const failures = verifyEncryptionKnowledgeBatch({
        publicKey,
        items: decoded.slice(from, from + PROOF_CHUNK).map((c, k) => ({
          ciphertext: c as Ciphertext,
          context,
          proof: proofs[from + k]!,
        })),
      });
      const at = failures.findIndex((f) => f !== undefined);
      if (at >= 0) {
        const bad = from + at;
        throw new VerificationError(
          `Proof 'inputs.proofs[${bad}]' does not prove knowledge of item ${bad}: ${
            failures[at]!.message
          }`,
        );
      }
    }
  }
  return { encoded, digests };
}

/**
 * Encrypts small integers for an open re-encryption job, with their proofs of knowledge.
 *
 * @param args the job's public key envelope, job id, submitter key and values
 * @returns item envelopes and proof envelopes for `node.inputs`
 * @example
 * ```ts ignore
 * const { items, proofs } = provenInputs({ key, job: "j", author: me.publicKey, values: [1, 2] });
 * await submitInputs(client, { id: "j", submitter: me, items, proofs });
 * ```
 */
export function provenInputs(args: {
  key: Envelope;
  job: string;
  author: Uint8Array;
  values: readonly number[];
}): { items: Envelope[]; proofs: Envelope[] } {
  const publicKey = decodePublicKey(args.key, "job key");
  const context = inputProofContext(args.job, args.author);
  const items: Envelope[] = [];
  const proofs: Envelope[] = [];
  for (const value of args.values) {
    const randomness = randomScalars(1);
    const ciphertext = encrypt(publicKey, [encodeInteger(value)], { randomness });
    items.push(encodeCiphertext(ciphertext));
    proofs.push(
      encodeEncryptionProof(proveEncryptionKnowledge({ publicKey, ciphertext, context }, {
        randomness,
      })),
    );
  }
  return { items, proofs };
}
