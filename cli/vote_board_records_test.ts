/**
 * Issue 17 point 2: an election's lists read from a real node board (127.0.0.1, port 0) a
 * chunk at a time into spool files — the mix input, every mix, the trustees' posted shares —
 * every body streamed and checked against the digest the chain covers and its signature;
 * a changed, short or long body is refused with one line naming the post.
 */
import assert from "node:assert/strict";
import { fromBase64Url, joinBytes, toBase64Url } from "../core/bytes.ts";
import { encodeMsgpack } from "../core/envelope.ts";
import { ConfigError, VerificationError } from "../core/errors.ts";
import { allRecords, memoryRecords, memoryRecordSinks } from "../core/records.ts";
import { seededRandom } from "../core/random.ts";
import {
  decodeCiphertext,
  decodeShuffleProof,
  encodeCiphertext,
  encodeInteger,
  encrypt,
  generateKeyPair,
  readShuffleProofLayout,
  shuffleProofFromRecords,
  verifyShuffleChainRecords,
} from "../backends/reencrypt/mod.ts";
import {
  ciphertextRecords,
  createElectionDefinition,
  decryptElectionSharesRecords,
  electionDecryptionRecords,
  electionFingerprint,
  encodeCeremonyPost,
  encodeDecryptionPost,
  readCiphertexts,
  runLocalKeyCeremony,
  signCeremonyPost,
} from "../plugins/vote/mod.ts";
import { labelledDigestStream } from "./node/async_digest.ts";
import { NodeClient } from "./node/client.ts";
import { generateIdentity, numberPart, SIGNING_LABELS, textPart } from "./node/identity.ts";
import { createPost, postDigest } from "./node/posts.ts";
import { TestNetwork } from "./node/test_support.ts";
import { Spool } from "./record_file.ts";
import {
  decryptionPostBody,
  decryptionPostStreamedBody,
  readDecryptionRecords,
  readElectionCascadeRecords,
  readMixBody,
} from "./vote_board_records.ts";
import {
  boardElectionCascadeRecords,
  electionJobId,
  postCeremony,
  publishElection,
  readElectionBoard,
  readElectionCascade,
} from "./vote_nodes.ts";

Deno.test("a post digest hashed as the body streams in equals postDigest", () => {
  const post = createPost(generateIdentity(), {
    job: "j",
    type: "inputs",
    body: { v: 1, kind: "node.inputs", items: [new Uint8Array(3000).fill(7)] },
  });
  for (const piece of [1, 7, 1000, post.body.length]) {
    const d = labelledDigestStream(
      SIGNING_LABELS.post,
      [textPart(post.job), textPart(post.type), post.author, numberPart(post.time)],
      post.body.length,
    );
    for (let at = 0; at < post.body.length; at += piece) {
      d.update(post.body.subarray(at, at + piece));
    }
    assert.deepEqual(d.digest(), postDigest(post));
  }
  const short = labelledDigestStream(SIGNING_LABELS.post, [], 4);
  short.update(new Uint8Array(3));
  assert.throws(() => short.digest(), /3 of 4 bytes/);
  assert.throws(() => short.update(new Uint8Array(2)), /More than 4 bytes/);
});

const identities = [generateIdentity(), generateIdentity(), generateIdentity()];
const definition = createElectionDefinition({
  id: "board-records",
  trustees: 3,
  threshold: 2,
  mixers: 3,
  questions: [{ text: "Q", choices: ["a", "b"] }],
  trusteeKeys: identities.map((i) => i.publicKey),
});
const ce = { definition, fingerprint: electionFingerprint(definition) };
const job = electionJobId(definition.id);

Deno.test({
  name: "board lists streamed into spool files: mixes, posted shares, resumed close; " +
    "changed, short and long bodies refused",
  async fn() {
    const admin = generateIdentity();
    const net = await TestNetwork.create();
    const spool = await Spool.create();
    let proxy: Deno.HttpServer | undefined;
    try {
      const { board, mixers } = await net.startCascade({
        admins: [toBase64Url(admin.publicKey)],
      });
      const adminClient = new NodeClient(board.url, { identity: admin });
      const client = new NodeClient(board.url);
      const random = seededRandom("board-records");
      const ceremony = runLocalKeyCeremony(ce, {
        random,
        identities: identities.map((i) => i.secretKey),
      });
      const election = { ...ce, publicKey: ceremony.key.publicKey };
      // The definition and the trustees' signed ceremony posts on the board.
      assert.equal(await publishElection(adminClient, { job, admin, election: ce }), "posted");
      const trusteeClient = (t: number) =>
        new NodeClient(board.url, { identity: identities[t - 1]! });
      const post = (t: number, body: Parameters<typeof postCeremony>[1]["body"]) =>
        postCeremony(trusteeClient(t), { job, identity: identities[t - 1]!, body });
      for (const dealing of ceremony.posts.dealings) {
        await post(dealing.trustee, encodeCeremonyPost(ce, { dealing }));
      }
      for (const complaints of ceremony.posts.complaints) {
        await post(complaints.trustee, encodeCeremonyPost(ce, { complaints }));
      }
      // The counted ciphertexts, as `vote close` has them: a record list (1,000 inputs, so
      // two inputs posts and mixes of ~270 KB).
      const n = 1000;
      const cts = Array.from(
        { length: n },
        (_, i) => encrypt(election.publicKey, [encodeInteger(i + 1)], { random }),
      );
      const inputs = ciphertextRecords(cts, 1);
      const cascade = boardElectionCascadeRecords({
        client: adminClient,
        admin,
        mixers: mixers.map((m) => m.identity.publicKey),
        job,
        timeoutMs: 120_000,
      });
      const mixes = await cascade(inputs, { election, sinks: spool.sinks });
      assert.equal(mixes.length, 3);
      assert.ok(
        await verifyShuffleChainRecords({
          publicKey: election.publicKey,
          inputs,
          steps: mixes,
          context: ce.fingerprint,
        }, { workers: 1 }),
      );
      // Every body streamed (limit 0), into files: the very lists of the in-memory reader.
      const streamed = await readElectionCascadeRecords(client, {
        job,
        sinks: spool.sinks,
        bodyLimit: 0,
        chunk: 300,
      });
      const whole = await readElectionCascade(client, { job });
      assert.deepEqual(allRecords(streamed.inputs), allRecords(inputs));
      assert.equal(whole.inputs.length, n);
      for (const [m, mix] of streamed.mixes.entries()) {
        assert.deepEqual(
          allRecords(mix.outputs),
          allRecords(ciphertextRecords(whole.mixes[m]!.outputs, 1)),
        );
        assert.deepEqual(shuffleProofFromRecords(mix.proof), whole.mixes[m]!.proof);
        assert.deepEqual(allRecords(mix.outputs), allRecords(mixes[m]!.outputs));
        // ...and the board's own stored outputs of that stage (its items, another path).
        const { items } = await client.getJson(`/v1/board/jobs/${job}/items?stage=${m + 1}`) as {
          items: unknown[];
        };
        assert.deepEqual(
          allRecords(mix.outputs),
          allRecords(ciphertextRecords(items.map((v, i) => decodeCiphertext(v, `item ${i}`)), 1)),
        );
      }
      // A resumed close finds its inputs (compared a chunk at a time) and mixes again nothing;
      // another box under the job is refused.
      const again = await cascade(inputs, { election, sinks: spool.sinks });
      assert.deepEqual(allRecords(again[2]!.outputs), allRecords(mixes[2]!.outputs));
      const reversed = ciphertextRecords([...cts].reverse(), 1);
      await assert.rejects(
        cascade(reversed, { election, sinks: spool.sinks }),
        (e) =>
          e instanceof ConfigError && /holds other inputs than this ballot box's/.test(e.message),
      );

      // Trustees 1 and 3 decrypt the final outputs from files and post bodies written from
      // their share records: the bytes of the in-memory encoding.
      const final = mixes[2]!.outputs;
      for (const t of [1, 3]) {
        const d = await decryptElectionSharesRecords(ceremony.trusteeKeys[t - 1]!, {
          ciphertexts: final,
          fingerprint: ce.fingerprint,
          sinks: spool.sinks,
          workers: 1,
          sign: { election: ce, identity: identities[t - 1]!.secretKey },
        });
        const body = decryptionPostBody(ce, d, 77);
        const shares = allRecords(d.shares);
        assert.deepEqual(
          body,
          encodeMsgpack(encodeDecryptionPost(ce, {
            ...d,
            shares: Array.from({ length: n }, (_, i) => shares.subarray(32 * i, 32 * i + 32)),
          })),
        );
        // As pieces for a post sent as a stream (vote trustee decrypt): the same bytes, at
        // each call.
        const streamed = decryptionPostStreamedBody(ce, d, 77);
        assert.equal(streamed.bytes, body.length);
        for (let call = 0; call < 2; call++) {
          const pieces: Uint8Array[] = [];
          for await (const piece of streamed.pieces()) pieces.push(piece);
          assert.deepEqual(joinBytes(pieces), body);
        }
        assert.equal(await post(t, body), "posted");
        assert.equal(await post(t, body), "already");
      }
      // The board checks a decryption post's batch proof against the final outputs (read a
      // page at a time into records): changed shares, even signed by their trustee, are
      // refused, and so are shares of another width.
      const d2 = await decryptElectionSharesRecords(ceremony.trusteeKeys[1]!, {
        ciphertexts: final,
        fingerprint: ce.fingerprint,
        workers: 1,
      });
      const changed = allRecords(d2.shares).slice();
      changed.copyWithin(0, 32, 64); // share 1 := share 2
      const wide = new Uint8Array(2 * changed.length);
      for (
        const [shares, message] of [
          [
            memoryRecords(changed, 32),
            /^Trustee 2: decryption share batch invalid \(HTTP 4\d\d\)$/,
          ],
          [
            memoryRecords(wide, 64),
            /^Trustee 2: a decryption share of 64 bytes for ciphertexts of 1 elements \(HTTP 4\d\d\)$/,
          ],
        ] as const
      ) {
        const forged = { ...d2, shares };
        forged.signature = signCeremonyPost(
          ce,
          { decryptionRecords: forged },
          identities[1]!.secretKey,
        );
        await assert.rejects(
          post(2, decryptionPostBody(ce, forged)),
          (e) => e instanceof Error && message.test(e.message),
        );
      }
      const small = await readElectionBoard(client, { job, election: ce });
      assert.deepEqual(small.decrypted, [1, 3]);
      const big = await readElectionBoard(client, { job, election: ce, bodyLimit: 1000 });
      assert.deepEqual(big.decrypted, [1, 3]);
      assert.equal(big.decryption.length, 0); // named, left on the board
      assert.equal(big.ceremony.dealings.length, 3);
      const posted = await readDecryptionRecords(client, {
        job,
        election: ce,
        sinks: spool.sinks,
        bodyLimit: 0,
        chunk: 100,
      });
      assert.deepEqual(posted.map((p) => p.trustee), [1, 3]);
      for (const p of posted) {
        // The same shares and proof as the inline (page) reading of the same post.
        const inline = small.decryption.find((d) => d.trustee === p.trustee)!;
        assert.deepEqual(
          allRecords(p.shares),
          allRecords(electionDecryptionRecords(inline, 1).shares),
        );
        assert.deepEqual(p.proof, inline.proof);
        assert.equal(p.shares.count, n);
      }

      // A board (here a proxy in front of it) that changes a streamed body is caught.
      let tamper: ((body: Uint8Array) => Uint8Array) | undefined;
      // ...or a page of the log: the listed length or digest of the first mix.
      let tamperPage: ((post: Record<string, unknown>) => void) | undefined;
      proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        const url = new URL(req.url);
        const upstream = await fetch(board.url + url.pathname + url.search);
        if (tamperPage !== undefined && url.pathname === "/v1/board/posts") {
          const page = await upstream.json() as { posts: Record<string, unknown>[] };
          const first = page.posts.find((p) => p.type === "mix" && p.job === job);
          if (first !== undefined) tamperPage(first);
          return Response.json(page);
        }
        if (tamper === undefined || !/^\/v1\/board\/posts\/\d+\/body$/.test(url.pathname)) {
          return upstream;
        }
        return new Response(
          tamper(new Uint8Array(await upstream.arrayBuffer())) as Uint8Array<ArrayBuffer>,
        );
      });
      const viaProxy = new NodeClient(
        `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`,
      );
      const read = () =>
        readElectionCascadeRecords(viaProxy, { job, sinks: spool.sinks, bodyLimit: 0 });
      await read(); // the proxy alone changes nothing
      const refused = async (change: (body: Uint8Array) => Uint8Array, message: RegExp) => {
        tamper = change;
        const error = await read().then(() => undefined, (e) => e);
        assert.ok(error instanceof VerificationError, String(error));
        assert.match(error.message, message);
        assert.ok(!error.message.includes("\n"));
      };
      await refused((b) => {
        const c = b.slice();
        c[c.length >> 1]! ^= 1;
        return c;
      }, /^Board post \d+'s body does not match the digest the hash chain covers$/);
      await refused(
        (b) => b.subarray(0, b.length - 1),
        /^Board post \d+'s body is short: \d+ of the \d+ bytes listed$/,
      );
      await refused((b) => {
        const c = new Uint8Array(b.length + 1);
        c.set(b);
        return c;
      }, /^Board post \d+'s body is longer than the \d+ bytes listed$/);
      tamper = undefined;
      const pageRefused = async (
        change: (post: Record<string, unknown>) => void,
        message: RegExp,
      ) => {
        tamperPage = change;
        const error = await read().then(() => undefined, (e) => e);
        assert.ok(error instanceof Error && !error.message.includes("\n"), String(error));
        assert.match(error.message, message);
      };
      await pageRefused(
        (p) => p.bodyBytes = (p.bodyBytes as number) + 1,
        /^Board post \d+'s body is short: \d+ of the \d+ bytes listed$/,
      );
      await pageRefused((p) => p.bodyBytes = 0, /^Value 'post \d+.bodyBytes' must be/);
      await pageRefused(
        (p) => p.bodyBytes = 65 * 1024 * 1024,
        /^Value 'post \d+.bodyBytes' must be/,
      );
      await pageRefused((p) => {
        const digest = fromBase64Url(p.digest as string, "digest");
        digest[0]! ^= 1;
        p.digest = toBase64Url(digest);
      }, /^Board hash chain breaks at post \d+$/);
    } finally {
      await proxy?.shutdown();
      spool.close();
      await net.close();
    }
  },
});

Deno.test("a mix body is decoded a piece at a time; a missized, truncated or other stage's body is refused in one line", async () => {
  const key = generateKeyPair().publicKey;
  const outputs = [1, 2, 3].map((i) => encodeCiphertext(encrypt(key, [encodeInteger(i)])));
  const { bytes } = readShuffleProofLayout({
    v: 2,
    kind: "reencrypt.shuffle-proof",
    count: 3,
    width: 1,
  });
  const proof: Record<string, unknown> = {
    v: 2,
    kind: "reencrypt.shuffle-proof",
    count: 3,
    width: 1,
  };
  let fill = 0;
  for (const [f, length] of Object.entries(bytes)) proof[f] = new Uint8Array(length).fill(++fill);
  const body = (change: Record<string, unknown> = {}, proofChange: Record<string, unknown> = {}) =>
    encodeMsgpack({
      v: 1,
      kind: "node.mix",
      stage: 0,
      outputs,
      proof: { ...proof, ...proofChange },
      ...change,
    });
  // In pieces of 7 bytes: records split across pieces land whole in the sinks.
  const pieces = (b: Uint8Array) =>
    ReadableStream.from(
      Array.from({ length: Math.ceil(b.length / 7) }, (_, i) => b.slice(7 * i, 7 * i + 7)),
    );
  const read = (b: Uint8Array) =>
    readMixBody(pieces(b), { sinks: memoryRecordSinks, chunk: 2, stage: 0, what: "mix" });
  const mix = await read(body());
  assert.deepEqual(
    readCiphertexts(mix.outputs, 0, 3).map((c) => c.bytes),
    outputs.map((o) => decodeCiphertext(o, "o").bytes),
  );
  assert.deepEqual(shuffleProofFromRecords(mix.proof), decodeShuffleProof(proof));
  const refused = async (b: Uint8Array, message: RegExp) => {
    const error = await read(b).then(() => undefined, (e) => e);
    assert.ok(error instanceof Error && !error.message.includes("\n"), String(error));
    assert.match(error.message, message);
  };
  const whole = body();
  await refused(whole.subarray(0, whole.length - 5), /^Value '.*' is truncated msgpack/);
  await refused(Uint8Array.of(...whole, 0), /^Input 'mix' has trailing bytes after its value$/);
  await refused(
    body({}, { chainCommitments: new Uint8Array(64) }),
    /^Value 'mix.proof.chainCommitments' must be 96 bytes, got 64$/,
  );
  await refused(
    body({}, { permutationResponses: [1, 2] }),
    /^Value 'mix.proof.permutationResponses' must be a byte string of 32-byte elements$/,
  );
  await refused(
    body({ outputs: [...outputs, outputs[0]] }),
    /^Value 'mix' has 4 outputs and a proof for 3$/,
  );
  await refused(body({ stage: 1 }), /^mix is mix stage 1, expected 0$/);
  await refused(
    body({
      outputs: [
        outputs[0],
        encodeCiphertext(encrypt(key, [encodeInteger(1), encodeInteger(2)])),
        outputs[2],
      ],
    }),
    /^Value 'mix.outputs\[1\]' has 2 elements; the first has 1$/,
  );
  await refused(body({ kind: "node.inputs" }), /^Value 'mix' must be of kind 'node.mix'/);
  // Keys of the object prototype are fields like any other (no reader is looked up for them).
  assert.equal((await read(body({ constructor: 1, toString: 2 }))).stage, 0);
  // Counts checked before anything is sized from them: the outputs expected, and never more
  // ciphertexts or list bytes than the body's length can hold.
  const bounded = (b: Uint8Array, bound: { count?: number; maxBytes?: number }) =>
    readMixBody(pieces(b), { sinks: memoryRecordSinks, chunk: 2, what: "mix", ...bound })
      .then(() => undefined, (e) => e);
  assert.equal(await bounded(whole, { count: 3, maxBytes: whole.length }), undefined);
  assert.match(
    String((await bounded(whole, { count: 4 }))?.message),
    /^Value 'mix.outputs' holds 3 ciphertexts, expected 4$/,
  );
  const claim = new Uint8Array([
    0x82,
    ...encodeMsgpack("outputs"),
    0xdd,
    ...[0x01, 0xc9, 0xc3, 0x80], // 30,000,000
    ...new Uint8Array(256),
  ]);
  assert.match(
    String((await bounded(claim, { maxBytes: claim.length }))?.message),
    /^Value 'mix.outputs' claims 30000000 ciphertexts, more than its 270-byte body can hold$/,
  );
});
