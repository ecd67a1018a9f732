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
  encodePublicKey,
  encrypt,
  generateKeyPair,
  reencryptBackend,
} from "../../backends/reencrypt/mod.ts";
import { allRecords, memoryRecords } from "../../core/records.ts";
import {
  ciphertextRecords,
  createElectionDefinition,
  decryptElectionSharesRecords,
  DECRYPTION_POST_KIND,
  electionDefinitionToEnvelope,
  electionFingerprint,
  encodeCeremonyPost,
  runLocalKeyCeremony,
  signCeremonyPost,
} from "../../plugins/vote/mod.ts";
import { decryptionPostBody } from "../vote_board_records.ts";
import { encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { InvalidInputError, VerificationError } from "../../core/errors.ts";
import { backendByName } from "../backends.ts";
import { BIG_POST_BYTES, BulletinBoard } from "./board.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, createPostFromBody, jobBody } from "./posts.ts";
import { Store } from "./storage.ts";
import { decodePublicKey } from "../../backends/reencrypt/mod.ts";

const admin = generateIdentity();
const mixer = generateIdentity();

/** A board on `store` with `admin` as its admin. */
function boardOn(store: Store): BulletinBoard {
  return new BulletinBoard({
    store,
    identity: generateIdentity(),
    admins: [admin.publicKey],
    backendByName,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
  });
}

Deno.test("the board checks a re-encryption mix on records; a changed or malformed mix is refused in one line", async () => {
  const store = new Store(":memory:");
  try {
    const b = boardOn(store);
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
      VerificationError,
      /^Value 'mix.outputs' holds 6 ciphertexts, expected 7$/,
    );
    // A small body whose outputs array claims 30,000,000 ciphertexts: refused from its
    // header, before anything is sized from the count (and before decoding when another
    // key than the stage's mixer sent it).
    const huge = (count: number) =>
      new Uint8Array([
        0x84,
        ...encodeMsgpack("v"),
        ...encodeMsgpack(1),
        ...encodeMsgpack("kind"),
        ...encodeMsgpack("node.mix"),
        ...encodeMsgpack("stage"),
        ...encodeMsgpack(0),
        ...encodeMsgpack("outputs"),
        0xdd,
        count >>> 24,
        (count >>> 16) & 0xff,
        (count >>> 8) & 0xff,
        count & 0xff,
        ...new Uint8Array(4096),
      ]);
    const bomb = async (author: typeof mixer, message: RegExp) => {
      const post = createPostFromBody(author, { job: "m", type: "mix", body: huge(30_000_000) });
      const error = await b.submit(post).then(() => undefined, (e) => e);
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
    };
    await bomb(generateIdentity(), /^Author is not the mixer of stage 0$/);
    await bomb(mixer, /^Value 'mix.outputs' holds 30000000 ciphertexts, expected 7$/);
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

Deno.test("the board decodes a big decryption post into records and checks it; changed shares or another author are refused", async () => {
  const store = new Store(":memory:");
  try {
    const b = boardOn(store);
    const trustees = [generateIdentity(), generateIdentity()];
    const definition = createElectionDefinition({
      id: "big-shares",
      trustees: 2,
      threshold: 2,
      mixers: 1,
      questions: [{ text: "Q", choices: ["a", "b"] }],
      trusteeKeys: trustees.map((t) => t.publicKey),
    });
    const ce = { definition, fingerprint: electionFingerprint(definition) };
    const ceremony = runLocalKeyCeremony(ce, { identities: trustees.map((t) => t.secretKey) });
    const job = "big-shares";
    await b.submit(createPost(admin, {
      job,
      type: "election",
      body: electionDefinitionToEnvelope(definition),
    }));
    for (const dealing of ceremony.posts.dealings) {
      await b.submit(createPost(trustees[dealing.trustee - 1]!, {
        job,
        type: "ceremony",
        body: encodeCeremonyPost(ce, { dealing }),
      }));
    }
    for (const complaints of ceremony.posts.complaints) {
      await b.submit(createPost(trustees[complaints.trustee - 1]!, {
        job,
        type: "ceremony",
        body: encodeCeremonyPost(ce, { complaints }),
      }));
    }
    const key = encodePublicKey(ceremony.key.publicKey);
    await b.submit(createPost(admin, {
      job,
      type: "job",
      body: jobBody({
        backend: "reencrypt",
        stages: [{ mixer: mixer.publicKey, key }],
        minInputs: 2,
        submitters: [admin.publicKey],
        context: ce.fingerprint,
      }),
    }));
    // 800 ballots of 3 elements: each trustee's post is ~78 KB, a big post.
    const n = 800;
    const items = Array.from({ length: n }, (_, i) =>
      encodeCiphertext(
        encrypt(ceremony.key.publicKey, [encodeInteger(i), encodeInteger(1), encodeInteger(2)]),
      ));
    await b.submit(
      createPost(admin, { job, type: "inputs", body: { v: 1, kind: "node.inputs", items } }),
    );
    await b.submit(createPost(admin, { job, type: "close", body: { v: 1, kind: "node.close" } }));
    const inputs = b.items(job, 0).map((v, i) => reencryptBackend.input.decode(v, `in ${i}`));
    const { outputs, proof } = await reencryptBackend.mix(inputs, { key, context: ce.fingerprint });
    await b.submit(createPost(mixer, {
      job,
      type: "mix",
      body: {
        v: 1,
        kind: "node.mix",
        stage: 0,
        outputs: outputs.map((o) => reencryptBackend.output.encode(o)),
        proof: proof as Envelope,
      },
    }));
    const final = ciphertextRecords(outputs, 3);
    const shares = async (t: number) =>
      await decryptElectionSharesRecords(ceremony.trusteeKeys[t - 1]!, {
        ciphertexts: final,
        fingerprint: ce.fingerprint,
        workers: 1,
        sign: { election: ce, identity: trustees[t - 1]!.secretKey },
      });
    const d1 = await shares(1);
    const body = decryptionPostBody(ce, d1);
    assert.ok(body.length > BIG_POST_BYTES, `${body.length} bytes`);
    // Posted by the other trustee's key: refused (403) before anything is stored.
    await assert.rejects(
      b.submit(createPostFromBody(trustees[1]!, { job, type: "ceremony", body })),
      /Author is not trustee 1's identity key/,
    );
    // Shares changed (and signed again by their trustee): the batch proof fails.
    const changed = allRecords(d1.shares).slice();
    changed.copyWithin(0, 96, 192);
    const forged = { ...d1, shares: memoryRecords(changed, 96) };
    forged.signature = signCeremonyPost(ce, { decryptionRecords: forged }, trustees[0]!.secretKey);
    await assert.rejects(
      b.submit(createPostFromBody(trustees[0]!, {
        job,
        type: "ceremony",
        body: decryptionPostBody(ce, forged),
      })),
      (e) =>
        e instanceof VerificationError && e.message === "Trustee 1: decryption share batch invalid",
    );
    // The honest post is accepted, and read back whole it is the trustee's shares.
    await b.submit(createPostFromBody(trustees[0]!, { job, type: "ceremony", body }));
    const posted = b.ceremony(job, ce).filter((c) => c.kind === DECRYPTION_POST_KIND);
    assert.equal(posted.length, 1);
    assert.equal(posted[0]!.trustee, 1);
  } finally {
    store.close();
  }
});
