/**
 * A re-encryption mix posted in parts (issue 17): a mix too big for one post travels as
 * `node.mix-part` posts, each holding a run of consecutive outputs and the same run of the
 * shuffle proof's five per-ciphertext lists as raw byte strings, then one final `node.mix`
 * post of version 2 that holds the proof's fixed-size fields and names every part by its
 * post digest (the digest the board's hash chain covers) and its number of outputs. Every
 * post is signed by the stage's mixer; the final post's signature thus covers the whole mix.
 * The shuffle proof is unchanged (one Terelius–Wikström proof over the whole list).
 *
 * Part body: `{ v: 1, kind: "node.mix-part", stage, part, offset, total, width, outputs,
 * permutationCommitments, chainCommitments, chainProofCommitments, chainResponses,
 * permutationResponses }` — `outputs` is count·64·w bytes, each list count·32 bytes.
 * Final body: `{ v: 2, kind: "node.mix", stage, parts: [{ count, digest }], proof }` where
 * `proof` is the `reencrypt.shuffle-proof` envelope without its five lists.
 *
 * {@linkcode MixPartsState} holds the rules both the board and the readers apply (order,
 * offsets, totals, width, author, the final post's list of parts), with one-line errors.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord } from "../../core/fields.ts";
import type { RecordSource } from "../../core/records.ts";
import {
  ELEMENT_BYTES,
  readShuffleProofLayout,
  SHUFFLE_PROOF_LISTS,
  SHUFFLE_PROOF_VERSION,
  type ShuffleProofList,
  type ShuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import { encodeMsgpack } from "../../core/envelope.ts";

/** Body kind of one part of a mix. */
export const MIX_PART_KIND = "node.mix-part";

/** Version of the `node.mix` body that names its parts (version 1 holds the whole mix). */
export const MIX_PARTS_VERSION = 2;

/** Default largest part body the board takes and the mixer writes (16 MiB). */
export const DEFAULT_MAX_MIX_PART_BYTES = 16 * 1024 * 1024;

/** Most parts one mix may have. */
export const MAX_MIX_PARTS = 100_000;

/**
 * Bytes a part body spends per output of width w (outputs and the five lists).
 *
 * @param width ciphertext width
 * @returns 64·w + 160
 * @example
 * ```ts
 * import { mixPartBytesPerItem } from "./mix_parts.ts";
 * console.assert(mixPartBytesPerItem(1) === 224);
 * ```
 */
export function mixPartBytesPerItem(width: number): number {
  return 2 * ELEMENT_BYTES * width + SHUFFLE_PROOF_LISTS.length * ELEMENT_BYTES;
}

/**
 * How many outputs a part holds: `items` when given (> 0), else as many as fit in
 * `maxBytes` with room for the body's small fields; never more than fit.
 *
 * @param width ciphertext width
 * @param items configured outputs per part (0 = from `maxBytes`)
 * @param maxBytes largest part body
 * @returns outputs per part (at least 1)
 * @example
 * ```ts
 * import { mixPartItems } from "./mix_parts.ts";
 * console.assert(mixPartItems(1) === 74_893);
 * console.assert(mixPartItems(1, 100) === 100);
 * console.assert(mixPartItems(1, 10_000_000) === 74_893);
 * ```
 */
export function mixPartItems(
  width: number,
  items = 0,
  maxBytes = DEFAULT_MAX_MIX_PART_BYTES,
): number {
  // A configured count is capped to what fits (a bigger part would be refused by the board).
  const fit = Math.max(1, Math.floor((maxBytes - 1024) / mixPartBytesPerItem(width)));
  return items > 0 ? Math.min(items, fit) : fit;
}

/** The header of a part (its small fields). */
export interface MixPartHeader {
  /** Stage mixed. */
  stage: number;
  /** Part number, from 0. */
  part: number;
  /** Index of the part's first output in the mix. */
  offset: number;
  /** Outputs of the whole mix. */
  total: number;
  /** Ciphertext width. */
  width: number;
}

/**
 * Writes the body of part `part` (outputs `lo` to `hi`) of a mix from its record lists.
 *
 * @param header stage, part number, total, width (offset = lo)
 * @param outputs the mix's outputs
 * @param proof its proof (lists as records)
 * @param lo first output
 * @param hi end (exclusive)
 * @returns the body bytes
 * @example
 * ```ts ignore
 * const body = mixPartBody({ stage: 0, part: 0, total: outputs.count, width: 1 }, outputs, proof, 0, 100);
 * ```
 */
export function mixPartBody(
  header: Omit<MixPartHeader, "offset">,
  outputs: RecordSource,
  proof: ShuffleProofRecords,
  lo: number,
  hi: number,
): Uint8Array {
  const body: Envelope = {
    v: 1,
    kind: MIX_PART_KIND,
    stage: header.stage,
    part: header.part,
    offset: lo,
    total: header.total,
    width: header.width,
    outputs: outputs.read(lo, hi),
  };
  for (const list of SHUFFLE_PROOF_LISTS) body[list] = proof[list].read(lo, hi);
  return encodeMsgpack(body);
}

/**
 * Writes the final body of a mix posted in parts: the proof's fixed-size fields and the parts.
 *
 * @param stage the stage
 * @param proof the proof (its lists are not written)
 * @param parts each part's output count and post digest, in order
 * @returns the body bytes
 * @example
 * ```ts ignore
 * const body = mixFinalBody(0, proof, parts.map((p) => ({ count: 100, digest: postDigest(p) })));
 * ```
 */
export function mixFinalBody(
  stage: number,
  proof: ShuffleProofRecords,
  parts: ReadonlyArray<{ count: number; digest: Uint8Array }>,
): Uint8Array {
  return encodeMsgpack({
    v: MIX_PARTS_VERSION,
    kind: "node.mix",
    stage,
    parts: parts.map((p) => ({ count: p.count, digest: p.digest })),
    proof: {
      v: SHUFFLE_PROOF_VERSION,
      kind: "reencrypt.shuffle-proof",
      count: proof.permutationCommitments.count,
      width: proof.width,
      commitments: proof.commitments,
      challenge: proof.challenge,
      responses: proof.responses,
    },
  });
}

/**
 * Reads and checks the small fields of a part body (decoded fields; the big ones may be
 * absent when a stream reader handles them).
 *
 * @param fields the body's fields
 * @param what names the body in errors
 * @returns the header
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { readMixPartHeader } from "./mix_parts.ts";
 * const h = readMixPartHeader(
 *   { v: 1, kind: "node.mix-part", stage: 0, part: 1, offset: 100, total: 250, width: 1 },
 *   "part",
 * );
 * console.assert(h.offset === 100);
 * ```
 */
export function readMixPartHeader(fields: Record<string, unknown>, what: string): MixPartHeader {
  readEnvelope(fields, MIX_PART_KIND, { what });
  const total = readInteger(fields.total, `${what}.total`, { min: 1, max: 100_000_000 });
  return {
    stage: readInteger(fields.stage, `${what}.stage`, { min: 0, max: 63 }),
    part: readInteger(fields.part, `${what}.part`, { min: 0, max: MAX_MIX_PARTS - 1 }),
    offset: readInteger(fields.offset, `${what}.offset`, { min: 0, max: total - 1 }),
    total,
    width: readInteger(fields.width, `${what}.width`, { min: 1, max: 64 }),
  };
}

/**
 * Reads a whole decoded part body: header and byte strings, sizes checked.
 *
 * @param value the decoded body
 * @param what names it in errors
 * @returns header, count, outputs bytes and the five lists' bytes
 * @throws {InvalidInputError} naming the malformed or missized field
 * @example
 * ```ts
 * import { readMixPart } from "./mix_parts.ts";
 * const list = new Uint8Array(64);
 * const part = readMixPart({
 *   v: 1, kind: "node.mix-part", stage: 0, part: 0, offset: 0, total: 2, width: 1,
 *   outputs: new Uint8Array(128), permutationCommitments: list, chainCommitments: list,
 *   chainProofCommitments: list, chainResponses: list, permutationResponses: list,
 * }, "part");
 * console.assert(part.count === 2);
 * ```
 */
export function readMixPart(value: unknown, what: string): MixPartHeader & {
  count: number;
  outputs: Uint8Array;
  lists: Record<ShuffleProofList, Uint8Array>;
} {
  const fields = readRecord(value, what);
  const header = readMixPartHeader(fields, what);
  const size = 2 * ELEMENT_BYTES * header.width;
  const outputs = readBytes(fields.outputs, `${what}.outputs`, { maxLength: 1 << 30 });
  if (outputs.length === 0 || outputs.length % size !== 0) {
    throw new InvalidInputError(
      `Value '${what}.outputs' must be whole ${size}-byte ciphertexts, got ${outputs.length} bytes`,
    );
  }
  const count = outputs.length / size;
  const lists = {} as Record<ShuffleProofList, Uint8Array>;
  for (const list of SHUFFLE_PROOF_LISTS) {
    lists[list] = readBytes(fields[list], `${what}.${list}`, { length: count * ELEMENT_BYTES });
  }
  return { ...header, count, outputs, lists };
}

/** The final post of a mix in parts, read. */
export interface MixFinal {
  /** Stage mixed. */
  stage: number;
  /** The parts it names, in order. */
  parts: { count: number; digest: Uint8Array }[];
  /** The proof's fixed-size fields, with its count and width. */
  proof: {
    count: number;
    width: number;
    commitments: Uint8Array;
    challenge: Uint8Array;
    responses: Uint8Array;
  };
}

/**
 * Reads a decoded final `node.mix` body of version 2.
 *
 * @param value the decoded body
 * @param what names it in errors
 * @returns stage, parts and proof fields
 * @throws {InvalidInputError} naming the malformed field (a version-1 mix is refused)
 * @example
 * ```ts ignore
 * const final = readMixFinal(decodeMsgpack(post.body, "mix"), "mix");
 * ```
 */
export function readMixFinal(value: unknown, what: string): MixFinal {
  const env = readEnvelope(value, "node.mix", { what, versions: [MIX_PARTS_VERSION] });
  const parts = readArray(env.parts, `${what}.parts`, { minLength: 1, maxLength: MAX_MIX_PARTS })
    .map((p, i) => {
      const r = readRecord(p, `${what}.parts[${i}]`);
      return {
        count: readInteger(r.count, `${what}.parts[${i}].count`, { min: 1 }),
        digest: readBytes(r.digest, `${what}.parts[${i}].digest`, { length: 64 }),
      };
    });
  const layout = readShuffleProofLayout(env.proof, `${what}.proof`);
  const field = (f: "commitments" | "challenge" | "responses") =>
    readBytes(layout.fields[f], `${what}.proof.${f}`, { length: layout.bytes[f] });
  return {
    stage: readInteger(env.stage, `${what}.stage`, { min: 0, max: 63 }),
    parts,
    proof: {
      count: layout.bytes.permutationCommitments / ELEMENT_BYTES,
      width: layout.width,
      commitments: field("commitments"),
      challenge: field("challenge"),
      responses: field("responses"),
    },
  };
}

function hex8(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A part already taken, as {@linkcode MixPartsState} keeps it. */
export interface HeldMixPart {
  /** Post digest. */
  digest: Uint8Array;
  /** Outputs it holds. */
  count: number;
  /** Outputs of the whole mix it announced. */
  total: number;
  /** Width. */
  width: number;
  /** The author's key. */
  author: Uint8Array;
}

/**
 * The parts of one stage's mix taken so far, and the rules a new part and the final post
 * must follow (the board and every reader apply the same ones).
 *
 * @example
 * ```ts
 * import { MixPartsState } from "./mix_parts.ts";
 * const state = new MixPartsState(0);
 * const author = new Uint8Array(32);
 * const header = { stage: 0, part: 1, offset: 0, total: 20, width: 1 };
 * try { state.checkNext(header, author, "post 7"); } catch (e) { console.assert(/part 0 is missing/.test(String(e))); }
 * ```
 */
export class MixPartsState {
  /** Parts taken, in order. */
  readonly parts: HeldMixPart[];
  /** The stage. */
  readonly stage: number;

  /**
   * Creates the state of a stage.
   *
   * @param stage the stage
   * @param parts parts already taken, in order
   */
  constructor(stage: number, parts: HeldMixPart[] = []) {
    this.stage = stage;
    this.parts = parts;
  }

  /** Outputs the parts taken hold. */
  get done(): number {
    return this.parts.reduce((n, p) => n + p.count, 0);
  }

  /**
   * Checks that a part may come next (call before reading its big fields).
   *
   * @param header the part's small fields
   * @param author its author
   * @param what names the post in errors
   * @throws {VerificationError} naming the broken rule
   */
  checkNext(header: MixPartHeader, author: Uint8Array, what: string): void {
    const held = this.parts.length;
    const name = `${what}: mix part ${header.part} of stage ${header.stage}`;
    if (header.stage !== this.stage) {
      throw new VerificationError(`${name} is for another stage than ${this.stage}`);
    }
    if (header.part < held) {
      throw new VerificationError(`${name} is a duplicate: part ${header.part} was already taken`);
    }
    if (header.part > held) {
      throw new VerificationError(
        `${name} is out of order: part ${held} is missing (${held} parts taken)`,
      );
    }
    const first = this.parts[0];
    if (first !== undefined && !constantTimeEqual(first.author, author)) {
      throw new VerificationError(`${name} is signed by another key than part 0`);
    }
    if (first !== undefined && (first.total !== header.total || first.width !== header.width)) {
      throw new VerificationError(
        `${name} announces ${header.total} outputs of width ${header.width}; part 0 announced ${first.total} of width ${first.width}`,
      );
    }
    if (header.offset !== this.done) {
      throw new VerificationError(
        `${name} starts at output ${header.offset}; the parts before it end at ${this.done}`,
      );
    }
  }

  /**
   * Takes a part whose body was read in full.
   *
   * @param header its small fields (checked with {@linkcode checkNext})
   * @param count outputs it holds
   * @param digest its post digest
   * @param author its author
   * @param what names the post in errors
   */
  take(
    header: MixPartHeader,
    count: number,
    digest: Uint8Array,
    author: Uint8Array,
    what: string,
  ): void {
    if (header.offset + count > header.total) {
      throw new VerificationError(
        `${what}: mix part ${header.part} of stage ${header.stage} runs past the ${header.total} outputs it announces`,
      );
    }
    this.parts.push({ digest, count, total: header.total, width: header.width, author });
  }

  /**
   * Checks the final post against the parts taken.
   *
   * @param final the final post
   * @param author its author
   * @param what names the post in errors
   * @throws {VerificationError} when it names other parts, or the parts are not whole
   */
  checkFinal(final: MixFinal, author: Uint8Array, what: string): void {
    const name = `${what}: the mix of stage ${final.stage}`;
    if (final.stage !== this.stage) {
      throw new VerificationError(`${name} is for another stage than ${this.stage}`);
    }
    if (final.parts.length !== this.parts.length) {
      throw new VerificationError(
        `${name} names ${final.parts.length} parts; ${this.parts.length} were posted`,
      );
    }
    for (const [i, p] of final.parts.entries()) {
      const held = this.parts[i]!;
      if (!constantTimeEqual(p.digest, held.digest) || p.count !== held.count) {
        throw new VerificationError(
          `${name} names part ${i} as ${p.count} outputs with digest ${
            hex8(p.digest)
          }…; the part posted holds ${held.count} with digest ${hex8(held.digest)}…`,
        );
      }
      if (!constantTimeEqual(held.author, author)) {
        throw new VerificationError(`${name} is signed by another key than its part ${i}`);
      }
    }
    const first = this.parts[0]!;
    if (this.done !== first.total || final.proof.count !== first.total) {
      throw new VerificationError(
        `${name} has ${this.done} outputs in its parts, ${first.total} announced and a proof for ${final.proof.count}`,
      );
    }
    if (final.proof.width !== first.width) {
      throw new VerificationError(
        `${name} has a proof of width ${final.proof.width} for outputs of width ${first.width}`,
      );
    }
  }
}

/**
 * The whole proof of a mix in parts: the final post's fixed fields and the lists read from
 * the parts.
 *
 * @param final the final post
 * @param lists the five lists (32-byte records, in output order)
 * @returns the proof with record lists
 * @example
 * ```ts ignore
 * const proof = mixPartsProof(final, lists);
 * ```
 */
export function mixPartsProof(
  final: MixFinal,
  lists: Record<ShuffleProofList, RecordSource>,
): ShuffleProofRecords {
  return {
    width: final.proof.width,
    commitments: final.proof.commitments,
    challenge: final.proof.challenge,
    responses: final.proof.responses,
    ...lists,
  } as ShuffleProofRecords;
}
