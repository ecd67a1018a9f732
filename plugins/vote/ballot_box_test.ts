import assert from "node:assert/strict";
import { InvalidInputError, ReplayError, VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { decodeMsgpack, encodeMsgpack, toJsonView } from "../../core/envelope.ts";
import {
  ballotReceipt,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
  encryptElectionBallot,
  verifyElectionBallot,
} from "./ballot.ts";
import { ElectionBallotBox } from "./ballot_box.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import {
  createElectionDefinition,
  type ElectionDefinition,
  electionFingerprint,
  type RevotePolicy,
} from "./definition.ts";

function setup(revote: RevotePolicy = "reject", id = "box-test"): ElectionPublicInfo {
  const definition: ElectionDefinition = createElectionDefinition({
    id,
    trustees: 2,
    threshold: 2,
    mixers: 1,
    revote,
    questions: [{ text: "Q", choices: ["a", "b", "c"] }],
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, {
    random: seededRandom(`box-${id}`),
  });
  return { definition, fingerprint, publicKey: key.publicKey };
}

const random = seededRandom("ballot-box-test");
const cast = (e: ElectionPublicInfo, credential: string, choice = 0) =>
  encryptElectionBallot(e, { credential, answers: [[choice]], random });

function throwsWith(fn: () => unknown, cls: new (...a: never[]) => Error, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

Deno.test("ballot: envelope round trip (msgpack and JSON) keeps proof and receipt", () => {
  const e = setup();
  const b = cast(e, "voter-1", 2);
  const env = electionBallotToEnvelope(b);
  const viaMsgpack = electionBallotFromEnvelope(decodeMsgpack(encodeMsgpack(env), "b"));
  const viaJson = electionBallotFromEnvelope(JSON.parse(JSON.stringify(toJsonView(env))));
  verifyElectionBallot(e, viaMsgpack);
  verifyElectionBallot(e, viaJson);
  assert.deepEqual(ballotReceipt(viaJson), ballotReceipt(b));
});

Deno.test("ballot box: accepts valid ballots and returns distinct receipts", () => {
  const e = setup();
  const box = new ElectionBallotBox(e);
  const r1 = box.cast(cast(e, "voter-1"));
  const r2 = box.cast(cast(e, "voter-2"));
  assert.equal(r1.index, 0);
  assert.equal(r2.index, 1);
  assert.notDeepEqual(r1.receipt, r2.receipt);
  assert.equal(box.close().length, 2);
  throwsWith(() => box.cast(cast(e, "voter-3")), InvalidInputError, /closed/);
});

Deno.test("ballot box: rejects malformed, foreign, replayed, copied and duplicate ballots", () => {
  const e = setup();
  const other = setup("reject", "other-election");
  const box = new ElectionBallotBox(e);
  const original = cast(e, "voter-1");
  box.cast(original);
  // Replay: the exact same ballot again.
  throwsWith(() => box.cast(original), ReplayError, /already cast.*ballot 1/);
  // Copy: voter-1's ciphertext under a new credential (with its proof, or any other).
  throwsWith(
    () => box.cast({ ...original, credential: "voter-2" }),
    ReplayError,
    /copies the ciphertext of ballot 1/,
  );
  // Duplicate: voter-1 again with a fresh ballot; re-voting is not allowed.
  throwsWith(() => box.cast(cast(e, "voter-1", 1)), ReplayError, /already voted/);
  // Another election's ballot.
  throwsWith(() => box.cast(cast(other, "voter-3")), InvalidInputError, /another election/);
  // Malformed: wrong width.
  const wide = cast(e, "voter-4");
  throwsWith(
    () => box.cast({ ...wide, proof: { ...wide.proof, responses: [1n, 2n] } }),
    InvalidInputError,
    /responses/,
  );
  throwsWith(() => box.cast({ ...wide, credential: "" }), InvalidInputError, /Credential/);
  // Invalid proof.
  throwsWith(
    () =>
      box.cast({
        ...wide,
        proof: { ...wide.proof, responses: wide.proof.responses.map((z) => z + 1n) },
      }),
    VerificationError,
    /proof of 'voter-4' is invalid/,
  );
  assert.equal(box.ballots.length, 1);
  // Nothing rejected left a trace: voter-4's correct ballot is still accepted.
  assert.equal(box.cast(wide).index, 1);
});

Deno.test("ballot box: a proof is bound to the credential (copy into an empty box fails)", () => {
  const e = setup();
  const original = cast(e, "voter-1");
  const box = new ElectionBallotBox(e);
  throwsWith(
    () => box.cast({ ...original, credential: "voter-2" }),
    VerificationError,
    /invalid/,
  );
});

Deno.test("ballot box: re-voting policy 'last' supersedes the earlier ballot", () => {
  const e = setup("last");
  const box = new ElectionBallotBox(e);
  box.cast(cast(e, "voter-1", 0));
  box.cast(cast(e, "voter-2", 1));
  const again = box.cast(cast(e, "voter-1", 2));
  assert.equal(again.supersedes, 0);
  assert.deepEqual(box.countedIndices(), [1, 2]);
  assert.equal(box.close().length, 2);
});

Deno.test("ballot box: voter roll", () => {
  const e = setup();
  const box = new ElectionBallotBox(e, { voters: ["voter-1"] });
  box.cast(cast(e, "voter-1"));
  throwsWith(() => box.cast(cast(e, "mallory")), InvalidInputError, /not on the voter roll/);
});

Deno.test("ballot box: castMany gives the same outcomes as cast, in order", async () => {
  const e = setup();
  const a = cast(e, "voter-1");
  const b = cast(e, "voter-2");
  const bad = { ...cast(e, "voter-3"), proof: { ...a.proof } };
  const outcomes = await new ElectionBallotBox(e).castMany([a, b, a, bad, cast(e, "voter-2")], {
    workers: 1,
  });
  assert.deepEqual(outcomes.map((o) => o.ok), [true, true, false, false, false]);
  assert.ok(!outcomes[2]!.ok && outcomes[2]!.error instanceof ReplayError);
  assert.ok(!outcomes[3]!.ok && outcomes[3]!.error instanceof VerificationError);
  assert.ok(!outcomes[4]!.ok && outcomes[4]!.error instanceof ReplayError);
});

Deno.test("ballot box: castMany batch-checks proofs and names the one bad ballot among valid ones", async () => {
  const e = setup();
  // Some credentials beyond ASCII: the workers hash their UTF-8 bytes as the box does.
  const ballots = Array.from(
    { length: 20 },
    (_, i) => cast(e, i % 4 === 1 ? `vötér-${i}-€` : `voter-${i}`, i % 3),
  );
  // One response off by one inside the batch; one commitment that is not a group element.
  const b7 = ballots[7]!, b13 = ballots[13]!;
  ballots[7] = { ...b7, proof: { ...b7.proof, responses: b7.proof.responses.map((z) => z + 1n) } };
  const garbled = b13.proof.commitments.slice();
  garbled.fill(0xff);
  ballots[13] = { ...b13, proof: { ...b13.proof, commitments: garbled } };
  for (const workers of [1, 2]) {
    const box = new ElectionBallotBox(e);
    const outcomes = await box.castMany(ballots, { workers });
    assert.deepEqual(
      outcomes.map((o, i) => o.ok ? "ok" : `${i}:${o.error.constructor.name}`),
      ballots.map((_, i) =>
        i === 7 ? "7:VerificationError" : i === 13 ? "13:InvalidInputError" : "ok"
      ),
    );
    const failed = outcomes[7]!;
    assert.ok(!failed.ok && /proof of 'voter-7' is invalid/.test(failed.error.message));
    assert.equal(box.ballots.length, 18);
    // Receipts computed with the batch check are the ballots' receipts.
    outcomes.forEach((o, i) => {
      if (o.ok) assert.deepEqual(o.result.receipt, ballotReceipt(ballots[i]!));
    });
  }
});

Deno.test("ballot box: deferred receipts; replay needs the exact ballot, a changed one is a copy", async () => {
  const e = setup();
  const a = cast(e, "voter-1"), b = cast(e, "voter-2");
  const changed = { ...a, proof: { ...a.proof, responses: a.proof.responses.map((z) => z + 1n) } };
  const box = new ElectionBallotBox(e);
  const outcomes = await box.castMany([a, b, a, changed], { workers: 1, receipts: false });
  assert.deepEqual(outcomes.map((o) => o.ok), [true, true, false, false]);
  assert.ok(
    !outcomes[2]!.ok && /already cast \(replay of ballot 1/.test(outcomes[2]!.error.message),
  );
  assert.ok(
    !outcomes[3]!.ok && /copies the ciphertext of ballot 1/.test(outcomes[3]!.error.message),
  );
  // Receipts computed on first use are the ballots' receipts.
  assert.deepEqual(box.receipts, [ballotReceipt(a), ballotReceipt(b)]);
  assert.ok(outcomes[1]!.ok && outcomes[1]!.result.receipt.join() === ballotReceipt(b).join());
});

Deno.test("ballot box: castMany in small batches gives the same outcomes (bad proofs, replays and re-votes across batches)", async () => {
  const e = setup("last", "box-batches");
  const ballots = Array.from({ length: 13 }, (_, i) => cast(e, `voter-${i % 9}`, i % 3));
  const b5 = ballots[5]!;
  ballots[5] = { ...b5, proof: { ...b5.proof, responses: b5.proof.responses.map((z) => z + 1n) } };
  ballots.push(ballots[2]!); // a replay of a ballot of the first batch, in the last one
  ballots.push(ballots[12]!); // a replay within the last batch
  const one = new ElectionBallotBox(e);
  const expected = ballots.map((b) => {
    try {
      const r = one.cast(b);
      return r.supersedes === undefined ? "ok" : `ok>${r.supersedes}`;
    } catch (error) {
      return (error as Error).constructor.name;
    }
  });
  assert.ok(expected.includes("ReplayError") && expected.includes("VerificationError"));
  assert.ok(expected.some((x) => x.startsWith("ok>"))); // re-votes across batches
  for (const workers of [1, 2]) {
    for (const batch of [1, 4, 5, 100]) {
      const seen: number[] = [];
      const box = new ElectionBallotBox(e);
      const outcomes = await box.castMany(ballots, {
        workers,
        batch,
        onProgress: (p) => {
          if (p.phase === "verify ballot proofs") seen.push(p.done);
        },
      });
      assert.deepEqual(
        outcomes.map((o) =>
          o.ok
            ? o.result.supersedes === undefined ? "ok" : `ok>${o.result.supersedes}`
            : o.error.constructor.name
        ),
        expected,
        `workers ${workers}, batch ${batch}`,
      );
      assert.deepEqual(box.close().map((c) => c.bytes), one.close().map((c) => c.bytes));
      // Progress over the overlapping batches: rising, and complete exactly once.
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
      assert.equal(seen.filter((d) => d === ballots.length).length, 1, JSON.stringify(seen));
    }
  }
});
