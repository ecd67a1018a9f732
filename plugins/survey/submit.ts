/**
 * Mix-net glue: survey reports travel as opaque bytes through any backend of the
 * generic Mixer API. The caller supplies a transport that wraps report bytes into
 * the backend's input items (e.g. encrypts them) and unwraps output items back to
 * bytes (e.g. after decryption). Batches below the minimum size the accountant
 * derives from the target central ε are refused.
 *
 * @module
 */

import { assertBatchSize, Batcher } from "../../core/batcher.ts";
import type { Envelope } from "../../core/envelope.ts";
import type { MixBackend, ProgressReporter } from "../../core/mixer.ts";
import type { PlainItem } from "../../core/plain_backend.ts";
import type { RandomSource } from "../../core/random.ts";
import { encodeSurveyReport, type SurveyReport } from "./report.ts";

/** Converts report bytes to a backend's items and back. */
export interface SurveyMixTransport<In, Out> {
  /**
   * Wraps one report's bytes into an input item of the backend.
   *
   * @param bytes the encoded report
   * @returns the input item
   */
  wrap(bytes: Uint8Array): In | Promise<In>;
  /**
   * Recovers report bytes from an output item.
   *
   * @param item an output item
   * @returns the encoded report
   */
  unwrap(item: Out): Uint8Array | Promise<Uint8Array>;
}

/**
 * The transport for the plain (reference) backend: items are `{ data }`.
 *
 * @example
 * ```ts
 * import { plainSurveyTransport } from "./submit.ts";
 * const item = plainSurveyTransport.wrap(new Uint8Array([1]));
 * console.assert(plainSurveyTransport.unwrap(item)[0] === 1);
 * ```
 */
export const plainSurveyTransport: {
  wrap(bytes: Uint8Array): PlainItem;
  unwrap(item: PlainItem): Uint8Array;
} = {
  wrap: (bytes) => ({ data: bytes }),
  unwrap: (item) => item.data,
};

/** Options of {@linkcode mixSurveyReports}. */
export interface SurveyMixOptions<In, Out> {
  /** Any backend of the generic Mixer API. */
  backend: MixBackend<In, Out>;
  /** The key the backend documents for mixing. */
  key: Envelope;
  /** Wraps bytes into input items and unwraps output items. */
  transport: SurveyMixTransport<In, Out>;
  /** Smallest batch allowed (from `surveyMinBatchSize` or `shuffleMinBatchSize`). */
  minBatchSize: number;
  /** When set, the mix is verified with this key before the outputs are returned. */
  verifyKey?: Envelope;
  /** Randomness for the mix (default the system CSPRNG). */
  random?: RandomSource;
  /** Progress callback passed to the backend. */
  onProgress?: ProgressReporter;
}

/** What {@linkcode mixSurveyReports} returns. */
export interface SurveyMixResult<In, Out> {
  /** The shuffled report payloads, ready for `SurveyAggregator.ingestBatch`. */
  payloads: Uint8Array[];
  /** The backend's input items (for publication and verification). */
  inputs: In[];
  /** The backend's output items. */
  outputs: Out[];
  /** The backend's proof envelope. */
  proof: Envelope;
}

/**
 * Encodes reports, mixes them as one batch through the backend and returns the
 * shuffled payloads.
 *
 * @param reports the batch (reports or already-encoded report bytes)
 * @param options backend, key, transport and minimum batch size
 * @returns shuffled payloads, items and proof
 * @throws {BatchTooSmallError} below max(minBatchSize, backend.minBatchSize)
 * @throws {VerificationError} when `verifyKey` is set and the mix does not verify
 * @example
 * ```ts
 * import { plainBackend } from "../../core/plain_backend.ts";
 * import { mixSurveyReports, plainSurveyTransport } from "./submit.ts";
 * const { publicKey } = await plainBackend.generateKeys();
 * const reports = Array.from({ length: 4 }, (_, i) => ({ survey: "s", question: "q", mechanism: "krr" as const, value: i % 2 }));
 * const { payloads } = await mixSurveyReports(reports, {
 *   backend: plainBackend, key: publicKey, transport: plainSurveyTransport, minBatchSize: 4, verifyKey: publicKey,
 * });
 * console.assert(payloads.length === 4);
 * ```
 */
export async function mixSurveyReports<In, Out>(
  reports: readonly (SurveyReport | Uint8Array)[],
  options: SurveyMixOptions<In, Out>,
): Promise<SurveyMixResult<In, Out>> {
  const { backend, transport } = options;
  assertBatchSize(reports.length, Math.max(options.minBatchSize, backend.minBatchSize));
  const inputs: In[] = [];
  for (const r of reports) {
    inputs.push(await transport.wrap(r instanceof Uint8Array ? r : encodeSurveyReport(r)));
  }
  const { outputs, proof } = await backend.mix(inputs, {
    key: options.key,
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  if (options.verifyKey !== undefined) {
    await backend.verify(inputs, outputs, proof, { key: options.verifyKey });
  }
  const payloads: Uint8Array[] = [];
  for (const item of outputs) payloads.push(await transport.unwrap(item));
  return { payloads, inputs, outputs, proof };
}

/** Options of {@linkcode createSurveyBatcher}. */
export interface SurveyBatcherOptions {
  /** Never release fewer reports than this (the accountant's minimum batch size). */
  minBatchSize: number;
  /** Release as soon as a batch holds this many (default 4 × minBatchSize). */
  maxBatchSize?: number;
  /** Release a batch that meets the minimum this long after its first report (default 60 s). */
  maxWaitMs?: number;
  /** Receives each batch of encoded reports (e.g. calls {@linkcode mixSurveyReports}). */
  onBatch: (batch: Uint8Array[]) => void | Promise<void>;
}

/**
 * A core {@linkcode Batcher} of encoded reports whose minimum is the accountant's batch size.
 *
 * @param options sizes, wait and the batch consumer
 * @returns the batcher
 * @example
 * ```ts
 * import { createSurveyBatcher } from "./submit.ts";
 * const batches: number[] = [];
 * const batcher = createSurveyBatcher({ minBatchSize: 2, onBatch: (b) => { batches.push(b.length); } });
 * await batcher.add(new Uint8Array([1]));
 * await batcher.add(new Uint8Array([2]));
 * const left = await batcher.close();
 * console.assert(batches[0] === 2 && left.length === 0);
 * ```
 */
export function createSurveyBatcher(options: SurveyBatcherOptions): Batcher<Uint8Array> {
  return new Batcher<Uint8Array>({
    minSize: options.minBatchSize,
    maxSize: options.maxBatchSize ?? 4 * options.minBatchSize,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    onBatch: options.onBatch,
  });
}
