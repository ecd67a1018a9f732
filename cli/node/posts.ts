/**
 * Bulletin-board posts and job documents. A post is a signed envelope
 * `{ v: 1, kind: "node.post", job, type, author, time, body, signature }` whose
 * `body` is the msgpack encoding of a typed envelope (job spec, inputs, close or
 * mix). The author signs labelledDigest("panoramix/node/post/v1", [job, type,
 * author, time, body]) — the exact body bytes, so no re-encoding is ever signed.
 *
 * @module
 */

import { decodeMsgpack, encodeMsgpack, type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import { labelledDigest } from "../../core/transcript.ts";
import {
  type Identity,
  NODE_ID_SIZE,
  numberPart,
  SIGNATURE_SIZE,
  SIGNING_LABELS,
  signParts,
  textPart,
  verifyDigest,
  verifyParts,
} from "./identity.ts";
import { labelledDigestAsync } from "./async_digest.ts";

/**
 * Post types the board understands: a mixing job's `job`, `inputs`, `close`, `mix`, a
 * mixer's `failure` (why it cannot mix its stage), an election's `election` (the
 * definition, posted by an admin) and `ceremony` (a trustee's signed ceremony step or
 * decryption shares, see election_board.ts), and a service's token `settlement`.
 * An admin's `archive` of a finished job drops its items (the log keeps every post's
 * digest, signature and chain value; see `BulletinBoard`).
 */
export type PostType =
  | "job"
  | "inputs"
  | "close"
  | "mix"
  | "failure"
  | "election"
  | "ceremony"
  | "settlement"
  | "archive";
const POST_TYPES: readonly PostType[] = [
  "job",
  "inputs",
  "close",
  "mix",
  "failure",
  "election",
  "ceremony",
  "settlement",
  "archive",
];

/** Largest post body in bytes (64 MiB). */
export const MAX_POST_BODY = 64 * 1024 * 1024;

/** A signed post. */
export interface Post {
  /** Job id (1–64 characters: letters, digits, '-', '_', '.'). */
  job: string;
  /** What the body is. */
  type: PostType;
  /** Author's identity key. */
  author: Uint8Array;
  /** Author's clock, milliseconds since the epoch. */
  time: number;
  /** msgpack encoding of the typed body envelope. */
  body: Uint8Array;
  /** Ed25519 signature. */
  signature: Uint8Array;
}

/** One mixing stage of a job: who mixes and the key the backend verifies with. */
export interface JobStage {
  /** The mixer's identity key. */
  mixer: Uint8Array;
  /** Key envelope for this stage (the backend documents which key it is). */
  key: Envelope;
}

/** A mixing job: the backend and the cascade of mixers. */
export interface JobSpec {
  /** Backend name (`panoramix backends`). */
  backend: string;
  /** Mixers in order. */
  stages: JobStage[];
  /** Inputs needed before the job may close (never below the backend minimum). */
  minInputs: number;
  /** Identity keys allowed to submit inputs; empty = any authenticated key. */
  submitters: Uint8Array[];
  /** Bytes every mix proof of the job binds to (e.g. an election fingerprint; default none). */
  context?: Uint8Array;
  /** Width every re-encryption input must have (default: the width of the first input). */
  width?: number;
}

const JOB_ID = /^[A-Za-z0-9._-]{1,64}$/;

function postParts(p: Omit<Post, "signature">): Uint8Array[] {
  return [textPart(p.job), textPart(p.type), p.author, numberPart(p.time), p.body];
}

/**
 * Digest that identifies a post (what its author signed).
 *
 * @param post the post
 * @returns 64 bytes
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, postDigest } from "./posts.ts";
 * const post = createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
 * console.assert(postDigest(post).length === 64);
 * ```
 */
export function postDigest(post: Omit<Post, "signature">): Uint8Array {
  return labelledDigest(SIGNING_LABELS.post, postParts(post));
}

/**
 * Creates and signs a post.
 *
 * @param author the signer
 * @param content job id, type, body envelope and an optional time
 * @returns the signed post
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, verifyPost } from "./posts.ts";
 * const post = createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
 * verifyPost(post);
 * ```
 */
export function createPost(
  author: Identity,
  content: { job: string; type: PostType; body: Envelope; time?: number },
): Post {
  return createPostFromBody(author, { ...content, body: encodeMsgpack(content.body) });
}

/**
 * Creates and signs a post whose body is already encoded (e.g. written from record lists
 * by `msgpackChunks`, without building the body envelope's objects).
 *
 * @param author the signer
 * @param content job id, type, the body's msgpack bytes and an optional time
 * @returns the signed post
 * @example
 * ```ts
 * import { encodeMsgpack } from "../../core/envelope.ts";
 * import { generateIdentity } from "./identity.ts";
 * import { createPostFromBody, verifyPost } from "./posts.ts";
 * const body = encodeMsgpack({ v: 1, kind: "node.close" });
 * verifyPost(createPostFromBody(generateIdentity(), { job: "j", type: "close", body }));
 * ```
 */
export function createPostFromBody(
  author: Identity,
  content: { job: string; type: PostType; body: Uint8Array; time?: number },
): Post {
  const unsigned = {
    job: content.job,
    type: content.type,
    author: author.publicKey,
    time: Math.floor(content.time ?? Date.now()),
    body: content.body,
  };
  return {
    ...unsigned,
    signature: signParts(author, { label: SIGNING_LABELS.post, parts: postParts(unsigned) }),
  };
}

/**
 * Checks a post's signature.
 *
 * @param post the post
 * @throws {VerificationError} when the signature does not verify
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, verifyPost } from "./posts.ts";
 * verifyPost(createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } }));
 * ```
 */
export function verifyPost(post: Post): void {
  verifyParts(post.author, {
    label: SIGNING_LABELS.post,
    parts: postParts(post),
    signature: post.signature,
    what: `post '${post.type}' of job '${post.job}'`,
  });
}

/**
 * {@linkcode postDigest}, hashed off the event loop when the body is big (issue 11 §10).
 *
 * @param post the post
 * @returns 64 bytes, equal to `postDigest(post)`
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, postDigestAsync } from "./posts.ts";
 * const post = createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
 * console.assert((await postDigestAsync(post)).length === 64);
 * ```
 */
export async function postDigestAsync(post: Omit<Post, "signature">): Promise<Uint8Array> {
  return await labelledDigestAsync(SIGNING_LABELS.post, postParts(post));
}

/**
 * {@linkcode verifyPost} given the post's digest (from {@linkcode postDigestAsync}).
 *
 * @param post the post
 * @param digest `postDigest(post)`
 * @throws {VerificationError} when the signature does not verify
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, postDigest, verifyPostDigest } from "./posts.ts";
 * const post = createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
 * verifyPostDigest(post, postDigest(post));
 * ```
 */
export function verifyPostDigest(post: Post, digest: Uint8Array): void {
  verifyDigest(post.author, {
    digest,
    signature: post.signature,
    what: `post '${post.type}' of job '${post.job}'`,
  });
}

/**
 * Encodes a post as its envelope.
 *
 * @param post the post
 * @returns the envelope
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, postToEnvelope } from "./posts.ts";
 * const env = postToEnvelope(createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } }));
 * console.assert(env.kind === "node.post");
 * ```
 */
export function postToEnvelope(post: Post): Envelope {
  return { v: 1, kind: "node.post", ...post };
}

/**
 * Decodes and validates a post envelope (msgpack or JSON view); does not check the signature.
 *
 * @param value decoded value
 * @param what names the value in errors
 * @returns the post
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, postToEnvelope, readPost } from "./posts.ts";
 * const post = createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
 * console.assert(readPost(postToEnvelope(post), "post").job === "j");
 * ```
 */
export function readPost(value: unknown, what: string): Post {
  const env = readEnvelope(value, "node.post", { what });
  const job = readString(env.job, `${what}.job`);
  if (!JOB_ID.test(job)) {
    throw new InvalidInputError(
      `Value '${what}.job' must be 1-64 letters, digits, '.', '_' or '-', got '${
        job.slice(0, 80)
      }'`,
    );
  }
  const type = readString(env.type, `${what}.type`);
  if (!POST_TYPES.includes(type as PostType)) {
    throw new InvalidInputError(
      `Value '${what}.type' must be one of ${POST_TYPES.join(", ")}, got '${type.slice(0, 40)}'`,
    );
  }
  return {
    job,
    type: type as PostType,
    author: readBytes(env.author, `${what}.author`, { length: NODE_ID_SIZE }),
    time: readInteger(env.time, `${what}.time`),
    body: readBytes(env.body, `${what}.body`, { maxLength: MAX_POST_BODY }),
    signature: readBytes(env.signature, `${what}.signature`, { length: SIGNATURE_SIZE }),
  };
}

/**
 * Decodes the body of a post as an envelope of the expected kind.
 *
 * @param post the post
 * @param kind expected body kind
 * @returns the body envelope
 * @throws {InvalidInputError} when the body is not that envelope
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { createPost, readPostBody } from "./posts.ts";
 * const post = createPost(generateIdentity(), { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
 * console.assert(readPostBody(post, "node.close").kind === "node.close");
 * ```
 */
export function readPostBody(post: Post, kind: string): Envelope {
  return readEnvelope(decodeMsgpack(post.body, "post.body"), kind, { what: "post.body" });
}

/**
 * Builds the body of a "job" post.
 *
 * @param spec the job
 * @returns the body envelope
 * @example
 * ```ts
 * import { jobBody, readJobSpec } from "./posts.ts";
 * const body = jobBody({ backend: "plain", stages: [], minInputs: 2, submitters: [] });
 * console.assert(body.kind === "node.job");
 * ```
 */
export function jobBody(spec: JobSpec): Envelope {
  return {
    v: 1,
    kind: "node.job",
    backend: spec.backend,
    stages: spec.stages.map((s) => ({ mixer: s.mixer, key: s.key })),
    minInputs: spec.minInputs,
    submitters: spec.submitters,
    ...(spec.context === undefined ? {} : { context: spec.context }),
    ...(spec.width === undefined ? {} : { width: spec.width }),
  };
}

/**
 * Reads a job spec from a "job" body.
 *
 * @param value decoded body
 * @param what names it in errors
 * @returns the spec
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { jobBody, readJobSpec } from "./posts.ts";
 * const spec = readJobSpec(jobBody({ backend: "plain", stages: [], minInputs: 2, submitters: [] }), "job");
 * console.assert(spec.backend === "plain");
 * ```
 */
export function readJobSpec(value: unknown, what: string): JobSpec {
  const env = readEnvelope(value, "node.job", { what });
  const stages = readArray(env.stages, `${what}.stages`, { minLength: 0, maxLength: 64 }).map(
    (s, i) => {
      const r = readRecord(s, `${what}.stages[${i}]`);
      const key = readRecord(r.key, `${what}.stages[${i}].key`);
      readEnvelope(key, readString(key.kind, `${what}.stages[${i}].key.kind`), {
        what: `${what}.stages[${i}].key`,
      });
      return {
        mixer: readBytes(r.mixer, `${what}.stages[${i}].mixer`, { length: NODE_ID_SIZE }),
        key: key as Envelope,
      };
    },
  );
  return {
    backend: readString(env.backend, `${what}.backend`),
    stages,
    minInputs: readInteger(env.minInputs, `${what}.minInputs`, { min: 1 }),
    submitters: readArray(env.submitters, `${what}.submitters`, { maxLength: 100_000 }).map(
      (k, i) => readBytes(k, `${what}.submitters[${i}]`, { length: NODE_ID_SIZE }),
    ),
    ...(env.context === undefined
      ? {}
      : { context: readBytes(env.context, `${what}.context`, { maxLength: MAX_JOB_CONTEXT }) }),
    ...(env.width === undefined
      ? {}
      : { width: readInteger(env.width, `${what}.width`, { min: 1, max: 64 }) }),
  };
}

/** Longest job context (an election fingerprint is 32 bytes). */
const MAX_JOB_CONTEXT = 256;
