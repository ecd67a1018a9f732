import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import {
  encryptAndProveMany,
  type EncryptionProof,
  proveEncryptionKnowledge,
  verifyEncryptionKnowledge,
  verifyEncryptionKnowledgeBatch,
} from "./encryption_proof.ts";
import { BASE_POINT, GROUP_ORDER, modL, packScalars, randomScalars } from "./group.ts";
import type { Ciphertext } from "./elgamal.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";
import { allowWasmPairs } from "./curve_wasm.ts";

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
    // A commitment swapped for another valid element changes the challenge.
    const moved = proof.commitments.slice();
    moved.set(BASE_POINT.toBytes(), 0);
    await assertRejectsWith(
      () =>
        verifyEncryptionKnowledge({ publicKey, ciphertext, context }, {
          ...proof,
          commitments: moved,
        }),
      VerificationError,
    );
    const garbled = proof.commitments.slice();
    garbled.fill(0xff, 0, 32);
    await assertRejectsWith(
      () =>
        verifyEncryptionKnowledge({ publicKey, ciphertext, context }, {
          ...proof,
          commitments: garbled,
        }),
      InvalidInputError,
    );
    await assertRejectsWith(
      () =>
        verifyEncryptionKnowledge({ publicKey, ciphertext, context }, {
          ...proof,
          commitments: proof.commitments.subarray(32),
        }),
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

function makeItems(
  publicKey: ReturnType<typeof generateKeyPair>["publicKey"],
  count: number,
  width: number,
): Array<{ ciphertext: Ciphertext; context: Uint8Array; proof: EncryptionProof }> {
  return Array.from({ length: count }, (_, i) => {
    const randomness = randomScalars(width, random);
    const ciphertext = encrypt(
      publicKey,
      Array.from({ length: width }, () => encodeInteger(i)),
      { randomness, random },
    );
    const context = new TextEncoder().encode(`voter-${i}`);
    const proof = proveEncryptionKnowledge({ publicKey, ciphertext, context }, {
      randomness,
      random,
    });
    return { ciphertext, context, proof };
  });
}

/**
 * The items with z₀ + 1 in the first proof and z₁ − 1 in the second: two invalid proofs whose
 * errors cancel under equal batch weights.
 */
function cancellingPair<T extends { proof: EncryptionProof }>(items: readonly T[]): T[] {
  const [a, b] = items;
  return [
    { ...a!, proof: { ...a!.proof, responses: a!.proof.responses.map((z) => modL(z + 1n)) } },
    { ...b!, proof: { ...b!.proof, responses: b!.proof.responses.map((z) => modL(z - 1n)) } },
    ...items.slice(2),
  ];
}

Deno.test("batch verification accepts valid proofs and names each bad one", () => {
  const { publicKey } = generateKeyPair(random);
  for (const width of [1, 2]) {
    const items = makeItems(publicKey, 12, width);
    const ok = verifyEncryptionKnowledgeBatch({ publicKey, items }, { random });
    assert.deepEqual(ok, items.map(() => undefined));
    // One bad response inside a batch of valid proofs.
    const tampered = items.slice();
    const t5 = tampered[5]!;
    tampered[5] = {
      ...t5,
      proof: {
        ...t5.proof,
        responses: t5.proof.responses.map((z, k) => k === width - 1 ? modL(z + 1n) : z),
      },
    };
    const one = verifyEncryptionKnowledgeBatch({ publicKey, items: tampered });
    assert.deepEqual(one.map((f) => f === undefined), items.map((_, i) => i !== 5));
    assert.ok(one[5] instanceof VerificationError);
    // A proof moved to another voter's context, a malformed commitment, a wrong width.
    const t2 = tampered[2]!, t8 = tampered[8]!, t9 = tampered[9]!;
    tampered[2] = { ...t2, context: items[3]!.context };
    const garbled = t8.proof.commitments.slice();
    garbled.fill(0xff, 0, 32);
    tampered[8] = { ...t8, proof: { ...t8.proof, commitments: garbled } };
    tampered[9] = { ...t9, proof: { ...t9.proof, responses: [] } };
    const many = verifyEncryptionKnowledgeBatch({ publicKey, items: tampered });
    assert.deepEqual(
      many.map((f) => f?.constructor.name ?? "ok"),
      items.map((_, i) =>
        i === 8 ? "InvalidInputError" : i === 2 || i === 5 || i === 9 ? "VerificationError" : "ok"
      ),
    );
  }
});

Deno.test("batch verification: a one-proof batch and a batch whose errors cancel in pairs", () => {
  const { publicKey } = generateKeyPair(random);
  const items = makeItems(publicKey, 4, 1);
  assert.deepEqual(verifyEncryptionKnowledgeBatch({ publicKey, items: items.slice(0, 1) }), [
    undefined,
  ]);
  // z₀ + 1 and z₁ − 1: the unweighted sums still balance, the random weights do not.
  const [a, b] = items;
  const shifted = [
    { ...a!, proof: { ...a!.proof, responses: [modL(a!.proof.responses[0]! + 1n)] } },
    { ...b!, proof: { ...b!.proof, responses: [modL(b!.proof.responses[0]! - 1n)] } },
    ...items.slice(2),
  ];
  const out = verifyEncryptionKnowledgeBatch({ publicKey, items: shifted });
  assert.deepEqual(out.map((f) => f instanceof VerificationError), [true, true, false, false]);
  assert.deepEqual(verifyEncryptionKnowledgeBatch({ publicKey, items: [] }), []);
});

Deno.test("batch verification decides by the weighted equation alone when it holds", () => {
  const { publicKey } = generateKeyPair(random);
  const items = makeItems(publicKey, 6, 2);
  // z₀ + 1 and z₁ − 1 are two invalid proofs whose errors cancel under EQUAL weights: with a
  // constant "random" source the batch equation holds and no proof is checked alone, which
  // shows both that the equation decides and why the weights must be unpredictable.
  const cancelling = cancellingPair(items);
  const constant = (out: Uint8Array) => void out.fill(7);
  assert.deepEqual(
    verifyEncryptionKnowledgeBatch({ publicKey, items: cancelling }, { random: constant }),
    items.map(() => undefined),
  );
  assert.deepEqual(
    verifyEncryptionKnowledgeBatch({ publicKey, items: cancelling }, { random }).map((f) =>
      f instanceof VerificationError
    ),
    [true, true, false, false, false, false],
  );
});

Deno.test("batch verification: unchecked ciphertexts whose c1 or c2 does not decode are named", async () => {
  const { Ciphertext } = await import("./elgamal.ts");
  const { publicKey } = generateKeyPair(random);
  for (const width of [1, 2]) {
    // Proofs made over the bytes as given: a c2 that does not decode is bound by a valid proof.
    const make = (bytes: Uint8Array, randomness: bigint[], i: number) => {
      const ciphertext = Ciphertext.unchecked(bytes, "ballot");
      const context = new TextEncoder().encode(`voter-${i}`);
      return {
        ciphertext,
        context,
        proof: proveEncryptionKnowledge({ publicKey, ciphertext, context }, { randomness }),
      };
    };
    const randomness = Array.from({ length: 7 }, () => randomScalars(width, random));
    const bytes = randomness.map((r, i) =>
      encrypt(publicKey, Array.from({ length: width }, () => encodeInteger(i)), {
        randomness: r,
      }).bytes
    );
    const items = bytes.map((b, i) => make(b, randomness[i]!, i));
    assert.deepEqual(
      verifyEncryptionKnowledgeBatch({ publicKey, items }),
      items.map(() => undefined),
    );
    // Each alone: the last c2 not canonical, the last c2 the identity, c1 the identity.
    for (
      const [i, offset, value] of [[1, 64 * width - 32, 0xff], [5, 64 * width - 32, 0], [3, 0, 0]]
    ) {
      const spoiled = items.slice();
      const b = bytes[i!]!.slice();
      b.fill(value!, offset!, offset! + 32);
      spoiled[i!] = make(b, randomness[i!]!, i!);
      const out = verifyEncryptionKnowledgeBatch({ publicKey, items: spoiled });
      assert.deepEqual(
        out.map((f) => f?.constructor.name ?? "ok"),
        items.map((_, j) => j === i ? "InvalidInputError" : "ok"),
      );
    }
  }
});

Deno.test("encryptAndProveMany gives the ciphertexts and proofs of encrypt and proveEncryptionKnowledge one by one", () => {
  const { publicKey } = generateKeyPair(seededRandom("batch key"));
  // Widths 1, 3, 2 (odd total: the SIMD pairs' last lane alone), a repeated message.
  const widths = [1, 3, 2];
  const items = widths.map((w, i) => ({
    messages: Array.from({ length: w }, (_, k) => encodeInteger(k === 0 ? 7 : 100 * i + k)),
    randomness: randomScalars(w, seededRandom(`r${i}`)),
    nonces: randomScalars(w, seededRandom(`a${i}`)),
    context: new Uint8Array([i, 1, 2]),
  }));
  const made = encryptAndProveMany(publicKey, items);
  assert.equal(made.length, items.length);
  made.forEach(({ ciphertext, proof }, i) => {
    const item = items[i]!;
    const one = encrypt(publicKey, item.messages, { randomness: item.randomness });
    assert.deepEqual(ciphertext.bytes, one.bytes, `ciphertext ${i}`);
    const single = proveEncryptionKnowledge(
      { publicKey, ciphertext: one, context: item.context },
      { randomness: item.randomness, random: seededRandom(`a${i}`) },
    );
    assert.deepEqual(proof.commitments, single.commitments, `commitments ${i}`);
    assert.deepEqual(proof.responses, single.responses, `responses ${i}`);
    verifyEncryptionKnowledge({ publicKey, ciphertext, context: item.context }, proof);
    // The ciphertext's points decode on use (made from valid points).
    assert.ok(ciphertext.c2(0).equals(one.c2(0)));
  });
  // Few messages, each used by many elements: their halves are computed once (the other
  // path), same bytes; embedded messages decode to points with or without 4-torsion.
  const shared = [1, 2, 3, 4].map(encodeInteger);
  const many = Array.from({ length: 70 }, (_, i) => ({
    messages: [shared[i % 4]!],
    randomness: randomScalars(1, seededRandom(`R${i}`)),
    nonces: randomScalars(1, seededRandom(`A${i}`)),
    context: new Uint8Array([i]),
  }));
  // Twice: the second call finds the halves of the same message points kept.
  [...encryptAndProveMany(publicKey, many), ...encryptAndProveMany(publicKey, many)].forEach((
    { ciphertext, proof },
    j,
  ) => {
    const i = j % many.length;
    const item = many[i]!;
    const one = encrypt(publicKey, item.messages, { randomness: item.randomness });
    assert.deepEqual(ciphertext.bytes, one.bytes, `shared ciphertext ${i}`);
    const single = proveEncryptionKnowledge(
      { publicKey, ciphertext: one, context: item.context },
      { randomness: item.randomness, random: seededRandom(`A${i}`) },
    );
    assert.deepEqual(packed(proof), packed(single), `shared proof ${i}`);
  });
  assert.deepEqual(encryptAndProveMany(publicKey, []), []);
  const item = items[0]!;
  assert.throws(
    () => encryptAndProveMany(BASE_POINT.subtract(BASE_POINT), [item]),
    /Public key must not be the identity/,
  );
  assert.throws(
    () => encryptAndProveMany(publicKey, [{ ...item, randomness: [] }]),
    /Randomness has 0 scalars for 1 elements/,
  );
  assert.throws(
    () => encryptAndProveMany(publicKey, [{ ...item, nonces: [1n, 2n] }]),
    /Encryption proof needs 1 nonces, got 2/,
  );
  assert.throws(
    () => encryptAndProveMany(publicKey, [{ ...item, messages: [], randomness: [], nonces: [] }]),
    /Ciphertext needs 1 to 64 pairs/,
  );
});

function packed(proof: EncryptionProof): string {
  return [...proof.commitments, ...proof.responses].join(",");
}

Deno.test("batch verification of packed proofs (responses as bytes): the verdicts of bigint ones", () => {
  const { publicKey } = generateKeyPair(random);
  const items = makeItems(publicKey, 8, 2);
  const pack = (p: EncryptionProof) => ({
    commitments: p.commitments,
    packedResponses: packScalars(p.responses),
  });
  const packed = items.map((item) => ({ ...item, proof: pack(item.proof) }));
  assert.deepEqual(
    verifyEncryptionKnowledgeBatch({ publicKey, items: packed }),
    items.map(() => undefined),
  );
  // The equation alone decides (constant weights let cancelling errors through), so the fast
  // path reads the packed responses themselves.
  const cancelling = cancellingPair(items);
  const constant = (out: Uint8Array) => void out.fill(7);
  const cancellingPacked = cancelling.map((item) => ({ ...item, proof: pack(item.proof) }));
  assert.deepEqual(
    verifyEncryptionKnowledgeBatch({ publicKey, items: cancellingPacked }, { random: constant }),
    items.map(() => undefined),
  );
  // Bad ones named as for bigint proofs; a response not below ℓ (z + ℓ) is malformed.
  const bad = packed.slice();
  bad[1] = cancellingPacked[0]!;
  bad[3] = { ...bad[3]!, context: items[4]!.context };
  const z = items[6]!.proof.responses[1]!;
  const nonCanonical = bad[6]!.proof.packedResponses.slice();
  nonCanonical.set(packScalars([0n]), 32); // replaced below by z + ℓ's bytes
  let x = z + GROUP_ORDER;
  for (let k = 32; k < 64; k++, x >>= 8n) nonCanonical[k] = Number(x & 0xffn);
  bad[6] = { ...bad[6]!, proof: { ...bad[6]!.proof, packedResponses: nonCanonical } };
  const named = verifyEncryptionKnowledgeBatch({ publicKey, items: bad }, { random });
  assert.deepEqual(
    named.map((f) => f?.constructor.name ?? "ok"),
    items.map((_, i) =>
      i === 6 ? "InvalidInputError" : i === 1 || i === 3 ? "VerificationError" : "ok"
    ),
  );
  // The same z + ℓ as a bigint response is the same scalar: valid, as before.
  const loose = items.slice();
  loose[6] = {
    ...loose[6]!,
    proof: { ...loose[6]!.proof, responses: [items[6]!.proof.responses[0]!, z + GROUP_ORDER] },
  };
  assert.deepEqual(
    verifyEncryptionKnowledgeBatch({ publicKey, items: loose }),
    items.map(() => undefined),
  );
});

Deno.test("encryptAndProveMany: randomness and nonces as bytes give the bytes of bigints, SIMD on or off", () => {
  const { publicKey } = generateKeyPair(seededRandom("bytes key"));
  // Distinct messages (c2 encoded as is) and shared ones (halved): both paths of c2.
  const shared = [1, 2, 3].map(encodeInteger);
  for (const kind of ["distinct", "shared"]) {
    const items = Array.from({ length: kind === "shared" ? 60 : 5 }, (_, i) => {
      const w = 1 + (i % 3);
      return {
        messages: Array.from(
          { length: w },
          (_, k) => kind === "shared" ? shared[(i + k) % 3]! : encodeInteger(10 * i + k),
        ),
        randomness: randomScalars(w, seededRandom(`br${kind}${i}`)),
        nonces: randomScalars(w, seededRandom(`ba${kind}${i}`)),
        context: new Uint8Array([i, 9]),
      };
    });
    const want = encryptAndProveMany(publicKey, items).map(({ ciphertext, proof }) =>
      [...ciphertext.bytes].join() + "|" + packed(proof)
    );
    // Bigints out of range are reduced mod ℓ, as before: r + ℓ and a − ℓ are r and a.
    const loose = items.map((item) => ({
      ...item,
      randomness: item.randomness.map((x) => x + GROUP_ORDER),
      nonces: item.nonces.map((x) => x - GROUP_ORDER),
    }));
    const asBytes = items.map((item) => ({
      ...item,
      randomness: packScalars(item.randomness),
      nonces: packScalars(item.nonces),
    }));
    for (const pairs of [true, false]) {
      allowWasmPairs(pairs);
      try {
        for (const variant of [asBytes, loose]) {
          const got = encryptAndProveMany(publicKey, variant).map(({ ciphertext, proof }) =>
            [...ciphertext.bytes].join() + "|" + packed(proof)
          );
          assert.deepEqual(got, want, `${kind}, pairs ${pairs}`);
        }
      } finally {
        allowWasmPairs(true);
      }
    }
    assert.throws(
      () => encryptAndProveMany(publicKey, [{ ...asBytes[0]!, nonces: new Uint8Array(64) }]),
      /Encryption proof needs 1 nonces, got 2/,
    );
    // Byte scalars are read as given: ℓ itself (not canonical) is refused, not reduced.
    const order = packScalars([0n]);
    let x = GROUP_ORDER;
    for (let k = 0; k < 32; k++, x >>= 8n) order[k] = Number(x & 0xffn);
    assert.throws(
      () => encryptAndProveMany(publicKey, [{ ...asBytes[0]!, randomness: order }]),
      new InvalidInputError("Item 0's randomness[0] is not a canonical scalar (32 bytes below ℓ)"),
    );
    // Item 1 (two elements): its nonces 0 then ℓ.
    const second = new Uint8Array(64);
    second.set(order, 32);
    assert.equal(asBytes[1]!.messages.length, 2);
    assert.throws(
      () => encryptAndProveMany(publicKey, [asBytes[0]!, { ...asBytes[1]!, nonces: second }]),
      new InvalidInputError("Item 1's nonces[1] is not a canonical scalar (32 bytes below ℓ)"),
    );
  }
});
