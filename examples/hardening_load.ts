/**
 * Measures a node under the floods of issue 11 (loopback only, a node process started
 * here on free ports): node memory (VmRSS, peak) under concurrent unsigned 60 MiB POSTs,
 * survival of many idle connections under a low open-file limit, slow-loris connections
 * closed, memory under concurrent reads of a big job, health latency meanwhile, and the
 * node's own largest event-loop stall (its `panoramix_event_loop_stall_max_seconds`).
 * Not a test: it takes minutes and prints figures.
 *
 *   deno run -A examples/hardening_load.ts [--posts 12] [--post-mib 60] [--idle 4300]
 *     [--nofile 4096] [--loris 150] [--loris-seconds 40] [--items 1000003] [--readers 4]
 *     [--only posts,idle,loris,items,outsider] [--node-log FILE]
 *
 * @module
 */

import { toBase64Url } from "../core/bytes.ts";
import { plainBackend } from "../core/plain_backend.ts";
import { NodeClient } from "../cli/node/client.ts";
import { freePort, writeNodeDir } from "../cli/node/cluster.ts";
import { generateIdentity } from "../cli/node/identity.ts";
import { createPost, jobBody } from "../cli/node/posts.ts";

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}
const only = (() => {
  const i = Deno.args.indexOf("--only");
  return i >= 0 ? Deno.args[i + 1]!.split(",") : ["posts", "idle", "loris", "items"];
})();
const ENTRY = new URL("../cli/main.ts", import.meta.url).pathname;
const admin = generateIdentity();

interface Node {
  url: string;
  pid: number;
  child: Deno.ChildProcess;
  alive: () => boolean;
  stop: () => Promise<number>;
}

async function startNode(dir: string, nofile?: number): Promise<Node> {
  const port = freePort();
  const { configPath } = await writeNodeDir(dir, {
    name: "bench",
    roles: ["board"],
    httpPort: port,
    admins: [toBase64Url(admin.publicKey)],
  });
  const ready = `${configPath}.ready.json`;
  await Deno.remove(ready).catch(() => {});
  const args = ["run", "-A", ENTRY, "node", "run", "-c", configPath, "--ready-file", ready];
  const cmd = nofile === undefined
    ? new Deno.Command(Deno.execPath(), { args, stderr: "piped", stdout: "null" })
    : new Deno.Command("prlimit", {
      args: [`--nofile=${nofile}:${nofile}`, Deno.execPath(), ...args],
      stderr: "piped",
      stdout: "null",
    });
  const child = cmd.spawn();
  let exited = false;
  let code = 0;
  void child.status.then((s) => {
    exited = true;
    code = s.code;
  });
  // --node-log FILE keeps the node's warnings (e.g. `event_loop_stall`) for a look afterwards.
  const logIndex = Deno.args.indexOf("--node-log");
  const sink = logIndex >= 0
    ? (await Deno.open(Deno.args[logIndex + 1]!, { create: true, append: true })).writable
    : new WritableStream({ write() {} });
  void child.stderr.pipeTo(sink).catch(() => {});
  for (let i = 0; i < 600 && !exited; i++) {
    try {
      const info = JSON.parse(await Deno.readTextFile(ready));
      return {
        url: info.url,
        pid: info.pid,
        child,
        alive: () => !exited,
        stop: async () => {
          try {
            child.kill("SIGTERM");
          } catch { /* gone */ }
          await child.status;
          return code;
        },
      };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("node did not start");
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Polls the node's RSS every 50 ms; returns a stop function giving the peak. */
function watchRss(pid: number): () => number {
  let peak = rssMiB(pid);
  const t = setInterval(() => {
    const v = rssMiB(pid);
    if (v > peak) peak = v;
  }, 50);
  return () => {
    clearInterval(t);
    return peak;
  };
}

/**
 * Health latencies sampled every 200 ms from a Worker (its own event loop, so the work of
 * building and signing the flood in this process does not delay the probe); returns a stop
 * function giving the max (ms) and the failures.
 */
function watchHealth(url: string): () => Promise<{ max: number; failures: number }> {
  const code = `
    let max = 0, failures = 0, running = true;
    self.onmessage = () => { running = false; };
    (async () => {
      while (running) {
        const t0 = performance.now();
        try {
          const r = await fetch(${
    JSON.stringify(`${url}/v1/health`)
  }, { signal: AbortSignal.timeout(20000) });
          await r.body?.cancel();
          if (r.status !== 200) failures++;
        } catch { failures++; }
        max = Math.max(max, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 200));
      }
      self.postMessage({ max, failures });
    })();`;
  const worker = new Worker(
    URL.createObjectURL(new Blob([code], { type: "application/javascript" })),
    { type: "module" },
  );
  return () =>
    new Promise((resolve) => {
      worker.onmessage = (event) => {
        worker.terminate();
        resolve(event.data as { max: number; failures: number });
      };
      worker.postMessage("stop");
    });
}

/** The node's largest event-loop stall since start, in ms (its own probe, issue 11 §10). */
async function stallMs(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^panoramix_event_loop_stall_max_seconds (\S+)$/m.exec(text);
    return m ? Number(m[1]) * 1000 : NaN;
  } catch {
    return NaN;
  }
}

/** `count` plain inputs for `job` in 4 signed posts by `author`. */
async function buildPosts(
  author: ReturnType<typeof generateIdentity>,
  job: string,
  key: Awaited<ReturnType<typeof plainBackend.generateKeys>>["publicKey"],
  count: number,
) {
  const perPost = Math.ceil(count / 4);
  const posts = [];
  for (let done = 0; done < count; done += perPost) {
    const n = Math.min(perPost, count - done);
    const items = (await plainBackend.sampleInputs(n, { key })).map((x) =>
      plainBackend.input.encode(x)
    );
    posts.push(
      createPost(author, { job, type: "inputs", body: { v: 1, kind: "node.inputs", items } }),
    );
  }
  return posts;
}

const say = (s: string) => console.log(s);
const root = await Deno.makeTempDir({ prefix: "panoramix-hardening-" });
const uptime = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
say(`load average ${uptime()}`);

try {
  if (only.includes("posts")) {
    const n = option("--posts", 12);
    const mib = option("--post-mib", 60);
    const node = await startNode(`${root}/posts`);
    const before = rssMiB(node.pid);
    const peak = watchRss(node.pid);
    const body = new Uint8Array(mib * 1024 * 1024);
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: n }, async () => {
      try {
        const r = await fetch(`${node.url}/v1/board/posts`, {
          method: "POST",
          headers: { "content-type": "application/msgpack" },
          body,
        });
        await r.body?.cancel();
        return String(r.status);
      } catch (error) {
        return (error as Error).name;
      }
    }));
    await new Promise((r) => setTimeout(r, 500));
    say(
      `posts: ${n} unsigned ${mib} MiB POSTs: node RSS ${before.toFixed(0)} -> peak ${
        peak().toFixed(0)
      } MiB; answers ${statuses.join(",")} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    await node.stop();
  }

  if (only.includes("idle")) {
    const count = option("--idle", 4300);
    const nofile = option("--nofile", 4096);
    const node = await startNode(`${root}/idle`, nofile);
    const conns: Deno.TcpConn[] = [];
    const port = Number(new URL(node.url).port);
    let failed = 0;
    for (let i = 0; i < count; i++) {
      try {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        failed++;
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = performance.now();
    let health = "none";
    try {
      const r = await fetch(`${node.url}/v1/health`, { signal: AbortSignal.timeout(10_000) });
      health = String(r.status);
      await r.body?.cancel();
    } catch (error) {
      health = (error as Error).name;
    }
    const ms = performance.now() - t0;
    say(
      `idle: ${count} idle connections (${failed} refused by the OS) with ulimit -n ${nofile}: ` +
        `node ${node.alive() ? "alive" : "DEAD"}, health ${health} in ${ms.toFixed(0)} ms`,
    );
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await node.stop();
  }

  if (only.includes("loris")) {
    const count = option("--loris", 150);
    const seconds = option("--loris-seconds", 40);
    const node = await startNode(`${root}/loris`);
    const port = Number(new URL(node.url).port);
    const enc = new TextEncoder();
    const conns: Deno.TcpConn[] = [];
    const closedAt: (number | undefined)[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(enc.encode("GET /v1/health HTTP/1.1\r\nHost: x\r\n"));
      conns.push(c);
      closedAt.push(undefined);
      const index = i;
      void (async () => {
        const buf = new Uint8Array(256);
        try {
          while ((await c.read(buf)) !== null) { /* ignore */ }
        } catch { /* reset */ }
        closedAt[index] = performance.now() - t0;
      })();
    }
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end && closedAt.some((x) => x === undefined)) {
      for (const c of conns) await c.write(enc.encode("X-Slow: 1\r\n")).catch(() => {});
      await new Promise((r) => setTimeout(r, 1000));
    }
    const closed = closedAt.filter((x) => x !== undefined) as number[];
    say(
      `loris: ${count} slow-loris connections (a header line a second): ${closed.length} closed by the node ` +
        `within ${seconds} s${
          closed.length ? `, the last after ${(Math.max(...closed) / 1000).toFixed(1)} s` : ""
        }`,
    );
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await node.stop();
  }

  if (only.includes("outsider")) {
    const count = option("--items", 1_000_003);
    const node = await startNode(`${root}/outsider`);
    const adminClient = new NodeClient(node.url, { identity: admin, timeoutMs: 600_000 });
    const outsider = generateIdentity();
    const client = new NodeClient(node.url, { identity: outsider, timeoutMs: 600_000 });
    const key = (await plainBackend.generateKeys()).publicKey;
    await adminClient.submitPost(createPost(admin, {
      job: "open",
      type: "job",
      body: jobBody({
        backend: "plain",
        stages: [{ mixer: generateIdentity().publicKey, key }],
        minInputs: 2,
        submitters: [],
      }),
    }));
    // The posts are built and signed before the clock starts (the node's work is timed).
    const posts = await buildPosts(outsider, "open", key, count);
    const health = watchHealth(node.url);
    const t0 = performance.now();
    const answers: string[] = [];
    for (const post of posts) {
      try {
        await client.submitPost(post);
        answers.push("201");
      } catch (error) {
        answers.push(String((error as { status?: number }).status ?? (error as Error).name));
      }
    }
    const h = await health();
    say(
      `outsider: ${count} inputs in 4 posts (built beforehand) by one outside submitter of an open job: answers ${
        answers.join(",")
      } in ${((performance.now() - t0) / 1000).toFixed(1)} s; health max ${
        h.max.toFixed(0)
      } ms (${h.failures} failures); node event-loop stall max ${
        (await stallMs(node.url)).toFixed(0)
      } ms`,
    );
    await node.stop();
  }

  if (only.includes("items")) {
    const count = option("--items", 1_000_003);
    const readers = option("--readers", 4);
    const node = await startNode(`${root}/items`);
    const client = new NodeClient(node.url, { identity: admin, timeoutMs: 600_000 });
    const key = (await plainBackend.generateKeys()).publicKey;
    await client.submitPost(createPost(admin, {
      job: "big",
      type: "job",
      body: jobBody({
        backend: "plain",
        stages: [{ mixer: generateIdentity().publicKey, key }],
        minInputs: 2,
        submitters: [],
      }),
    }));
    const posts = await buildPosts(admin, "big", key, count); // before the clock starts
    const t0 = performance.now();
    const health = watchHealth(node.url);
    for (const post of posts) await client.submitPost(post);
    const posting = await health();
    say(
      `items: ${count} items posted in 4 posts (built beforehand) in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s; health max ${posting.max.toFixed(0)} ms (${posting.failures} failures) meanwhile; ` +
        `node event-loop stall max ${(await stallMs(node.url)).toFixed(0)} ms`,
    );
    const before = rssMiB(node.pid);
    const peak = watchRss(node.pid);
    const health2 = watchHealth(node.url);
    const t1 = performance.now();
    const sizes = await Promise.all(Array.from({ length: readers }, async () => {
      const r = await fetch(`${node.url}/v1/board/jobs/big/items?stage=0`);
      let bytes = 0;
      for await (const chunk of r.body!) bytes += chunk.length;
      return bytes;
    }));
    const reading = await health2();
    say(
      `items: ${readers} concurrent GET items (${(sizes[0]! / 2 ** 20).toFixed(0)} MiB each) in ${
        ((performance.now() - t1) / 1000).toFixed(1)
      } s: node RSS ${before.toFixed(0)} -> peak ${peak().toFixed(0)} MiB; health max ${
        reading.max.toFixed(0)
      } ms; node event-loop stall max since start ${(await stallMs(node.url)).toFixed(0)} ms`,
    );
    const code = await node.stop();
    const t2 = performance.now();
    const again = await startNode(`${root}/items`);
    say(
      `items: restart to ready (integrity check of the log) ${
        ((performance.now() - t2) / 1000).toFixed(1)
      } s (stop exit ${code})`,
    );
    await again.stop();
  }
} finally {
  say(`load average ${uptime()}`);
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
