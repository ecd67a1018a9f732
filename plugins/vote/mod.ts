/**
 * The e-voting plugin: a complete verifiable election over the re-encryption
 * backend — definition and fingerprint, trustee key ceremony (Pedersen DKG), ballot
 * casting with proofs bound to the election and voter (browser-safe), a ballot box
 * with typed rejections and receipts, mixing through k mixers, threshold decryption
 * with proofs, tally, and a universal verifier of the published transcript.
 * Format and rules: docs/vote.md.
 *
 * @example
 * ```ts ignore
 * import { createElectionDefinition, runLocalElection, verifyElection } from "./mod.ts";
 * ```
 *
 * @module
 */

export * from "./definition.ts";
export * from "./answers.ts";
export * from "./ballot.ts";
export * from "./ballot_box.ts";
export * from "./ballot_store.ts";
export * from "./ceremony.ts";
export * from "./tally.ts";
export * from "./slot_tally.ts";
export * from "./election_transcript.ts";
export * from "./election.ts";
export * from "./verify.ts";
export * from "./receipt.ts";
export * from "./simulate.ts";
export * from "./simulate_tasks.ts";
export * from "./signing.ts";
export * from "./tasks.ts";

// Names of the core and the re-encryption backend this entry's API refers to, so
// `@panoramix/panoramix/vote` is complete alone.
export type { Envelope } from "../../core/envelope.ts";
export type { ProgressEvent, ProgressReporter } from "../../core/mixer.ts";
export type { RandomSource } from "../../core/random.ts";
export type {
  ItemChunks,
  RecordSink,
  RecordSinkFactory,
  RecordSource,
} from "../../core/records.ts";
export {
  Ciphertext,
  type EncryptionProof,
  type Point,
  type SecretShare,
  type ShuffleProof,
} from "../../backends/reencrypt/mod.ts";
export * from "./transcript_stream.ts";
export * from "./box_stream.ts";
export * from "./election_records.ts";
export type { MsgpackStreamReader } from "../../core/msgpack_stream.ts";
export {
  SHUFFLE_PROOF_LISTS,
  type ShuffleProofList,
  type ShuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
