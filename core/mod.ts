/**
 * The generic core: Mixer API, errors, envelopes, transcripts, permutations, batching.
 *
 * @module
 */

export * from "./errors.ts";
export * from "./bytes.ts";
export * from "./fields.ts";
export * from "./envelope.ts";
export * from "./transcript.ts";
export * from "./permutation.ts";
export * from "./random.ts";
export * from "./mixer.ts";
export * from "./batcher.ts";
export * from "./plain_backend.ts";
export * from "./item_stream.ts";
export * from "./worker_pool.ts";
export * from "./records.ts";
