/**
 * The board checks every input against the job's contract at submission (issue 11 §5)
 * and refuses copies (§6), so that no accepted item can stop a mixer and no plaintext is
 * counted twice.
 */
import assert from "node:assert/strict";
import {
  decodeCiphertext,
  decodePublicKey,
  encodeCiphertext,
  encodeInteger,
  encrypt,
  reencrypt,
  reencryptBackend,
} from "../../backends/reencrypt/mod.ts";
import type { Envelope } from "../../core/envelope.ts";
import { backendByName } from "../backends.ts";
import { BulletinBoard } from "./board.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { provenInputs } from "./input_contract.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, jobBody } from "./posts.ts";
import { Store } from "./storage.ts";

const admin = generateIdentity();
const mixer = generateIdentity();

async function board(store: Store, id: string, submitters: Identity[], width?: number) {
  const b = new BulletinBoard({
    store,
    identity: generateIdentity(),
    admins: [admin.publicKey],
    backendByName,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
  });
  const keys = await reencryptBackend.generateKeys();
  await b.submit(createPost(admin, {
    job: id,
    type: "job",
    body: jobBody({
      backend: "reencrypt",
      stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
      minInputs: 2,
      submitters: submitters.map((s) => s.publicKey),
      ...(width === undefined ? {} : { width }),
    }),
  }));
  return { b, keys };
}

function post(author: Identity, job: string, items: Envelope[], proofs?: Envelope[]) {
  return createPost(author, {
    job,
    type: "inputs",
    body: { v: 1, kind: "node.inputs", items, ...(proofs ? { proofs } : {}) },
  });
}

function ciphertext(key: Envelope, width: number): Envelope {
  const pk = decodePublicKey(key);
  return encodeCiphertext(
    encrypt(pk, Array.from({ length: width }, (_, i) => encodeInteger(i + 1))),
  );
}

Deno.test("a width-2 ciphertext cannot enter a width-1 job, and the job still mixes", async () => {
  const store = new Store(":memory:");
  try {
    const user = generateIdentity();
    const { b, keys } = await board(store, "w", [user]);
    await b.submit(post(user, "w", [ciphertext(keys.publicKey, 1)]));
    await assert.rejects(
      b.submit(post(user, "w", [ciphertext(keys.publicKey, 2)])),
      /has width 2; job 'w' takes width 1/,
    );
    await b.submit(post(user, "w", [ciphertext(keys.publicKey, 1), ciphertext(keys.publicKey, 1)]));
    // A spec width binds even the first input.
    const fixed = await board(store, "fixed", [user], 2);
    await assert.rejects(
      fixed.b.submit(post(user, "fixed", [ciphertext(fixed.keys.publicKey, 1)])),
      /takes width 2/,
    );
    // The mixer is not stuck: close and mix what the board accepted.
    await b.submit(
      createPost(admin, { job: "w", type: "close", body: { v: 1, kind: "node.close" } }),
    );
    const inputs = b.items("w", 0).map((v, i) => reencryptBackend.input.decode(v, `in ${i}`));
    const { outputs, proof } = await reencryptBackend.mix(inputs, { key: keys.publicKey });
    const receipt = await b.submit(createPost(mixer, {
      job: "w",
      type: "mix",
      body: {
        v: 1,
        kind: "node.mix",
        stage: 0,
        outputs: outputs.map((o) => reencryptBackend.output.encode(o)),
        proof,
      },
    }));
    assert.ok(receipt.seq > 0);
    assert.equal(b.job("w").state, "done");
  } finally {
    store.close();
  }
});

Deno.test("a ciphertext re-posted, or twice in one post, is refused", async () => {
  const store = new Store(":memory:");
  try {
    const user = generateIdentity();
    const { b, keys } = await board(store, "d", [user]);
    const item = ciphertext(keys.publicKey, 1);
    await b.submit(post(user, "d", [item]));
    for (let i = 0; i < 3; i++) {
      await assert.rejects(b.submit(post(user, "d", [item])), /is a copy of an input/);
    }
    const other = ciphertext(keys.publicKey, 1);
    await assert.rejects(b.submit(post(user, "d", [other, other])), /is a copy/);
    assert.equal(b.job("d").inputs, 1, "stored once");
  } finally {
    store.close();
  }
});

Deno.test("an open re-encryption job takes only inputs with a proof of knowledge by their author", async () => {
  const store = new Store(":memory:");
  try {
    const { b, keys } = await board(store, "open", []);
    const alice = generateIdentity();
    const mallory = generateIdentity();
    const mine = provenInputs({
      key: keys.publicKey,
      job: "open",
      author: alice.publicKey,
      values: [7],
    });
    await assert.rejects(b.submit(post(alice, "open", mine.items)), /inputs\.proofs.*required/);
    await b.submit(post(alice, "open", mine.items, mine.proofs));
    // Mallory re-randomises Alice's ballot: a fresh ciphertext of the same plaintext.
    const copy = encodeCiphertext(
      reencrypt(decodePublicKey(keys.publicKey), decodeCiphertext(mine.items[0], "c")),
    );
    await assert.rejects(
      b.submit(post(mallory, "open", [copy], mine.proofs)),
      /does not prove knowledge/,
    );
    // Nor can she re-post Alice's exact item with Alice's proof under her own key.
    await assert.rejects(b.submit(post(mallory, "open", mine.items, mine.proofs)), /copy|prove/);
    assert.equal(b.job("open").inputs, 1);
  } finally {
    store.close();
  }
});
