/**
 * A transcript on standard input (issue 17 point 2): `vote verify -` and `vote receipt
 * --transcript -` copy it to a spool file a chunk at a time and read it in place, as a file.
 */

import assert from "node:assert/strict";
import { decodeMsgpack } from "../../core/envelope.ts";
import {
  ballotReceipt,
  electionTranscriptFromEnvelope,
  formatElectionReceipt,
} from "../../plugins/vote/mod.ts";
import { runInMemory } from "../test_context.ts";

async function ok(args: string[], stdin?: Uint8Array) {
  const r = await runInMemory(["vote", ...args], stdin);
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r;
}

Deno.test("vote verify - and vote receipt --transcript -: standard input is read as a file is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vote-stdin-" });
  try {
    const e = `${dir}/e.json`;
    await ok([
      ...["init", "--id", "stdin", "--question", "Q?=a,b", "--trustees", "1", "--mixers", "1"],
      ...["--out", e],
    ]);
    const path = `${dir}/t.msgpack`;
    await ok(["run", "--election", e, "--ballots", "5", "--out", path, "--workers", "1"]);
    const bytes = await Deno.readFile(path);
    const fromFile = await ok(["verify", path, "--json", "--workers", "1"]);
    const fromStdin = await ok(["verify", "-", "--json", "--workers", "1"], bytes);
    assert.equal(fromStdin.stdout, fromFile.stdout);
    assert.equal(JSON.parse(fromStdin.stdout).ballots, 5);

    const transcript = electionTranscriptFromEnvelope(decodeMsgpack(bytes, "t"));
    const receipt = formatElectionReceipt(ballotReceipt(transcript.ballots[3]!));
    const found = await ok(["receipt", "--transcript", "-", receipt, "--json"], bytes);
    assert.deepEqual(JSON.parse(found.stdout), {
      status: "counted",
      position: 4,
      credential: transcript.ballots[3]!.credential,
    });
    const absent = await runInMemory(
      ["vote", "receipt", "--transcript", "-", "00".repeat(32)],
      bytes,
    );
    assert.equal(absent.status, 6, absent.stderr);

    // Bad input on standard input: exit 4, one line naming the field of "stdin".
    const cut = bytes.subarray(0, bytes.length - 100);
    for (
      const args of [["verify", "-", "--workers", "1"], ["receipt", "--transcript", "-", receipt]]
    ) {
      const r = await runInMemory(["vote", ...args], cut);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /^panoramix: error: Value 'stdin\.[a-z]+[^']*' is truncated msgpack/m);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const empty = await runInMemory(["vote", "verify", "-"], new Uint8Array());
    assert.equal(empty.status, 4, empty.stderr);
    assert.match(empty.stderr, /'stdin' is truncated msgpack/);

    // The JSON view on standard input is read too (whole: it is for small elections).
    const json = `${dir}/t.json`;
    await ok(["run", "--election", e, "--ballots", "3", "--out", json, "--workers", "1"]);
    const viaJson = await ok(
      ["verify", "-", "--json", "--workers", "1"],
      await Deno.readFile(json),
    );
    assert.equal(JSON.parse(viaJson.stdout).ballots, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
