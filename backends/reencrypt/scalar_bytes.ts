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
/** 2^−21: a product by it is the exact division (a power of two), cheaper than dividing. */
const INV_RADIX = 2 ** -21;
/**
 * 1.5·2^52: y + MAGIC − MAGIC is y rounded to the nearest integer for |y| < 2^51 (the float
 * addition rounds away the fraction), with no call to Math.floor (a library call here) and no
 * branch.
 */
const MAGIC = 1.5 * 2 ** 52;
/** Shifts y = x·2^−21 (x an integer) so that rounding it to the nearest integer floors y. */
const FLOOR_SHIFT = -0.5 + 2 ** -22;
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

/**
 * Carries of limbs to − 1 down to `from` (each into the limb above), all from the limbs'
 * values before this pass: no carry waits for the one below it, so the pass runs at the
 * processor's throughput, not its latency (issue 17). Afterwards a limb is within
 * [−2^20, 2^20] plus the carry it received: limbs below 2^k in magnitude are within
 * 2^20 + 2^(k−21) after one pass and within 2^20 + 2^(k−42) + 1 after two (2^20 + 2^10 + 1
 * for k = 52).
 */
function carryPass(x: Float64Array, from: number, to: number): void {
  for (let j = to - 1; j >= from; j--) {
    const c = x[j]! * INV_RADIX + MAGIC - MAGIC; // nearest integer to x / 2^21
    x[j] = x[j]! - c * RADIX;
    x[j + 1] = x[j + 1]! + c;
  }
}

/**
 * Two {@linkcode carryPass}es: limbs from…to − 1 below 2^k become within 2^20 + 2^(k−42) + 1
 * (within 2^20 + 2 for k ≤ 42), carries into limb `to`.
 */
function carryBalanced(x: Float64Array, from: number, to: number): void {
  carryPass(x, from, to);
  carryPass(x, from, to);
}

/** Floor carries from limb 0 up to limb `to` − 1 into limb `to`: limbs in [0, 2^21). */
function carryUnsigned(x: Float64Array, to: number): void {
  for (let j = 0; j < to; j++) {
    const c = x[j]! * INV_RADIX + FLOOR_SHIFT + MAGIC - MAGIC; // ⌊x / 2^21⌋
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
 * X (limbs 0…26, each below 2^50 in magnitude; below 2^21 when `normalized`) mod ℓ, written
 * as 32 canonical bytes at `out[at]`. A fixed schedule: every step runs whatever the value.
 */
function reduceInto(out: Uint8Array, at: number, normalized: boolean): void {
  const x = X;
  // Limbs 0…25 within 2^20 + 2^8 + 1, limb 26 small (a wide input's limbs are below 2^21 already).
  if (!normalized) carryBalanced(x, 0, 26);
  // Seven limbs at a time: their images (limbs ≤ hi − 7) are below the limbs folded.
  fold(x, 26, 20);
  carryBalanced(x, 0, 20);
  fold(x, 20, 14);
  carryBalanced(x, 0, 14);
  fold(x, 14, 12);
  // Now limbs 12…26 are 0, limbs 8…11 within 2^20 + 2^3 + 1 and limbs 0…7 below 2^45, so
  // the value v (which the carries below keep) has |v| < (2^20 + 9)·2^231·(1 + 2^−20) + 2^193
  // < 2^252. Hence ⌊v / 2^252⌋ ∈ {−1, 0}, and since ℓ > 2^252, v or v + ℓ is in [0, ℓ).
  carryBalanced(x, 0, 12);
  carryUnsigned(x, 12); // x₁₂ = ⌊v / 2^252⌋: −1 when v < 0, else 0
  const negative = -x[12]!; // 0 or 1
  for (let j = 0; j <= 12; j++) x[j] = x[j]! + negative * ORDER_LIMBS[j]!; // v + ℓ if v < 0
  carryUnsigned(x, 12); // 0 ≤ v < ℓ < 2^253: limbs 0…11 in [0, 2^21), x₁₂ ∈ {0, 1}
  // 13 limbs (253 bits) into 32 bytes.
  let acc = 0, bits = 0, k = at;
  for (let j = 0; j <= 12; j++) {
    acc += x[j]! * (1 << bits); // bits < 8 here: an integer, no power computed
    bits += 21;
    while (bits >= 8 && k < at + 32) {
      out[k++] = acc & 0xff;
      acc >>>= 8; // acc < 2^28: an integer shift
      bits -= 8;
    }
  }
  while (k < at + 32) out[k++] = 0; // bits 253…255
  zero(x, LIMBS);
}

/** Zeroes the first n limbs (a loop: a fill call costs more than these few stores). */
function zero(x: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) x[j] = 0;
}

/**
 * The 64-byte little-endian number at `wide[wideAt]` mod ℓ, as 32 canonical bytes at
 * `out[outAt]` (RFC 9496 §4.3.4 wide reduction, as group.ts `scalarFromWide`). Constant time.
 *
 * @param out where the scalar goes (32 bytes at `outAt`; may overlap the input)
 * @param outAt its offset
 * @param wide the 64 bytes
 * @param wideAt their offset
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
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
    throw new RangeError(
      `Wide reduction reads 64 bytes at ${wideAt} of ${wide.length} and writes 32 at ${outAt} ` +
        `of ${out.length}: outside the buffers (a caller's bug)`,
    );
  }
  unpack(X, 25, wide, wideAt, 64);
  reduceInto(out, outAt, true);
}

/**
 * a·b + c mod ℓ for 32-byte little-endian numbers (any values below 2^256, canonical or not),
 * as 32 canonical bytes at `out[outAt]`; c may be left out (0). Constant time.
 *
 * @param out where the result goes (32 bytes at `outAt`; may be one of the inputs)
 * @param outAt its offset
 * @param inputs `a`, `b` and optionally `c`, each a buffer and the offset of its 32 bytes
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
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
    throw new RangeError(
      `Scalar multiply-add reads 32 bytes at ${aAt} of ${a.length}, ${bAt} of ${b.length}` +
        (c === undefined ? "" : `, ${cAt} of ${c.length}`) +
        ` and writes 32 at ${outAt} of ${out.length}: outside the buffers (a caller's bug)`,
    );
  }
  unpack(A, 13, a, aAt, 32);
  unpack(B, 13, b, bAt, 32);
  if (c !== undefined) unpack(C, 13, c, cAt, 32);
  else zero(C, 13);
  // Schoolbook product by columns (a sum in a register, one store per limb): limb k sums at
  // most 13 products below 2^42 (< 2^46).
  const x = X;
  for (let k = 0; k < 25; k++) {
    let sum = k < 13 ? C[k]! : 0;
    const lo = k < 13 ? 0 : k - 12, hi = k < 13 ? k : 12;
    for (let i = lo; i <= hi; i++) sum += A[i]! * B[k - i]!;
    x[k] = sum;
  }
  zero(A, 13), zero(B, 13), zero(C, 13); // a secret's limbs do not stay behind
  reduceInto(out, outAt, false);
}

/**
 * x/2 mod ℓ for a canonical scalar x (below ℓ): (x + (x mod 2)·ℓ) / 2, the odd case made even
 * by adding ℓ, as 32 canonical bytes at `out[outAt]`. Constant time: the parity is used as a
 * 0/1 factor, never branched on.
 *
 * @param out where the result goes (32 bytes at `outAt`; may be the input)
 * @param outAt its offset
 * @param x the scalar's buffer
 * @param xAt the scalar's offset
 * @throws {RangeError} when a range is outside its buffer: a programmer error (the library's
 *   callers check lengths and offsets first; no user input reaches it)
 * @example
 * ```ts
 * import { scalarHalfInto } from "./scalar_bytes.ts";
 * const x = new Uint8Array(32);
 * x[0] = 6;
 * scalarHalfInto(x, 0, x, 0);
 * console.assert(x[0] === 3);
 * ```
 */
export function scalarHalfInto(out: Uint8Array, outAt: number, x: Uint8Array, xAt: number): void {
  if (xAt < 0 || xAt + 32 > x.length || outAt < 0 || outAt + 32 > out.length) {
    throw new RangeError(
      `Scalar halving reads 32 bytes at ${xAt} of ${x.length} and writes 32 at ${outAt} of ` +
        `${out.length}: outside the buffers (a caller's bug)`,
    );
  }
  const odd = x[xAt]! & 1, sum = SUM;
  let carry = 0;
  for (let k = 0; k < 32; k++) {
    const t = x[xAt + k]! + odd * ORDER_BYTES[k]! + carry;
    sum[k] = t & 0xff;
    carry = t >>> 8;
  }
  sum[32] = carry; // x + ℓ < 2^254: no carry beyond
  for (let k = 0; k < 32; k++) out[outAt + k] = (sum[k]! >>> 1) | ((sum[k + 1]! & 1) << 7);
  for (let k = 0; k <= 32; k++) sum[k] = 0;
}

/** The halving's sum x + ℓ (33 bytes). */
const SUM = new Uint8Array(33);

/**
 * 1 when the 32 bytes at `bytes[at]` are a canonical scalar (below ℓ), else 0, in constant
 * time (the borrow of x − ℓ, byte by byte, with no branch): for secret scalars.
 *
 * @param bytes the buffer
 * @param at the scalar's offset
 * @returns 1 or 0
 * @example
 * ```ts
 * import { scalarBelowOrder } from "./scalar_bytes.ts";
 * console.assert(scalarBelowOrder(new Uint8Array(32), 0) === 1);
 * console.assert(scalarBelowOrder(new Uint8Array(32).fill(0xff), 0) === 0);
 * ```
 */
export function scalarBelowOrder(bytes: Uint8Array, at: number): number {
  let borrow = 0;
  for (let k = 0; k < 32; k++) borrow = ((bytes[at + k]! - ORDER_BYTES[k]! - borrow) >>> 31) & 1;
  return borrow;
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
