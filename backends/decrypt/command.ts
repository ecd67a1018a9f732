/**
 * Per-hop routing commands: the 64-byte plaintext each hop finds at the front of its
 * decrypted β (docs/sphinx.md §2.3).
 *
 * Layout: type (1) ‖ next key id (1) ‖ delay ms (u32be, 4) ‖ address (32) ‖ SURB id (16) ‖
 * zero (10).
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { SPHINX_COMMAND_SIZE, SPHINX_NODE_ID_SIZE, SPHINX_SURB_ID_SIZE } from "./params.ts";

/** Command type bytes. */
export const SPHINX_COMMAND_TYPES = { forward: 1, deliver: 2, reply: 3 } as const;

/** Largest per-hop delay in milliseconds (u32). */
export const SPHINX_MAX_DELAY_MS = 0xffffffff;

/** Relay the packet to the next hop after a delay. */
export interface SphinxForwardCommand {
  /** Discriminant. */
  kind: "forward";
  /** Node id of the next hop (32 bytes). */
  nextHop: Uint8Array;
  /** Key id (epoch) of the next hop's key, written into the outgoing packet's framing. */
  nextKeyId: number;
  /** How long this hop holds the packet, in milliseconds. */
  delayMs: number;
}

/** Final hop: deliver the plaintext message to a recipient. */
export interface SphinxDeliverCommand {
  /** Discriminant. */
  kind: "deliver";
  /** Recipient address (32 bytes; all zero in a cascade). */
  recipient: Uint8Array;
  /** How long this hop holds the message, in milliseconds. */
  delayMs: number;
}

/** Final hop of a SURB route: hand the (still encrypted) reply to the SURB's creator. */
export interface SphinxReplyCommand {
  /** Discriminant. */
  kind: "reply";
  /** Address of the SURB creator (32 bytes). */
  recipient: Uint8Array;
  /** Which SURB this reply used (16 bytes). */
  surbId: Uint8Array;
  /** How long this hop holds the reply, in milliseconds. */
  delayMs: number;
}

/** A routing command. */
export type SphinxCommand = SphinxForwardCommand | SphinxDeliverCommand | SphinxReplyCommand;

function checkBytes(value: Uint8Array, length: number, what: string): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new InvalidInputError(`Value '${what}' must be ${length} bytes`);
  }
}

function checkDelay(delayMs: number): void {
  if (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > SPHINX_MAX_DELAY_MS) {
    throw new InvalidInputError(
      `Value 'delayMs' must be an integer between 0 and ${SPHINX_MAX_DELAY_MS}, got ${delayMs}`,
    );
  }
}

/**
 * Encodes a command into its 64-byte form.
 *
 * @param command the command
 * @returns 64 bytes
 * @throws {InvalidInputError} on a wrong field length or range
 * @example
 * ```ts
 * import { decodeSphinxCommand, encodeSphinxCommand } from "./command.ts";
 * const bytes = encodeSphinxCommand({ kind: "deliver", recipient: new Uint8Array(32), delayMs: 5 });
 * console.assert(decodeSphinxCommand(bytes).delayMs === 5);
 * ```
 */
export function encodeSphinxCommand(command: SphinxCommand): Uint8Array {
  const out = new Uint8Array(SPHINX_COMMAND_SIZE);
  const view = new DataView(out.buffer);
  checkDelay(command.delayMs);
  out[0] = SPHINX_COMMAND_TYPES[command.kind];
  view.setUint32(2, command.delayMs);
  if (command.kind === "forward") {
    if (!Number.isInteger(command.nextKeyId) || command.nextKeyId < 0 || command.nextKeyId > 255) {
      throw new InvalidInputError(
        `Value 'nextKeyId' must be an integer between 0 and 255, got ${command.nextKeyId}`,
      );
    }
    checkBytes(command.nextHop, SPHINX_NODE_ID_SIZE, "nextHop");
    out[1] = command.nextKeyId;
    out.set(command.nextHop, 6);
  } else {
    checkBytes(command.recipient, SPHINX_NODE_ID_SIZE, "recipient");
    out.set(command.recipient, 6);
    if (command.kind === "reply") {
      checkBytes(command.surbId, SPHINX_SURB_ID_SIZE, "surbId");
      out.set(command.surbId, 38);
    }
  }
  return out;
}

function zeroFrom(bytes: Uint8Array, start: number, end: number): boolean {
  let acc = 0;
  for (let i = start; i < end; i++) acc |= bytes[i]!;
  return acc === 0;
}

/**
 * Decodes a 64-byte command.
 *
 * @param bytes the command bytes (only the first 64 are read)
 * @returns the command
 * @throws {InvalidInputError} on an unknown type or non-zero unused bytes
 * @example
 * ```ts
 * import { decodeSphinxCommand, encodeSphinxCommand } from "./command.ts";
 * const fwd = encodeSphinxCommand({
 *   kind: "forward", nextHop: new Uint8Array(32), nextKeyId: 3, delayMs: 0,
 * });
 * console.assert(decodeSphinxCommand(fwd).kind === "forward");
 * ```
 */
export function decodeSphinxCommand(bytes: Uint8Array): SphinxCommand {
  if (bytes.length < SPHINX_COMMAND_SIZE) {
    throw new InvalidInputError(
      `Routing command must be ${SPHINX_COMMAND_SIZE} bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SPHINX_COMMAND_SIZE);
  const type = bytes[0]!;
  const delayMs = view.getUint32(2);
  const address = bytes.slice(6, 38);
  if (!zeroFrom(bytes, 54, SPHINX_COMMAND_SIZE)) {
    throw new InvalidInputError("Routing command has non-zero reserved bytes");
  }
  if (type === SPHINX_COMMAND_TYPES.forward && zeroFrom(bytes, 38, 54)) {
    return { kind: "forward", nextHop: address, nextKeyId: bytes[1]!, delayMs };
  }
  if (type === SPHINX_COMMAND_TYPES.deliver && bytes[1] === 0 && zeroFrom(bytes, 38, 54)) {
    return { kind: "deliver", recipient: address, delayMs };
  }
  if (type === SPHINX_COMMAND_TYPES.reply && bytes[1] === 0) {
    return { kind: "reply", recipient: address, surbId: bytes.slice(38, 54), delayMs };
  }
  throw new InvalidInputError(`Routing command has unknown type ${type} or malformed fields`);
}
