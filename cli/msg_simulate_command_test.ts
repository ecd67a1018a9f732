import assert from "node:assert/strict";
import { runInMemory } from "./test_context.ts";

const quick = ["--users", "400", "--duration", "5", "--warmup", "2", "--targets", "10"];

Deno.test("msg simulate: a report with latency, load, overhead and entropy; progress on stderr", async () => {
  const run = await runInMemory(["msg", "simulate", ...quick, "--seed", "cli"]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /Loopix simulation: 400 users, 10 providers, 3 layers × 10 mixes/);
  assert.match(run.stdout, /latency of [\d,]+ real messages/);
  assert.match(run.stdout, /p50 [\d,]+ ms {2}p90/);
  assert.match(run.stdout, /layer 3 /);
  assert.match(run.stdout, /bandwidth overhead [\d.]+ packets per real message/);
  assert.match(run.stdout, /sender anonymity of 10 target messages .*\n {2}mean [\d.]+ bits/);
  assert.match(run.stderr, /^simulating 7 s of 400 users/);
});

Deno.test("msg simulate --json: deterministic under --seed", async () => {
  const a = await runInMemory(["msg", "simulate", ...quick, "--seed", "s1", "--json"]);
  const b = await runInMemory(["msg", "simulate", ...quick, "--seed", "s1", "--json"]);
  assert.equal(a.status, 0, a.stderr);
  const ja = JSON.parse(a.stdout), jb = JSON.parse(b.stdout);
  assert.equal(ja.kind, "msg-simulation");
  assert.equal(ja.params.users, 400);
  delete ja.wallSeconds;
  delete jb.wallSeconds;
  assert.deepEqual(ja, jb);
  assert.ok(ja.anonymity.entropyMean > 0);
});

Deno.test("msg simulate: bad parameters get one clear line and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--users", "0"], /Flag '--users' must be an integer from 1/],
    [["--mu", "-1"], /Flag '--mu' must be a positive number/],
    [["--loop-rate", "x"], /Flag '--loop-rate' must be a number ≥ 0, got 'x'/],
    [["--message-rate", "0.5", "--payload-rate", "0.5"], /'--message-rate' \(0\.5\) must be below/],
    [["--providers", "20", "--users", "10"], /'--providers' \(20\) must not exceed/],
    [[
      "--payload-rate",
      "0",
      "--message-rate",
      "0",
      "--loop-rate",
      "0",
      "--drop-rate",
      "0",
      "--mix-loop-rate",
      "0",
    ], /Every packet rate is zero/],
  ];
  for (const [args, message] of cases) {
    const run = await runInMemory(["msg", "simulate", ...args]);
    assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.equal(run.stdout, "");
  }
});

Deno.test("msg simulate --help lists the rates", async () => {
  const run = await runInMemory(["msg", "simulate", "--help"]);
  assert.equal(run.status, 0);
  for (
    const flag of [
      "--payload-rate",
      "--loop-rate",
      "--drop-rate",
      "--mix-loop-rate",
      "--mu",
      "--seed",
      "--json",
    ]
  ) {
    assert.ok(run.stdout.includes(flag), flag);
  }
});
