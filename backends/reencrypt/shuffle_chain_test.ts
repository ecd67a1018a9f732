// The joint check of a chain of shuffle proofs (verifyShuffleChain): each ciphertext between
// two steps is decoded once for both proofs, so a tampered one must still fail the chain,
// wherever it sits (first or last chunk), and so must any tampered response or commitment.
import assert from "node:assert/strict";
import { seededRandom } from "../../core/random.ts";
import { closeWorkerPool, setDefaultWorkerEntry } from "../../core/worker_pool.ts";
import { Ciphertext, encrypt, generateKeyPair, reencrypt } from "./elgamal.ts";
import { encodeInteger } from "./encoding.ts";
import { decodeScalar, encodeScalar } from "./group.ts";
import {
  shuffleAndProve,
  type ShuffleChainStatement,
  type ShuffleProof,
  verifyShuffle,
  verifyShuffleChain,
} from "./shuffle_proof.ts";

setDefaultWorkerEntry(new URL("./worker_entry.ts", import.meta.url));
const random = seededRandom("shuffle-chain-test");
const keys = generateKeyPair(random);
const N = 7;

async function chain(w: number, steps: number): Promise<ShuffleChainStatement> {
  const inputs = Array.from(
    { length: N },
    (_, i) =>
      encrypt(keys.publicKey, Array.from({ length: w }, (_, k) => encodeInteger(10 * i + k)), {
        random,
      }),
  );
  const out: Array<{ outputs: Ciphertext[]; proof: ShuffleProof }> = [];
  let current = inputs;
  for (let m = 0; m < steps; m++) {
    const step = await shuffleAndProve(keys.publicKey, current, { random, workers: 1 });
    out.push(step);
    current = step.outputs;
  }
  return { publicKey: keys.publicKey, inputs, steps: out };
}

/** The chain with step m's outputs (= step m+1's inputs) changed at position i. */
function withOutput(s: ShuffleChainStatement, m: number, i: number, ct: Ciphertext) {
  const steps = s.steps.map((step, k) => {
    if (k !== m) return step;
    const outputs = [...step.outputs];
    outputs[i] = ct;
    return { ...step, outputs };
  });
  return { ...s, steps };
}

function withProof(s: ShuffleChainStatement, m: number, change: Partial<ShuffleProof>) {
  return {
    ...s,
    steps: s.steps.map((step, k) =>
      k === m ? { ...step, proof: { ...step.proof, ...change } } : step
    ),
  };
}

function bump(list: Uint8Array, i: number): Uint8Array {
  const out = list.slice();
  out.set(encodeScalar(decodeScalar(list.subarray(32 * i, 32 * i + 32), "s") + 1n), 32 * i);
  return out;
}

for (const w of [1, 2]) {
  Deno.test(`shuffle chain of width ${w}: valid with 1-3 workers, every tampering rejected`, async () => {
    const s = await chain(w, 3);
    for (const workers of [1, 2, 3]) assert.ok(await verifyShuffleChain(s, { workers }));
    // Each step also verifies alone (the chain is what verifyShuffle step by step accepts).
    let current = s.inputs;
    for (const step of s.steps) {
      await verifyShuffle({ publicKey: s.publicKey, inputs: current, ...step }, step.proof, {
        workers: 1,
      });
      current = step.outputs;
    }
    // 7 positions on 2 workers are 4 chunks: position 0 is in the first, 6 in the last.
    for (const i of [0, 3, N - 1]) {
      for (const m of [0, 1, 2]) {
        // A valid re-encryption between two steps (decoded once, used by both proofs).
        const re = reencrypt(keys.publicKey, s.steps[m]!.outputs[i]!, { random });
        assert.equal(await verifyShuffleChain(withOutput(s, m, i, re), { workers: 2 }), false);
        // A non-canonical element there.
        const bytes = s.steps[m]!.outputs[i]!.bytes.slice();
        bytes.fill(0xff, 64 * w - 32, 64 * w); // last element's c2
        const bad = Ciphertext.unchecked(bytes, "tampered");
        assert.equal(await verifyShuffleChain(withOutput(s, m, i, bad), { workers: 2 }), false);
        // A response of this step at this position.
        for (const field of ["permutationResponses", "chainResponses"] as const) {
          const proof = s.steps[m]!.proof;
          const tampered = withProof(s, m, { [field]: bump(proof[field], i) });
          assert.equal(await verifyShuffleChain(tampered, { workers: 2 }), false);
        }
      }
      // An input of the first step.
      const inputs = [...s.inputs];
      inputs[i] = reencrypt(keys.publicKey, inputs[i]!, { random });
      assert.equal(await verifyShuffleChain({ ...s, inputs }, { workers: 2 }), false);
    }
    // Commitments, the challenge, a step's proof moved to another step, a missing step.
    const first = s.steps[0]!.proof;
    assert.equal(
      await verifyShuffleChain(withProof(s, 1, { commitments: first.commitments }), {}),
      false,
    );
    assert.equal(
      await verifyShuffleChain(withProof(s, 2, { challenge: first.challenge }), { workers: 1 }),
      false,
    );
    assert.equal(
      await verifyShuffleChain({ ...s, steps: [s.steps[1]!, s.steps[0]!, s.steps[2]!] }, {}),
      false,
    );
    assert.equal(await verifyShuffleChain({ ...s, steps: [s.steps[0]!, s.steps[2]!] }, {}), false);
    assert.equal(await verifyShuffleChain({ ...s, steps: [] }, {}), false);
    // Bound to the context.
    assert.equal(await verifyShuffleChain({ ...s, context: new Uint8Array([1]) }, {}), false);
    closeWorkerPool();
  });
}

Deno.test("a chain of one step is verifyShuffle's check", async () => {
  const s = await chain(1, 1);
  assert.ok(await verifyShuffleChain(s, { workers: 1 }));
  const outputs = [...s.steps[0]!.outputs];
  [outputs[0], outputs[1]] = [outputs[1]!, outputs[0]!];
  assert.equal(
    await verifyShuffleChain({ ...s, steps: [{ ...s.steps[0]!, outputs }] }, { workers: 1 }),
    false,
  );
});
