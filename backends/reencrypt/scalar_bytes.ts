/**
 * Scalar arithmetic modulo the ristretto255 group order ℓ = 2^252 + δ (RFC 9496 §4,
 * RFC 8032 §5.1) over 32- and 64-byte little-endian buffers, with no bigint and no allocation
 * per call: wide reduction (as group.ts `scalarFromWide`) and multiply-add a·b + c mod ℓ.
 * Issue 17: the bigint form of these made about a kilobyte of heap garbage per scalar in the
 * voters' encryption and the workers' ballot-proof check.
 *
 * Numbers are held as 21-bit limbs in float64 scratch (21·12 = 252, so 2^252 ≡ −δ folds limb
 * k ≥ 12 onto limbs k−12…k−7 with the six signed 21-bit digits of −δ; every intermediate stays
 * below 2^53). Constant time for secret inputs: a fixed sequence of multiplications, floors
 * and additions, with no branch and no memory index that depends on a value (the final
 * conditional addition of ℓ is an arithmetic select).
 *
 * @module
 */

/** The group order ℓ (RFC 9496 §4). */
const ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

const RADIX = 2 ** 21;
const HALF_RADIX = 2 ** 20;
/** Limbs of the scratch: a 512-bit product or wide input with carry room (27·21 = 567 bits). */
const LIMBS = 27;

/** The signed 21-bit digits of −δ = 2^252 − ℓ (six of them: |δ| < 2^125). */
const MINUS_DELTA = new Float64Array(6);
/** ℓ in unsigned 21-bit limbs 0…12. */
const ORDER_LIMBS = new Float64Array(13);
{
  let x = (1n << 252n) - ORDER; // −δ
  for (let j = 0; j < 6; j++) {
    let d = Number(BigInt.asUintN(21, x));
    if (d >= HALF_RADIX) d -= RADIX;
    MINUS_DELTA[j] = d;
    x = (x - BigInt(d)) >> 21n;
  }
  if (x !== 0n) throw new RangeError("−δ does not fit six 21-bit digits");
  let l = ORDER;
  for (let j = 0; j < 13; j++, l >>= 21n) ORDER_LIMBS[j] = Number(BigInt.asUintN(21, l));
}

const X = new Float64Array(LIMBS);
const A = new Float64Array(13);
const B = new Float64Array(13);
const C = new Float64Array(13);

/** Limbs of the `bytes`-byte little-endian number at `at` into `out` (21 bits each). */
function unpack(out: Float64Array, count: number, src: Uint8Array, at: number, bytes: number) {
  const end = at + bytes;
  for (let j = 0; j < count; j++) {
    const bit = 21 * j, b = at + (bit >> 3);
    // Four bytes hold the limb (shift ≤ 7, 7 + 21 ≤ 32); bytes past the number read as 0
    // (positions are public).
    const word = (b < end ? src[b]! : 0) | (b + 1 < end ? src[b + 1]! << 8 : 0) |
      (b + 2 < end ? src[b + 2]! << 16 : 0) | (b + 3 < end ? src[b + 3]! << 24 : 0);
    out[j] = (word >>> (bit & 7)) & 0x1fffff;
  }
}

/** Balanced carries from limb `from` up to limb `to` − 1 into limb `to`: limbs in [−2^20, 2^20). */
function carryBalanced(x: Float64Array, from: number, to: number): void {
  for (let j = from; j < to; j++) {
    const c = Math.floor((x[j]! + HALF_RADIX) / RADIX);
    x[j] = x[j]! - c * RADIX;
    x[j + 1] = x[j + 1]! + c;
  }
}

/** Floor carries from limb 0 up to limb `to` − 1 into limb `to`: limbs in [0, 2^21). */
function carryUnsigned(x: Float64Array, to: number): void {
  for (let j = 0; j < to; j++) {
    const c = Math.floor(x[j]! / RADIX);
    x[j] = x[j]! - c * RADIX;
    x[j + 1] = x[j + 1]! + c;
  }
}

/** Limbs k = hi down to lo (lo ≥ 12) folded by 2^252 ≡ −δ onto limbs k−12…k−7, then zeroed. */
function fold(x: Float64Array, hi: number, lo: number): void {
  for (let k = hi; k >= lo; k--) {
    const v = x[k]!;
    x[k] = 0;
    for (let j = 0; j < 6; j++) x[k - 12 + j] = x[k - 12 + j]! + v * MINUS_DELTA[j]!;
  }
}

/**
 * X (limbs 0…26, each below 2^50 in magnitude) mod ℓ, written as 32 canonical bytes at
 * `out[at]`. A fixed schedule: every step runs whatever the value.
 */
function reduceInto(out: Uint8Array, at: number): void {
  const x = X;
  carryBalanced(x, 0, 26); // limbs 0…25 in [−2^20, 2^20), limb 26 small
  // Seven limbs at a time: their images (limbs ≤ hi − 7) are below the limbs folded.
  fold(x, 26, 20);
  carryBalanced(x, 0, 20);
  fold(x, 20, 14);
  carryBalanced(x, 0, 14);
  fold(x, 14, 12);
  carryBalanced(x, 0, 12); // limbs 0…11 balanced: |value − x₁₂·2^252| < 2^251 + 2^231
  fold(x, 12, 12); // value v with −2^252 < v < 2^252, so v mod ℓ is v or v + ℓ
  x[12] = 0;
  carryUnsigned(x, 12); // x₁₂ = ⌊v / 2^252⌋: −1 when v < 0, else 0
  const negative = -x[12]!; // 0 or 1
  for (let j = 0; j <= 12; j++) x[j] = x[j]! + negative * ORDER_LIMBS[j]!; // v + ℓ if v < 0
  carryUnsigned(x, 12); // 0 ≤ v < ℓ < 2^253: limbs 0…11 in [0, 2^21), x₁₂ ∈ {0, 1}
  // 13 limbs (253 bits) into 32 bytes.
  let acc = 0, bits = 0, k = at;
  for (let j = 0; j <= 12; j++) {
    acc += x[j]! * 2 ** bits;
    bits += 21;
    while (bits >= 8 && k < at + 32) {
      out[k++] = acc & 0xff;
      acc = Math.floor(acc / 256);
      bits -= 8;
    }
  }
  while (k < at + 32) out[k++] = 0; // bits 253…255
  x.fill(0);
}

/**
 * The 64-byte little-endian number at `wide[wideAt]` mod ℓ, as 32 canonical bytes at
 * `out[outAt]` (RFC 9496 §4.3.4 wide reduction, as group.ts `scalarFromWide`). Constant time.
 *
 * @param out where the scalar goes (32 bytes at `outAt`; may overlap the input)
 * @param outAt its offset
 * @param wide the 64 bytes
 * @param wideAt their offset
 * @example
 * ```ts
 * import { scalarFromWideInto } from "./scalar_bytes.ts";
 * const out = new Uint8Array(32);
 * scalarFromWideInto(out, 0, new Uint8Array(64).fill(0xff), 0);
 * console.assert(out[31]! < 0x10);
 * ```
 */
export function scalarFromWideInto(
  out: Uint8Array,
  outAt: number,
  wide: Uint8Array,
  wideAt: number,
): void {
  if (wideAt < 0 || wideAt + 64 > wide.length || outAt < 0 || outAt + 32 > out.length) {
    throw new RangeError("Wide reduction reads 64 bytes and writes 32 inside the buffers");
  }
  unpack(X, 25, wide, wideAt, 64);
  reduceInto(out, outAt);
}

/**
 * a·b + c mod ℓ for 32-byte little-endian numbers (any values below 2^256, canonical or not),
 * as 32 canonical bytes at `out[outAt]`; c may be left out (0). Constant time.
 *
 * @param out where the result goes (32 bytes at `outAt`; may be one of the inputs)
 * @param outAt its offset
 * @param inputs `a`, `b` and optionally `c`, each a buffer and the offset of its 32 bytes
 * @example
 * ```ts
 * import { scalarMulAddInto } from "./scalar_bytes.ts";
 * const two = new Uint8Array(32), three = new Uint8Array(32), out = new Uint8Array(32);
 * two[0] = 2, three[0] = 3;
 * scalarMulAddInto(out, 0, { a: two, aAt: 0, b: three, bAt: 0, c: two, cAt: 0 });
 * console.assert(out[0] === 8);
 * ```
 */
export function scalarMulAddInto(
  out: Uint8Array,
  outAt: number,
  inputs: {
    a: Uint8Array;
    aAt: number;
    b: Uint8Array;
    bAt: number;
    c?: Uint8Array;
    cAt?: number;
  },
): void {
  const { a, aAt, b, bAt, c } = inputs, cAt = inputs.cAt ?? 0;
  if (
    aAt < 0 || aAt + 32 > a.length || bAt < 0 || bAt + 32 > b.length ||
    (c !== undefined && (cAt < 0 || cAt + 32 > c.length)) || outAt < 0 || outAt + 32 > out.length
  ) {
    throw new RangeError("Scalar multiply-add reads and writes 32 bytes inside the buffers");
  }
  unpack(A, 13, a, aAt, 32);
  unpack(B, 13, b, bAt, 32);
  if (c !== undefined) unpack(C, 13, c, cAt, 32);
  else C.fill(0);
  // Schoolbook product: limb k sums at most 13 products below 2^42 (< 2^46).
  const x = X;
  for (let i = 0; i < 13; i++) {
    const ai = A[i]!;
    for (let j = 0; j < 13; j++) x[i + j] = x[i + j]! + ai * B[j]!;
  }
  for (let j = 0; j < 13; j++) x[j] = x[j]! + C[j]!;
  A.fill(0), B.fill(0), C.fill(0); // a secret's limbs do not stay behind
  reduceInto(out, outAt);
}

/**
 * Whether the 32 bytes at `bytes[at]` are a canonical scalar (below ℓ), comparing from the top
 * byte down. Variable time: for public scalars only (responses of a proof being checked).
 *
 * @param bytes the buffer
 * @param at the scalar's offset
 * @returns true when below ℓ
 * @example
 * ```ts
 * import { isCanonicalScalarAt } from "./scalar_bytes.ts";
 * console.assert(isCanonicalScalarAt(new Uint8Array(32), 0));
 * console.assert(!isCanonicalScalarAt(new Uint8Array(32).fill(0xff), 0));
 * ```
 */
export function isCanonicalScalarAt(bytes: Uint8Array, at: number): boolean {
  for (let k = 31; k >= 0; k--) {
    const x = bytes[at + k]!, l = ORDER_BYTES[k]!;
    if (x !== l) return x < l;
  }
  return false; // equal to ℓ
}

/** ℓ as 32 little-endian bytes. */
const ORDER_BYTES = new Uint8Array(32);
{
  let l = ORDER;
  for (let k = 0; k < 32; k++, l >>= 8n) ORDER_BYTES[k] = Number(l & 0xffn);
}
