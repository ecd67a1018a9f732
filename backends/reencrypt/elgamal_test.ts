import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { Ciphertext, decrypt, encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { IDENTITY } from "./group.ts";

const random = seededRandom("elgamal-test");

Deno.test("encrypt, re-encrypt, decrypt round trip for w = 1..3", () => {
  const keys = generateKeyPair(random);
  for (let w = 1; w <= 3; w++) {
    const values = Array.from({ length: w }, (_, k) => 10 * w + k);
    const ct = encrypt(keys.publicKey, values.map(encodeInteger), { random });
    assert.equal(ct.width, w);
    const re = reencrypt(keys.publicKey, ct, { random });
    assert.notDeepEqual(re.bytes, ct.bytes);
    assert.deepEqual(decrypt(keys.secretKey, re).map(decodeInteger), values);
    assert.deepEqual(Ciphertext.fromBytes(re.bytes, "ct").bytes, re.bytes);
  }
});

Deno.test("ciphertext decoding rejects bad sizes, identity and non-canonical elements", () => {
  const keys = generateKeyPair(random);
  const ct = encrypt(keys.publicKey, [encodeInteger(1)], { random });
  assert.throws(() => Ciphertext.fromBytes(ct.bytes.subarray(0, 63), "ct"), InvalidInputError);
  const zeroed = ct.bytes.slice();
  zeroed.fill(0, 0, 32);
  assert.throws(() => Ciphertext.fromBytes(zeroed, "ct"), /ct\.c1\[0\].*identity/);
  const flipped = ct.bytes.slice();
  flipped[32]! |= 1;
  assert.throws(() => Ciphertext.fromBytes(flipped, "ct"), /ct\.c2\[0\]/);
  assert.throws(() => encrypt(IDENTITY, [encodeInteger(1)]), InvalidInputError);
  assert.throws(
    () => encrypt(keys.publicKey, [encodeInteger(1)], { randomness: [1n, 2n] }),
    InvalidInputError,
  );
});

Deno.test("Ciphertext.fromBytes names the first bad element as c1[k] or c2[k]", () => {
  const keys = generateKeyPair();
  const ct = encrypt(keys.publicKey, [encodeInteger(1), encodeInteger(2)]);
  const cases: [number, (b: Uint8Array) => void, string][] = [
    [0, (b) => b.fill(0, 0, 32), "Group element 'ct.c1[0]' must not be the identity"],
    [
      1,
      (b) => (b[32] = b[32]! | 1),
      "Group element 'ct.c2[0]' is not a canonical ristretto255 encoding",
    ],
    [
      3,
      (b) => (b[96] = b[96]! | 1),
      "Group element 'ct.c2[1]' is not a canonical ristretto255 encoding",
    ],
  ];
  for (const [, tamper, message] of cases) {
    const bytes = ct.bytes.slice();
    tamper(bytes);
    assert.throws(
      () => Ciphertext.fromBytes(bytes, "ct"),
      (e: unknown) => e instanceof Error && e.message === message,
    );
  }
  assert.deepEqual(Ciphertext.fromBytes(ct.bytes, "ct").bytes, ct.bytes);
});
