/**
 * Fiat–Shamir transcripts over a canonical length-prefixed encoding.
 *
 * Framing (documented in docs/transcript.md): the transcript starts with the
 * domain label "panoramix/transcript/v1" and the protocol label; each message is
 * `u32be(len(label)) || label || u64be(len(data)) || data`, hashed with SHA-512.
 * A challenge hashes everything so far plus its own label, then is appended so
 * later challenges depend on it (strong Fiat–Shamir: callers must append the
 * whole statement before asking for a challenge).
 *
 * @module
 */

import { createSha512, expandSha512, type Sha512Hash } from "./sha512_wasm.ts";

const DOMAIN = "panoramix/transcript/v1";
const encoder = new TextEncoder();

// SHA-512 with its compression in WebAssembly where available (./sha512_wasm.ts, same bytes).
type Sha512State = Sha512Hash;

const SCRATCH = new Uint8Array(1024);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
const headers = new Map<string, Uint8Array>();

/** `u32be(len(label)) || label`, cached per label (a few dozen distinct labels exist). */
function labelHeader(label: string): Uint8Array {
  let head = headers.get(label);
  if (head === undefined) {
    const bytes = encoder.encode(label);
    head = new Uint8Array(4 + bytes.length);
    new DataView(head.buffer).setUint32(0, bytes.length);
    head.set(bytes, 4);
    if (headers.size < 4096) headers.set(label, head);
  }
  return head;
}

/** The header of challenge label `label` (labelHeader of "challenge:" ‖ label), cached. */
function challengeHeader(label: string): Uint8Array {
  let head = challengeHeaders.get(label);
  if (head === undefined) {
    head = labelHeader(`challenge:${label}`);
    if (challengeHeaders.size < 4096) challengeHeaders.set(label, head);
  }
  return head;
}
const challengeHeaders = new Map<string, Uint8Array>();

function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** The state of a transcript after {@linkcode Transcript.finalChallengeSeed}. */
const SPENT: Sha512State = {
  update(): never {
    throw new RangeError("Transcript was spent by its final challenge");
  },
  clone(): never {
    throw new RangeError("Transcript was spent by its final challenge");
  },
  digest(): never {
    throw new RangeError("Transcript was spent by its final challenge");
  },
};

/** The state the next constructor call takes over (set only by `clone`). */
let forkedState: Sha512State | undefined;

/**
 * An append-only Fiat–Shamir transcript.
 *
 * @example
 * ```ts
 * import { Transcript } from "./transcript.ts";
 * const t = new Transcript("example/v1");
 * t.append("statement", new Uint8Array([1, 2, 3]));
 * const challenge = t.challenge("c", 64);
 * console.assert(challenge.length === 64);
 * ```
 */
export class Transcript {
  #state: Sha512State;
  /** The state a final challenge spent, kept for {@linkcode clone}'s `into` to reuse. */
  #spare: Sha512State | undefined;

  /**
   * Starts a transcript for one protocol run.
   *
   * @param protocol protocol label with its version, e.g. "panoramix/reencrypt/shuffle/v1"
   */
  constructor(protocol: string) {
    if (forkedState !== undefined) {
      // clone(): the copied state, nothing framed again.
      this.#state = forkedState;
      forkedState = undefined;
      return;
    }
    this.#state = createSha512();
    this.#frame("domain", encoder.encode(DOMAIN));
    this.#frame("protocol", encoder.encode(protocol));
  }

  #frame(label: string, data: Uint8Array): void {
    // One hash update per frame for short data: header, label, length and data in a scratch
    // buffer (SHA-512 copies what it is given, so the buffer is reused).
    const head = labelHeader(label);
    const size = head.length + 8 + data.length;
    if (size <= SCRATCH.length) {
      SCRATCH.set(head);
      // u64be(length) as two words: no bigint per frame (lengths are below 2^53).
      SCRATCH_VIEW.setUint32(head.length, Math.floor(data.length / 0x100000000));
      SCRATCH_VIEW.setUint32(head.length + 4, data.length >>> 0);
      SCRATCH.set(data, head.length + 8);
      // Without a view of the scratch where the hash takes a range (no object per frame).
      if (this.#state.updateRange !== undefined) this.#state.updateRange(SCRATCH, 0, size);
      else this.#state.update(SCRATCH.subarray(0, size));
      return;
    }
    this.#state.update(head);
    this.#state.update(u64be(data.length));
    this.#state.update(data);
  }

  /**
   * An independent copy of this transcript as it is now: statements that share a prefix
   * (the same protocol, group and key for many proofs) hash the prefix once.
   *
   * @param into optionally a transcript spent by {@linkcode finalChallengeSeed} that the
   *   caller is done with: the copy reuses its storage and is that object (else, and when
   *   it is not spent, a new transcript as without it; `into` is then left as it was)
   * @returns the copy; appending to either leaves the other unchanged
   * @example
   * ```ts
   * import { Transcript } from "./transcript.ts";
   * const prefix = new Transcript("example/v1").append("key", new Uint8Array([1]));
   * const a = prefix.clone().append("item", new Uint8Array([2])).challenge("c");
   * const b = new Transcript("example/v1").append("key", new Uint8Array([1]))
   *   .append("item", new Uint8Array([2])).challenge("c");
   * console.assert(a.join() === b.join());
   * const spent = prefix.clone();
   * spent.finalChallengeSeed("e");
   * const c = prefix.clone(spent).append("item", new Uint8Array([2])).challenge("c");
   * console.assert(c.join() === a.join());
   * ```
   */
  clone(into?: Transcript): Transcript {
    // Into a spent transcript's storage: no new hash state per copy (issue 17: a proof per
    // ballot clones the shared prefix, and each new state was an ArrayBuffer for the GC).
    const spare = into === undefined ? undefined : into.#spare;
    if (spare !== undefined && into !== this && this.#state.copyInto?.(spare) === true) {
      into!.#state = spare;
      into!.#spare = undefined;
      return into!;
    }
    forkedState = this.#state.clone();
    return new Transcript("");
  }

  /**
   * Appends one labelled message.
   *
   * @param label what the message is
   * @param data the message bytes
   * @returns this transcript
   */
  append(label: string, data: Uint8Array): this {
    this.#frame(label, data);
    return this;
  }

  /**
   * Appends a labelled list: its count, then each element framed in order.
   *
   * @param label what the list is
   * @param items the elements
   * @returns this transcript
   */
  appendList(label: string, items: readonly Uint8Array[]): this {
    this.#frame(label, u64be(items.length));
    for (const item of items) this.#frame(label, item);
    return this;
  }

  /**
   * Appends a labelled non-negative integer (u64, big-endian).
   *
   * @param label what the number is
   * @param value a safe non-negative integer
   * @returns this transcript
   */
  appendNumber(label: string, value: number): this {
    this.#frame(label, u64be(value));
    return this;
  }

  /**
   * Appends one labelled message given in parts: `length` bytes in all, passed to the
   * returned function in order (the same hash as {@linkcode append} of their concatenation),
   * so a long message is hashed as it becomes available. Nothing else may be appended until
   * the last byte is given.
   *
   * @param label what the message is
   * @param length the message's total length in bytes
   * @returns a function taking the next part; it throws when given more than `length` bytes
   * @example
   * ```ts
   * import { Transcript } from "./transcript.ts";
   * const a = new Transcript("example/v1"), b = new Transcript("example/v1");
   * a.append("m", new Uint8Array([1, 2, 3]));
   * const part = b.appendInParts("m", 3);
   * part(new Uint8Array([1])), part(new Uint8Array([2, 3]));
   * console.assert(a.challenge("c").join() === b.challenge("c").join());
   * ```
   */
  appendInParts(label: string, length: number): (part: Uint8Array) => void {
    this.#state.update(labelHeader(label));
    this.#state.update(u64be(length));
    let left = length;
    return (part) => {
      if (part.length > left) throw new RangeError(`Message '${label}' is longer than announced`);
      left -= part.length;
      this.#state.update(part);
    };
  }

  /**
   * Derives `length` challenge bytes from everything appended so far, then appends them.
   * Output beyond 64 bytes is expanded as SHA-512(seed || u32be(counter)).
   *
   * @param label what the challenge is for
   * @param length number of bytes (default 64)
   * @returns the challenge bytes
   */
  challenge(label: string, length = 64): Uint8Array {
    const fork = this.#state.clone();
    fork.update(challengeHeader(label));
    const seed = fork.digest();
    // Beyond one digest: SHA-512(seed ‖ u32be(counter)) blocks (compressed in WebAssembly).
    const out = length <= 64 ? seed.slice(0, length) : expandSha512(seed, length);
    this.#frame(`challenge:${label}`, out);
    return out;
  }

  /**
   * The first half of {@linkcode challenge}: the 64-byte seed the challenge `label` is
   * expanded from (its bytes are the seed's first `length` when `length` ≤ 64, else blocks
   * SHA-512(seed ‖ u32be(i)), e.g. `expandSha512At` of ./sha512_wasm.ts), so a long
   * challenge can be expanded in parts, e.g. on workers. Follow it with
   * {@linkcode appendChallenge} before anything else is appended.
   *
   * @param label what the challenge is for
   * @returns the 64-byte seed
   * @example
   * ```ts
   * import { Transcript } from "./transcript.ts";
   * import { expandSha512 } from "./sha512_wasm.ts";
   * const a = new Transcript("example/v1"), b = new Transcript("example/v1");
   * const bytes = expandSha512(b.challengeSeed("u"), 192);
   * b.appendChallenge("u", bytes);
   * console.assert(a.challenge("u", 192).join() === bytes.join());
   * ```
   */
  challengeSeed(label: string): Uint8Array {
    const fork = this.#state.clone();
    fork.update(challengeHeader(label));
    return fork.digest();
  }

  /**
   * The last challenge of a transcript: {@linkcode challengeSeed} without copying the hash
   * state first, for transcripts that end with this challenge (a proof's own copy of a
   * shared prefix, one per proof of a batch). The transcript is spent: any later use throws.
   *
   * @param label what the challenge is for
   * @returns the 64-byte seed, the same bytes as `challengeSeed(label)` (and as
   *   `challenge(label, 64)`)
   * @example
   * ```ts
   * import { Transcript } from "./transcript.ts";
   * const a = new Transcript("example/v1"), b = new Transcript("example/v1");
   * console.assert(a.finalChallengeSeed("e").join() === b.challenge("e", 64).join());
   * ```
   */
  finalChallengeSeed(label: string): Uint8Array {
    const state = this.#state;
    this.#state = SPENT;
    this.#spare = state;
    state.update(challengeHeader(label));
    return state.digest();
  }

  /**
   * The second half of {@linkcode challenge}: appends the challenge bytes derived from
   * {@linkcode challengeSeed}, so later challenges depend on them.
   *
   * @param label what the challenge is for (as given to {@linkcode challengeSeed})
   * @param bytes the challenge bytes
   * @returns this transcript
   */
  appendChallenge(label: string, bytes: Uint8Array): this {
    this.#frame(`challenge:${label}`, bytes);
    return this;
  }

  /**
   * {@linkcode appendChallenge} with the bytes given in parts, in order (as
   * {@linkcode appendInParts}), so a long challenge need not be assembled in one buffer.
   *
   * @param label what the challenge is for (as given to {@linkcode challengeSeed})
   * @param length the challenge's length in bytes
   * @returns a function taking the next part
   */
  appendChallengeInParts(label: string, length: number): (part: Uint8Array) => void {
    return this.appendInParts(`challenge:${label}`, length);
  }
}

/**
 * One-shot labelled digest of a list of byte strings with the transcript framing:
 * the protocol label, then each part framed with the label "part".
 *
 * @param protocol domain-separation label with version
 * @param parts the byte strings, in order
 * @returns a 64-byte SHA-512 digest
 * @example
 * ```ts
 * import { labelledDigest } from "./transcript.ts";
 * console.assert(labelledDigest("example/v1", [new Uint8Array([1])]).length === 64);
 * ```
 */
export function labelledDigest(protocol: string, parts: readonly Uint8Array[]): Uint8Array {
  const t = new Transcript(protocol);
  for (const part of parts) t.append("part", part);
  return t.challenge("digest", 64);
}

/**
 * {@linkcode labelledDigest} of many part lists that begin with the same parts: the
 * protocol label and the common first parts are hashed once.
 *
 * @param protocol domain-separation label with version
 * @param first the parts every digest begins with
 * @returns a function giving labelledDigest(protocol, [...first, ...rest]) for its `rest`
 * @example
 * ```ts
 * import { labelledDigest, labelledDigester } from "./transcript.ts";
 * const digest = labelledDigester("example/v1", [new Uint8Array([1])]);
 * const direct = labelledDigest("example/v1", [new Uint8Array([1]), new Uint8Array([2])]);
 * console.assert(digest([new Uint8Array([2])]).join() === direct.join());
 * ```
 */
export function labelledDigester(
  protocol: string,
  first: readonly Uint8Array[],
): (rest: readonly Uint8Array[]) => Uint8Array {
  const prefix = new Transcript(protocol);
  for (const part of first) prefix.append("part", part);
  return (rest) => {
    const t = prefix.clone();
    for (const part of rest) t.append("part", part);
    return t.challenge("digest", 64);
  };
}
