import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import { proveEncryptionKnowledge, verifyEncryptionKnowledge } from "./encryption_proof.ts";
import { modL, randomScalars } from "./group.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

const random = seededRandom("encryption-proof-test");

Deno.test("encryption knowledge proofs verify and are bound to key, ciphertext and context", async () => {
  const { publicKey } = generateKeyPair(random);
  const context = new TextEncoder().encode("election-1|voter-42");
  for (let w = 1; w <= 3; w++) {
    const randomness = randomScalars(w, random);
    const ciphertext = encrypt(publicKey, Array.from({ length: w }, () => encodeInteger(w)), {
      randomness,
    });
    const proof = proveEncryptionKnowledge({ publicKey, ciphertext, context }, {
      randomness,
      random,
    });
    verifyEncryptionKnowledge({ publicKey, ciphertext, context }, proof);
    const otherContext = new TextEncoder().encode("election-1|voter-43");
    await assertRejectsWith(
      () => verifyEncryptionKnowledge({ publicKey, ciphertext, context: otherContext }, proof),
      VerificationError,
    );
    // Copying the proof onto a re-encryption of the ballot fails.
    const copy = reencrypt(publicKey, ciphertext, { random });
    await assertRejectsWith(
      () => verifyEncryptionKnowledge({ publicKey, ciphertext: copy, context }, proof),
      VerificationError,
    );
    await assertRejectsWith(
      () =>
        verifyEncryptionKnowledge({
          publicKey: generateKeyPair(random).publicKey,
          ciphertext,
          context,
        }, proof),
      VerificationError,
    );
    const bad = { ...proof, responses: proof.responses.map((z) => modL(z + 1n)) };
    await assertRejectsWith(
      () => verifyEncryptionKnowledge({ publicKey, ciphertext, context }, bad),
      VerificationError,
    );
    await assertRejectsWith(
      () => proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness: [] }),
      InvalidInputError,
    );
    // A prover without the randomness cannot make a valid proof.
    const forged = proveEncryptionKnowledge({ publicKey, ciphertext, context }, {
      randomness: randomScalars(w, random),
    });
    await assertRejectsWith(
      () => verifyEncryptionKnowledge({ publicKey, ciphertext, context }, forged),
      VerificationError,
    );
  }
});
