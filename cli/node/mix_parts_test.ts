/**
 * Issue 17: a re-encryption mix posted in parts (mix_parts.ts) to a real board node
 * (127.0.0.1, port 0): the board takes the parts in order and checks the whole mix when the
 * final post arrives; a missing, duplicated, reordered, oversized or tampered part, a final
 * post naming other parts, and parts from a non-mixer are each refused with one line.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack } from "../../core/envelope.ts";
import { allRecords, type RecordSource } from "../../core/records.ts";
import {
  decodeCiphertext,
  encodeCiphertext,
  encodeInteger,
  encodePublicKey,
  encodeShuffleProof,
  encrypt,
  generateKeyPair,
  shuffleAndProveRecords,
  shuffleProofFromRecords,
  type ShuffleProofRecords,
} from "../../backends/reencrypt/mod.ts";
import { ciphertextRecords, readCiphertexts } from "../../plugins/vote/mod.ts";
import { NodeClient, NodeHttpError } from "./client.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { closeJob, createJob, submitInputs } from "./job_client.ts";
import { mixFinalBody, mixPartBody, mixPartItems } from "./mix_parts.ts";
import {
  createPost,
  createPostFromBody,
  type Post,
  postDigest,
  postToEnvelope,
  readPost,
} from "./posts.ts";
import { labelledDigest } from "../../core/transcript.ts";
import { numberPart, SIGNING_LABELS } from "./identity.ts";
import { VerificationError } from "../../core/errors.ts";
import { Spool } from "../record_file.ts";
import { readElectionCascadeRecords } from "../vote_board_records.ts";
import { CascadeMixer } from "./cascade.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { Store } from "./storage.ts";
import { TestNetwork } from "./test_support.ts";
import { verifyJobFromBoard } from "./board_reader.ts";
import { backendByName } from "../backends.ts";

const admin = generateIdentity();
const mixer = generateIdentity();
const other = generateIdentity();

/** A mix's parts of `per` outputs, as posts of `author` (part bodies given by `body`). */
/** A closed job of 25 ciphertexts with one stage, mixed by `mixer`. */
async function closedOneStageJob(client: NodeClient, id: string): Promise<void> {
  const keys = generateKeyPair();
  const cts = Array.from({ length: 25 }, (_, i) => encrypt(keys.publicKey, [encodeInteger(i)]));
  await createJob(client, {
    id,
    admin,
    spec: {
      backend: "reencrypt",
      stages: [{ mixer: mixer.publicKey, key: encodePublicKey(keys.publicKey) }],
      minInputs: 2,
      submitters: [admin.publicKey],
    },
  });
  await submitInputs(client, { id, submitter: admin, items: cts.map(encodeCiphertext) });
  await closeJob(client, { id, admin });
}

function partPosts(
  job: string,
  mix: { outputs: RecordSource; proof: ShuffleProofRecords },
  per: number,
  author: Identity = mixer,
): Post[] {
  const total = mix.outputs.count;
  const posts: Post[] = [];
  for (let lo = 0, part = 0; lo < total; lo += per, part++) {
    const hi = Math.min(total, lo + per);
    posts.push(createPostFromBody(author, {
      job,
      type: "mix",
      body: mixPartBody({ stage: 0, part, total, width: 1 }, mix.outputs, mix.proof, lo, hi),
    }));
  }
  return posts;
}

function finalPost(
  job: string,
  mix: { proof: ShuffleProofRecords },
  parts: Post[],
  author: Identity = mixer,
): Post {
  const named = parts.map((p) => ({
    count: (decodeMsgpack(p.body, "part") as { outputs: Uint8Array }).outputs.length / 64,
    digest: postDigest(p),
  }));
  return createPostFromBody(author, {
    job,
    type: "mix",
    body: mixFinalBody(0, mix.proof, named),
  });
}

/** A part post whose body fields are changed and signed again by `author`. */
function changed(post: Post, change: (body: Record<string, unknown>) => void, author = mixer) {
  const body = decodeMsgpack(post.body, "part") as Record<string, unknown>;
  change(body);
  return createPostFromBody(author, { job: post.job, type: "mix", body: encodeMsgpack(body) });
}

Deno.test("a mix in parts on a real board: taken in order, checked whole at its final post; bad parts refused in one line", async () => {
  const net = await TestNetwork.create();
  let proxy: Deno.HttpServer | undefined;
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
      maxMixPartBytes: 4096,
    });
    const client = new NodeClient(board.url, { identity: admin });
    const keys = generateKeyPair();
    const cts = Array.from({ length: 30 }, (_, i) => encrypt(keys.publicKey, [encodeInteger(i)]));
    const context = new Uint8Array(32).fill(9);
    const jobs = ["p-ok", "p-tamper", "p-foreign"];
    for (const id of jobs) {
      await createJob(client, {
        id,
        admin,
        spec: {
          backend: "reencrypt",
          stages: [
            { mixer: mixer.publicKey, key: encodePublicKey(keys.publicKey) },
            { mixer: other.publicKey, key: encodePublicKey(keys.publicKey) },
          ],
          minInputs: 2,
          submitters: [admin.publicKey],
          context,
        },
      });
      await submitInputs(client, { id, submitter: admin, items: cts.map(encodeCiphertext) });
      await closeJob(client, { id, admin });
    }
    const mix = await shuffleAndProveRecords(keys.publicKey, ciphertextRecords(cts, 1), {
      context,
      workers: 1,
    });
    // Each post sent by a client signing as its author.
    const as = new Map(
      [admin, mixer, other].map((
        i,
      ) => [toBase64Url(i.publicKey), new NodeClient(board.url, { identity: i })]),
    );
    const send = (post: Post) => as.get(toBase64Url(post.author))!.submitPost(post);
    const refused = async (post: Post, status: number, message: RegExp) => {
      const error = await send(post).then(() => undefined, (e) => e);
      assert.ok(error instanceof NodeHttpError, String(error));
      assert.equal(error.status, status, error.message);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
    };
    const parts = partPosts("p-ok", mix, 10);
    assert.equal(parts.length, 3);
    // Parts from a non-mixer; a part whose body changed after it was signed.
    await refused(partPosts("p-ok", mix, 10, other)[0]!, 403, /Author is not the mixer of stage 0/);
    // A part 0 announcing another size than the stage's inputs is refused on arrival (held,
    // it would wedge the stage: every later part must agree with it).
    await refused(
      changed(parts[0]!, (b) => b.total = 30_000_000),
      422,
      /^mix part 0 of stage 0 announces 30000000 outputs of width 1; the stage has 30 inputs of width 1/,
    );
    const forged = { ...parts[0]!, body: parts[0]!.body.slice() };
    forged.body[forged.body.length - 1]! ^= 1;
    await refused(forged, 422, /signature/i);
    // Missing or reordered: part 1 before part 0; an offset that leaves a gap.
    await refused(parts[1]!, 422, /mix part 1 of stage 0 is out of order: part 0 is missing/);
    await refused(
      changed(parts[0]!, (b) => b.offset = 1),
      422,
      /mix part 0 of stage 0 starts at output 1; the parts before it end at 0/,
    );
    // Oversized: 20 outputs (over this board's 4096 bytes a part).
    await refused(
      partPosts("p-ok", mix, 20)[0]!,
      400,
      /^Mix part of \d+ bytes is over this board.s limit of 4096 bytes a part \(HTTP 400\)$/,
    );
    // A final post before any part.
    await refused(
      finalPost("p-ok", mix, parts),
      422,
      /the mix of stage 0 names 3 parts; 0 were posted/,
    );
    await send(parts[0]!);
    // A mix in one post while parts wait for their final post.
    await refused(
      createPost(mixer, {
        job: "p-ok",
        type: "mix",
        body: {
          v: 1,
          kind: "node.mix",
          stage: 0,
          outputs: readCiphertexts(mix.outputs, 0, 30).map(encodeCiphertext),
          proof: encodeShuffleProof(shuffleProofFromRecords(mix.proof)),
        },
      }),
      409,
      /holds 1 parts of a mix of stage 0: it expects the final post that names them/,
    );
    // A duplicate: another part 0 (re-signed, so another post); the same post again is
    // only re-acknowledged.
    await refused(
      changed(parts[0]!, () => {}),
      422,
      /mix part 0 of stage 0 is a duplicate: part 0 was already taken/,
    );
    assert.equal(
      (await send(parts[0]!)).seq,
      (await send(parts[0]!)).seq,
    );
    await refused(
      changed(parts[1]!, (b) => b.total = 31),
      422,
      /announces 31 outputs of width 1; the stage has 30 inputs of width 1 /,
    );
    await send(parts[1]!);
    // A final post naming parts that do not match: too few, another digest, a non-mixer's.
    await refused(
      finalPost("p-ok", mix, parts.slice(0, 2)),
      422,
      /names 2 parts; 2 were posted|has 20 outputs in its parts/,
    );
    await send(parts[2]!);
    await refused(
      finalPost("p-ok", mix, [parts[0]!, parts[2]!, parts[1]!]),
      422,
      /names part 1 as 10 outputs with digest [0-9a-f]{16}…; the part posted holds 10 with digest/,
    );
    await refused(finalPost("p-ok", mix, parts.slice(0, 2)), 422, /names 2 parts; 3 were posted/);
    await refused(finalPost("p-ok", mix, parts, other), 403, /Author is not the mixer of stage 0/);
    // The right final post: the proof checked over the parts, the outputs stored.
    await send(finalPost("p-ok", mix, parts));
    const { items } = await client.getJson("/v1/board/jobs/p-ok/items?stage=1") as {
      items: unknown[];
    };
    assert.deepEqual(
      allRecords(ciphertextRecords(items.map((v, i) => decodeCiphertext(v, `item ${i}`)), 1)),
      allRecords(mix.outputs),
    );
    const summary = await client.getJson("/v1/board/jobs/p-ok") as { stage: number };
    assert.equal(summary.stage, 1);

    // A tampered part signed by the mixer is taken as a part, and its mix then fails the
    // proof at the final post (the job stays at stage 0).
    const bad = partPosts("p-tamper", mix, 10);
    bad[1] = changed(bad[1]!, (b) => {
      const outputs = (b.outputs as Uint8Array).slice();
      outputs.copyWithin(0, 64, 128); // output 10 := output 11
      b.outputs = outputs;
    });
    for (const p of bad) await send(p);
    await refused(finalPost("p-tamper", mix, bad), 422, /^Shuffle proof|does not verify/);
    assert.equal((await client.getJson("/v1/board/jobs/p-tamper") as { stage: number }).stage, 0);

    // The same parts posted for another job's stage are another job's posts: a part of job
    // p-ok's mix cannot be replayed into p-foreign (the job id is signed).
    const replay = { ...parts[0]!, job: "p-foreign" };
    await refused(replay, 422, /signature/i);

    // Anyone verifies the job from the board: the parts put together, the proof checked.
    const verified = await verifyJobFromBoard(new NodeClient(board.url), {
      job: "p-ok",
      backendByName,
    });
    assert.equal(verified.stages.length, 1);
    assert.equal(verified.stages[0]!.outputs, 30);
    // Read and checked on record lists: the final outputs are the mix's, decoded into envelopes,
    // or left in the record files of the sinks given.
    assert.deepEqual(verified.outputs, readCiphertexts(mix.outputs, 0, 30).map(encodeCiphertext));
    assert.deepEqual(allRecords(verified.outputRecords!), allRecords(mix.outputs));
    const verifySpool = await Spool.create();
    try {
      const onFiles = await verifyJobFromBoard(new NodeClient(board.url), {
        job: "p-ok",
        backendByName,
        sinks: verifySpool.sinks,
      });
      assert.equal(onFiles.outputs, undefined);
      assert.deepEqual(allRecords(onFiles.outputRecords!), allRecords(mix.outputs));
      assert.deepEqual(onFiles.stages, verified.stages);
      assert.equal(onFiles.posts, verified.posts);
    } finally {
      verifySpool.close();
    }

    // A lying board (a proxy that serves a log of its own, chained anew) cannot make a reader
    // take a mix whose parts are missing, duplicated, reordered or by another key.
    const log = (await client.getJson("/v1/board/posts?after=0&limit=1000") as {
      posts: Record<string, unknown>[];
    }).posts;
    const jobLog = log.filter((p) => p.job === "p-ok");
    const partIdx = jobLog.flatMap((p, i) => p.type === "mix" ? [i] : []);
    let serve: Record<string, unknown>[] = jobLog;
    proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      if (url.pathname !== "/v1/board/posts") return await fetch(board.url + url.pathname);
      const after = Number(url.searchParams.get("after"));
      let chain: Uint8Array = new Uint8Array(64);
      const posts = serve.map((p, i) => {
        const seq = i + 1;
        const digest = postDigest(readPost(p, "post"));
        chain = labelledDigest(SIGNING_LABELS.chain, [chain, numberPart(seq), digest]);
        return { ...p, seq, chain: toBase64Url(chain) };
      });
      return Response.json({ posts: posts.slice(after) });
    });
    const liar = new NodeClient(`http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`);
    const spool = await Spool.create();
    try {
      const read = () => readElectionCascadeRecords(liar, { job: "p-ok", sinks: spool.sinks });
      const honest = await read();
      assert.deepEqual(allRecords(honest.mixes[0]!.outputs), allRecords(mix.outputs));
      const [p0, p1, p2, fin] = partIdx.map((i) => jobLog[i]!);
      const foreign = changed(parts[1]!, () => {}, other);
      // A post of this test as a log entry in place of one the board listed.
      const asEntry = (like: Record<string, unknown>, post: Post) => ({
        ...like,
        ...Object.fromEntries(
          Object.entries(postToEnvelope(post)).map((
            [k, v],
          ) => [k, v instanceof Uint8Array ? toBase64Url(v) : v]),
        ),
      });
      // The whole mix re-signed by another key (the board's own, say): its proof verifies,
      // but it is not the stage's mixer's.
      const stolen = parts.map((p) => changed(p, () => {}, other));
      const stolenFinal = finalPost("p-ok", mix, stolen, other);
      const singleStolen = createPostFromBody(other, {
        job: "p-ok",
        type: "mix",
        body: encodeMsgpack({
          v: 1,
          kind: "node.mix",
          stage: 0,
          outputs: readCiphertexts(mix.outputs, 0, 30).map(encodeCiphertext),
          proof: encodeShuffleProof(shuffleProofFromRecords(mix.proof)),
        }),
      });
      const cases: [Record<string, unknown>[], RegExp][] = [
        [[p0!, p2!, fin!], /mix part 2 of stage 0 is out of order: part 1 is missing/],
        [[p0!, p0!, p1!, p2!, fin!], /mix part 0 of stage 0 is a duplicate/],
        [[p0!, p2!, p1!, fin!], /mix part 2 of stage 0 is out of order: part 1 is missing/],
        [[fin!], /the mix of stage 0 names 3 parts; none were posted/],
        [[p0!, p1!, fin!], /the mix of stage 0 names 3 parts; 2 were posted/],
        [
          [p0!, asEntry(p1!, foreign), p2!, fin!],
          /^Board post \d+: a mix of stage 0 signed by another key than the stage's mixer in the job's spec$/,
        ],
        [
          [...[p0!, p1!, p2!].map((p, i) => asEntry(p, stolen[i]!)), asEntry(fin!, stolenFinal)],
          /^Board post \d+: a mix of stage 0 signed by another key than the stage's mixer in the job's spec$/,
        ],
        [
          [asEntry(fin!, singleStolen)],
          /^Board post \d+: a mix of stage 0 signed by another key than the stage's mixer in the job's spec$/,
        ],
        // Part 0 announcing more outputs than the stage has inputs: refused before any
        // buffer is sized from it.
        [
          [asEntry(p0!, changed(parts[0]!, (b) => b.total = 30_000_000)), p1!, p2!, fin!],
          /mix part 0 of stage 0 announces 30000000 outputs of width 1; the stage has 30 inputs of width 1$/,
        ],
        [
          [asEntry(p0!, changed(parts[0]!, (b) => b.width = 2)), p1!, p2!, fin!],
          /announces 30 outputs of width 2; the stage has 30 inputs of width 1$/,
        ],
        // Parts with no final post at the end of the log.
        [
          [p0!, p1!, p2!],
          /^Board job 'p-ok': parts of the mix of stage 0 end the log with no final post naming them$/,
        ],
      ];
      for (const [mixPosts, message] of cases) {
        serve = [...jobLog.slice(0, partIdx[0]), ...mixPosts];
        const error = await read().then(() => undefined, (e) => e);
        assert.ok(error instanceof VerificationError, String(error));
        assert.match(error.message, message);
        assert.ok(!error.message.includes("\n"));
      }
      // Parts signed by the stage's mixer, one with an output changed, and the final post
      // naming them: read as a mix, then refused by verifyJobFromBoard's proof check on the
      // record lists.
      const tampered = partPosts("p-ok", mix, 10);
      tampered[1] = changed(tampered[1]!, (b) => {
        const outputs = (b.outputs as Uint8Array).slice();
        outputs.copyWithin(0, 64, 128);
        b.outputs = outputs;
      });
      serve = [
        ...jobLog.slice(0, partIdx[0]),
        ...[...tampered, finalPost("p-ok", mix, tampered)].map((p, i) =>
          asEntry(jobLog[partIdx[i]!]!, p)
        ),
      ];
      assert.equal((await read()).mixes[0]!.outputs.count, 30);
      const refusedMix = await verifyJobFromBoard(liar, { job: "p-ok", backendByName })
        .then(() => undefined, (e) => e);
      assert.ok(refusedMix instanceof VerificationError, String(refusedMix));
      assert.match(refusedMix.message, /^Shuffle proof/);
      // verifyJobFromBoard (which reads a closed re-encryption job the same way, into
      // record lists) refuses parts with no final post as well.
      serve = [...jobLog.slice(0, partIdx[0]), p0!, p1!, p2!];
      const error = await verifyJobFromBoard(liar, { job: "p-ok", backendByName })
        .then(() => undefined, (e) => e);
      assert.ok(error instanceof VerificationError, String(error));
      assert.match(
        error.message,
        /^Board job 'p-ok': parts of the mix of stage 0 end the log with no final post naming them$/,
      );
    } finally {
      spool.close();
    }
  } finally {
    await proxy?.shutdown();
    await net.close();
  }
});

Deno.test("a mixer node posts a big mix in parts and, cut off half-way, re-sends the same parts and final post", async () => {
  const net = await TestNetwork.create();
  let proxy: Deno.HttpServer | undefined;
  const store = new Store(":memory:");
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const client = new NodeClient(board.url, { identity: admin });
    await closedOneStageJob(client, "resend");
    // A proxy in front of the board that fails every post after the first two mix parts.
    let accepted = 0;
    let cut = true;
    proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      const body = req.method === "POST" ? new Uint8Array(await req.arrayBuffer()) : undefined;
      if (req.method === "POST" && url.pathname === "/v1/board/posts" && cut) {
        if (accepted === 2) {
          return Response.json({ code: "unavailable", message: "cut off" }, { status: 503 });
        }
        accepted++;
      }
      return await fetch(board.url + url.pathname + url.search, {
        method: req.method,
        headers: req.headers,
        ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }),
      });
    });
    const cascade = new CascadeMixer({
      store,
      identity: mixer,
      boardUrl: `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`,
      pollIntervalMs: 1,
      backendByName,
      mixKey: () => Promise.resolve(undefined),
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      mixPartItems: 10,
    });
    assert.equal(await cascade.tick(), 0); // cut off after parts 0 and 1
    const stored = (store.db.prepare(
      "SELECT post FROM cascade_parts WHERE job = 'resend' ORDER BY part",
    ).all() as { post: Uint8Array }[]).map((r) => readPost(decodeMsgpack(r.post, "p"), "p"));
    assert.equal(stored.length, 3);
    const onBoard = () =>
      board.board!.posts(0, 100).map((e) => readPost(e, "post")).filter((p) =>
        p.job === "resend" && p.type === "mix"
      );
    assert.deepEqual(onBoard().map(postDigest), stored.slice(0, 2).map(postDigest));
    cut = false;
    await new Promise((resolve) => setTimeout(resolve, 50)); // past the back-off
    assert.equal(await cascade.tick(), 1);
    const posted = onBoard();
    assert.equal(posted.length, 4);
    assert.deepEqual(posted.slice(0, 3).map(postDigest), stored.map(postDigest));
    assert.equal(
      (await client.getJson("/v1/board/jobs/resend") as { state: string }).state,
      "done",
    );
    // Sent: the mixer keeps no copy of the parts.
    assert.equal(
      (store.db.prepare("SELECT count(*) AS n FROM cascade_parts").get() as { n: number }).n,
      0,
    );
  } finally {
    store.close();
    await proxy?.shutdown();
    await net.close();
  }
});

Deno.test("a configured part size is capped to what fits in a part the board takes", () => {
  assert.equal(mixPartItems(1, 100), 100);
  assert.equal(mixPartItems(1, 10_000_000), mixPartItems(1));
  assert.equal(mixPartItems(2, 10_000_000, 64 * 1024), Math.floor((64 * 1024 - 1024) / 288));
});

Deno.test("a mixer whose mix part the board refuses as malformed (over its part limit) reports the failure instead of re-sending forever", async () => {
  const net = await TestNetwork.create();
  const store = new Store(":memory:");
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
      maxMixPartBytes: 2048,
    });
    const client = new NodeClient(board.url, { identity: admin });
    await closedOneStageJob(client, "too-big");
    const cascade = new CascadeMixer({
      store,
      identity: mixer,
      boardUrl: board.url,
      pollIntervalMs: 1,
      backendByName,
      mixKey: () => Promise.resolve(undefined),
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      mixPartItems: 10, // 10 × 224 bytes: over the board's 2,048
    });
    await cascade.tick();
    const summary = await client.getJson("/v1/board/jobs/too-big") as {
      stage: number;
      failure?: { stage: number; reason: string };
    };
    assert.equal(summary.stage, 0);
    assert.equal(summary.failure?.stage, 0);
    assert.match(
      summary.failure!.reason,
      /^the board rejected this node's mix: Mix part of \d+ bytes is over this board's limit of 2048 bytes a part/,
    );
  } finally {
    store.close();
    await net.close();
  }
});
