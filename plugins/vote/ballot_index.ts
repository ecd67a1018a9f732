/**
 * A compact hash index from 64-bit keys to ballot positions (issue 17): what the ballot box
 * needs to find the ballot holding a c1 element (replay and copy rules) and the last ballot of
 * a credential (re-voting), in 12 bytes per slot instead of a JavaScript string and a map
 * entry per key. Keys are digests, not the values: a hit is only a candidate, confirmed by
 * reading the ballot back from the box's store, so a collision never decides a rule.
 *
 * @module
 */

import { systemRandom } from "../../core/random.ts";

const EMPTY = 0xffffffff;
const MAX_LOAD = 0.7;

/**
 * Open addressing with linear probing over (key hi, key lo, value) in typed arrays. The slot
 * of a key is a seeded mix of the key, so keys an adversary chooses (credentials) cannot be
 * aimed at one probe chain.
 */
export class CompactIndex {
  #keys: Uint32Array;
  #values: Uint32Array;
  #mask: number;
  #size = 0;
  readonly #seed: number;

  /**
   * @param capacity initial slots (rounded up to a power of two; the index grows as needed)
   * @example
   * ```ts
   * import { CompactIndex } from "./ballot_index.ts";
   * const index = new CompactIndex();
   * index.insert(1, 2, 7);
   * console.assert(index.find(1, 2, (v) => v === 7) === 7);
   * ```
   */
  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity) slots *= 2;
    this.#keys = new Uint32Array(2 * slots);
    this.#values = new Uint32Array(slots).fill(EMPTY);
    this.#mask = slots - 1;
    const seed = new Uint8Array(4);
    systemRandom(seed);
    this.#seed = new DataView(seed.buffer).getUint32(0);
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the index's arrays. */
  get bytes(): number {
    return this.#keys.byteLength + this.#values.byteLength;
  }

  #slot(hi: number, lo: number): number {
    let h = Math.imul(lo ^ this.#seed, 0x85ebca6b) ^ hi;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.#mask;
  }

  /**
   * The first value stored under the key that `accept` confirms.
   *
   * @param hi high 32 bits of the key
   * @param lo low 32 bits of the key
   * @param accept confirms a candidate (e.g. by reading the ballot back)
   * @returns the value, or undefined
   */
  find(hi: number, lo: number, accept: (value: number) => boolean): number | undefined {
    const slot = this.#findSlot(hi, lo, accept);
    return slot < 0 ? undefined : this.#values[slot];
  }

  #findSlot(hi: number, lo: number, accept: (value: number) => boolean): number {
    for (let s = this.#slot(hi, lo);; s = (s + 1) & this.#mask) {
      const value = this.#values[s]!;
      if (value === EMPTY) return -1;
      if (this.#keys[2 * s] === hi && this.#keys[2 * s + 1] === lo && accept(value)) return s;
    }
  }

  /**
   * Replaces the value of the entry `accept` confirms, or adds an entry.
   *
   * @param hi high 32 bits of the key
   * @param lo low 32 bits of the key
   * @param value the new value (below 2³² − 1)
   * @param accept confirms the entry to replace
   */
  set(hi: number, lo: number, value: number, accept: (value: number) => boolean): void {
    const slot = this.#findSlot(hi, lo, accept);
    if (slot < 0) this.insert(hi, lo, value);
    else this.#values[slot] = value;
  }

  /**
   * Adds an entry (keys may repeat).
   *
   * @param hi high 32 bits of the key
   * @param lo low 32 bits of the key
   * @param value the value (below 2³² − 1)
   */
  insert(hi: number, lo: number, value: number): void {
    if (this.#size + 1 > MAX_LOAD * (this.#mask + 1)) this.#grow();
    this.#put(hi >>> 0, lo >>> 0, value);
    this.#size++;
  }

  #put(hi: number, lo: number, value: number): void {
    let s = this.#slot(hi, lo);
    while (this.#values[s] !== EMPTY) s = (s + 1) & this.#mask;
    this.#keys[2 * s] = hi;
    this.#keys[2 * s + 1] = lo;
    this.#values[s] = value;
  }

  #grow(): void {
    const keys = this.#keys, values = this.#values;
    const slots = 2 * values.length;
    this.#keys = new Uint32Array(2 * slots);
    this.#values = new Uint32Array(slots).fill(EMPTY);
    this.#mask = slots - 1;
    for (let s = 0; s < values.length; s++) {
      if (values[s] !== EMPTY) this.#put(keys[2 * s]!, keys[2 * s + 1]!, values[s]!);
    }
  }
}

/**
 * A 64-bit digest of a string (two seeded 32-bit FNV-1a-style lanes over its UTF-16 code
 * units, finalised with murmur3's mix): an index key, not a cryptographic hash.
 *
 * @param text the string
 * @returns [hi, lo]
 * @example
 * ```ts
 * import { stringKey } from "./ballot_index.ts";
 * console.assert(stringKey("a")[0] === stringKey("a")[0]);
 * ```
 */
export function stringKey(text: string): [number, number] {
  let a = 0x811c9dc5, b = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [fmix(a) >>> 0, fmix(b ^ a) >>> 0];
}

/**
 * A 64-bit digest of bytes `from..to` (the lanes of {@linkcode stringKey} over bytes): an
 * index key, not a cryptographic hash. The ballot box keys credentials by their UTF-8 bytes,
 * read straight from a ballot's stored encoding.
 *
 * @param bytes the bytes
 * @param from first byte
 * @param to one past the last
 * @returns [hi, lo]
 * @example
 * ```ts
 * import { bytesKey } from "./ballot_index.ts";
 * const a = new Uint8Array([1, 2, 3]);
 * console.assert(bytesKey(a, 1, 3).join() === bytesKey(new Uint8Array([2, 3]), 0, 2).join());
 * ```
 */
export function bytesKey(bytes: Uint8Array, from: number, to: number): [number, number] {
  let a = 0x811c9dc5, b = 0x9747b28c ^ (to - from);
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [fmix(a) >>> 0, fmix(b ^ a) >>> 0];
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A growable bit per position (superseded ballots). */
export class BitList {
  #bits = new Uint8Array(1024);
  #ones = 0;

  /** Positions set. */
  get ones(): number {
    return this.#ones;
  }

  /**
   * Whether position i is set.
   *
   * @param i position
   * @returns the bit
   */
  has(i: number): boolean {
    return ((this.#bits[i >>> 3] ?? 0) >> (i & 7) & 1) === 1;
  }

  /**
   * Sets position i.
   *
   * @param i position
   */
  add(i: number): void {
    if (this.has(i)) return;
    const byte = i >>> 3;
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(2 * this.#bits.length, byte + 1));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[byte] = this.#bits[byte]! | (1 << (i & 7));
    this.#ones++;
  }
}
