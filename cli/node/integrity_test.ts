/**
 * Store integrity at start (issue 11 §12): a node refuses to serve a store that is
 * damaged or lost acknowledged data, with exit code 10 and a one-line error.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { toBase64Url } from "../../core/bytes.ts";
import { IntegrityError } from "../../core/errors.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import { NodeClient } from "./client.ts";
import { generateIdentity } from "./identity.ts";
import { createJob } from "./job_client.ts";
import { createPost } from "./posts.ts";
import { TestNetwork } from "./test_support.ts";

const admin = generateIdentity();
const ENTRY = new URL("../main.ts", import.meta.url).pathname;

async function boardWithPosts(net: TestNetwork, count: number, after?: () => Promise<void>) {
  const node = await net.start({
    name: "board",
    roles: ["board"],
    admins: [toBase64Url(admin.publicKey)],
  });
  const client = new NodeClient(node.url, { identity: admin });
  const key = (await plainBackend.generateKeys()).publicKey;
  await createJob(client, {
    id: "j",
    admin,
    spec: {
      backend: "plain",
      stages: [{ mixer: generateIdentity().publicKey, key }],
      minInputs: 2,
      submitters: [],
    },
  });
  const post = async () => {
    const [item] = await plainBackend.sampleInputs(1, { key });
    await client.submitPost(createPost(admin, {
      job: "j",
      type: "inputs",
      body: { v: 1, kind: "node.inputs", items: [plainBackend.input.encode(item!)] },
    }));
  };
  for (let i = 0; i < count; i++) await post();
  if (after) {
    await after();
    for (let i = 0; i < count; i++) await post();
  }
  await net.stop("board");
}

async function restartFails(net: TestNetwork, pattern: RegExp): Promise<void> {
  await assert.rejects(
    net.start({ name: "board", roles: ["board"] }),
    (e: unknown) => e instanceof IntegrityError && pattern.test(e.message),
  );
}

async function cliRun(net: TestNetwork): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ENTRY, "node", "run", "-c", net.configs.get("board")!],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a store that lost acknowledged posts (restored WAL) is refused with exit 10", async () => {
  const net = await TestNetwork.create();
  try {
    const data = `${net.root}/board/data`;
    const saved = `${net.root}/saved`;
    await boardWithPosts(net, 5, async () => {
      // What the disk held after the 6th acknowledged post; 5 more are acknowledged after it.
      await Deno.mkdir(saved);
      for (const f of ["node.sqlite", "node.sqlite-wal"]) {
        await Deno.copyFile(`${data}/${f}`, `${saved}/${f}`);
      }
    });
    await Deno.remove(`${data}/node.sqlite-shm`).catch(() => {});
    for (const f of ["node.sqlite", "node.sqlite-wal"]) {
      await Deno.copyFile(`${saved}/${f}`, `${data}/${f}`);
    }
    await restartFails(net, /ends at entry 6 but entry 11 was acknowledged: 5 acknowledged/);
    const run = await cliRun(net);
    assert.equal(run.code, 10, run.stderr);
    assert.match(run.stderr, /^panoramix: error: .*acknowledged posts are lost.*\n$/);
    assert.equal(run.stderr.trim().split("\n").length, 1);
  } finally {
    await net.close();
  }
});

Deno.test("a post changed on disk is refused at start", async () => {
  const net = await TestNetwork.create();
  try {
    await boardWithPosts(net, 3);
    const db = new DatabaseSync(`${net.root}/board/data/node.sqlite`);
    db.exec("UPDATE board_posts SET time = time + 1 WHERE seq = 3");
    db.close();
    await restartFails(net, /entry 3 does not match its digest/);
  } finally {
    await net.close();
  }
});

Deno.test("an overwritten header or a damaged page is an integrity error, not an internal one", async () => {
  const net = await TestNetwork.create();
  try {
    await boardWithPosts(net, 3);
    const path = `${net.root}/board/data/node.sqlite`;
    const original = await Deno.readFile(path);
    // A b-tree page header overwritten (page 2: a table root).
    const page = original.slice();
    page.fill(0xff, 4096, 4096 + 12);
    await Deno.writeFile(path, page);
    await restartFails(net, /damaged/);
    // The file header overwritten.
    const header = original.slice();
    header.fill(0, 0, 100);
    await Deno.writeFile(path, header);
    await restartFails(net, /damaged/);
    const run = await cliRun(net);
    assert.equal(run.code, 10, run.stderr);
  } finally {
    await net.close();
  }
});
