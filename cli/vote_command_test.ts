import assert from "node:assert/strict";
import { buildApplication, run } from "@stricli/core";
import { concatBytes } from "../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack } from "../core/envelope.ts";
import { exitCodeFor } from "../core/errors.ts";
import type { CliContext, OutputSink } from "./context.ts";
import { voteRoutes } from "./vote_command.ts";

// A stand-alone app around the vote routes, so these tests do not depend on app.ts wiring.
const app = buildApplication<CliContext>(voteRoutes, {
  name: "panoramix vote",
  scanner: { caseStyle: "allow-kebab-for-camel" },
  determineExitCode: exitCodeFor,
});

async function vote(...args: string[]) {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const sink = (chunks: Uint8Array[]): OutputSink => ({
    isTerminal: false,
    write(data) {
      chunks.push(typeof data === "string" ? new TextEncoder().encode(data) : data.slice());
      return Promise.resolve();
    },
  });
  const stdout = sink(out), stderr = sink(err);
  const ctx: CliContext = {
    process: {
      stdout: { write: (t) => void stdout.write(t) },
      stderr: { write: (t) => void stderr.write(t) },
    },
    stdin: ReadableStream.from([new Uint8Array()]),
    stdout,
    stderr,
    env: {},
  };
  await run(app, args, ctx);
  return {
    status: Number(ctx.process.exitCode ?? 0),
    stdout: new TextDecoder().decode(concatBytes(...out)),
    stderr: new TextDecoder().decode(concatBytes(...err)),
  };
}

async function ok(...args: string[]) {
  const r = await vote(...args);
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r;
}

Deno.test("vote CLI: file-based ceremony, casting, tally, verify, receipt, tamper", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vote-cli-" });
  try {
    const e = `${dir}/election.json`, board = `${dir}/board`;
    await ok(
      "init",
      "--id",
      "cli-test",
      "--question",
      "Chair?=Ann,Bob,Cid",
      "--question",
      "ranked:Order?=x,y,z",
      "--trustees",
      "3",
      "--threshold",
      "2",
      "--mixers",
      "2",
      "--out",
      e,
    );
    for (const i of [1, 2, 3]) {
      await ok(
        "trustee",
        "deal",
        "--election",
        e,
        "--trustee",
        `${i}`,
        "--board",
        board,
        "--outbox",
        `${dir}/out-${i}`,
      );
    }
    // Deliver the shares privately: trustee J's inbox gets share-I-to-J from every I.
    for (const j of [1, 2, 3]) {
      await Deno.mkdir(`${dir}/in-${j}`);
      for (const i of [1, 2, 3]) {
        await Deno.copyFile(
          `${dir}/out-${i}/share-${i}-to-${j}.json`,
          `${dir}/in-${j}/from-${i}.json`,
        );
      }
    }
    for (const j of [1, 2, 3]) {
      const r = await ok(
        "trustee",
        "check",
        "--election",
        e,
        "--trustee",
        `${j}`,
        "--board",
        board,
        "--inbox",
        `${dir}/in-${j}`,
      );
      assert.match(r.stdout, /all 3 shares check out/);
    }
    for (const i of [1, 2, 3]) {
      await ok(
        "trustee",
        "answer",
        "--election",
        e,
        "--trustee",
        `${i}`,
        "--board",
        board,
        "--outbox",
        `${dir}/out-${i}`,
      );
    }
    for (const j of [1, 3]) {
      await ok(
        "trustee",
        "finalize",
        "--election",
        e,
        "--trustee",
        `${j}`,
        "--board",
        board,
        "--inbox",
        `${dir}/in-${j}`,
        "--secret",
        `${dir}/trustee-${j}.key`,
      );
    }
    const key = `${board}/election-key.json`;
    const receipts: string[] = [];
    const votes = [["Ann", "x,y"], ["Bob", "z"], ["Ann", "y,x,z"], ["2", "0"]];
    for (const [i, [chair, order]] of votes.entries()) {
      const r = await ok(
        "encrypt",
        "--election",
        e,
        "--key",
        key,
        "--credential",
        `voter-${i}`,
        "--answer",
        chair!,
        "--answer",
        order!,
        "--out",
        `${dir}/ballot-${i}.json`,
      );
      receipts.push(/receipt ([0-9a-f]{64})/.exec(r.stdout)![1]!);
    }
    const box = `${dir}/box.msgpack`;
    const files = votes.map((_, i) => `${dir}/ballot-${i}.json`);
    const submitted = await ok("submit", "--election", e, "--key", key, "--box", box, ...files);
    assert.equal(submitted.stdout.match(/^accepted/gm)?.length, 4);
    // A replay is rejected with exit code 8 and the reason.
    const replay = await vote("submit", "--election", e, "--key", key, "--box", box, files[0]!);
    assert.equal(replay.status, 8);
    assert.match(replay.stdout, /rejected .*already cast/);
    const transcript = `${dir}/transcript.msgpack`;
    const tally = await ok(
      "tally",
      "--election",
      e,
      "--board",
      board,
      "--box",
      box,
      "--trustee-key",
      `${dir}/trustee-1.key`,
      "--trustee-key",
      `${dir}/trustee-3.key`,
      "--out",
      transcript,
      "--workers",
      "1",
    );
    assert.match(tally.stdout, /2 +Ann/);
    assert.match(tally.stdout, /1 +Cid/);
    const verified = await ok("verify", transcript, "--json", "--workers", "1");
    const report = JSON.parse(verified.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(report.tally.questions[0].counts, [2, 1, 1]);
    assert.deepEqual(report.tally.questions[1].ranks.map((r: number[]) => r[0]), [2, 1, 1]);
    const found = await ok("receipt", "--transcript", transcript, receipts[2]!);
    assert.match(found.stdout, /ballot 3 of 'voter-2', counted/);
    assert.equal((await vote("receipt", "--transcript", transcript, "00".repeat(32))).status, 6);
    // Tamper with the tally: verify exits 3 and names the step.
    const env = decodeMsgpack(await Deno.readFile(transcript), "t") as {
      tally: { questions: Array<{ counts: number[] }> };
    };
    env.tally.questions[0]!.counts = [1, 2, 1];
    await Deno.writeFile(`${dir}/bad.msgpack`, encodeMsgpack(env));
    const bad = await vote("verify", `${dir}/bad.msgpack`, "--workers", "1");
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /Tally does not match the decrypted ballots/);
    // The file written in chunks is the one msgpack encoding of its envelope (issue 17).
    const written = await Deno.readFile(transcript);
    const again = encodeMsgpack(decodeMsgpack(written, "t"));
    assert.ok(again.length === written.length && again.every((b, i) => b === written[i]));
    // A truncated or malformed transcript: exit 4, one line naming the field.
    await Deno.writeFile(`${dir}/cut.msgpack`, written.subarray(0, written.length >> 1));
    for (
      const args of [["verify", `${dir}/cut.msgpack`], [
        "receipt",
        "--transcript",
        `${dir}/cut.msgpack`,
        receipts[2]!,
      ]]
    ) {
      const cut = await vote(...args);
      assert.equal(cut.status, 4, cut.stderr);
      assert.match(cut.stderr, /'[^']*cut\.msgpack\.[a-z]+[^']*' is truncated msgpack/);
    }
    const malformed = decodeMsgpack(written, "t") as { plaintexts: Uint8Array[] };
    malformed.plaintexts[1] = new Uint8Array(3);
    await Deno.writeFile(`${dir}/malformed.msgpack`, encodeMsgpack(malformed));
    const m = await vote("verify", `${dir}/malformed.msgpack`, "--workers", "1");
    assert.equal(m.status, 4, m.stderr);
    assert.match(m.stderr, /'[^']*malformed\.msgpack\.plaintexts\[1\]' must be 32 bytes, got 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote CLI: run and bench a small simulated election", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vote-cli-" });
  try {
    await ok(
      "init",
      "--id",
      "sim",
      "--question",
      "Q?=a,b",
      "--trustees",
      "2",
      "--mixers",
      "1",
      "--out",
      `${dir}/e.json`,
    );
    await ok(
      "run",
      "--election",
      `${dir}/e.json`,
      "--ballots",
      "8",
      "--out",
      `${dir}/t.json`,
      "--workers",
      "1",
    );
    await ok("verify", `${dir}/t.json`, "--workers", "1");
    await ok(
      "run",
      "--election",
      `${dir}/e.json`,
      "--ballots",
      "5",
      "--out",
      `${dir}/t.msgpack`,
      "--workers",
      "1",
    );
    const verified = await ok("verify", `${dir}/t.msgpack`, "--workers", "1", "--json");
    assert.equal(JSON.parse(verified.stdout).ballots, 5);
    // No --force: the file is kept and the command says so.
    const exists = await vote(
      "run",
      "--election",
      `${dir}/e.json`,
      "--ballots",
      "5",
      "--out",
      `${dir}/t.msgpack`,
      "--workers",
      "1",
    );
    assert.equal(exists.status, 5, exists.stderr);
    assert.match(exists.stderr, /already exists; pass --force/);
    const bench = await ok("bench", "--ballots", "6", "--mixers", "2", "--workers", "1", "--json");
    const report = JSON.parse(bench.stdout);
    assert.equal(report.ballots, 6);
    assert.ok(report.seconds.verify >= 0 && report.seconds.mix >= 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vote CLI: a trustee waits for every dealing; signed elections need --identity", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vote-cli-" });
  try {
    const e = `${dir}/election.json`, board = `${dir}/board`;
    const key = (await ok("trustee", "keygen", "--out", `${dir}/t1.id.json`)).stdout.trim();
    const key2 = (await ok("trustee", "keygen", "--out", `${dir}/t2.id.json`)).stdout.trim();
    await ok(
      ...["init", "--id", "wait", "--question", "Q?=a,b", "--mixers", "1", "--out", e],
      ...["--trustee-key", key, "--trustee-key", key2],
    );
    const deal = (i: number, ...extra: string[]) =>
      vote(
        ...["trustee", "deal", "--election", e, "--trustee", `${i}`, "--board", board],
        ...["--outbox", `${dir}/out-${i}`, ...extra],
      );
    // The election names trustee keys: posts must be signed.
    const unsigned = await deal(1);
    assert.equal(unsigned.status, 2);
    assert.match(unsigned.stderr, /pass --identity FILE/);
    assert.equal((await deal(1, "--identity", `${dir}/t1.id.json`)).status, 0);
    // Signed with trustee 1's key but claiming to be trustee 2: refused before posting.
    const wrong = await deal(2, "--identity", `${dir}/t1.id.json`);
    assert.equal(wrong.status, 3);
    assert.match(wrong.stderr, /not trustee 2's key/);
    await Deno.mkdir(`${dir}/in-1`);
    await Deno.copyFile(`${dir}/out-1/share-1-to-1.json`, `${dir}/in-1/share-1-to-1.json`);
    const check = (...extra: string[]) =>
      vote(
        ...["trustee", "check", "--election", e, "--trustee", "1", "--board", board],
        ...["--inbox", `${dir}/in-1`, "--identity", `${dir}/t1.id.json`, ...extra],
      );
    const early = await check();
    assert.equal(early.status, 9);
    assert.match(early.stderr, /No dealing yet from trustee\(s\) 2: run this again/);
    assert.equal((await check("--force")).status, 0);
    // Simulated trustees cannot sign for the keys a definition names: said up front.
    const run = await vote("run", "--election", e, "--ballots", "3", "--out", `${dir}/t.msgpack`);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /cannot sign for them/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
