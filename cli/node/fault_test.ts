/**
 * Fault tests: real node processes killed with SIGKILL mid-work and restarted.
 * Nothing a node acknowledged may be lost.
 */
import assert from "node:assert/strict";
import { fromBase64Url, toBase64Url, toHex } from "../../core/bytes.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import { reencryptBackend } from "../../backends/reencrypt/mod.ts";
import { backendByName } from "../backends.ts";
import { readBoardLog, verifyJobFromBoard } from "./board_reader.ts";
import { NodeClient } from "./client.ts";
import { freePort, NodeProcess, writeNodeDir } from "./cluster.ts";
import { generateIdentity } from "./identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./job_client.ts";
import { createPost } from "./posts.ts";
import { buildPacket, chooseRoute, fetchTopology } from "./sphinx_client.ts";
import { SPHINX_STATUS, SphinxLink } from "./sphinx_link.ts";
import { fetchMailbox } from "./mailbox.ts";
import { TestNetwork } from "./test_support.ts";

const admin = generateIdentity();

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("kill -9 of the board while posts stream in loses no acknowledged post", async () => {
  const root = await Deno.makeTempDir({ prefix: "panoramix-fault-" });
  let node: NodeProcess | undefined;
  try {
    const { configPath } = await writeNodeDir(`${root}/board`, {
      name: "board",
      roles: ["board"],
      httpPort: freePort(),
      admins: [toBase64Url(admin.publicKey)],
    });
    node = await NodeProcess.spawn(configPath);
    const client = new NodeClient(node.info.url, { identity: admin, timeoutMs: 5000 });
    const key = (await plainBackend.generateKeys()).publicKey;
    await createJob(client, {
      id: "stream",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: generateIdentity().publicKey, key }],
        minInputs: 2,
        submitters: [],
      },
    });
    const acked = new Set<string>();
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const [item] = await plainBackend.sampleInputs(1, { key });
        const post = createPost(admin, {
          job: "stream",
          type: "inputs",
          body: { v: 1, kind: "node.inputs", items: [plainBackend.input.encode(item!)] },
        });
        try {
          await client.submitPost(post);
          acked.add(toHex(item!.data));
        } catch {
          return; // the node died under us: this post was never acknowledged
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await until("40 acknowledged posts", () => Promise.resolve(acked.size >= 40 || undefined));
    await node.stop("SIGKILL");
    stop = true;
    await Promise.all(workers);
    const ackedAtKill = new Set(acked);

    node = await NodeProcess.spawn(configPath);
    const reader = new NodeClient(node.info.url);
    const posts = await readBoardLog(reader); // signatures and hash chain check out
    const { items } = await reader.getJson("/v1/board/jobs/stream/items?stage=0") as {
      items: { data: string }[];
    };
    const stored = new Set(items.map((i) => toHex(fromBase64Url(i.data, "data"))));
    for (const a of ackedAtKill) assert.ok(stored.has(a), `acknowledged item ${a} was lost`);
    assert.equal(posts.length, stored.size + 1);
    const status = await node.stop("SIGTERM");
    assert.equal(status.code, 0, "graceful shutdown exits 0");
    node = undefined;
  } finally {
    await node?.stop("SIGKILL");
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("kill -9 of a cascade mixer mid-batch: after restart the job completes and verifies", async () => {
  const net = await TestNetwork.create();
  let mixer1: NodeProcess | undefined;
  try {
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const m0 = await net.start({ name: "m0", roles: ["cascade"], boardUrl: board.url });
    const m2 = await net.start({ name: "m2", roles: ["cascade"], boardUrl: board.url });
    const { configPath, identity } = await writeNodeDir(`${net.root}/m1`, {
      name: "m1",
      roles: ["cascade"],
      boardUrl: board.url,
      pollIntervalMs: 20,
    });
    mixer1 = await NodeProcess.spawn(configPath);
    const keys = await reencryptBackend.generateKeys();
    const client = new NodeClient(board.url, { identity: admin });
    await createJob(client, {
      id: "crash",
      admin,
      spec: {
        backend: "reencrypt",
        stages: [m0.identity, identity, m2.identity].map((id) => ({
          mixer: id.publicKey,
          key: keys.publicKey,
        })),
        minInputs: 2,
        submitters: [admin.publicKey],
      },
    });
    const inputs = await reencryptBackend.sampleInputs(100, { key: keys.publicKey });
    await submitInputs(client, {
      id: "crash",
      submitter: admin,
      items: inputs.map((x) => reencryptBackend.input.encode(x)),
    });
    await closeJob(client, { id: "crash", admin });
    // Stage 1 is mixer 1's. It has started mixing once it fetched the stage's inputs
    // (the second items request the board serves): kill it then, mid-batch.
    const itemRequests = () =>
      board.metrics.counter("panoramix_http_requests_total", "").value({
        route: "/v1/board/jobs/:job/items",
        status: "200",
      });
    await until(
      "mixer 1 to fetch its batch",
      () => Promise.resolve(itemRequests() >= 2 ? true : undefined),
    );
    await mixer1.stop("SIGKILL");
    const atKill = await client.getJson("/v1/board/jobs/crash") as { stage: number };
    assert.equal(atKill.stage, 1, "the kill landed before mixer 1 posted its batch");
    mixer1 = await NodeProcess.spawn(configPath);
    const done = await waitForJob(client, { id: "crash", timeoutMs: 60_000 });
    assert.equal(done.stage, 3);
    const verified = await verifyJobFromBoard(client, { job: "crash", backendByName });
    assert.deepEqual(verified.stages.map((s) => s.outputs), [100, 100, 100]);
  } finally {
    await mixer1?.stop("SIGKILL");
    await net.close();
  }
});

Deno.test("kill -9 of a Sphinx mix holding delayed packets: after restart all are delivered", async () => {
  const net = await TestNetwork.create();
  let middle: NodeProcess | undefined;
  try {
    const dir = await net.start({ name: "directory", roles: ["directory"] });
    const sphinx = { payloadSize: 1024 };
    await net.start({ name: "entry", roles: ["sphinx"], directoryUrl: dir.url, sphinx });
    const exit = await net.start({
      name: "exit",
      roles: ["sphinx"],
      directoryUrl: dir.url,
      sphinx,
    });
    const { configPath } = await writeNodeDir(`${net.root}/middle`, {
      name: "middle",
      roles: ["sphinx"],
      directoryUrl: dir.url,
      httpPort: freePort(),
      sphinxPort: freePort(),
      sphinx,
    });
    middle = await NodeProcess.spawn(configPath);
    const topology = await fetchTopology(new NodeClient(dir.url), dir.identity.publicKey);
    const byName = (n: string) => topology.nodes.find((d) => d.name === n)!;
    const nodes = [byName("entry"), byName("middle"), byName("exit")];
    const owner = generateIdentity(); // the mailbox key: only it can read the mailbox
    const recipient = owner.publicKey;
    const link = await SphinxLink.connect(nodes[0]!.sphinxAddress);
    const count = 60;
    for (let i = 0; i < count; i++) {
      const route = chooseRoute(topology, { hops: 3, meanDelayMs: 0, nodes });
      route.hops[1]!.delayMs = 3000; // the middle mix holds every packet
      const packet = await buildPacket(new TextEncoder().encode(`m${i}`), {
        route,
        recipient,
        payloadSize: 1024,
      });
      assert.equal(await link.send(packet), SPHINX_STATUS.accepted);
    }
    link.close();
    const middleMetrics = async () => {
      const text = await (await fetch(`${middle!.info.url}/metrics`)).text();
      return Number(/panoramix_sphinx_queue_depth (\d+)/.exec(text)![1]);
    };
    await until(
      "the middle mix to hold every packet",
      async () => (await middleMetrics()) === count ? true : undefined,
    );
    await middle.stop("SIGKILL");
    middle = await NodeProcess.spawn(configPath);
    const delivered = await until("every delivery", async () => {
      const messages = await fetchMailbox(exit.url, { identity: owner });
      return messages.length >= count ? messages : undefined;
    });
    const texts = delivered.map((m) => new TextDecoder().decode(m.message));
    assert.deepEqual(
      texts.sort(),
      Array.from({ length: count }, (_, i) => `m${i}`).sort(),
    );
  } finally {
    await middle?.stop("SIGKILL");
    await net.close();
  }
});

Deno.test("SIGTERM mid-stream drains: exit 0, and every acknowledged packet is delivered after restart", async () => {
  const net = await TestNetwork.create();
  let entry: NodeProcess | undefined;
  try {
    const dir = await net.start({ name: "directory", roles: ["directory"] });
    const exit = await net.start({ name: "exit", roles: ["sphinx"], directoryUrl: dir.url });
    const { configPath } = await writeNodeDir(`${net.root}/entry`, {
      name: "entry",
      roles: ["sphinx"],
      directoryUrl: dir.url,
      httpPort: freePort(),
      sphinxPort: freePort(),
    });
    entry = await NodeProcess.spawn(configPath);
    const topology = await fetchTopology(new NodeClient(dir.url), dir.identity.publicKey);
    const nodes = ["entry", "exit"].map((n) => topology.nodes.find((d) => d.name === n)!);
    const owner = generateIdentity(); // the mailbox key: only it can read the mailbox
    const recipient = owner.publicKey;
    const packets: Uint8Array[] = [];
    for (let i = 0; i < 150; i++) {
      const route = chooseRoute(topology, { hops: 2, meanDelayMs: 0, nodes });
      route.hops[0]!.delayMs = 400; // some are still queued at the entry when it stops
      packets.push(
        await buildPacket(new TextEncoder().encode(`t${i}`), {
          route,
          recipient,
          payloadSize: 1024,
        }),
      );
    }
    const link = await SphinxLink.connect(nodes[0]!.sphinxAddress);
    const accepted: string[] = [];
    const sends = packets.map((p, i) =>
      link.send(p).then((status) => {
        if (status === SPHINX_STATUS.accepted) accepted.push(`t${i}`);
      }, () => {})
    );
    await until("some acknowledgements", () => Promise.resolve(accepted.length >= 50 || undefined));
    const status = await entry.stop("SIGTERM");
    assert.equal(status.code, 0, entry.log.slice(-6).join("\n"));
    await Promise.all(sends);
    link.close();
    const acknowledged = [...accepted];
    entry = await NodeProcess.spawn(configPath);
    const delivered = await until("every acknowledged delivery", async () => {
      const messages = await fetchMailbox(exit.url, { identity: owner });
      const texts = new Set(
        messages.map((m) => new TextDecoder().decode(m.message)),
      );
      return acknowledged.every((a) => texts.has(a)) ? texts : undefined;
    });
    assert.ok(delivered.size >= acknowledged.length);
  } finally {
    await entry?.stop("SIGKILL");
    await net.close();
  }
});
