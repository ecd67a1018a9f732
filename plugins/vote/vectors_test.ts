import assert from "node:assert/strict";
import { toHex } from "../../core/bytes.ts";
import { decodeElectionAnswers, encodeElectionAnswers } from "./answers.ts";
import { ballotReceipt, electionBallotFromEnvelope, verifyElectionBallot } from "./ballot.ts";
import { decodeElectionKey } from "./ceremony.ts";
import { electionDefinitionFromEnvelope, electionFingerprint } from "./definition.ts";
import { buildVoteVectors } from "./vectors.ts";

const committed = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/vote_vectors.json", import.meta.url)),
);

Deno.test("vectors: committed vectors check out independently of the generator", () => {
  const definition = electionDefinitionFromEnvelope(committed.definition);
  const fingerprint = electionFingerprint(definition);
  assert.equal(toHex(fingerprint), committed.fingerprint);
  for (const e of committed.encodings) {
    assert.deepEqual(encodeElectionAnswers(definition, e.answers).map(toHex), e.elements);
    const parts = e.elements.map((h: string) =>
      Uint8Array.from(h.match(/../g)!.map((b: string) => parseInt(b, 16)))
    );
    assert.deepEqual(decodeElectionAnswers(definition, parts), e.answers);
  }
  const key = decodeElectionKey({ definition, fingerprint }, committed.electionKey);
  const ballot = electionBallotFromEnvelope(committed.ballot);
  verifyElectionBallot({ definition, fingerprint, publicKey: key.publicKey }, ballot);
  assert.equal(toHex(ballotReceipt(ballot)), committed.receipt);
});

Deno.test("vectors: the generator reproduces the committed file from its seed", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(buildVoteVectors())), committed);
});
