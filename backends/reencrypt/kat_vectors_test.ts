// Known-answer vectors: rebuilt from the seed and compared with testdata/vectors.json.
// Regenerate (only after a deliberate format change): deno run -A backends/reencrypt/testdata/regenerate.ts
import assert from "node:assert/strict";
import { buildVectors } from "./testdata/build_vectors.ts";

Deno.test("committed known-answer vectors match the seed", async () => {
  const committed = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/vectors.json", import.meta.url)),
  );
  const rebuilt = await buildVectors(committed.seed);
  assert.deepEqual(rebuilt, committed);
});

Deno.test("committed shuffle proofs verify as published", async () => {
  const { fromHex } = await import("../../core/bytes.ts");
  const { decodeMsgpack } = await import("../../core/envelope.ts");
  const { decodeShuffleProof } = await import("./codec.ts");
  const { Ciphertext } = await import("./elgamal.ts");
  const { decodePoint } = await import("./group.ts");
  const { verifyShuffle } = await import("./shuffle_proof.ts");
  const v = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/vectors.json", import.meta.url)),
  );
  const publicKey = decodePoint(fromHex(v.publicKey, "publicKey"), "publicKey");
  for (const s of v.shuffles) {
    const inputs = s.inputs.map((h: string) => Ciphertext.fromBytes(fromHex(h, "in"), "in"));
    const outputs = s.outputs.map((h: string) => Ciphertext.fromBytes(fromHex(h, "out"), "out"));
    const proof = decodeShuffleProof(decodeMsgpack(fromHex(s.proofMsgpack, "proof"), "proof"));
    const context = fromHex(s.context, "context");
    await verifyShuffle({ publicKey, inputs, outputs, context }, proof, { workers: 1 });
    if (context.length > 0) {
      // Bound to its context: under any other (here none) the proof is rejected.
      const { VerificationError } = await import("../../core/errors.ts");
      await assert.rejects(
        verifyShuffle({ publicKey, inputs, outputs }, proof, { workers: 1 }),
        VerificationError,
      );
    }
  }
});

Deno.test("committed encryption proof verifies as published (commitment form, v2)", async () => {
  const { fromHex } = await import("../../core/bytes.ts");
  const { Ciphertext } = await import("./elgamal.ts");
  const { decodePoint, decodeScalar } = await import("./group.ts");
  const { verifyEncryptionKnowledge } = await import("./encryption_proof.ts");
  const v = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/vectors.json", import.meta.url)),
  );
  const p = v.encryptionProof;
  verifyEncryptionKnowledge({
    publicKey: decodePoint(fromHex(v.publicKey, "publicKey"), "publicKey"),
    ciphertext: Ciphertext.fromBytes(fromHex(p.ciphertext, "ct"), "ct"),
    context: fromHex(p.context, "context"),
  }, {
    commitments: fromHex(p.commitments, "commitments"),
    responses: p.responses.map((h: string) => decodeScalar(fromHex(h, "z"), "z")),
  });
});
