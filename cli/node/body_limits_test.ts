/**
 * Request bodies (issue 11 §3): signature headers and the declared length are checked
 * before a body is read, caps per route, a bound on body bytes held at once, and a
 * minimum body rate. Raw loopback sockets, so the test controls what is (not) sent.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { TestNetwork } from "./test_support.ts";

const enc = new TextEncoder();

/** Sends a request head (and optionally part of a body); returns the status line read within `ms`. */
async function statusOf(
  port: number,
  head: string,
  ms: number,
  bodyPart = new Uint8Array(),
): Promise<{ status: string; conn: Deno.TcpConn }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc.encode(head));
  if (bodyPart.length > 0) await conn.write(bodyPart);
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  const n = await Promise.race([conn.read(buf).catch(() => null), timeout]);
  clearTimeout(timer);
  const text = n ? new TextDecoder().decode(buf.subarray(0, n)) : "(no answer)";
  return { status: text.split("\r\n")[0]!, conn };
}

function signedHeaders(): string {
  const key = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const signature = toBase64Url(crypto.getRandomValues(new Uint8Array(64)));
  return `x-panoramix-key: ${key}\r\nx-panoramix-time: ${Date.now()}\r\n` +
    `x-panoramix-signature: ${signature}\r\n`;
}

Deno.test("an unsigned 60 MiB POST is refused with 401 before its body is read", async () => {
  const net = await TestNetwork.create();
  try {
    const node = await net.start({ name: "n", roles: ["board", "directory"] });
    const port = Number(new URL(node.url).port);
    const { status, conn } = await statusOf(
      port,
      "POST /v1/board/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\n" +
        `Content-Length: ${60 * 1024 * 1024}\r\n\r\n`,
      2000,
      new Uint8Array(1024),
    );
    conn.close();
    assert.match(status, /^HTTP\/1\.1 401/);
  } finally {
    await net.close();
  }
});

Deno.test("a descriptor body above 64 KiB gets 413 before it is read", async () => {
  const net = await TestNetwork.create();
  try {
    const node = await net.start({ name: "n", roles: ["directory"] });
    const port = Number(new URL(node.url).port);
    const { status, conn } = await statusOf(
      port,
      "POST /v1/directory/descriptors HTTP/1.1\r\nHost: x\r\n" + signedHeaders() +
        `Content-Length: ${1024 * 1024}\r\n\r\n`,
      2000,
    );
    conn.close();
    assert.match(status, /^HTTP\/1\.1 413/);
  } finally {
    await net.close();
  }
});

Deno.test("bodies beyond limits.maxBodyBytesInFlight get 503; a slow body gets 408", async () => {
  const net = await TestNetwork.create();
  const conns: Deno.TcpConn[] = [];
  try {
    const node = await net.start({
      name: "n",
      roles: ["board"],
      limits: {
        maxBodyBytesInFlight: 1024 * 1024,
        headerTimeoutMs: 300,
        minBodyBytesPerSecond: 10_000,
      },
    });
    const port = Number(new URL(node.url).port);
    const head = () =>
      "POST /v1/board/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\n" +
      signedHeaders() + `Content-Length: ${600 * 1024}\r\n\r\n`;
    // The first holds 600 KiB of the 1 MiB budget while its body trickles in.
    const first = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(first);
    await first.write(enc.encode(head()));
    await first.write(new Uint8Array(1000));
    await new Promise((r) => setTimeout(r, 100));
    const second = await statusOf(port, head(), 1000, new Uint8Array(1000));
    conns.push(second.conn);
    assert.match(second.status, /^HTTP\/1\.1 503/);
    // 600 KiB at 10 kB/s may take 0.3 + 61 s; the first body stalls, so 408 comes first
    // when the deadline is short. Here: a 20 kB body must arrive within 0.3 + 2 s.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(slow);
    await slow.write(enc.encode(
      "POST /v1/board/posts HTTP/1.1\r\nHost: x\r\n" + signedHeaders() +
        "Content-Length: 20000\r\n\r\n",
    ));
    const started = Date.now();
    const buf = new Uint8Array(4096);
    let answer = "";
    const reading = slow.read(buf).catch(() => null);
    while (Date.now() - started < 4000 && answer === "") {
      await slow.write(new Uint8Array(10)).catch(() => {});
      const n = await Promise.race([
        reading,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
      ]);
      if (typeof n === "number") answer = new TextDecoder().decode(buf.subarray(0, n));
      if (n === null) break;
    }
    assert.match(answer.split("\r\n")[0] ?? "", /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 3500);
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await net.close();
  }
});
