import assert from "node:assert/strict";
import { toJsonView } from "../core/envelope.ts";
import { seededRandom } from "../core/random.ts";
import { encodePublicKey, encodeSecretKey, simulateDkg } from "../backends/reencrypt/mod.ts";
import { runInMemory } from "./test_context.ts";

async function writeJson(path: string, value: unknown): Promise<string> {
  await Deno.writeTextFile(path, JSON.stringify(toJsonView(value as never)));
  return path;
}

Deno.test("encrypt, mix and decrypt give back the integers and the texts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keygen = await runInMemory([
      "keygen",
      "--backend",
      "reencrypt",
      "--public",
      `${dir}/pub.json`,
      "--secret",
      `${dir}/sec.json`,
    ]);
    assert.equal(keygen.status, 0, keygen.stderr);
    const ints = await runInMemory(["encrypt", "--key", `${dir}/pub.json`, "3", "1", "2", "0"]);
    assert.equal(ints.status, 0, ints.stderr);
    assert.equal(ints.stdout.trim().split("\n").length, 4);
    const mixed = await runInMemory(
      ["mix", "--backend", "reencrypt", "--key", `${dir}/pub.json`, "--proof", `${dir}/p.json`],
      ints.stdoutBytes,
    );
    assert.equal(mixed.status, 0, mixed.stderr);
    const back = await runInMemory(
      ["decrypt", "--secret", `${dir}/sec.json`, "--key", `${dir}/pub.json`],
      mixed.stdoutBytes,
    );
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(back.stdout.trim().split("\n").sort(), ["0", "1", "2", "3"]);

    const texts = await runInMemory(
      ["encrypt", "--key", `${dir}/pub.json`, "--as", "text"],
      "oui\nnon\npeut-être\n",
    );
    assert.equal(texts.status, 0, texts.stderr);
    const words = await runInMemory(
      ["decrypt", "--secret", `${dir}/sec.json`, "--as", "text", "--json"],
      texts.stdoutBytes,
    );
    assert.equal(words.status, 0, words.stderr);
    assert.deepEqual(words.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      ["oui"],
      ["non"],
      ["peut-être"],
    ]);

    const tooLong = await runInMemory(
      ["encrypt", "--key", `${dir}/pub.json`, "--as", "text", "x".repeat(31)],
    );
    assert.equal(tooLong.status, 4);
    assert.match(tooLong.stderr, /is 31 bytes; at most 30 fit/);
    const notInt = await runInMemory(["encrypt", "--key", `${dir}/pub.json`, "ten"]);
    assert.equal(notInt.status, 4);
    assert.match(notInt.stderr, /Value 1 'ten' is not an integer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decrypt with a 2-of-3 key takes any two trustees and refuses one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { result, secretShares } = simulateDkg(
      { threshold: 2, trustees: 3 },
      { random: seededRandom("crypt-threshold") },
    );
    const pub = await writeJson(`${dir}/pub.json`, encodePublicKey(result.publicKey));
    const secrets: string[] = [];
    for (const share of secretShares) {
      secrets.push(await writeJson(`${dir}/trustee-${share.index}.json`, encodeSecretKey(share)));
    }
    const cts = await runInMemory(["encrypt", "--key", pub, "41", "7"]);
    assert.equal(cts.status, 0, cts.stderr);
    for (const [a, b] of [[0, 1], [0, 2], [2, 1]] as const) {
      const out = await runInMemory(
        ["decrypt", "--key", pub, "--secret", secrets[a]!, "--secret", secrets[b]!],
        cts.stdoutBytes,
      );
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout, "41\n7\n");
    }
    const one = await runInMemory(
      ["decrypt", "--key", pub, "--secret", secrets[1]!],
      cts.stdoutBytes,
    );
    assert.equal(one.status, 4);
    assert.match(one.stderr, /do not match the public key \(trustee 2 alone/);
    const noKey = await runInMemory(["decrypt", "--secret", secrets[1]!], cts.stdoutBytes);
    assert.equal(noKey.status, 4, "a wrong combination is caught when decoding");
    assert.match(noKey.stderr, /Item 1 does not decrypt to an integer/);
    const twice = await runInMemory(
      ["decrypt", "--secret", secrets[0]!, "--secret", secrets[0]!],
      cts.stdoutBytes,
    );
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /are both trustee 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keygen --set trustees=3 --set threshold=2 writes shares that decrypt two by two", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keygen = await runInMemory([
      "keygen",
      "--backend",
      "reencrypt",
      "--set",
      "trustees=3",
      "--set",
      "threshold=2",
      "--public",
      `${dir}/pub.json`,
      "--secret",
      `${dir}/sec.json`,
    ]);
    assert.equal(keygen.status, 0, keygen.stderr);
    for (const i of [1, 2, 3]) {
      assert.equal((await Deno.stat(`${dir}/sec-${i}.json`)).mode! & 0o777, 0o600);
    }
    const cts = await runInMemory(["encrypt", "--key", `${dir}/pub.json`, "--as", "text", "ja"]);
    const two = await runInMemory(
      ["decrypt", "--key", `${dir}/pub.json`, "--as", "text", "--secret", `${dir}/sec-3.json`]
        .concat(["--secret", `${dir}/sec-2.json`]),
      cts.stdoutBytes,
    );
    assert.equal(two.status, 0, two.stderr);
    assert.equal(two.stdout, "ja\n");
    const unknown = await runInMemory([
      "keygen",
      "--backend",
      "reencrypt",
      "--set",
      "mixers=3",
      "--public",
      `${dir}/p2.json`,
      "--secret",
      `${dir}/s2.json`,
    ]);
    assert.equal(unknown.status, 2, "a setting the backend does not know is refused, not ignored");
    assert.match(unknown.stderr, /Setting 'mixers' is unknown to the reencrypt backend/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
