/**
 * The Edwards side of the fixed-base tables of ./x25519_wasm.ts: a Curve25519 u-coordinate is
 * moved to the birationally equivalent Edwards curve (RFC 7748 §4.1: y = (u − 1)/(u + 1)),
 * whose table of (j+1)·256^i·P for i < 32, j < 8 in the affine "Niels" form (y + x, y − x,
 * 2d·x·y) of ref10's ge_scalarmult_base (Bernstein, Duif, Lange, Schwabe, Yang,
 * "High-speed high-security signatures", 2011, §4) the WebAssembly module then builds. The
 * square root here uses `@noble/curves` arithmetic; only public points are tabulated.
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";

const Point = ed25519.Point;
const Fp = Point.Fp;
const { d } = Point.CURVE();
const P = Fp.ORDER;

/** Rows of the table: one per pair of radix-16 digits of a 256-bit scalar. */
export const TABLE_ROWS = 32;
/** Multiples per row: the signed radix-16 digit's magnitude, 1 to 8. */
export const TABLE_COLUMNS = 8;

type EdwardsPoint = InstanceType<typeof Point>;

function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function writeLittleEndian(n: bigint, out: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i++) {
    out[at + i] = Number(n & 0xffn);
    n >>= 8n;
  }
}

/**
 * The Edwards point P with u(P) = u, for a u-coordinate on Curve25519 (either sign of x: u
 * does not distinguish P from −P, and X25519 results do not depend on it).
 *
 * @param u 32-byte u-coordinate; bit 255 is ignored and values ≥ p are reduced, as X25519 does
 *   (RFC 7748 §5)
 * @returns the point, or undefined when u is on the quadratic twist or u = −1
 * @example
 * ```ts
 * import { edwardsFromU } from "./edwards_table.ts";
 * const nine = new Uint8Array(32);
 * nine[0] = 9;
 * console.assert(edwardsFromU(nine) !== undefined);
 * ```
 */
export function edwardsFromU(u: Uint8Array): EdwardsPoint | undefined {
  const n = Fp.create(fromLittleEndian(u) & ((1n << 255n) - 1n));
  if (n === P - 1n) return undefined; // u = −1 has no Edwards image
  const y = Fp.div(Fp.sub(n, 1n), Fp.add(n, 1n)); // RFC 7748 §4.1
  // −x² + y² = 1 + d·x²·y²  ⇒  x² = (y² − 1)/(d·y² + 1) (RFC 8032 §5.1.3).
  const y2 = Fp.sqr(y);
  const x2 = Fp.div(Fp.sub(y2, 1n), Fp.add(Fp.mul(d, y2), 1n));
  let x: bigint;
  try {
    x = Fp.sqrt(x2);
  } catch {
    return undefined; // not a square: u is on the twist
  }
  const point = Point.fromAffine({ x, y });
  point.assertValidity();
  return point;
}

/** 2d (d the Edwards curve constant, RFC 8032 §5.1) as 32 little-endian bytes. */
export const TWO_D_BYTES: Uint8Array = (() => {
  const out = new Uint8Array(32);
  writeLittleEndian(Fp.mul(2n, d), out, 0);
  return out;
})();

/**
 * The affine coordinates of a point as 64 bytes: x then y, each 32 bytes little-endian.
 *
 * @param point the Edwards point
 * @returns x ‖ y
 * @example
 * ```ts
 * import { ed25519 } from "@noble/curves/ed25519.js";
 * import { edwardsAffineBytes } from "./edwards_table.ts";
 * console.assert(edwardsAffineBytes(ed25519.Point.BASE).length === 64);
 * ```
 */
export function edwardsAffineBytes(point: EdwardsPoint): Uint8Array {
  const { x, y } = point.toAffine();
  const out = new Uint8Array(64);
  writeLittleEndian(x, out, 0);
  writeLittleEndian(y, out, 32);
  return out;
}
