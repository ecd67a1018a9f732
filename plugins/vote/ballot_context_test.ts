import assert from "node:assert/strict";
import { InvalidInputError } from "../../core/errors.ts";
import { BALLOT_CONTEXT_LABEL, ballotProofContext, VOTE_MAX_CREDENTIAL_BYTES } from "./ballot.ts";

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
