/**
 * The generic Mixer API. A backend declares its input and output item codecs and
 * implements key generation, `mix` and `verify`. Everything above the backends
 * (command line, node daemon, plugins) talks to mixers only through this interface.
 *
 * @module
 */

import type { Envelope } from "./envelope.ts";
import type { RandomSource } from "./random.ts";

/**
 * Converts items between their typed form and their envelope form.
 * `decode` accepts the msgpack form and the JSON view (base64url bytes).
 */
export interface ItemCodec<T> {
  /** The envelope kind of encoded items, e.g. `"reencrypt.ciphertext"`. */
  readonly kind: string;
  /**
   * Encodes one item as an envelope.
   *
   * @param item the typed item
   * @returns its envelope
   */
  encode(item: T): Envelope;
  /**
   * Decodes and validates one item.
   *
   * @param value decoded msgpack or JSON value
   * @param what names the item in errors, e.g. "input item 7"
   * @returns the typed item
   * @throws {InvalidInputError} naming what is wrong
   */
  decode(value: unknown, what: string): T;
}

/** Progress of a long operation, reported to a UI (the CLI prints it on stderr). */
export interface ProgressEvent {
  /** What is being done, e.g. "prove", "verify". */
  phase: string;
  /** Units done so far. */
  done: number;
  /** Units in all. */
  total: number;
}

/** Receives progress events. */
export type ProgressReporter = (event: ProgressEvent) => void;

/** Public and secret key material of a mixer or of an election, as envelopes. */
export interface MixKeyPair {
  /** Shareable part. */
  publicKey: Envelope;
  /** Secret part; never published. */
  secretKey: Envelope;
}

/** Options for {@linkcode MixBackend.mix}. */
export interface MixOptions {
  /** Key the backend documents for mixing (public key for re-encryption, secret key for decryption). */
  key: Envelope;
  /**
   * Bytes the mix's proof binds to (e.g. an election fingerprint; default empty); verify with
   * the same bytes. Backends without a public proof ignore it.
   */
  context?: Uint8Array;
  /** Progress callback. */
  onProgress?: ProgressReporter;
  /** Randomness (default the system CSPRNG); inject only for reproducible vectors. */
  random?: RandomSource;
}

/** Options for {@linkcode MixBackend.verify}. */
export interface VerifyOptions {
  /** Key the backend documents for verification. */
  key: Envelope;
  /** The bytes the proof was bound to ({@linkcode MixOptions.context}; default empty). */
  context?: Uint8Array;
  /** Progress callback. */
  onProgress?: ProgressReporter;
}

/** Options for {@linkcode MixBackend.sampleInputs}. */
export interface SampleOptions {
  /** Key the backend documents for producing inputs (e.g. the public key to encrypt to). */
  key: Envelope;
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
}

/** Options for {@linkcode MixBackend.generateKeys}. */
export interface KeyGenOptions {
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
  /** Backend-specific settings (e.g. number of mixers in a decryption cascade). */
  settings?: Record<string, unknown>;
}

/** What a successful {@linkcode MixBackend.verify} established, in words for people. */
export interface VerifyReport {
  /**
   * The property that was checked, e.g. "outputs are a re-encryption of a permutation of
   * the inputs (Terelius–Wikström proof)". Honest about limits: a backend whose proof
   * covers less says so here.
   */
  checked: string;
  /**
   * Set when the check cannot establish that the outputs are the inputs' (a mixer could
   * substitute them undetected, e.g. a decryption mix checked with the public key only):
   * a sentence saying why. Callers must show it (issue 11 §15).
   */
  unverifiable?: string;
}

/** What one mixer produced: the shuffled outputs and a proof envelope. */
export interface MixResult<Out> {
  /** Outputs in their new order. */
  outputs: Out[];
  /** Proof (or record) that lets {@linkcode MixBackend.verify} check the mix. */
  proof: Envelope;
}

/**
 * A mixing backend.
 *
 * @example
 * ```ts
 * import { plainBackend } from "./plain_backend.ts";
 * const keys = await plainBackend.generateKeys();
 * const inputs = await plainBackend.sampleInputs(4, { key: keys.publicKey });
 * const { outputs, proof } = await plainBackend.mix(inputs, { key: keys.publicKey });
 * await plainBackend.verify(inputs, outputs, proof, { key: keys.publicKey });
 * ```
 */
export interface MixBackend<In, Out> {
  /** Name used on the command line (`--backend NAME`). */
  readonly name: string;
  /** One-line description for `--help` and `panoramix backends`. */
  readonly summary: string;
  /** Smallest batch the backend accepts (a batch of 1 gives no anonymity). */
  readonly minBatchSize: number;
  /** Codec of input items. */
  readonly input: ItemCodec<In>;
  /** Codec of output items. */
  readonly output: ItemCodec<Out>;
  /**
   * Creates key material.
   *
   * @param options randomness and backend settings
   * @returns the public and secret envelopes
   */
  generateKeys(options?: KeyGenOptions): Promise<MixKeyPair>;
  /**
   * Produces `count` valid random inputs (for demos, tests and benchmarks).
   *
   * @param count number of inputs
   * @param options key and randomness
   * @returns the inputs
   */
  sampleInputs(count: number, options: SampleOptions): Promise<In[]>;
  /**
   * Mixes one batch.
   *
   * @param inputs the batch, at least `minBatchSize` items
   * @param options key, progress and randomness
   * @returns shuffled outputs and the proof
   * @throws {BatchTooSmallError} below the minimum batch size
   */
  mix(inputs: readonly In[], options: MixOptions): Promise<MixResult<Out>>;
  /**
   * Checks a mix; resolves when it is valid.
   *
   * @param inputs the batch the mixer received
   * @param outputs what it published
   * @param proof its proof envelope
   * @param options key and progress
   * @returns what the check established
   * @throws {VerificationError} naming the failed check
   */
  verify(
    inputs: readonly In[],
    outputs: readonly Out[],
    proof: Envelope,
    options: VerifyOptions,
  ): Promise<VerifyReport>;
}

/** A backend of any item types, as held by registries. */
// deno-lint-ignore no-explicit-any
export type AnyMixBackend = MixBackend<any, any>;
