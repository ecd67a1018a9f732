import assert from "node:assert/strict";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { deriveGeneratorBytes, generatorBytes } from "./generators.ts";
import { closeWorkerPool, setDefaultWorkerEntry } from "../../core/worker_pool.ts";
import { Ciphertext, decrypt, encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { decodeInteger, encodeInteger } from "./encoding.ts";
import { BASE_POINT, decodeScalar, encodeScalar, type Point } from "./group.ts";
import {
  shuffleAndProve,
  type ShuffleProof,
  type ShuffleStatement,
  verifyShuffle,
} from "./shuffle_proof.ts";
import { guidedChunks, WITNESS_LIST, witnessScalars } from "./shuffle_tasks.ts";
import { assertRejectsWith } from "./test_helpers_test.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));
const random = seededRandom("shuffle-test");
const keys = generateKeyPair(random);

function batch(n: number, w: number, offset = 0): Ciphertext[] {
  return Array.from(
    { length: n },
    (_, i) =>
      encrypt(
        keys.publicKey,
        Array.from({ length: w }, (_, k) => encodeInteger(offset + 10 * i + k)),
        {
          random,
        },
      ),
  );
}

async function rejects(statement: ShuffleStatement, proof: ShuffleProof): Promise<void> {
  await assertRejectsWith(() => verifyShuffle(statement, proof, { workers: 1 }), VerificationError);
}

function replaceElement(bytes: Uint8Array, index: number, point: Point): Uint8Array {
  const out = bytes.slice();
  out.set(point.toBytes(), 32 * index);
  return out;
}

for (let w = 1; w <= 3; w++) {
  Deno.test(`shuffle round trip and tamper suite, width ${w}`, async () => {
    const inputs = batch(5, w);
    const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, {
      random,
      workers: 1,
    });
    const statement = { publicKey: keys.publicKey, inputs, outputs };
    await verifyShuffle(statement, proof, { workers: 1 });
    // Outputs decrypt to a permutation of the inputs' plaintexts.
    const plain = (cts: Ciphertext[]) =>
      cts.map((ct) => decrypt(keys.secretKey, ct).map(decodeInteger).join(",")).sort();
    assert.deepEqual(plain(outputs), plain(inputs));

    // A changed output (a valid re-encryption of another ciphertext).
    await rejects({
      ...statement,
      outputs: [reencrypt(keys.publicKey, outputs[0]!), ...outputs.slice(1)],
    }, proof);
    // Swapped outputs.
    await rejects(
      { ...statement, outputs: [outputs[1]!, outputs[0]!, ...outputs.slice(2)] },
      proof,
    );
    // A reused input: one output replaced by a re-encryption of another output.
    await rejects({
      ...statement,
      outputs: [...outputs.slice(0, 4), reencrypt(keys.publicKey, outputs[0]!)],
    }, proof);
    // A reused input on the input side.
    await rejects({ ...statement, inputs: [inputs[0]!, inputs[0]!, ...inputs.slice(2)] }, proof);
    // Wrong public key.
    await rejects({ ...statement, publicKey: generateKeyPair(random).publicKey }, proof);
    // Modified commitments (valid group elements, wrong values).
    const other = BASE_POINT.multiply(31337n);
    await rejects(statement, {
      ...proof,
      permutationCommitments: replaceElement(proof.permutationCommitments, 2, other),
    });
    await rejects(statement, {
      ...proof,
      chainCommitments: replaceElement(proof.chainCommitments, 4, other),
    });
    await rejects(statement, {
      ...proof,
      chainProofCommitments: replaceElement(proof.chainProofCommitments, 0, other),
    });
    await rejects(statement, {
      ...proof,
      commitments: replaceElement(proof.commitments, 3, other),
    });
    // A non-canonical commitment is a verification failure too.
    const flipped = proof.chainCommitments.slice();
    flipped[0]! ^= 1;
    await rejects(statement, { ...proof, chainCommitments: flipped });
    // Changed challenge and changed responses.
    const challenge = proof.challenge.slice();
    challenge[0]! ^= 2;
    await rejects(statement, { ...proof, challenge });
    const responses = proof.permutationResponses.slice();
    responses[0]! ^= 2;
    await rejects(statement, { ...proof, permutationResponses: responses });
    const sHat = proof.chainResponses.slice();
    sHat[33]! ^= 1;
    await rejects(statement, { ...proof, chainResponses: sHat });
    const s = proof.responses.slice();
    s[32 * 3]! ^= 1;
    await rejects(statement, { ...proof, responses: s });
    // A proof for another statement.
    const otherInputs = batch(5, w, 1000);
    const otherRun = await shuffleAndProve(keys.publicKey, otherInputs, { random, workers: 1 });
    await rejects(statement, otherRun.proof);
    await rejects(
      { publicKey: keys.publicKey, inputs: otherInputs, outputs: otherRun.outputs },
      proof,
    );
    // Wrong sizes.
    await rejects({ ...statement, outputs: outputs.slice(1) }, proof);
    await rejects({ ...statement, inputs: inputs.slice(1), outputs: outputs.slice(1) }, proof);
  });
}

Deno.test("the same seed gives the same proof; workers and in-thread agree", async () => {
  const inputs = batch(6, 2);
  const a = await shuffleAndProve(keys.publicKey, inputs, {
    random: seededRandom("s"),
    workers: 1,
  });
  const b = await shuffleAndProve(keys.publicKey, inputs, {
    random: seededRandom("s"),
    workers: 2,
  });
  assert.deepEqual(a.proof, b.proof);
  assert.deepEqual(a.outputs.map((c) => c.bytes), b.outputs.map((c) => c.bytes));
  await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs: b.outputs }, b.proof, {
    workers: 2,
  });
  const swapped = [b.outputs[1]!, b.outputs[0]!, ...b.outputs.slice(2)];
  await assertRejectsWith(
    () =>
      verifyShuffle({ publicKey: keys.publicKey, inputs, outputs: swapped }, b.proof, {
        workers: 2,
      }),
    VerificationError,
  );
  const chain = b.proof.chainCommitments.slice();
  chain[32 * 5]! ^= 1;
  await assertRejectsWith(
    () =>
      verifyShuffle({ publicKey: keys.publicKey, inputs, outputs: b.outputs }, {
        ...b.proof,
        chainCommitments: chain,
      }, { workers: 2 }),
    VerificationError,
  );
  closeWorkerPool();
});

Deno.test("a batch of one is proved and verified", async () => {
  const inputs = batch(1, 1);
  const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, { random, workers: 1 });
  await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs }, proof, { workers: 1 });
});

Deno.test("a shuffle proof is bound to its context (an election fingerprint)", async () => {
  const inputs = [1, 2, 3].map((v) => encrypt(keys.publicKey, [encodeInteger(v)], { random }));
  const context = new TextEncoder().encode("election-a");
  const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, {
    context,
    random,
    workers: 1,
  });
  const statement = { publicKey: keys.publicKey, inputs, outputs };
  await verifyShuffle({ ...statement, context }, proof, { workers: 1 });
  for (const other of [{}, { context: new TextEncoder().encode("election-b") }]) {
    await assertRejectsWith(
      () => verifyShuffle({ ...statement, ...other }, proof, { workers: 1 }),
      VerificationError,
      /challenge does not match/,
    );
  }
});

Deno.test("a malformed element in a tampered output is named, not reported as a challenge mismatch", async () => {
  const inputs = batch(4, 2);
  const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, { workers: 1, random });
  for (const [fill, why] of [[0xff, "non-canonical"], [0x00, "identity"]] as const) {
    const bytes = outputs[2]!.bytes.slice();
    bytes.fill(fill, 3 * 32, 4 * 32); // output 2, element 1, c2
    const tampered = [...outputs];
    tampered[2] = Ciphertext.unchecked(bytes, "output 2");
    let caught: unknown;
    try {
      await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs: tampered }, proof, {
        workers: 1,
      });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof InvalidInputError, `${why}: ${caught}`);
    assert.match((caught as Error).message, /output 2\.c2\[1\]/, why);
  }
});

Deno.test("workers check every response, also where a chunk hands the next s′ to the one before", async () => {
  // 6 positions on 2 workers are 4 chunks: s′ at a chunk's first position is also used by
  // the chunk before it (issue 17: the coefficients are computed in the workers).
  const inputs = batch(6, 1);
  const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, { random, workers: 2 });
  const statement = { publicKey: keys.publicKey, inputs, outputs };
  for (const workers of [1, 2, 3]) await verifyShuffle(statement, proof, { workers });
  const bump = (list: Uint8Array, i: number) => {
    const out = list.slice();
    out.set(encodeScalar(decodeScalar(list.subarray(32 * i, 32 * i + 32), "s") + 1n), 32 * i);
    return out;
  };
  for (let i = 0; i < 6; i++) {
    for (const field of ["permutationResponses", "chainResponses"] as const) {
      await assertRejectsWith(
        () =>
          verifyShuffle(statement, { ...proof, [field]: bump(proof[field], i) }, { workers: 2 }),
        VerificationError,
      );
    }
  }
  // A response that is not a canonical scalar is named, from a worker.
  const bad = proof.chainResponses.slice();
  bad.fill(0xff, 32 * 3, 32 * 4);
  await assert.rejects(
    () => verifyShuffle(statement, { ...proof, chainResponses: bad }, { workers: 2 }),
    (e: Error) => e instanceof VerificationError && /chain responses/.test(e.message),
  );
  closeWorkerPool();
});

Deno.test("the process's cache of generator encodings grows with the batch and matches hash-to-curve", async () => {
  // Each size proves and verifies with the generators cached so far (issue 17).
  for (const [n, workers] of [[3, 1], [9, 2], [5, 2], [12, 1]] as const) {
    const inputs = batch(n, 1);
    const { outputs, proof } = await shuffleAndProve(keys.publicKey, inputs, { random, workers });
    await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs }, proof, { workers: 3 });
  }
  const derived = deriveGeneratorBytes(1, 12);
  for (let i = 1; i <= 12; i++) {
    assert.deepEqual(derived.subarray(32 * (i - 1), 32 * i), generatorBytes(i));
  }
  closeWorkerPool();
});

Deno.test("guided chunks cover every position once, shrink toward the end and stay within 8,192", () => {
  for (
    const [n, workers] of [[1, 2], [2, 2], [7, 3], [20000, 2], [100000, 4], [8193, 1]] as const
  ) {
    const parts = guidedChunks(n, workers);
    assert.equal(parts[0]![0], 0);
    assert.equal(parts.at(-1)![1], n);
    for (let p = 0; p < parts.length; p++) {
      const [lo, hi] = parts[p]!;
      assert.ok(hi > lo && hi - lo <= 8192, `${n}/${workers}: chunk ${p}`);
      if (p > 0) assert.equal(lo, parts[p - 1]![1]);
    }
    if (n >= 20000 && workers > 1) {
      // The last chunk is far shorter than the first: little idle time at the end of a step.
      assert.ok(parts.at(-1)![1] - parts.at(-1)![0] < 768, `${n}: last chunk`);
      assert.ok(parts[0]![1] - parts[0]![0] >= 4096, `${n}: first chunk`);
    }
  }
  assert.deepEqual(guidedChunks(8193, 1), [[0, 4096], [4096, 8193]]);
});

Deno.test("the proof does not depend on how positions are cut into chunks (1, 2, 3 workers)", async () => {
  // Every chunk draws its own witness from the proof's seed and chains the recurrence by
  // blocks: 1 worker is one chunk in-thread; 2 and 3 workers cut N = 2..13 differently.
  for (const [n, w] of [[1, 1], [2, 1], [3, 2], [8, 1], [13, 1]] as const) {
    const inputs = batch(n, w);
    const runs = [];
    for (const workers of [1, 2, 3]) {
      runs.push(
        await shuffleAndProve(keys.publicKey, inputs, {
          random: seededRandom(`cut ${n}`),
          workers,
        }),
      );
    }
    for (const run of runs.slice(1)) {
      assert.deepEqual(run.proof, runs[0]!.proof, `n = ${n}`);
      assert.deepEqual(run.outputs.map((c) => c.bytes), runs[0]!.outputs.map((c) => c.bytes));
    }
    await verifyShuffle(
      { publicKey: keys.publicKey, inputs, outputs: runs[0]!.outputs },
      runs[0]!.proof,
      {
        workers: 1,
      },
    );
    // A different seed gives a different proof (the seed is the witness).
    const other = await shuffleAndProve(keys.publicKey, inputs, {
      random: seededRandom("other"),
      workers: 2,
    });
    assert.notDeepEqual(other.proof.chainResponses, runs[0]!.proof.chainResponses);
  }
  closeWorkerPool();
});

Deno.test("a batch one longer than the largest chunk is proved across the boundary", async () => {
  // 8,193 positions: two chunks in-thread (4,096 + 4,097), and guided chunks on 2 workers.
  const n = 8193;
  const one = encrypt(keys.publicKey, [encodeInteger(1)], { random });
  const inputs = Array.from({ length: n }, () => reencrypt(keys.publicKey, one, { random }));
  const a = await shuffleAndProve(keys.publicKey, inputs, {
    random: seededRandom("big"),
    workers: 1,
  });
  const b = await shuffleAndProve(keys.publicKey, inputs, {
    random: seededRandom("big"),
    workers: 2,
  });
  assert.deepEqual(a.proof, b.proof);
  await verifyShuffle({ publicKey: keys.publicKey, inputs, outputs: b.outputs }, b.proof, {
    workers: 2,
  });
  closeWorkerPool();
});

Deno.test("the prover names a malformed input, in-thread and from a worker", async () => {
  const inputs = batch(9, 1);
  const bytes = inputs[6]!.bytes.slice();
  bytes.fill(0xff, 32, 64); // input 6, c2: not a canonical encoding
  const bad = [...inputs];
  bad[6] = Ciphertext.unchecked(bytes, "input 6");
  for (const workers of [1, 2]) {
    await assert.rejects(
      () => shuffleAndProve(keys.publicKey, bad, { random, workers }),
      (e: Error) => e instanceof InvalidInputError && /input 6/.test(e.message),
    );
  }
  closeWorkerPool();
});

Deno.test("the witness stream is AES-256-CTR: Web Crypto and the portable code give the same scalars", async () => {
  const seed = new Uint8Array(32).map((_, i) => i);
  for (const [list, from, count] of [[0, 0, 3], [4, 5, 2], [5, 0, 4], [1, 70000, 2]] as const) {
    const fast = await witnessScalars(seed, list, from, count);
    assert.deepEqual(await witnessScalars(seed, list, from, count, { portable: true }), fast);
    // Index i of a list is the same scalar whichever range it is drawn in.
    assert.deepEqual((await witnessScalars(seed, list, from + 1, 1))[0], fast[1]);
  }
  const a = await witnessScalars(seed, WITNESS_LIST.r, 0, 2);
  const b = await witnessScalars(seed, WITNESS_LIST.rHat, 0, 2);
  assert.notDeepEqual(a, b); // lists are separate streams
});
