/**
 * A decryption cascade checked with the public key only cannot rule out substituted
 * plaintexts: the board marks such jobs "unverifiable" and the CLI says so (issue 11 §15).
 */
import assert from "node:assert/strict";
import { encodeSphinxCascade, generateSphinxCascade } from "../backends/decrypt/mod.ts";
import { reencryptBackend } from "../backends/reencrypt/mod.ts";
import { backendByName } from "./backends.ts";
import { BulletinBoard, UNVERIFIABLE_WARNING } from "./node/board.ts";
import { generateIdentity } from "./node/identity.ts";
import { silentLogger } from "./node/log.ts";
import { MetricsRegistry } from "./node/metrics.ts";
import { createPost, jobBody } from "./node/posts.ts";
import { boardRoutes } from "./node/routes.ts";
import { Store } from "./node/storage.ts";
import { runInMemory } from "./test_context.ts";

Deno.test("the board marks decryption jobs unverifiable in its API, re-encryption jobs not", async () => {
  const store = new Store(":memory:");
  try {
    const admin = generateIdentity();
    const board = new BulletinBoard({
      store,
      identity: generateIdentity(),
      admins: [admin.publicKey],
      backendByName,
      logger: silentLogger,
      metrics: new MetricsRegistry(),
    });
    const keys = {
      decrypt: encodeSphinxCascade(generateSphinxCascade({ mixers: 1 }).cascade),
      reencrypt: (await reencryptBackend.generateKeys()).publicKey,
    };
    for (const [backend, key] of Object.entries(keys)) {
      await board.submit(createPost(admin, {
        job: backend,
        type: "job",
        body: jobBody({
          backend,
          stages: [{ mixer: generateIdentity().publicKey, key }],
          minInputs: 2,
          submitters: [],
        }),
      }));
    }
    assert.equal(board.job("decrypt").verification, "unverifiable");
    assert.equal(board.job("decrypt").warning, UNVERIFIABLE_WARNING);
    assert.equal(board.job("reencrypt").verification, "proof");
    assert.equal(board.job("reencrypt").warning, undefined);
    const route = boardRoutes(board).find((r) => r.path === "/v1/board/jobs")!;
    const url = new URL("http://x/v1/board/jobs");
    const listed = await (await route.handle({
      url,
      params: {},
      body: new Uint8Array(),
      signer: undefined,
      request: new Request(url),
    })).json();
    const decrypt = listed.jobs.find((j: { job: string }) => j.job === "decrypt");
    assert.equal(decrypt.verification, "unverifiable");
    assert.match(decrypt.warning, /^UNVERIFIABLE: .*substitute/);
  } finally {
    store.close();
  }
});

Deno.test("verify of a decryption mix with the public key warns UNVERIFIABLE on stderr and in JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = async (...args: string[]) => {
      const r = await runInMemory(args);
      assert.equal(r.status, 0, r.stderr);
      return r;
    };
    await run(
      "keygen",
      "--backend",
      "decrypt",
      "--set",
      "mixers=2",
      "--public",
      `${dir}/cascade.json`,
      "--secret",
      `${dir}/all.json`,
    );
    const gen = await run(
      "gen",
      "--backend",
      "decrypt",
      "--key",
      `${dir}/cascade.json`,
      "--count",
      "4",
    );
    await Deno.writeTextFile(`${dir}/in.ndjson`, gen.stdout);
    const mixed = await run(
      "mix",
      "--backend",
      "decrypt",
      "--key",
      `${dir}/all.json`,
      "--input",
      `${dir}/in.ndjson`,
      "--proof",
      `${dir}/p.json`,
      "--no-replay-db",
    );
    await Deno.writeTextFile(`${dir}/out.ndjson`, mixed.stdout);
    const args = [
      "verify",
      "--backend",
      "decrypt",
      "--key",
      `${dir}/cascade.json`,
      "--inputs",
      `${dir}/in.ndjson`,
      "--outputs",
      `${dir}/out.ndjson`,
      "--proof",
      `${dir}/p.json`,
    ];
    const text = await run(...args);
    assert.match(text.stderr, /^panoramix: warning: UNVERIFIABLE: .*substitute/m);
    const json = await run(...args, "--json");
    assert.match(JSON.parse(json.stdout).unverifiable, /substitute/);
    // With the secret key every output is re-derived: no warning.
    const secret = await run(...args.slice(0, 4), `${dir}/all.json`, ...args.slice(5));
    assert.doesNotMatch(secret.stderr, /UNVERIFIABLE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
