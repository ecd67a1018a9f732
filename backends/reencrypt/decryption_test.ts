import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  combineDecryptionShares,
  createDecryptionShare,
  lagrangeAtZero,
  thresholdDecrypt,
  verifyDecryptionShare,
} from "./decryption.ts";
import { simulateDkg } from "./dkg.ts";
import { encrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { BASE_POINT, modL } from "./group.ts";
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
