/**
 * Issue 17 point 2, node side: the board checks a re-encryption mix on record lists (the
 * stage's inputs read a page at a time, the post's outputs and proof decoded a chunk at a
 * time), stores the canonical encoding of each output, and still refuses a mix whose proof
 * does not hold or whose body is malformed, with one line.
 */
import assert from "node:assert/strict";
import {
  encodeCiphertext,
  encodeInteger,
  encrypt,
  generateKeyPair,
  reencryptBackend,
} from "../../backends/reencrypt/mod.ts";
import { encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { backendByName } from "../backends.ts";
import { BulletinBoard } from "./board.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, jobBody } from "./posts.ts";
import { Store } from "./storage.ts";
import { decodePublicKey } from "../../backends/reencrypt/mod.ts";

const admin = generateIdentity();
const mixer = generateIdentity();

Deno.test("the board checks a re-encryption mix on records; a changed or malformed mix is refused in one line", async () => {
  const store = new Store(":memory:");
  try {
    const b = new BulletinBoard({
      store,
      identity: generateIdentity(),
      admins: [admin.publicKey],
      backendByName,
      logger: silentLogger,
      metrics: new MetricsRegistry(),
    });
    const keys = await reencryptBackend.generateKeys();
    const context = new Uint8Array(32).fill(5);
    await b.submit(createPost(admin, {
      job: "m",
      type: "job",
      body: jobBody({
        backend: "reencrypt",
        stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
        minInputs: 2,
        submitters: [admin.publicKey],
        context,
      }),
    }));
    const pk = decodePublicKey(keys.publicKey);
    const items = Array.from(
      { length: 7 },
      (_, i) => encodeCiphertext(encrypt(pk, [encodeInteger(i)])),
    );
    await b.submit(createPost(admin, {
      job: "m",
      type: "inputs",
      body: { v: 1, kind: "node.inputs", items },
    }));
    await b.submit(
      createPost(admin, { job: "m", type: "close", body: { v: 1, kind: "node.close" } }),
    );
    const inputs = b.items("m", 0).map((v, i) => reencryptBackend.input.decode(v, `in ${i}`));
    const { outputs, proof } = await reencryptBackend.mix(inputs, { key: keys.publicKey, context });
    const encoded = outputs.map((o) => reencryptBackend.output.encode(o));
    const mix = (outs: unknown[]) =>
      createPost(mixer, {
        job: "m",
        type: "mix",
        body: { v: 1, kind: "node.mix", stage: 0, outputs: outs, proof: proof as Envelope },
      });
    const refused = async (
      outs: unknown[],
      kind: typeof VerificationError | typeof InvalidInputError,
      message: RegExp,
    ) => {
      const error = await b.submit(mix(outs)).then(() => undefined, (e) => e);
      assert.ok(error instanceof kind, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
    };
    // Two outputs swapped: the proof no longer holds.
    await refused(
      [encoded[1], encoded[0], ...encoded.slice(2)],
      VerificationError,
      /^Shuffle proof challenge does not match the statement and commitments$/,
    );
    // An output re-encrypted under another key's ciphertext: not the proven one.
    const stray = encodeCiphertext(encrypt(generateKeyPair().publicKey, [encodeInteger(1)]));
    await refused(
      [...encoded.slice(0, 6), stray],
      VerificationError,
      /^Shuffle proof challenge does not match the statement and commitments$/,
    );
    // Malformed: an output that is no ciphertext, a proof for another count.
    await refused(
      [...encoded.slice(0, 6), { v: 1, kind: "reencrypt.ciphertext", elements: [] }],
      InvalidInputError,
      /^Value 'mix.outputs\[6\].elements' /,
    );
    await refused(
      encoded.slice(0, 6),
      InvalidInputError,
      /^Value 'mix' has 6 outputs and a proof for 7$/,
    );
    assert.equal(b.job("m").state, "mixing");
    // The honest mix is accepted and its outputs are stored in their canonical encoding.
    await b.submit(mix(encoded));
    assert.equal(b.job("m").state, "done");
    assert.deepEqual(
      b.items("m", 1).map((v) => encodeMsgpack(v)),
      encoded.map((e) => encodeMsgpack(e)),
    );
  } finally {
    store.close();
  }
});
