/**
 * Per-hop key derivation from a Sphinx shared secret (docs/sphinx.md §3), the header
 * MAC and the routing-information keystream.
 *
 * @module
 */

import { chacha20XorInPlace } from "./chacha20.ts";
import { HmacSha256 } from "./hmac_sha256.ts";
import { SPHINX_LABELS } from "./params.ts";

const encoder = new TextEncoder();
// HKDF-Extract is HMAC keyed with the salt (RFC 5869 §2.2): key each salt once.
const HOP_EXTRACT = new HmacSha256(encoder.encode(SPHINX_LABELS.hopSecret));
const SURB_EXTRACT = new HmacSha256(encoder.encode(SPHINX_LABELS.surbSecret));
const MAC_INFO = encoder.encode(SPHINX_LABELS.mac);
const ROUTING_INFO = encoder.encode(SPHINX_LABELS.routing);
const PAYLOAD_INFO = encoder.encode(SPHINX_LABELS.payload);
const BLINDING_INFO = encoder.encode(SPHINX_LABELS.blinding);
const REPLAY_INFO = encoder.encode(SPHINX_LABELS.replayTag);

/**
 * Keys one hop derives from its shared secret s. `mac`, `routing`, `payload` and `blinding`
 * are views into one buffer; `replayTag` is an array of its own (callers store it).
 */
export interface SphinxHopKeys {
  /** HMAC-SHA256 key for γ. */
  mac: Uint8Array;
  /** ChaCha20 key of the routing stream ρ. */
  routing: Uint8Array;
  /** LIONESS keys K1‖K2‖K3‖K4 (128 bytes). */
  payload: Uint8Array;
  /** Replay tag (32 bytes), a function of s and α. */
  replayTag: Uint8Array;
  /** Blinding factor seed b (32 bytes, used as an X25519 scalar). */
  blinding: Uint8Array;
}

/**
 * Derives a hop's keys (D&G 2009 §3.2: h_μ, h_ρ, h_π, h_τ, h_b as HKDF-SHA256 with labels).
 * Every key binds α as well as s: X25519 gives the same s for α and for α plus a point of
 * small order (u ↦ 1/u adds the point of order 2), so keys of s alone would let a modified α
 * pass the MAC and burn the replay tag (issue 11, point 8; docs/sphinx.md §3).
 *
 * @param secret the shared secret s (32 bytes)
 * @param alpha the group element α the hop received (32 bytes)
 * @returns the hop keys
 * @example
 * ```ts
 * import { deriveSphinxHopKeys } from "./hop_keys.ts";
 * const keys = deriveSphinxHopKeys(new Uint8Array(32), new Uint8Array(32));
 * console.assert(keys.payload.length === 128);
 * ```
 */
export function deriveSphinxHopKeys(secret: Uint8Array, alpha: Uint8Array): SphinxHopKeys {
  // HKDF-Extract(salt "panoramix/sphinx/hop-secret/v2", IKM s ‖ α) (RFC 5869 §2.2).
  const prk = new HmacSha256(HOP_EXTRACT.digest([secret, alpha]));
  // One buffer for the keys that stay inside the backend; the replay tag gets its own array
  // because callers store it.
  const keys = new Uint8Array(32 + 32 + 128 + 32), replayTag = new Uint8Array(32);
  const mac = keys.subarray(0, 32), routing = keys.subarray(32, 64);
  const payload = keys.subarray(64, 192), blinding = keys.subarray(192, 224);
  hkdfExpand(prk, MAC_INFO, mac); // h_μ(s)
  hkdfExpand(prk, ROUTING_INFO, routing); // h_ρ(s)
  hkdfExpand(prk, PAYLOAD_INFO, payload); // h_π(s)
  hkdfExpand(prk, REPLAY_INFO, replayTag); // h_τ(s, α)
  hkdfExpand(prk, BLINDING_INFO, blinding); // h_b(s, α)
  return { mac, routing, payload, replayTag, blinding };
}

const NO_BYTES = new Uint8Array(0);
const COUNTER = new Uint8Array(1);

// HKDF-Expand (RFC 5869 §2.3) into `out` (a multiple of 32 bytes):
// T(i) = HMAC(PRK, T(i−1) ‖ info ‖ i) with info = label ‖ suffix, written in place.
function hkdfExpand(
  prk: HmacSha256,
  label: Uint8Array,
  out: Uint8Array,
  suffix: Uint8Array = NO_BYTES,
): void {
  for (let at = 0; at < out.length; at += 32) {
    COUNTER[0] = at / 32 + 1;
    const previous = at === 0 ? NO_BYTES : out.subarray(at - 32, at);
    prk.digest([previous, label, suffix, COUNTER], out.subarray(at, at + 32));
  }
}

/**
 * LIONESS keys for a SURB's own payload key k̃ (D&G 2009 §3.5).
 *
 * @param surbKey the 32-byte k̃
 * @returns 128 bytes of LIONESS keys
 * @example
 * ```ts
 * import { deriveSurbPayloadKey } from "./hop_keys.ts";
 * console.assert(deriveSurbPayloadKey(new Uint8Array(32)).length === 128);
 * ```
 */
export function deriveSurbPayloadKey(surbKey: Uint8Array): Uint8Array {
  // HKDF-Extract(salt "panoramix/sphinx/surb-secret/v1", IKM k̃), then Expand (RFC 5869 §2).
  const key = new Uint8Array(128);
  hkdfExpand(new HmacSha256(SURB_EXTRACT.digest([surbKey])), PAYLOAD_INFO, key);
  return key;
}

/**
 * The header MAC γ = HMAC-SHA256(h_μ(s, α), version ‖ keyId ‖ α ‖ β) (D&G 2009 §3.2, with the
 * framing bytes and α also authenticated: the whole header but γ).
 *
 * @param key MAC key
 * @param prefix the two framing bytes
 * @param alpha the group element α (32 bytes)
 * @param beta the routing information β
 * @returns the 32-byte MAC
 * @example
 * ```ts
 * import { headerMac } from "./hop_keys.ts";
 * const mac = headerMac(new Uint8Array(32), new Uint8Array(2), new Uint8Array(32), new Uint8Array(4));
 * console.assert(mac.length === 32);
 * ```
 */
export function headerMac(
  key: Uint8Array,
  prefix: Uint8Array,
  alpha: Uint8Array,
  beta: Uint8Array,
): Uint8Array {
  return new HmacSha256(key).digest([prefix, alpha, beta]);
}

/**
 * The routing keystream ρ: ChaCha20 under h_ρ(s) with a zero nonce (each key is used once).
 *
 * @param key routing key
 * @param length keystream bytes
 * @returns the keystream
 * @example
 * ```ts
 * import { routingStream } from "./hop_keys.ts";
 * console.assert(routingStream(new Uint8Array(32), 10).length === 10);
 * ```
 */
export function routingStream(key: Uint8Array, length: number): Uint8Array {
  const stream = new Uint8Array(length);
  chacha20XorInPlace(key, stream);
  return stream;
}
