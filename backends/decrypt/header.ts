/**
 * Sphinx header creation in O(n) (Danezis & Goldberg 2009, §3.2): one pass computes every
 * hop's α_i and shared secret s_i from the accumulated blinding scalar, one pass the filler
 * φ, one backward pass β and γ.
 *
 * @module
 */

import { InvalidInputError } from "../../core/errors.ts";
import { randomBytes, type RandomSource, systemRandom } from "../../core/random.ts";
import { encodeSphinxCommand, type SphinxCommand } from "./command.ts";
import { deriveSphinxHopKeys, headerMac, routingStream, type SphinxHopKeys } from "./hop_keys.ts";
import {
  SPHINX_ALPHA_SIZE,
  SPHINX_BETA_SIZE,
  SPHINX_COMMAND_SIZE,
  SPHINX_HEADER_SIZE,
  SPHINX_MAC_SIZE,
  SPHINX_MAX_HOPS,
  SPHINX_NODE_ID_SIZE,
  SPHINX_PREFIX_SIZE,
  SPHINX_SLOT_SIZE,
  SPHINX_VERSION,
} from "./params.ts";
import {
  clampedScalar,
  CURVE25519_ORDER,
  encodeClampedScalar,
  mulScalars,
  type SphinxX25519,
  sphinxX25519,
} from "./x25519.ts";

/** One hop of a route, as the sender knows it from the directory. */
export interface SphinxHop {
  /** Node id (32 bytes): the address the previous hop forwards to. */
  nodeId: Uint8Array;
  /**
   * The node's X25519 public key for the epoch (32 bytes). Engines cache per array object
   * (WebCrypto its import, WebAssembly its table key), so do not modify the array after use.
   */
  publicKey: Uint8Array;
  /** Key id (epoch) of that public key, 0–255, carried in the packet framing. */
  keyId: number;
  /** How long this hop holds the packet, in milliseconds (default 0). */
  delayMs?: number;
}

/** Options of {@linkcode createSphinxHeader}. */
export interface SphinxHeaderOptions {
  /** The route, 1 to 5 hops. */
  route: readonly SphinxHop[];
  /** What the last hop does (its `delayMs` is replaced by the last hop's). */
  final: SphinxCommand;
  /** Randomness (default the system CSPRNG): x, then the β padding. */
  random?: RandomSource;
  /** X25519 engine (default {@linkcode sphinxX25519}). */
  x25519?: SphinxX25519;
}

/** A header and the per-hop keys its creator needs for the payload. */
export interface SphinxHeaderResult {
  /** The header bytes (546). */
  header: Uint8Array;
  /** Keys of each hop, in route order. */
  hopKeys: SphinxHopKeys[];
  /** α of each hop, in route order (for test vectors). */
  alphas: Uint8Array[];
  /** Shared secret of each hop, in route order (for test vectors). */
  secrets: Uint8Array[];
}

function checkRoute(route: readonly SphinxHop[]): void {
  if (route.length < 1 || route.length > SPHINX_MAX_HOPS) {
    throw new InvalidInputError(
      `Route must have between 1 and ${SPHINX_MAX_HOPS} hops, got ${route.length}`,
    );
  }
  route.forEach((hop, i) => {
    if (!(hop.nodeId instanceof Uint8Array) || hop.nodeId.length !== SPHINX_NODE_ID_SIZE) {
      throw new InvalidInputError(`Value 'route[${i}].nodeId' must be 32 bytes`);
    }
    if (!(hop.publicKey instanceof Uint8Array) || hop.publicKey.length !== SPHINX_ALPHA_SIZE) {
      throw new InvalidInputError(`Value 'route[${i}].publicKey' must be 32 bytes`);
    }
    if (!Number.isInteger(hop.keyId) || hop.keyId < 0 || hop.keyId > 255) {
      throw new InvalidInputError(
        `Value 'route[${i}].keyId' must be an integer between 0 and 255, got ${hop.keyId}`,
      );
    }
  });
}

function xorInto(target: Uint8Array, stream: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i]! ^= stream[i]!;
}

/**
 * Creates a Sphinx header for a route (D&G 2009 §3.2).
 *
 * @param options route, final command, randomness and engine
 * @returns the header and the per-hop keys
 * @throws {InvalidInputError} on a malformed route or command
 * @example
 * ```ts
 * import { createSphinxHeader } from "./header.ts";
 * import { x25519 } from "@noble/curves/ed25519.js";
 * const sk = new Uint8Array(32).fill(1);
 * const hop = { nodeId: new Uint8Array(32), publicKey: x25519.getPublicKey(sk), keyId: 0 };
 * const { header } = await createSphinxHeader({
 *   route: [hop],
 *   final: { kind: "deliver", recipient: new Uint8Array(32), delayMs: 0 },
 * });
 * console.assert(header.length === 546);
 * ```
 */
export async function createSphinxHeader(
  options: SphinxHeaderOptions,
): Promise<SphinxHeaderResult> {
  const { route } = options;
  checkRoute(route);
  const random = options.random ?? systemRandom;
  const engine = options.x25519 ?? await sphinxX25519();
  const n = route.length;
  const B = SPHINX_BETA_SIZE;

  // Commands: hop i forwards to hop i+1; the last hop runs the final command (§3.2, n_i).
  const commands = route.map((hop, i) => {
    const delayMs = hop.delayMs ?? 0;
    const next = route[i + 1];
    const command: SphinxCommand = next === undefined
      ? { ...options.final, delayMs }
      : { kind: "forward", nextHop: next.nodeId, nextKeyId: next.keyId, delayMs };
    return encodeSphinxCommand(command);
  });

  // x ← random; e_0 = clamp(x) mod ℓ (§3.2: the sender's secret exponent).
  let e = clampedScalar(randomBytes(32, random)) % CURVE25519_ORDER;
  const alphas: Uint8Array[] = [], secrets: Uint8Array[] = [], hopKeys: SphinxHopKeys[] = [];
  for (const hop of route) {
    const c = encodeClampedScalar(e);
    // α_i = g^{x·b_0⋯b_{i-1}}, s_i = y_i^{x·b_0⋯b_{i-1}} (§3.2), one multiplication each: O(n).
    const [alpha, secret] = engine.scalarMultPair === undefined
      ? await Promise.all([engine.scalarMultBase(c), engine.scalarMult(c, hop.publicKey)])
      : await engine.scalarMultPair(c, hop.publicKey);
    const keys = deriveSphinxHopKeys(secret, alpha);
    alphas.push(alpha);
    secrets.push(secret);
    hopKeys.push(keys);
    // e_{i+1} = e_i · b_i with b_i the clamped blinding factor h_b(s_i, α_i) (§3.2).
    e = mulScalars(e, clampedScalar(keys.blinding));
  }

  // Routing keystreams ρ(h_ρ(s_i)) of |β| + one slot (§3.2).
  const streams = hopKeys.map((k) => routingStream(k.routing, B + SPHINX_SLOT_SIZE));

  // Filler φ_i = (φ_{i-1} ‖ 0^slot) ⊕ ρ_{i-1}[B − (i−1)·slot ..] in one pass (§3.2).
  let filler: Uint8Array = new Uint8Array(0);
  for (let i = 1; i < n; i++) {
    const next = new Uint8Array(i * SPHINX_SLOT_SIZE);
    next.set(filler);
    xorInto(next, streams[i - 1]!.subarray(B - (i - 1) * SPHINX_SLOT_SIZE));
    filler = next;
  }

  // β_{n-1}: final command, then random bytes instead of Sphinx's zero padding so the last hop
  // cannot tell the route length, encrypted, then the filler (§3.2, padding randomised).
  let beta: Uint8Array = new Uint8Array(B);
  const open = B - (n - 1) * SPHINX_SLOT_SIZE;
  beta.set(commands[n - 1]!);
  random(beta.subarray(SPHINX_COMMAND_SIZE, open));
  xorInto(beta.subarray(0, open), streams[n - 1]!);
  beta.set(filler, open);
  let gamma = headerMac(hopKeys[n - 1]!.mac, prefix(route[n - 1]!.keyId), alphas[n - 1]!, beta);

  // β_i = (n_{i+1} ‖ γ_{i+1} ‖ β_{i+1}[..B−slot]) ⊕ ρ_i[..B];
  // γ_i = μ(h_μ(s_i, α_i), prefix_i ‖ α_i ‖ β_i) (§3.2, α bound: issue 11 point 8).
  for (let i = n - 2; i >= 0; i--) {
    const next = new Uint8Array(B);
    next.set(commands[i]!);
    next.set(gamma, SPHINX_COMMAND_SIZE);
    next.set(beta.subarray(0, B - SPHINX_SLOT_SIZE), SPHINX_SLOT_SIZE);
    xorInto(next, streams[i]!);
    beta = next;
    gamma = headerMac(hopKeys[i]!.mac, prefix(route[i]!.keyId), alphas[i]!, beta);
  }

  const header = new Uint8Array(SPHINX_HEADER_SIZE);
  header.set(prefix(route[0]!.keyId));
  header.set(alphas[0]!, SPHINX_PREFIX_SIZE);
  header.set(beta, SPHINX_PREFIX_SIZE + SPHINX_ALPHA_SIZE);
  header.set(gamma, SPHINX_PREFIX_SIZE + SPHINX_ALPHA_SIZE + B);
  return { header, hopKeys, alphas, secrets };
}

// The framing bytes of each key id, made once (every header MAC hashes them).
const PREFIXES = Array.from({ length: 256 }, (_, keyId) => new Uint8Array([SPHINX_VERSION, keyId]));

/**
 * The two framing bytes: version and key id.
 *
 * @param keyId key id 0–255
 * @returns 2 bytes, shared between calls: read them, do not modify them
 */
export function prefix(keyId: number): Uint8Array {
  return PREFIXES[keyId] ?? new Uint8Array([SPHINX_VERSION, keyId]);
}

/** Offsets of the header fields in a packet. */
export const SPHINX_OFFSETS = {
  version: 0,
  keyId: 1,
  alpha: SPHINX_PREFIX_SIZE,
  beta: SPHINX_PREFIX_SIZE + SPHINX_ALPHA_SIZE,
  gamma: SPHINX_PREFIX_SIZE + SPHINX_ALPHA_SIZE + SPHINX_BETA_SIZE,
  payload: SPHINX_HEADER_SIZE,
  macSize: SPHINX_MAC_SIZE,
} as const;
