/**
 * Precomputed multiples of a Curve25519 point for fixed-base scalar multiplication in
 * ./x25519_wasm.ts: the point is moved to the birationally equivalent Edwards curve
 * (RFC 7748 §4.1: y = (u − 1)/(u + 1)) and the table holds (j+1)·256^i·P for i < 32,
 * j < 8 in the affine "Niels" form (y + x, y − x, 2d·x·y) of ref10's ge_scalarmult_base
 * (Bernstein, Duif, Lange, Schwabe, Yang, "High-speed high-security signatures", 2011, §4).
 * Built once per point with `@noble/curves` arithmetic; only public points are tabulated.
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
/** Bytes of a serialized table: rows × columns × 3 field elements × 32 bytes. */
export const TABLE_BYTES = TABLE_ROWS * TABLE_COLUMNS * 3 * 32;

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

/**
 * Serializes the fixed-base table of a point: entry (i, j) = (j+1)·256^i·P as three 32-byte
 * little-endian field elements y + x, y − x, 2d·x·y (affine, one batch inversion).
 *
 * @param point the Edwards point
 * @returns {@linkcode TABLE_BYTES} bytes, row-major
 * @example
 * ```ts
 * import { ed25519 } from "@noble/curves/ed25519.js";
 * import { nielsTable, TABLE_BYTES } from "./edwards_table.ts";
 * console.assert(nielsTable(ed25519.Point.BASE).length === TABLE_BYTES);
 * ```
 */
export function nielsTable(point: EdwardsPoint): Uint8Array {
  const points: EdwardsPoint[] = [];
  let base = point;
  for (let i = 0; i < TABLE_ROWS; i++) {
    let multiple = base;
    for (let j = 0; j < TABLE_COLUMNS; j++) {
      points.push(multiple);
      multiple = multiple.add(base);
    }
    for (let k = 0; k < 8; k++) base = base.double(); // 256·base
  }
  const inverses = Fp.invertBatch(points.map((p) => p.Z));
  const out = new Uint8Array(TABLE_BYTES);
  points.forEach((p, k) => {
    const zInv = inverses[k]!;
    const x = Fp.mul(p.X, zInv), y = Fp.mul(p.Y, zInv);
    writeLittleEndian(Fp.add(y, x), out, 96 * k);
    writeLittleEndian(Fp.sub(y, x), out, 96 * k + 32);
    writeLittleEndian(Fp.mul(Fp.mul(2n * d, x), y), out, 96 * k + 64);
  });
  return out;
}
