/**
 * Connection floods (issue 11 §2): bounded connections per address and in total,
 * slow-loris heads closed, accept loops that survive descriptor exhaustion, and a
 * health endpoint that reports a dead listener. Bounded in count and time; loopback only.
 */
import assert from "node:assert/strict";
import { freePort, NodeProcess, writeNodeDir } from "./cluster.ts";
import { acceptLoop, type AcceptLoopState } from "./connections.ts";
import { silentLogger } from "./log.ts";
import { TestNetwork } from "./test_support.ts";

async function openIdle(port: number, count: number): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i++) {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  return conns;
}

/** True when the server closed the connection (EOF or reset) within `ms`. */
async function closedBy(conn: Deno.TcpConn, ms: number): Promise<boolean> {
  const buf = new Uint8Array(1024);
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left)));
    const read = conn.read(buf).then((n) => n, () => null);
    const result = await Promise.race([read, timeout]);
    clearTimeout(timer);
    if (result === "timeout") return false;
    if (result === null) return true;
  }
}

function closeAll(conns: Deno.Conn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

Deno.test("an idle-connection flood is bounded per address and the node keeps serving", async () => {
  const net = await TestNetwork.create();
  let conns: Deno.TcpConn[] = [];
  try {
    const node = await net.start({
      name: "n",
      roles: ["board"],
      limits: { maxConnectionsPerAddress: 16, maxConnections: 64, idleTimeoutMs: 30_000 },
    });
    const port = Number(new URL(node.url).port);
    conns = await openIdle(port, 120);
    const health = await fetch(`${node.url}/v1/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const closed = await Promise.all(conns.map((c) => closedBy(c, 300)));
    const held = closed.filter((c) => !c).length;
    assert.ok(held <= 16, `the node holds ${held} idle connections from one address (max 16)`);
  } finally {
    closeAll(conns);
    await net.close();
  }
});

Deno.test("slow-loris request heads are closed after limits.headerTimeoutMs", async () => {
  const net = await TestNetwork.create();
  const conns: Deno.TcpConn[] = [];
  try {
    const node = await net.start({
      name: "n",
      roles: ["board"],
      limits: { headerTimeoutMs: 300, idleTimeoutMs: 30_000, maxConnectionsPerAddress: 64 },
    });
    const port = Number(new URL(node.url).port);
    const enc = new TextEncoder();
    for (let i = 0; i < 30; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(enc.encode("GET /v1/health HTTP/1.1\r\nHost: x\r\n"));
      conns.push(c);
    }
    // Trickle a header line every 100 ms, never finishing the head.
    let trickling = true;
    const trickle = (async () => {
      while (trickling) {
        await new Promise((r) => setTimeout(r, 100));
        for (const c of conns) await c.write(enc.encode("X-Slow: 1\r\n")).catch(() => {});
      }
    })();
    const started = Date.now();
    const closed = await Promise.all(conns.map((c) => closedBy(c, 2000)));
    trickling = false;
    await trickle;
    assert.equal(closed.filter((c) => c).length, 30, "every slow head is closed");
    assert.ok(Date.now() - started < 2000);
    const health = await fetch(`${node.url}/v1/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    closeAll(conns);
    await net.close();
  }
});

Deno.test("with 256 open files, floods of both ports leave the node alive and accepting", async () => {
  const root = await Deno.makeTempDir({ prefix: "panoramix-fd-" });
  let node: NodeProcess | undefined;
  let conns: Deno.TcpConn[] = [];
  try {
    const { configPath } = await writeNodeDir(`${root}/n`, {
      name: "n",
      roles: ["sphinx", "directory"],
      httpPort: freePort(),
      // Bounds above the descriptors the process has: admission alone cannot save it,
      // the accept loops must survive EMFILE.
      limits: { maxConnections: 1000, maxConnectionsPerAddress: 1000 },
      sphinx: { maxConnections: 1000, maxConnectionsPerAddress: 1000 },
    });
    node = await NodeProcess.spawn(configPath, { openFiles: 256 });
    const http = Number(new URL(node.info.url).port);
    const sphinx = Number(node.info.sphinxAddress.split(":")[1]);
    for (const port of [http, sphinx]) {
      for (let i = 0; i < 300; i++) {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    closeAll(conns);
    conns = [];
    // The node recovers once the flood is gone: health answers 200 within seconds (a loaded
    // machine may still be closing the flood's sockets for a moment).
    let health: { status: number; text: string } | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      try {
        const res = await fetch(`${node.info.url}/v1/health`);
        health = { status: res.status, text: await res.text() };
        if (res.status === 200) break;
      } catch (error) {
        health = { status: 0, text: String(error) };
      }
    }
    assert.equal(health?.status, 200, health?.text);
    // The Sphinx listener still accepts: a fresh connection gets an answer to a bad frame.
    const c = await Deno.connect({ hostname: "127.0.0.1", port: sphinx });
    await c.write(Uint8Array.of(0, 0, 0, 1, 0));
    const buf = new Uint8Array(1);
    assert.equal(await c.read(buf), 1, "the Sphinx port answers after the flood");
    c.close();
  } finally {
    closeAll(conns);
    const status: Deno.CommandStatus | undefined = node ? await node.stop() : undefined;
    await Deno.remove(root, { recursive: true });
    assert.equal(
      status?.code,
      0,
      `the node was still running: ${
        node?.log.filter((l) => !l.includes("relay")).slice(-8).join(" / ")
      } code ${status?.code} signal ${status?.signal}`,
    );
  }
});

Deno.test("an accept loop whose listener dies reports it; health turns 503", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state: AcceptLoopState = { alive: true, lastError: undefined };
  const loop = acceptLoop(listener, (c) => c.close(), {
    name: "test",
    logger: silentLogger,
    running: () => true,
    state,
  });
  listener.close();
  await loop;
  assert.equal(state.alive, false);
  const { healthResponse, nodeHealth } = await import("./health.ts");
  const { Store } = await import("./storage.ts");
  const store = new Store(":memory:");
  try {
    const health = nodeHealth({ state } as never, store, [{
      health: () => ({ sphinx: "Sphinx listener stopped: closed" }),
    }]);
    assert.equal(health.ok, false);
    assert.ok(health.problems.http?.startsWith("HTTP listener stopped"));
    assert.equal(healthResponse(health).status, 503);
  } finally {
    store.close();
  }
});

Deno.test("a listener whose accepts fail for over 2 s counts as down", async () => {
  const { acceptProblem } = await import("./connections.ts");
  const now = Date.now();
  const state: AcceptLoopState = { alive: true, lastError: "Too many open files (os error 24)" };
  assert.equal(acceptProblem("HTTP", state, now), undefined);
  state.failingSince = now - 1000;
  assert.equal(
    acceptProblem("HTTP", state, now),
    undefined,
    "a short burst of EMFILE is tolerated",
  );
  state.failingSince = now - 3000;
  assert.match(acceptProblem("HTTP", state, now)!, /cannot accept connections since .*open files/);
});
