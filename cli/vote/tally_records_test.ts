// `vote tally` on record lists (issue 17 point 2): the transcript the spool path writes is
// byte for byte the one the in-memory path (replayBallotBox, mixElection,
// decryptElectionShares, tallyElection) wrote before, for the same box and mixers' randomness.
import assert from "node:assert/strict";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import {
  createElectionDefinition,
  decryptElectionShares,
  type ElectionDecryption,
  electionDecryptionRecords,
  electionFingerprint,
  type ElectionTranscript,
  electionTranscriptToEnvelope,
  encryptElectionBallot,
  mixElection,
  replayBallotBox,
  runLocalKeyCeremony,
  simulateElectionBallots,
  tallyElection,
} from "../../plugins/vote/mod.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";
import { openBoxFile, readBoxFile, writeBoxFile, writeTranscriptFile } from "./support.ts";
import { tallyBallotBox, type TallyBallotBoxOptions } from "./tally_records.ts";

/** Posted shares as the board reader gives them: record lists (a malformed share as 0xff). */
function asRecords(posts: readonly ElectionDecryption[]) {
  return posts.map((p) => electionDecryptionRecords(p, posts[0]!.shares[0]!.length / 32));
}

const definition = createElectionDefinition({
  id: "tally-records",
  trustees: 3,
  threshold: 2,
  mixers: 2,
  revote: "last",
  questions: [
    { text: "Q", choices: ["a", "b", "c"] },
    { text: "R", choices: ["x", "y", "z"], type: "ranked", min: 0, max: 3 },
  ],
});
const fingerprint = electionFingerprint(definition);
const ce = { definition, fingerprint };
const random = seededRandom("tally-records");
const ceremony = runLocalKeyCeremony(ce, { random });
const election = { ...ce, publicKey: ceremony.key.publicKey };
const { ballots } = simulateElectionBallots(election, { count: 11, random });
// voter-3 votes again: the box counts the later ballot only.
ballots.push(encryptElectionBallot(election, {
  credential: "voter-3",
  answers: [[2], [1, 0]],
  random,
}));
const trustees = [ceremony.trusteeKeys[0]!, ceremony.trusteeKeys[2]!];
const MIX_SEED = "tally-records-mix";

/** The path `vote tally` took before (every list in memory), as msgpack bytes. */
async function inMemoryTranscript(
  box: string,
  decrypt: (final: ElectionTranscript["mixInput"]) => Promise<ElectionDecryption[]>,
): Promise<Uint8Array> {
  const stored = await readBoxFile(ReadableStream.from([]), election, box);
  const replayed = await replayBallotBox(election, stored, { workers: 1 });
  const mixInput = replayed.close();
  const mixes = await mixElection(election, {
    inputs: mixInput,
    workers: 1,
    random: seededRandom(MIX_SEED),
  });
  const final = mixes[mixes.length - 1]!.outputs;
  const decryption = await decrypt(final);
  const results = await tallyElection(election, {
    key: ceremony.key,
    ciphertexts: final,
    decryption,
    workers: 1,
  });
  return encodeMsgpack(electionTranscriptToEnvelope({
    ...ce,
    ceremony: ceremony.posts,
    key: ceremony.key,
    ballots: [...replayed.ballots],
    mixInput,
    mixes,
    decryption,
    ...results,
  }));
}

/** The spool path of `vote tally`, written to a file of the spool and read back. */
async function spoolTranscript(
  spool: Spool,
  box: string,
  stdin: ReadableStream<Uint8Array>,
  decrypt: Pick<TallyBallotBoxOptions, "trusteeKeys" | "postedDecryption">,
): Promise<Uint8Array> {
  const transcript = await tallyBallotBox(ce, {
    ceremony: ceremony.posts,
    key: ceremony.key,
    ballots: await openBoxFile(stdin, election, box, spool),
    store: FileBallotStore.inSpool(spool, fingerprint),
    sinks: spool.sinks,
    workers: 1,
    random: seededRandom(MIX_SEED),
    ...decrypt,
  });
  const path = `${spool.dir}/transcript-${crypto.randomUUID()}.msgpack`;
  const written = await writeTranscriptFile(path, transcript, false);
  const bytes = await Deno.readFile(path);
  assert.equal(written, bytes.length);
  return bytes;
}

/**
 * A transcript's bytes with each trustee's batch proof of decryption taken from `like`: the
 * proof's nonce comes from the system's randomness (two runs prove with different nonces; the
 * tally checks every proof), all the rest is deterministic for a given box and mix seed.
 */
function withProofsOf(bytes: Uint8Array, like: Uint8Array): Uint8Array {
  type Posts = { decryption: Array<{ challenge: unknown; response: unknown }> };
  const out = decodeMsgpack(bytes, "transcript") as Posts;
  const proofs = (decodeMsgpack(like, "transcript") as Posts).decryption;
  assert.equal(out.decryption.length, proofs.length);
  out.decryption.forEach((d, t) => {
    assert.notDeepEqual(d.challenge, proofs[t]!.challenge); // fresh nonces
    d.challenge = proofs[t]!.challenge;
    d.response = proofs[t]!.response;
  });
  const again = encodeMsgpack(out);
  // Sanity: the file is the one encoding of its value, so re-encoding changes only the proofs.
  assertSameBytes(encodeMsgpack(decodeMsgpack(bytes, "transcript")), bytes, "re-encoded");
  return again;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const at = actual.findIndex((b, i) => b !== expected[i]);
  assert.equal(at, -1, `${what}: first difference at byte ${at}`);
}

Deno.test("vote tally on a spool: the same transcript bytes as the in-memory path", async () => {
  const spool = await Spool.create();
  try {
    const box = `${spool.dir}/box.msgpack`;
    await writeBoxFile(box, election, ballots);
    const keys = (final: ElectionTranscript["mixInput"]) =>
      Promise.all(
        trustees.map((k) =>
          decryptElectionShares(k, { ciphertexts: final, fingerprint, workers: 1 })
        ),
      );
    const expected = await inMemoryTranscript(box, keys);
    // Trustee keys given: the box from a file, then from standard input (the same bytes but
    // for the batch proofs' random nonces, which the tally checked).
    const fromFile = await spoolTranscript(spool, box, ReadableStream.from([]), {
      trusteeKeys: trustees,
    });
    assertSameBytes(withProofsOf(fromFile, expected), expected, "box file");
    const boxBytes = await Deno.readFile(box);
    const stdin = ReadableStream.from([boxBytes.subarray(0, 1000), boxBytes.subarray(1000)]);
    const fromStdin = await spoolTranscript(spool, "-", stdin, { trusteeKeys: trustees });
    assertSameBytes(withProofsOf(fromStdin, expected), expected, "box on standard input");
    // Shares posted by the trustees (as the board reader gives them), then checked by the tally:
    // the same posts in both paths, so the very same bytes.
    let posts: ElectionDecryption[] = [];
    const fromBoard = await inMemoryTranscript(box, async (final) => {
      posts = await keys(final);
      return posts;
    });
    assertSameBytes(
      await spoolTranscript(spool, box, ReadableStream.from([]), {
        postedDecryption: () => Promise.resolve(asRecords(posts)),
      }),
      fromBoard,
      "posted shares",
    );
    // A posted share of the wrong length fails its trustee's batch proof, as before.
    const bad = posts.map((p, t) =>
      t === 1 ? { ...p, shares: p.shares.map((s, i) => i === 4 ? s.subarray(1) : s) } : p
    );
    const message = async (run: Promise<unknown>) => {
      const error = await run.then(() => undefined, (e) => e);
      assert.ok(error instanceof VerificationError, String(error));
      return error.message;
    };
    const before = await message(inMemoryTranscript(box, () => Promise.resolve(bad)));
    assert.match(before, /^Trustee 3: /);
    assert.equal(
      await message(spoolTranscript(spool, box, ReadableStream.from([]), {
        postedDecryption: () => Promise.resolve(asRecords(bad)),
      })),
      before,
    );
  } finally {
    spool.close();
  }
});
