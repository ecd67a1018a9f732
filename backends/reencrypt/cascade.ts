/**
 * Mix cascades: k mixers shuffle in turn, each output verified before the next mixer
 * starts, and a transcript holding everything a stand-alone verifier needs (public key,
 * inputs, every mixer's outputs and proof; no secrets). Format: docs/reencrypt.md.
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readRecord } from "../../core/fields.ts";
import type { ProgressReporter } from "../../core/mixer.ts";
import type { RandomSource } from "../../core/random.ts";
import {
  decodeCiphertext,
  decodeShuffleProof,
  encodeCiphertext,
  encodeShuffleProof,
  MAX_SHUFFLE_BATCH,
  REENCRYPT_KINDS,
} from "./codec.ts";
import type { Ciphertext } from "./elgamal.ts";
import { decodePoint, type Point } from "./group.ts";
import {
  shuffleAndProve,
  type ShuffleProof,
  type ShuffleStatement,
  verifyShuffle,
  verifyShuffleChain,
} from "./shuffle_proof.ts";

/** One mixer's contribution. */
export interface CascadeStep {
  /** Its outputs (the next mixer's inputs). */
  outputs: Ciphertext[];
  /** Its shuffle proof. */
  proof: ShuffleProof;
}

/** Everything needed to verify a cascade without secrets. */
export interface CascadeTranscript {
  /** The public key all ciphertexts are encrypted under. */
  publicKey: Point;
  /** The cascade's inputs. */
  inputs: Ciphertext[];
  /** One step per mixer, in order. */
  steps: CascadeStep[];
  /** The bytes every step's proof is bound to (default empty). */
  context?: Uint8Array;
}

/** Options for {@linkcode runCascade}. */
export interface CascadeOptions {
  /** Number of mixers k ≥ 1. */
  mixers: number;
  /** Bytes every proof binds to (e.g. a job or election id; default empty). */
  context?: Uint8Array;
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** Workers per proof and verification. */
  workers?: number;
  /** Progress: phase "mixer i/k" with done/total in mixers. */
  onProgress?: ProgressReporter;
}

/**
 * Runs k mixers in turn; each mix is verified before the next starts.
 *
 * @param publicKey the public key
 * @param options inputs, mixers and settings
 * @returns the transcript
 * @throws {VerificationError} naming the mixer whose proof fails
 * @example
 * ```ts
 * import { runCascade, verifyCascade } from "./cascade.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2, 3].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const transcript = await runCascade(publicKey, { inputs, mixers: 2, workers: 1 });
 * await verifyCascade(transcript, { workers: 1 });
 * ```
 */
export async function runCascade(
  publicKey: Point,
  options: CascadeOptions & { inputs: readonly Ciphertext[] },
): Promise<CascadeTranscript> {
  const { mixers } = options;
  if (!Number.isInteger(mixers) || mixers < 1) {
    throw new InvalidInputError(`Mixer count '${mixers}' must be a positive integer`);
  }
  const context = options.context === undefined ? {} : { context: options.context };
  const common = {
    ...context,
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  };
  const steps: CascadeStep[] = [];
  let current: readonly Ciphertext[] = options.inputs;
  for (let m = 0; m < mixers; m++) {
    const { outputs, proof } = await shuffleAndProve(publicKey, current, common);
    await verifyStep(
      m,
      { publicKey, inputs: current, outputs, ...context },
      proof,
      options.workers,
    );
    steps.push({ outputs, proof });
    current = outputs;
    options.onProgress?.({ phase: `mixer ${m + 1}/${mixers}`, done: m + 1, total: mixers });
  }
  return { publicKey, inputs: [...options.inputs], steps, ...context };
}

async function verifyStep(
  index: number,
  statement: ShuffleStatement,
  proof: ShuffleProof,
  workers: number | undefined,
): Promise<void> {
  try {
    await verifyShuffle(statement, proof, workers === undefined ? {} : { workers });
  } catch (error) {
    if (error instanceof VerificationError) {
      throw new VerificationError(`Cascade step ${index + 1} failed: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Verifies every step of a cascade transcript.
 *
 * @param transcript the transcript
 * @param options workers and progress
 * @throws {VerificationError} "Cascade step i failed: …" for the first failing step
 * @example
 * ```ts
 * import { runCascade, verifyCascade } from "./cascade.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * await verifyCascade(await runCascade(publicKey, { inputs, mixers: 1, workers: 1 }), { workers: 1 });
 * ```
 */
export async function verifyCascade(
  transcript: CascadeTranscript,
  options: { workers?: number; onProgress?: ProgressReporter } = {},
): Promise<void> {
  let current: readonly Ciphertext[] = transcript.inputs;
  const k = transcript.steps.length;
  if (k === 0) throw new VerificationError("Cascade transcript has no steps");
  // All steps at once (one joint equation); step by step only to name a failure.
  const context = transcript.context === undefined ? {} : { context: transcript.context };
  const chained = await verifyShuffleChain(
    { publicKey: transcript.publicKey, inputs: current, steps: transcript.steps, ...context },
    options.workers === undefined ? {} : { workers: options.workers },
  );
  if (chained) {
    options.onProgress?.({ phase: "verify cascade", done: k, total: k });
    return;
  }
  for (let m = 0; m < k; m++) {
    const step = transcript.steps[m]!;
    await verifyStep(
      m,
      {
        publicKey: transcript.publicKey,
        inputs: current,
        outputs: step.outputs,
        ...(transcript.context === undefined ? {} : { context: transcript.context }),
      },
      step.proof,
      options.workers,
    );
    current = step.outputs;
    options.onProgress?.({ phase: "verify cascade", done: m + 1, total: k });
  }
}

/**
 * Cascade transcript envelope:
 * `{ v: 1, kind: "reencrypt.cascade-transcript", publicKey, inputs: [ciphertext…], steps: [{ outputs: [ciphertext…], proof }] }`.
 *
 * @param transcript the transcript
 * @returns the envelope
 * @example
 * ```ts
 * import { decodeCascadeTranscript, encodeCascadeTranscript, runCascade } from "./cascade.ts";
 * import { encrypt, generateKeyPair } from "./elgamal.ts";
 * import { encodeInteger } from "./encoding.ts";
 * const { publicKey } = generateKeyPair();
 * const inputs = [1, 2].map((v) => encrypt(publicKey, [encodeInteger(v)]));
 * const t = await runCascade(publicKey, { inputs, mixers: 1, workers: 1 });
 * console.assert(decodeCascadeTranscript(encodeCascadeTranscript(t)).steps.length === 1);
 * ```
 */
export function encodeCascadeTranscript(transcript: CascadeTranscript): Envelope {
  return {
    v: 1,
    kind: REENCRYPT_KINDS.cascadeTranscript,
    publicKey: transcript.publicKey.toBytes(),
    ...(transcript.context === undefined ? {} : { context: transcript.context }),
    inputs: transcript.inputs.map(encodeCiphertext),
    steps: transcript.steps.map((s) => ({
      outputs: s.outputs.map(encodeCiphertext),
      proof: encodeShuffleProof(s.proof),
    })),
  };
}

/**
 * Decodes a cascade transcript envelope (structure and element encodings).
 *
 * @param value decoded msgpack or JSON view
 * @param what names the value in errors
 * @returns the transcript
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { decodeCascadeTranscript } from "./cascade.ts";
 * try { decodeCascadeTranscript({ v: 1, kind: "x" }); } catch (e) { console.assert(e instanceof Error); }
 * ```
 */
export function decodeCascadeTranscript(value: unknown, what = "transcript"): CascadeTranscript {
  const env = readEnvelope(value, REENCRYPT_KINDS.cascadeTranscript, { what });
  const publicKey = decodePoint(
    readBytes(env.publicKey, `${what}.publicKey`, { length: 32 }),
    `${what}.publicKey`,
  );
  const inputs = readArray(env.inputs, `${what}.inputs`, {
    minLength: 1,
    maxLength: MAX_SHUFFLE_BATCH,
  })
    .map((c, i) => decodeCiphertext(c, `${what}.inputs[${i}]`));
  const steps = readArray(env.steps, `${what}.steps`, { minLength: 1, maxLength: 1024 }).map(
    (s, m) => {
      const rec = readRecord(s, `${what}.steps[${m}]`);
      return {
        outputs: readArray(rec.outputs, `${what}.steps[${m}].outputs`, {
          maxLength: MAX_SHUFFLE_BATCH,
        })
          .map((c, i) => decodeCiphertext(c, `${what}.steps[${m}].outputs[${i}]`)),
        proof: decodeShuffleProof(rec.proof, `${what}.steps[${m}].proof`),
      };
    },
  );
  const context = env.context === undefined
    ? {}
    : { context: readBytes(env.context, `${what}.context`, { maxLength: MAX_CONTEXT_BYTES }) };
  return { publicKey, inputs, steps, ...context };
}

/** Longest context a cascade transcript may carry. */
const MAX_CONTEXT_BYTES = 1024;
