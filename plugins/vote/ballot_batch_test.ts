import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { electionBallotLayout } from "./answers.ts";
import {
  BALLOT_CONTEXT_LABEL,
  ballotProofContext,
  encryptElectionBallot,
  encryptElectionBallots,
  verifyElectionBallot,
  VOTE_MAX_CREDENTIAL_BYTES,
} from "./ballot.ts";
import { runLocalKeyCeremony } from "./ceremony.ts";
import { createElectionDefinition, electionFingerprint } from "./definition.ts";
import { encodeStoredBallots, encryptStoredBallots } from "./ballot_store.ts";

const fingerprint = new Uint8Array(32).map((_, i) => i);
const encoder = new TextEncoder();

Deno.test("ballotProofContext: label ‖ fingerprint ‖ UTF-8 credential, the same from text and from bytes", () => {
  for (
    const credential of ["v", "voter-12345", "é".repeat(128), "x".repeat(VOTE_MAX_CREDENTIAL_BYTES)]
  ) {
    const context = ballotProofContext(fingerprint, credential);
    const label = encoder.encode(BALLOT_CONTEXT_LABEL);
    assert.deepEqual(context.subarray(0, label.length), label);
    assert.deepEqual(context.subarray(label.length, label.length + 32), fingerprint);
    assert.deepEqual(context.subarray(label.length + 32), encoder.encode(credential));
    assert.deepEqual(ballotProofContext(fingerprint, encoder.encode(credential)), context);
  }
  // Each call returns its own bytes (the credential's scratch buffer is not shared out).
  const a = ballotProofContext(fingerprint, "voter-a");
  const b = ballotProofContext(fingerprint, "voter-b");
  assert.notDeepEqual(a, b);
  assert.equal(a[a.length - 1], "a".charCodeAt(0));
});

Deno.test("ballotProofContext rejects empty, too long (in bytes) and control-character credentials", () => {
  const bad = [
    "",
    "x".repeat(VOTE_MAX_CREDENTIAL_BYTES + 1),
    "é".repeat(129), // 258 bytes: longer than the scratch buffer
    "x".repeat(10_000),
    "tab\there",
    "del\x7f",
  ];
  for (const credential of bad) {
    assert.throws(
      () => ballotProofContext(fingerprint, credential),
      (e) =>
        e instanceof InvalidInputError &&
        /must be 1 to 256 bytes of printable text/.test(e.message),
      JSON.stringify(credential.slice(0, 20)),
    );
  }
});

Deno.test("encryptElectionBallots gives voter by voter the bytes of encryptElectionBallot with the same seeded randomness", () => {
  const definition = createElectionDefinition({
    id: "batch",
    trustees: 1,
    mixers: 1,
    questions: [
      { text: "Q1", choices: ["a", "b", "c"] },
      {
        text: "Q2",
        type: "ranked",
        choices: Array.from({ length: 40 }, (_, i) => `c${i}`),
        max: 40,
      },
      {
        text: "Q3",
        type: "ranked",
        choices: Array.from({ length: 40 }, (_, i) => `d${i}`),
        max: 40,
      },
    ],
  });
  const fingerprint = electionFingerprint(definition);
  const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom("k") });
  const election = { definition, fingerprint, publicKey: key.publicKey };
  const width = electionBallotLayout(definition).elements.length;
  assert.ok(width >= 2, `width ${width}`);
  const voters = Array.from({ length: 7 }, (_, i) => ({
    credential: i === 3 ? "votér-ünïcode-✓" : `voter-${i + 1}`,
    answers: [[i % 3], Array.from({ length: i }, (_, k) => (k * 7 + i) % 40), [i]],
  }));
  const many = encryptElectionBallots(
    election,
    voters.map((v, i) => ({ ...v, random: seededRandom(`voter ${i}`) })),
  );
  voters.forEach((v, i) => {
    const one = encryptElectionBallot(election, { ...v, random: seededRandom(`voter ${i}`) });
    assert.deepEqual(many[i]!.ciphertext.bytes, one.ciphertext.bytes);
    assert.deepEqual(many[i]!.proof, one.proof);
    assert.equal(many[i]!.credential, v.credential);
    verifyElectionBallot(election, many[i]!);
  });
  assert.throws(
    () =>
      encryptElectionBallots(election, [...voters.slice(0, 2), {
        credential: "",
        answers: [[0], [], [1]],
      }]),
    (e) => e instanceof InvalidInputError && /must be 1 to 256 bytes/.test(e.message),
  );
  assert.throws(
    () => encryptElectionBallots({ ...election, fingerprint: new Uint8Array(31) }, voters),
    (e) => e instanceof InvalidInputError && /fingerprint must be 32 bytes/.test(e.message),
  );
});

Deno.test("encryptStoredBallots writes the stored records of encryptElectionBallots for the same seeded randomness", () => {
  for (const wide of [false, true]) {
    const definition = createElectionDefinition({
      id: wide ? "stored-wide" : "stored",
      trustees: 1,
      mixers: 1,
      questions: [
        { text: "Q1", choices: ["a", "b", "c"] },
        ...(wide
          ? [{
            text: "Q2",
            type: "ranked" as const,
            choices: Array.from({ length: 40 }, (_, i) => `c${i}`),
            max: 40,
          }]
          : []),
      ],
    });
    const fingerprint = electionFingerprint(definition);
    const { key } = runLocalKeyCeremony({ definition, fingerprint }, { random: seededRandom("k") });
    const election = { definition, fingerprint, publicKey: key.publicKey };
    const voters = (seed: string) =>
      Array.from({ length: 9 }, (_, i) => ({
        credential: i === 4 ? "votér-ünïcode-✓" : `voter-${i + 1}`,
        answers: wide
          ? [[i % 3], Array.from({ length: i }, (_, k) => (k * 7 + i) % 40)]
          : [[i % 3]],
        random: seededRandom(`${seed} ${i}`),
      }));
    const expected = encodeStoredBallots(encryptElectionBallots(election, voters("v")));
    assert.deepEqual(encryptStoredBallots(election, voters("v")), expected);
    assert.notDeepEqual(encryptStoredBallots(election, voters("w")), expected);
  }
});
