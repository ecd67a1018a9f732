import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { combineDecryptionShares, createDecryptionShare } from "./decryption.ts";
import {
  checkDkgParameters,
  combineReceivedShares,
  createDealing,
  resolveDkg,
  simulateDkg,
  verifyDealtShare,
} from "./dkg.ts";
import { encrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { BASE_POINT, modL } from "./group.ts";

const random = seededRandom("dkg-test");

Deno.test("n-of-n is the special case t = n", () => {
  const { result, secretShares } = simulateDkg({ threshold: 3, trustees: 3 }, { random });
  const ct = encrypt(result.publicKey, [encodeInteger(77)], { random });
  const shares = secretShares.map((k) => createDecryptionShare(k, ct, { random }));
  assert.equal(decodeInteger(combineDecryptionShares(ct, shares)[0]!), 77);
  // The sum of all shares weighted by Lagrange at 0 is the joint secret.
  assert.ok(!combineDecryptionShares(ct, shares.slice(0, 2))[0]!.equals(encodeInteger(77)));
});

Deno.test("complaints: a bad share answered correctly keeps the dealer, a bad answer disqualifies", () => {
  const params = { threshold: 2, trustees: 4 };
  const dealings = [1, 2, 3, 4].map((i) => createDealing(i, { params, random }));
  // Dealer 2 sends trustee 3 a wrong share privately; trustee 3 complains.
  const wrong = modL(dealings[1]!.shares[2]! + 1n);
  assert.ok(!verifyDealtShare(dealings[1]!.commitments, { recipient: 3, share: wrong }));
  assert.ok(
    verifyDealtShare(dealings[1]!.commitments, { recipient: 3, share: dealings[1]!.shares[2]! }),
  );
  const commitments = new Map(dealings.map((d) => [d.dealer, d.commitments]));
  const complaints = [{ dealer: 2, complainant: 3 }, { dealer: 4, complainant: 1 }, {
    dealer: 1,
    complainant: 2,
  }];
  // Dealer 2 answers with the correct share, dealer 4 with a wrong one, dealer 1 not at all.
  const answers = [
    { dealer: 2, complainant: 3, share: dealings[1]!.shares[2]! },
    { dealer: 4, complainant: 1, share: modL(dealings[3]!.shares[0]! + 5n) },
  ];
  const result = resolveDkg(params, { commitments, complaints, answers });
  assert.deepEqual(result.qualified, [2, 3]);
  assert.deepEqual(result.disqualified.map((d) => d.dealer), [1, 4]);
  assert.match(result.disqualified[0]!.reason, /did not answer/);
  assert.match(result.disqualified[1]!.reason, /invalid share/);
  // Keys over QUAL decrypt; verification keys match the combined secret shares.
  const keys = [1, 2, 3, 4].map((j) =>
    combineReceivedShares(j, {
      qualified: result.qualified,
      received: new Map(dealings.map((d) => [d.dealer, d.shares[j - 1]!])),
    })
  );
  keys.forEach((k, j) =>
    assert.ok(BASE_POINT.multiply(k.secret).equals(result.verificationKeys[j]!))
  );
  const ct = encrypt(result.publicKey, [encodeInteger(5)], { random });
  const shares = [keys[0]!, keys[3]!].map((k) => createDecryptionShare(k, ct, { random }));
  assert.equal(decodeInteger(combineDecryptionShares(ct, shares)[0]!), 5);
});

Deno.test("malformed dealings disqualify and too few qualified dealers fail", () => {
  const params = { threshold: 2, trustees: 3 };
  const dealings = [1, 2, 3].map((i) => createDealing(i, { params, random }));
  const commitments = new Map(dealings.map((d) => [d.dealer, d.commitments]));
  commitments.set(1, dealings[0]!.commitments.slice(0, 1));
  commitments.delete(3);
  assert.throws(
    () => resolveDkg(params, { commitments, complaints: [], answers: [] }),
    /only 1 dealers qualified/,
  );
  assert.throws(() => checkDkgParameters({ threshold: 4, trustees: 3 }), InvalidInputError);
  assert.throws(() => checkDkgParameters({ threshold: 0, trustees: 3 }), InvalidInputError);
});
