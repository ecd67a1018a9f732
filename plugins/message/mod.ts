/**
 * The message plugin: anonymous messaging over the Sphinx network, following Loopix
 * (Piotrowska, Hayes, Elahi, Meiser, Danezis, USENIX Security 2017): checksummed
 * addresses, HPKE end-to-end encryption (RFC 9180), fragmentation, SURB-ACKs with
 * retransmission, exactly-once delivery, SURB replies, and Poisson cover traffic.
 * Specification and threat model: docs/message.md.
 *
 * @example
 * ```ts
 * import { addressOf, decodeAddress, encodeAddress, generateMessageIdentity } from "./mod.ts";
 * const me = await generateMessageIdentity(new Uint8Array(32));
 * const text = encodeAddress(addressOf(me));
 * console.assert(decodeAddress(text).mailbox.length === 32);
 * ```
 *
 * @module
 */

export * from "./address.ts";
export * from "./hpke.ts";
export * from "./fragment.ts";
export * from "./route.ts";
export * from "./wire.ts";
export * from "./client.ts";
