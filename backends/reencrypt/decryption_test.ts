import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  combineDecryptionShares,
  createDecryptionShare,
  lagrangeAtZero,
  LagrangeCombiner,
  thresholdDecrypt,
  verifyDecryptionShare,
} from "./decryption.ts";
import { simulateDkg } from "./dkg.ts";
import { encrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { BASE_POINT, linearCombination, modL, randomScalar } from "./group.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

const random = seededRandom("decryption-test");

Deno.test("2-of-3 threshold decryption with any two trustees, w = 2", () => {
  const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 }, { random });
  const ct = encrypt(result.publicKey, [encodeInteger(11), encodeInteger(12)], { random });
  for (const pair of [[0, 1], [0, 2], [1, 2]]) {
    const shares = pair.map((j) => createDecryptionShare(secretShares[j]!, ct, { random }));
    shares.forEach((s) => {
      verifyDecryptionShare(s, {
        ciphertext: ct,
        verificationKey: result.verificationKeys[s.trustee - 1]!,
      });
    });
    assert.deepEqual(combineDecryptionShares(ct, shares).map(decodeInteger), [11, 12]);
  }
  // One share is not enough: combining it alone gives a wrong element.
  const alone = combineDecryptionShares(ct, [createDecryptionShare(secretShares[0]!, ct)]);
  assert.ok(!alone[0]!.equals(encodeInteger(11)));
});

Deno.test("a bad decryption share is rejected naming its trustee", async () => {
  const { result, secretShares } = simulateDkg({ threshold: 2, trustees: 3 }, { random });
  const cts = [1, 2, 3].map((v) => encrypt(result.publicKey, [encodeInteger(v)], { random }));
  const shares = secretShares.map((key) =>
    cts.map((ct) => createDecryptionShare(key, ct, { random }))
  );
  const verificationKeys = new Map(result.verificationKeys.map((vk, j) => [j + 1, vk]));
  const out = thresholdDecrypt(cts, { shares, verificationKeys, threshold: 2 });
  assert.deepEqual(out.map((m) => decodeInteger(m[0]!)), [1, 2, 3]);
  // Trustee 2 publishes a wrong share element for ciphertext 1.
  const bad = shares.map((row) => row.slice());
  bad[1]![1] = { ...bad[1]![1]!, shares: [bad[1]![1]!.shares[0]!.add(BASE_POINT)] };
  await assertRejectsWith(
    () => thresholdDecrypt(cts, { shares: bad, verificationKeys, threshold: 2 }),
    VerificationError,
    /trustee 2/,
  );
  // A share checked against another trustee's key, and a share for another ciphertext.
  await assertRejectsWith(
    () =>
      verifyDecryptionShare(shares[0]![0]!, {
        ciphertext: cts[0]!,
        verificationKey: result.verificationKeys[1]!,
      }),
    VerificationError,
    /trustee 1/,
  );
  await assertRejectsWith(
    () =>
      verifyDecryptionShare(shares[0]![0]!, {
        ciphertext: cts[1]!,
        verificationKey: result.verificationKeys[0]!,
      }),
    VerificationError,
  );
  const tweaked = { ...shares[2]![0]!, response: modL(shares[2]![0]!.response + 1n) };
  await assertRejectsWith(
    () =>
      verifyDecryptionShare(tweaked, {
        ciphertext: cts[0]!,
        verificationKey: result.verificationKeys[2]!,
      }),
    VerificationError,
    /trustee 3/,
  );
});

Deno.test("Lagrange coefficients interpolate a line at zero", () => {
  // f(x) = 5 + 3x: f(1) = 8, f(3) = 14.
  const l1 = lagrangeAtZero(1, [1, 3]), l3 = lagrangeAtZero(3, [1, 3]);
  assert.equal(modL(l1 * 8n + l3 * 14n), 5n);
  assert.throws(
    () => combineDecryptionShares(encrypt(BASE_POINT, [encodeInteger(1)]), []),
    InvalidInputError,
  );
});

Deno.test("LagrangeCombiner: small numerators over a common denominator equal λ mod ℓ", () => {
  // Trustees 1..t: D = 1 and λⱼ = (−1)^(j−1)·C(t, j).
  const first4 = new LagrangeCombiner([1, 2, 3, 4]);
  assert.equal(first4.denominator, 1n);
  assert.deepEqual(first4.numerators, [4n, -6n, 4n, -1n]);
  const sets = [[1], [2], [1, 3], [2, 3], [3, 1], [1, 2, 5], [4, 7, 9, 2], [10, 1, 6], [
    5,
    6,
    7,
    8,
    9,
  ]];
  for (let r = 0; r < 20; r++) {
    const set = [
      ...new Set(Array.from({ length: 1 + r % 5 }, () => 1 + Number(randomScalar(random) % 12n))),
    ];
    sets.push(set);
  }
  for (const set of sets) {
    const c = new LagrangeCombiner(set);
    assert.ok(c.denominator >= 1n);
    set.forEach((j, i) => {
      // nⱼ ≡ λⱼ·D (mod ℓ)
      assert.equal(
        modL(c.numerators[i]!),
        modL(lagrangeAtZero(j, set) * c.denominator),
        `set ${set}`,
      );
    });
    const ds = set.map(() => BASE_POINT.multiply(randomScalar(random)));
    const c2 = BASE_POINT.multiply(randomScalar(random));
    const expected = c2.subtract(linearCombination(ds, set.map((j) => lagrangeAtZero(j, set))));
    const m = c.decrypt(c2, ds);
    assert.ok(m.equals(expected), `decrypt, set ${set}`);
    assert.ok(c.matches({ c2, shares: ds, plaintext: m }));
    assert.ok(!c.matches({ c2, shares: ds, plaintext: m.add(BASE_POINT) }));
    if (set.length > 1) {
      // A share altered by one trustee's worth of g is caught.
      const altered = ds.map((d, i) => i === 0 ? d.add(BASE_POINT) : d);
      assert.ok(!c.matches({ c2, shares: altered, plaintext: m }), `altered share, set ${set}`);
    }
  }
  assert.throws(() => new LagrangeCombiner([]), InvalidInputError);
  assert.throws(() => new LagrangeCombiner([1, 1]), InvalidInputError);
  assert.throws(() => new LagrangeCombiner([0, 1]), InvalidInputError);
  assert.throws(() => first4.decrypt(BASE_POINT, [BASE_POINT]), InvalidInputError);
});
