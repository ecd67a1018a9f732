import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import type { Envelope } from "../../core/envelope.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import {
  decryptBackend,
  encodeSphinxCascade,
  encodeSphinxMixerSecret,
  generateSphinxCascade,
} from "../../backends/decrypt/mod.ts";
import { reencryptBackend } from "../../backends/reencrypt/mod.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { backendByName } from "../backends.ts";
import { verifyJobFromBoard } from "./board_reader.ts";
import { NodeClient, NodeHttpError } from "./client.ts";
import { generateIdentity } from "./identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./job_client.ts";
import { createPost, jobBody, postDigest, postToEnvelope, readPost } from "./posts.ts";
import { readReceipt, verifyReceipt } from "./board.ts";
import { VerificationError } from "../../core/errors.ts";
import { encodeMsgpack } from "../../core/envelope.ts";
import { CascadeMixer } from "./cascade.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { Store } from "./storage.ts";
import { TestNetwork } from "./test_support.ts";
import { provenInputs } from "./input_contract.ts";

const admin = generateIdentity();
const voter = generateIdentity();

async function setup(mixKeys: (i: number) => Record<string, Envelope> = () => ({})) {
  const net = await TestNetwork.create();
  const { board, mixers } = await net.startCascade({
    admins: [toBase64Url(admin.publicKey)],
    mixKeys,
  });
  return { net, board, mixers };
}

Deno.test("a batch goes through a 3-mixer cascade with each backend and verifies from the board", async () => {
  const decryptKeys = generateSphinxCascade({ mixers: 3 });
  const { net, board, mixers } = await setup((i) => ({
    decrypt: encodeSphinxMixerSecret(decryptKeys.secrets[i]!),
  }));
  try {
    const adminClient = new NodeClient(board.url, { identity: admin });
    const voterClient = new NodeClient(board.url, { identity: voter });
    const reencryptKeys = await reencryptBackend.generateKeys();
    const plainKeys = await plainBackend.generateKeys();
    const cases: { backend: AnyMixBackend; key: Envelope; sampleKey: Envelope }[] = [
      { backend: plainBackend, key: plainKeys.publicKey, sampleKey: plainKeys.publicKey },
      {
        backend: reencryptBackend,
        key: reencryptKeys.publicKey,
        sampleKey: reencryptKeys.publicKey,
      },
      {
        backend: decryptBackend,
        key: encodeSphinxCascade(decryptKeys.cascade),
        sampleKey: encodeSphinxCascade(decryptKeys.cascade),
      },
    ];
    for (const c of cases) {
      const id = `job-${c.backend.name}`;
      const inputs = await c.backend.sampleInputs(12, { key: c.sampleKey });
      await createJob(adminClient, {
        id,
        admin,
        spec: {
          backend: c.backend.name,
          stages: mixers.map((m) => ({ mixer: m.identity.publicKey, key: c.key })),
          minInputs: 4,
          submitters: [],
        },
      });
      // An open re-encryption job takes inputs with proofs of knowledge (issue 11 §6).
      const proven = c.backend === reencryptBackend
        ? provenInputs({
          key: c.key,
          job: id,
          author: voter.publicKey,
          values: [...Array(12).keys()],
        })
        : undefined;
      const items = proven?.items ?? inputs.map((x) => c.backend.input.encode(x));
      assert.equal(
        await submitInputs(voterClient, {
          id,
          submitter: voter,
          items,
          chunk: 5,
          ...(proven ? { proofs: proven.proofs } : {}),
        }),
        12,
      );
      await closeJob(adminClient, { id, admin });
      const summary = await waitForJob(adminClient, { id, timeoutMs: 60_000 });
      assert.equal(summary.stage, 3);
      const verified = await verifyJobFromBoard(adminClient, { job: id, backendByName });
      assert.deepEqual(verified.stages.map((s) => s.outputs), [12, 12, 12]);
      assert.equal(verified.outputs.length, 12);
    }
    // The decryption cascade's final outputs are the plaintexts of the inputs.
    const final = await verifyJobFromBoard(adminClient, { job: "job-decrypt", backendByName });
    for (const o of final.outputs) assert.equal((o as { kind: string }).kind, "decrypt.plaintext");
  } finally {
    await net.close();
  }
});

Deno.test("the board refuses bad posts with clear 4xx errors and stays up", async () => {
  const { net, board, mixers } = await setup();
  try {
    const adminClient = new NodeClient(board.url, { identity: admin });
    const strangerClient = new NodeClient(board.url, { identity: voter });
    const keys = await plainBackend.generateKeys();
    const spec = {
      backend: "plain",
      stages: mixers.map((m) => ({ mixer: m.identity.publicKey, key: keys.publicKey })),
      minInputs: 3,
      submitters: [admin.publicKey],
    };
    // Only admins create jobs.
    await assert.rejects(
      createJob(strangerClient, { id: "j", admin: voter, spec }),
      (e: unknown) => e instanceof NodeHttpError && e.status === 403,
    );
    await createJob(adminClient, { id: "j", admin, spec });
    // A job exists once.
    await assert.rejects(
      createJob(adminClient, { id: "j", admin, spec }),
      (e: unknown) => e instanceof NodeHttpError && e.status === 409,
    );
    const items = (await plainBackend.sampleInputs(2, { key: keys.publicKey })).map((x) =>
      plainBackend.input.encode(x)
    );
    // Only listed submitters submit.
    await assert.rejects(
      submitInputs(strangerClient, { id: "j", submitter: voter, items }),
      (e: unknown) => e instanceof NodeHttpError && e.status === 403,
    );
    await submitInputs(adminClient, { id: "j", submitter: admin, items });
    // Below the minimum the job cannot close.
    await assert.rejects(
      closeJob(adminClient, { id: "j", admin }),
      (e: unknown) => e instanceof NodeHttpError && e.status === 409 && /minimum/.test(e.message),
    );
    // Malformed items, bodies and signatures.
    await assert.rejects(
      submitInputs(adminClient, { id: "j", submitter: admin, items: [{ v: 1, kind: "nope" }] }),
      (e: unknown) => e instanceof NodeHttpError && e.status === 400 && /kind/.test(e.message),
    );
    const post = createPost(admin, { job: "j", type: "close", body: { v: 1, kind: "node.close" } });
    post.signature[0]! ^= 1;
    await assert.rejects(
      adminClient.submitPost(post),
      (e: unknown) => e instanceof NodeHttpError && e.status === 422,
    );
    // A request signed by someone else than the post author.
    const forged = createPost(admin, {
      job: "j",
      type: "close",
      body: { v: 1, kind: "node.close" },
    });
    await assert.rejects(
      strangerClient.submitPost(forged),
      (e: unknown) => e instanceof NodeHttpError && e.status === 403,
    );
    for (
      const [body, type, status] of [
        ["{not json", "application/json", 401],
        [new Uint8Array([0xc1, 0xff]), "application/msgpack", 401],
      ] as const
    ) {
      const r = await fetch(`${board.url}/v1/board/posts`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      assert.equal(r.status, status);
      assert.match((await r.json()).message, /x-panoramix/);
    }
    const badJson = await adminClient.postEnvelope("/v1/board/posts", { v: 1, kind: "x" }).catch(
      (e) => e,
    );
    assert.ok(badJson instanceof NodeHttpError && badJson.status === 400, String(badJson));
    for (const path of ["/v1/board/jobs/nope", "/v1/board/jobs/j/items?stage=9", "/v2"]) {
      const r = await fetch(board.url + path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
      assert.equal(typeof (await r.json()).message, "string");
    }
    const health = await fetch(`${board.url}/v1/health`);
    assert.equal((await health.json()).ok, true);
    const metrics = await (await fetch(`${board.url}/metrics`)).text();
    assert.match(metrics, /panoramix_board_posts_rejected_total\{type="close"\} [1-9]/);
  } finally {
    await net.close();
  }
});

Deno.test("a resubmitted post returns its first receipt (idempotent retries)", async () => {
  const { net, board, mixers } = await setup();
  try {
    const client = new NodeClient(board.url, { identity: admin });
    const keys = await plainBackend.generateKeys();
    const post = createPost(admin, {
      job: "k",
      type: "job",
      body: {
        v: 1,
        kind: "node.job",
        backend: "plain",
        stages: mixers.map((m) => ({ mixer: m.identity.publicKey, key: keys.publicKey })),
        minInputs: 2,
        submitters: [],
      },
    });
    const first = await client.submitPost(post);
    const second = await client.submitPost(post);
    assert.deepEqual(second, first);
    const head = await client.getJson("/v1/board/head") as { seq: number };
    assert.equal(head.seq, 1);
  } finally {
    await net.close();
  }
});

Deno.test("rate limits on a live node: 429 with Retry-After, 413 for big bodies", async () => {
  const net = await TestNetwork.create();
  try {
    const board = await net.start({
      name: "limited",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
      limits: { requestsPerSecond: 0.5, burst: 4, maxBodyBytes: 4096 },
    });
    // A body over the limit is refused before anything else is done with it.
    const big = await fetch(`${board.url}/v1/board/posts`, {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: new Uint8Array(5000),
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).message, /exceeds 4096 bytes/);
    const keys = await plainBackend.generateKeys();
    const spec = {
      backend: "plain",
      stages: [{ mixer: voter.publicKey, key: keys.publicKey }],
      minInputs: 2,
      submitters: [],
    };
    const client = new NodeClient(board.url, { identity: admin });
    for (let i = 0; i < 3; i++) await createJob(client, { id: `r${i}`, admin, spec });
    // The address has used its 4 tokens: reads and signed posts alike must wait.
    const r = await fetch(`${board.url}/v1/board/jobs`);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    assert.match((await r.json()).message, /Too many requests/);
    await assert.rejects(
      createJob(client, { id: "r3", admin, spec }),
      (e: unknown) => e instanceof NodeHttpError && e.status === 429,
    );
  } finally {
    await net.close();
  }
});

Deno.test("decrypt cascade: a packet replayed into a later job is dropped, also after a restart", async () => {
  const keys = generateSphinxCascade({ mixers: 3 });
  const { net, board, mixers } = await setup((i) => ({
    decrypt: encodeSphinxMixerSecret(keys.secrets[i]!),
  }));
  try {
    const client = new NodeClient(board.url, { identity: admin });
    const cascadeKey = encodeSphinxCascade(keys.cascade);
    const packets = (await decryptBackend.sampleInputs(6, { key: cascadeKey })).map((p) =>
      decryptBackend.input.encode(p)
    );
    const spec = {
      backend: "decrypt",
      stages: mixers.map((m) => ({ mixer: m.identity.publicKey, key: cascadeKey })),
      minInputs: 2,
      submitters: [],
    };
    const run = async (id: string, items: Envelope[]) => {
      await createJob(client, { id, admin, spec });
      await submitInputs(client, { id, submitter: admin, items });
      await closeJob(client, { id, admin });
      await waitForJob(client, { id });
      return (await verifyJobFromBoard(client, { job: id, backendByName })).stages;
    };
    assert.deepEqual((await run("d1", packets.slice(0, 4))).map((s) => s.outputs), [4, 4, 4]);
    // The first mixer restarts: its replay tags are on disk.
    await net.stop("mixer0");
    await net.start({ name: "mixer0", roles: ["cascade"] });
    const stages = await run("d2", [packets[0]!, packets[4]!, packets[5]!]);
    assert.deepEqual(stages.map((s) => s.outputs), [2, 2, 2]);
  } finally {
    await net.close();
  }
});

Deno.test("a mixer that crashed after storing its mix re-sends that exact mix", async () => {
  const net = await TestNetwork.create();
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const mixer = generateIdentity();
    const keys = await plainBackend.generateKeys();
    const client = new NodeClient(board.url, { identity: admin });
    await createJob(client, {
      id: "saved",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
        minInputs: 2,
        submitters: [],
      },
    });
    const inputs = await plainBackend.sampleInputs(5, { key: keys.publicKey });
    await submitInputs(client, {
      id: "saved",
      submitter: admin,
      items: inputs.map((x) => plainBackend.input.encode(x)),
    });
    await closeJob(client, { id: "saved", admin });
    // What the mixer committed before crashing: its signed mix post.
    const result = await plainBackend.mix(inputs, { key: keys.publicKey });
    const post = createPost(mixer, {
      job: "saved",
      type: "mix",
      body: {
        v: 1,
        kind: "node.mix",
        stage: 0,
        outputs: result.outputs.map((o) => plainBackend.output.encode(o)),
        proof: result.proof,
      },
    });
    const store = new Store(":memory:");
    const cascade = new CascadeMixer({
      store,
      identity: mixer,
      boardUrl: board.url,
      pollIntervalMs: 1000,
      backendByName,
      mixKey: () => Promise.resolve(undefined),
      logger: silentLogger,
      metrics: new MetricsRegistry(),
    });
    store.write(() =>
      store.db.prepare("INSERT INTO cascade_results (job, stage, post) VALUES (?, ?, ?)").run(
        "saved",
        0,
        encodeMsgpack(postToEnvelope(post)),
      )
    );
    await store.commit();
    assert.equal(await cascade.tick(), 1);
    const posts = board.board!.posts(0, 100);
    const last = readPost(posts.at(-1), "post");
    assert.deepEqual(postDigest(last), postDigest(post));
    // Once the board holds the mix, the mixer keeps the row but not its copy of the mix.
    const row = store.db.prepare("SELECT post, sent FROM cascade_results WHERE job = 'saved'")
      .get() as { post: Uint8Array; sent: number };
    assert.deepEqual([row.post.length, row.sent], [0, 1]);
    // A stage this mixer already posted is never mixed a second time, even if a board asks
    // for it again (e.g. a restored board): the mixer posts why instead.
    await createJob(client, {
      id: "again",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
        minInputs: 2,
        submitters: [],
      },
    });
    await submitInputs(client, {
      id: "again",
      submitter: admin,
      items: inputs.map((x) => plainBackend.input.encode(x)),
    });
    await closeJob(client, { id: "again", admin });
    store.write(() =>
      store.db.prepare(
        "INSERT INTO cascade_results (job, stage, post, sent) VALUES ('again', 0, x'', 1)",
      ).run()
    );
    await store.commit();
    assert.equal(await cascade.tick(), 0);
    const again = await client.getJson("/v1/board/jobs/again") as {
      state: string;
      failure?: { reason: string };
    };
    assert.equal(again.state, "mixing");
    assert.match(again.failure?.reason ?? "", /refusing to mix it twice/);
    store.close();
  } finally {
    await net.close();
  }
});

Deno.test("receipts are signed by the board for exactly the submitted post", async () => {
  const net = await TestNetwork.create();
  try {
    const node = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const keys = await plainBackend.generateKeys();
    const post = createPost(admin, {
      job: "rc",
      type: "job",
      body: jobBody({
        backend: "plain",
        stages: [{ mixer: voter.publicKey, key: keys.publicKey }],
        minInputs: 2,
        submitters: [],
      }),
    });
    const receipt = readReceipt(
      await new NodeClient(node.url, { identity: admin }).submitPost(post),
      "receipt",
    );
    verifyReceipt(receipt, { boardKey: node.identity.publicKey, post });
    assert.throws(
      () => verifyReceipt(receipt, { boardKey: admin.publicKey, post }),
      VerificationError,
    );
    const other = createPost(admin, {
      job: "rc",
      type: "close",
      body: { v: 1, kind: "node.close" },
    });
    assert.throws(
      () => verifyReceipt(receipt, { boardKey: node.identity.publicKey, post: other }),
      VerificationError,
    );
    const forged = { ...receipt, seq: receipt.seq + 1 };
    assert.throws(
      () => verifyReceipt(forged, { boardKey: node.identity.publicKey, post }),
      VerificationError,
    );
  } finally {
    await net.close();
  }
});

Deno.test("a stage this mixer cannot mix is retried with back-off, not at every poll", async () => {
  const net = await TestNetwork.create();
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const client = new NodeClient(board.url, { identity: admin });
    const mixer = generateIdentity();
    const keys = await plainBackend.generateKeys();
    await createJob(client, {
      id: "stuck",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
        minInputs: 2,
        submitters: [],
      },
    });
    const items = (await plainBackend.sampleInputs(2, { key: keys.publicKey })).map((x) =>
      plainBackend.input.encode(x)
    );
    await submitInputs(client, { id: "stuck", submitter: admin, items });
    await closeJob(client, { id: "stuck", admin });
    const failures: string[] = [];
    const store = new Store(":memory:");
    const cascade = new CascadeMixer({
      store,
      identity: mixer,
      boardUrl: board.url,
      pollIntervalMs: 5_000, // first retry after 10 s: 30 quick ticks see one failure, even on a loaded machine
      backendByName,
      mixKey: () => Promise.reject(new Error("key file unreadable")),
      logger: { ...silentLogger, log: (_l, event) => void failures.push(event) },
      metrics: new MetricsRegistry(),
    });
    for (let i = 0; i < 30; i++) await cascade.tick();
    assert.equal(failures.filter((e) => e === "cascade_stage_failed").length, 1);
    store.close();
  } finally {
    await net.close();
  }
});

Deno.test("a mixer reads its stage's batch a page at a time: 10 inputs in pages of 4, mixed (plain whole, reencrypt on records)", async () => {
  const net = await TestNetwork.create();
  const store = new Store(":memory:");
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const mixer = generateIdentity();
    const client = new NodeClient(board.url, { identity: admin });
    const cascade = new CascadeMixer({
      store,
      identity: mixer,
      boardUrl: board.url,
      pollIntervalMs: 1000,
      backendByName,
      mixKey: () => Promise.resolve(undefined),
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      inputPage: 4, // pages of 4, 4 and 2
    });
    for (const backend of [plainBackend, reencryptBackend] as AnyMixBackend[]) {
      const keys = await backend.generateKeys();
      const id = `paged-${backend.name}`;
      await createJob(client, {
        id,
        admin,
        spec: {
          backend: backend.name,
          stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
          minInputs: 2,
          submitters: [admin.publicKey],
        },
      });
      const inputs = await backend.sampleInputs(10, { key: keys.publicKey });
      await submitInputs(client, {
        id,
        submitter: admin,
        items: inputs.map((x) => backend.input.encode(x)),
      });
      await closeJob(client, { id, admin });
      assert.equal(await cascade.tick(), 1);
      // The board accepted the mix of all ten (its proof or completeness check), and
      // anyone verifies it from the board.
      const result = await verifyJobFromBoard(new NodeClient(board.url), {
        job: id,
        backendByName,
      });
      assert.deepEqual(result.stages, [{ stage: 0, inputs: 10, outputs: 10 }]);
    }
  } finally {
    store.close();
    await net.close();
  }
});
