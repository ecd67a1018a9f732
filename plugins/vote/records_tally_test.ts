// The decryption and tally side over record lists (issue 17 point 2): the record versions
// give the bytes, verdicts and tally of the array API, hand answers on in order a chunk at a
// time, and name tampering as the array API does.
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { allRecords, memoryRecords, type RecordSource } from "../../core/records.ts";
import { seededRandom } from "../../core/random.ts";
import { closeWorkerPool, setWorkerEntry } from "../../core/worker_pool.ts";
import { VerificationError } from "../../core/errors.ts";
import type { ElectionAnswer } from "./answers.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import {
  decryptElectionShares,
  decryptElectionSharesRecords,
  tallyElection,
  tallyElectionRecords,
  verifyTrusteeShares,
  verifyTrusteeSharesRecords,
} from "./election.ts";
import { ciphertextRecords, type ElectionDecryptionRecords } from "./election_records.ts";
import { signCeremonyPost } from "./signing.ts";
import { simulateElectionBallots } from "./simulate.ts";
import { computeElectionTally, tallyAccumulator } from "./tally.ts";
import {
  VOTE_ITEM_INVALID,
  VOTE_ITEM_MALFORMED,
  VOTE_ITEM_OK,
  voteCheckPlaintexts,
  voteCheckPlaintextsRecords,
  voteCombineDecryptionShares,
  voteCombineDecryptionSharesRecords,
} from "./tasks.ts";

setWorkerEntry(new URL("./worker_entry.ts", import.meta.url));

const identities = [1, 2, 3].map(() => ed25519.utils.randomSecretKey());
const definition = createElectionDefinition({
  id: "records-tally",
  trustees: 3,
  threshold: 2,
  mixers: 1,
  questions: [
    { text: "Chair?", choices: ["Ann", "Bob", "Cy"] },
    { text: "Rank", choices: ["x", "y", "z"], type: "ranked", max: 2 },
  ],
  trusteeKeys: identities.map((s) => ed25519.getPublicKey(s)),
});
const fingerprint = electionFingerprint(definition);
const ceremony = runLocalKeyCeremony({ definition, fingerprint }, { identities });
const election = { definition, fingerprint, publicKey: ceremony.key.publicKey };
const N = 41;
const { ballots } = simulateElectionBallots(election, { count: N, blank: 0.1 });
const list = ballots.map((b) => b.ciphertext);
const width = list[0]!.width;
const ciphertexts = ciphertextRecords(list, width);
const sign = (j: number) => ({
  election: { definition, fingerprint },
  identity: identities[j - 1]!,
});

async function decryptBoth(): Promise<ElectionDecryptionRecords[]> {
  return await Promise.all(
    [1, 3].map((j) =>
      decryptElectionSharesRecords(ceremony.trusteeKeys[j - 1]!, {
        ciphertexts,
        fingerprint,
        sign: sign(j),
        workers: 2,
      })
    ),
  );
}

/** Record i of a list replaced by `bytes`. */
function replaced(source: RecordSource, i: number, bytes: Uint8Array): RecordSource {
  const all = allRecords(source).slice();
  all.set(bytes, i * source.recordBytes);
  return memoryRecords(all, source.recordBytes);
}

const views = (source: RecordSource) =>
  Array.from({ length: source.count }, (_, i) => source.read(i, i + 1));

Deno.test("tallyAccumulator: chunk by chunk gives the tally of the whole list", () => {
  const answers: (ElectionAnswer[] | undefined)[] = [
    [[0], [2, 0]],
    undefined,
    [[], []],
    [[1], [0]],
    [[1], [1, 2]],
  ];
  const whole = computeElectionTally(definition, answers);
  const acc = tallyAccumulator(definition);
  acc.add(answers.slice(0, 2));
  const early = acc.result();
  acc.add(answers.slice(2).map((a) => a ?? null));
  assert.deepEqual(acc.result(), whole);
  assert.equal(early.ballots, 2); // a result is a copy: later chunks do not change it
  assert.deepEqual(whole.questions[1]!.ranks, [[1, 1], [1, 0], [1, 1]]);
  assert.equal(whole.invalid, 1);
});

Deno.test("records: shares, signatures, combination, check and tally equal the array API's", async () => {
  try {
    const posts = await decryptBoth();
    // Shares are deterministic (dᵢ = xⱼ·c1ᵢ): the array API gives the same bytes.
    const arrayPost = await decryptElectionShares(ceremony.trusteeKeys[0]!, {
      ciphertexts: list,
      fingerprint,
      sign: sign(1),
      workers: 1,
    });
    assert.deepEqual(
      arrayPost.shares.map((s) => [...s]),
      views(posts[0]!.shares).map((s) => [...s]),
    );
    // The signature of a record post is the signature of the same post in memory.
    const inMemory = { ...posts[0]!, shares: views(posts[0]!.shares) };
    assert.deepEqual(
      posts[0]!.signature,
      signCeremonyPost({ definition, fingerprint }, { decryption: inMemory }, identities[0]!),
    );
    for (const post of posts) {
      await verifyTrusteeSharesRecords(election, { key: ceremony.key, ciphertexts, post });
      await verifyTrusteeShares(election, {
        key: ceremony.key,
        ciphertexts: list,
        post: { ...post, shares: views(post.shares) },
      });
    }
    // Combination: the answers handed on in order, a chunk at a time, on 2 workers.
    const handed: Array<[number, number]> = [];
    const streamed: (ElectionAnswer[] | null)[] = [];
    const combined = await voteCombineDecryptionSharesRecords(posts, {
      ciphertexts,
      definition,
      workers: 2,
      onAnswers: (lo, answers) => {
        handed.push([lo, answers.length]);
        streamed.push(...answers);
      },
    });
    assert.ok(handed.length > 1, `chunks ${handed}`);
    let next = 0;
    for (const [lo, n] of handed) {
      assert.equal(lo, next);
      next += n;
    }
    assert.equal(next, N);
    const arrays = posts.map((p) => ({ trustee: p.trustee, shares: views(p.shares) }));
    const reference = await voteCombineDecryptionShares(arrays, {
      ciphertexts: list,
      definition,
      workers: 1,
    });
    assert.deepEqual(
      allRecords(combined.plaintexts),
      allRecords(memoryRecords(
        new Uint8Array(reference.plaintexts.flatMap((p) => [...p])),
        32 * width,
      )),
    );
    assert.deepEqual(streamed, reference.answers);
    assert.deepEqual(combined.verdicts, reference.verdicts);
    // Check of the published plaintexts.
    const checked = await voteCheckPlaintextsRecords(posts, {
      ciphertexts,
      plaintexts: combined.plaintexts,
      definition,
      workers: 2,
    });
    assert.ok(checked.plaintextVerdicts.every((v) => v === VOTE_ITEM_OK));
    assert.ok(checked.verdicts.every((v) => v.every((x) => x === VOTE_ITEM_OK)));
    // Tally.
    const records = await tallyElectionRecords(election, {
      key: ceremony.key,
      ciphertexts,
      decryption: posts,
      workers: 2,
    });
    const array = await tallyElection(election, {
      key: ceremony.key,
      ciphertexts: list,
      decryption: posts.map((p) => ({ ...p, shares: views(p.shares) })),
      workers: 1,
    });
    assert.deepEqual(records.tally, array.tally);
    assert.deepEqual(
      records.tally,
      computeElectionTally(definition, streamed.map((a) => a ?? undefined)),
    );
    assert.deepEqual(
      views(records.plaintexts).map((p) => [...p]),
      array.plaintexts.map((p) => [...p]),
    );
    // The answers read again (decoded from the spooled slots), in any chunk size.
    assert.equal(records.answers.count, N);
    for (const size of [7, 4096]) {
      const read: (ElectionAnswer[] | null)[] = [];
      for await (const chunk of records.answers.chunks(size)) {
        assert.ok(chunk.length <= size);
        read.push(...chunk);
      }
      assert.deepEqual(read, array.answers);
    }
    assert.ok(array.tally.invalid < N && array.tally.valid > 0);
  } finally {
    closeWorkerPool();
  }
});

Deno.test("records: a bad share record or plaintext record is caught and named", async () => {
  try {
    const posts = await decryptBoth();
    const tally = (decryption: ElectionDecryptionRecords[], verifyShares = true) =>
      tallyElectionRecords(election, {
        key: ceremony.key,
        ciphertexts,
        decryption,
        verifyShares,
        workers: 2,
      });
    const other = posts[1]!.shares.read(5, 6);
    // Another trustee's (valid) share: the signature breaks first, then (unsigned check) the proof.
    const swapped = { ...posts[0]!, shares: replaced(posts[0]!.shares, 5, other) };
    await assert.rejects(
      tally([swapped, posts[1]!]),
      (e: Error) =>
        e instanceof VerificationError &&
        /^Decryption shares of trustee 1: signature does not verify/.test(e.message),
    );
    const resigned = { ...swapped };
    resigned.signature = signCeremonyPost(
      { definition, fingerprint },
      { decryptionRecords: resigned },
      identities[0]!,
    );
    await assert.rejects(
      tally([resigned, posts[1]!]),
      (e: Error) =>
        e instanceof VerificationError &&
        /^Trustee 1: decryption share batch invalid/.test(e.message),
    );
    // A share that is not an element, when the proofs are not checked: named by its index.
    const malformed = {
      ...posts[1]!,
      shares: replaced(posts[1]!.shares, 8, new Uint8Array(32 * width).fill(0xff)),
    };
    await assert.rejects(
      tally([posts[0]!, malformed], false),
      (e: Error) =>
        e instanceof VerificationError &&
        /^Trustee 3: decryption share 9 malformed/.test(e.message),
    );
    // A share list of another length.
    const short = {
      ...posts[0]!,
      shares: memoryRecords(posts[0]!.shares.read(0, N - 1), 32 * width),
    };
    await assert.rejects(tally([short, posts[1]!]), /Trustee 1 sent 40 shares for 41 ciphertexts/);
    // Published plaintexts: another ballot's plaintext, and bytes that are not an element.
    const { plaintexts } = await voteCombineDecryptionSharesRecords(posts, {
      ciphertexts,
      workers: 1,
    });
    let bad = replaced(plaintexts, 12, plaintexts.read(13, 14));
    bad = replaced(bad, 30, new Uint8Array(32 * width).fill(0xff));
    const checked = await voteCheckPlaintextsRecords(posts, {
      ciphertexts,
      plaintexts: bad,
      workers: 2,
    });
    const wrong = [...checked.plaintextVerdicts].flatMap((v, i) =>
      v === VOTE_ITEM_OK ? [] : [[i, v]]
    );
    // (Ballot 13's plaintext may equal ballot 12's when they hold the same answers.)
    const same = plaintexts.read(12, 13).every((b, k) => b === plaintexts.read(13, 14)[k]);
    assert.deepEqual(wrong, [...(same ? [] : [[12, VOTE_ITEM_INVALID]]), [
      30,
      VOTE_ITEM_MALFORMED,
    ]]);
    // The array API gives the same verdicts.
    const arrayChecked = await voteCheckPlaintexts(
      posts.map((p) => ({ trustee: p.trustee, shares: views(p.shares) })),
      { ciphertexts: list, plaintexts: views(bad), workers: 1 },
    );
    assert.deepEqual(arrayChecked.plaintextVerdicts, checked.plaintextVerdicts);
  } finally {
    closeWorkerPool();
  }
});

Deno.test("records: a trustee's batch proof nonce comes from the given random source", async () => {
  try {
    const post = (seed: number) =>
      decryptElectionSharesRecords(ceremony.trusteeKeys[0]!, {
        ciphertexts,
        fingerprint,
        workers: 1,
        random: seededRandom(new Uint8Array([seed])),
      });
    const [a, b, c] = [await post(7), await post(7), await post(8)];
    // Same seed: the same proof; another seed: another nonce, so another proof of the same shares.
    assert.equal(a.proof.challenge, b.proof.challenge);
    assert.equal(a.proof.response, b.proof.response);
    assert.notEqual(a.proof.response, c.proof.response);
    assert.deepEqual(allRecords(a.shares), allRecords(c.shares));
  } finally {
    closeWorkerPool();
  }
});
