import assert from "node:assert/strict";
import { concatBytes } from "../core/bytes.ts";
import { toJsonView } from "../core/envelope.ts";
import { serializeItem } from "../core/item_stream.ts";
import { seededRandom } from "../core/random.ts";
import { reencryptBackend } from "../backends/reencrypt/mod.ts";
import { runInMemory as runApp } from "./test_context.ts";

/** A public key file in `dir` and `count` NDJSON ciphertexts under it, from a seed. */
async function fixture(
  dir: string,
  options: { seed: string; count: number },
): Promise<{ keyPath: string; stdin: Uint8Array }> {
  const random = seededRandom(options.seed);
  const keys = await reencryptBackend.generateKeys({ random });
  const keyPath = `${dir}/pk.json`;
  await Deno.writeTextFile(keyPath, JSON.stringify(toJsonView(keys.publicKey)));
  const items = await reencryptBackend.sampleInputs(options.count, { key: keys.publicKey, random });
  const stdin = concatBytes(
    ...items.map((c) => serializeItem(reencryptBackend.input.encode(c), "ndjson")),
  );
  return { keyPath, stdin };
}

Deno.test("bench reencrypt prints per-ciphertext timings as JSON", async () => {
  const res = await runApp(["bench", "reencrypt", "-n", "3", "--workers", "1", "--json"]);
  assert.equal(res.status, 0, res.stderr);
  const report = JSON.parse(res.stdout);
  assert.equal(report.n, 3);
  assert.equal(report.cores, 1);
  for (const k of ["encrypt", "shuffleProve", "verify", "decrypt"]) {
    assert.ok(report.msPerCiphertext[k] > 0, k);
    assert.ok(report.cpuMsPerCiphertext[k] >= 0, k);
  }
});

Deno.test("cascade writes a transcript that verify accepts, tampering names the step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { keyPath, stdin } = await fixture(dir, { seed: "cli-cascade", count: 4 });
    const transcriptPath = `${dir}/transcript.json`;
    const res = await runApp(
      ["cascade", "--key", keyPath, "--mixers", "2", "--transcript", transcriptPath],
      stdin,
    );
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim().split("\n").length, 4);
    const ok = await runApp(["verify", transcriptPath, "--workers", "1"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /verified: re-encryption cascade of 2 mixers over 4 ciphertexts/);
    const t = JSON.parse(await Deno.readTextFile(transcriptPath));
    const outs = t.steps[1].outputs;
    [outs[0], outs[1]] = [outs[1], outs[0]];
    await Deno.writeTextFile(transcriptPath, JSON.stringify(t));
    const bad = await runApp(["verify", transcriptPath, "--workers", "1", "--json"]);
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /Cascade step 2 failed/);
    assert.equal(JSON.parse(bad.stdout).ok, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mix --context binds the proof: verify needs the same context", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { keyPath, stdin } = await fixture(dir, { seed: "cli-context", count: 3 });
    await Deno.writeFile(`${dir}/in.ndjson`, stdin);
    const mixed = await runApp(
      [
        "mix",
        "--backend",
        "reencrypt",
        "--key",
        keyPath,
        "--context",
        "job-1",
        "--proof",
        `${dir}/p.json`,
      ],
      stdin,
    );
    assert.equal(mixed.status, 0, mixed.stderr);
    await Deno.writeTextFile(`${dir}/out.ndjson`, mixed.stdout);
    const verify = (extra: string[]) =>
      runApp([
        "verify",
        "--backend",
        "reencrypt",
        "--key",
        keyPath,
        "--inputs",
        `${dir}/in.ndjson`,
        "--outputs",
        `${dir}/out.ndjson`,
        "--proof",
        `${dir}/p.json`,
        "--workers",
        "1",
        ...extra,
      ]);
    const ok = await verify(["--context", "job-1"]);
    assert.equal(ok.status, 0, ok.stderr);
    for (const extra of [["--context", "job-2"], []]) {
      const bad = await verify(extra);
      assert.equal(bad.status, 3, bad.stderr);
      assert.match(bad.stderr, /challenge does not match/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cascade --context writes the context into the transcript, and verify uses it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { keyPath, stdin } = await fixture(dir, { seed: "cli-cascade-context", count: 3 });
    const path = `${dir}/t.json`;
    const res = await runApp(
      ["cascade", "--key", keyPath, "--mixers", "2", "--transcript", path, "--context", "job-7"],
      stdin,
    );
    assert.equal(res.status, 0, res.stderr);
    const t = JSON.parse(await Deno.readTextFile(path));
    assert.equal(atob(t.context.replaceAll("-", "+").replaceAll("_", "/")), "job-7");
    assert.equal((await runApp(["verify", path, "--workers", "1"])).status, 0);
    t.context = "am9iLTg"; // "job-8"
    await Deno.writeTextFile(path, JSON.stringify(t));
    const bad = await runApp(["verify", path, "--workers", "1"]);
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /Cascade step 1 failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify of swapped --inputs/--outputs or a wrong --context hints at the cause", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { keyPath, stdin } = await fixture(dir, { seed: "cli-hint", count: 4 });
    await Deno.writeFile(`${dir}/in.ndjson`, stdin);
    const mixed = await runApp(
      ["mix", "--backend", "reencrypt", "--key", keyPath, "--proof", `${dir}/p.json`],
      stdin,
    );
    assert.equal(mixed.status, 0, mixed.stderr);
    await Deno.writeTextFile(`${dir}/out.ndjson`, mixed.stdout);
    const verify = (inputs: string, outputs: string, ...extra: string[]) =>
      runApp([
        "verify",
        "--backend",
        "reencrypt",
        "--key",
        keyPath,
        "--inputs",
        `${dir}/${inputs}`,
        "--outputs",
        `${dir}/${outputs}`,
        "--proof",
        `${dir}/p.json`,
        "--workers",
        "1",
        ...extra,
      ]);
    assert.equal((await verify("in.ndjson", "out.ndjson")).status, 0);
    const swapped = await verify("out.ndjson", "in.ndjson");
    assert.equal(swapped.status, 3);
    assert.match(swapped.stderr, /hint: .*--inputs and --outputs swapped/);
    const context = await verify("in.ndjson", "out.ndjson", "--context", "job-2");
    assert.equal(context.status, 3);
    assert.match(context.stderr, /a --context different from the one the mix used/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
