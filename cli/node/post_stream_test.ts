/**
 * Posts whose body is given as pieces: signed a piece at a time and sent as a stream, the
 * same post (digest, signature, bytes on the wire) as one built whole; a real board takes it.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { encodeMsgpack } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { generateKeyPair } from "../../backends/reencrypt/mod.ts";
import { encodePublicKey } from "../../backends/reencrypt/mod.ts";
import { RequestVerifier } from "./auth.ts";
import { NodeClient } from "./client.ts";
import { generateIdentity } from "./identity.ts";
import { signStreamedPost, type StreamedPostBody, submitStreamedPost } from "./post_stream.ts";
import { createPostFromBody, jobBody, postDigest, postToEnvelope } from "./posts.ts";
import { TestNetwork } from "./test_support.ts";

/** A body of `bytes` as pieces of `size` bytes (fresh copies at each call). */
function pieces(bytes: Uint8Array, size: number): StreamedPostBody {
  return {
    bytes: bytes.length,
    pieces: async function* () {
      for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
    },
  };
}

Deno.test("a post signed from pieces is the post built whole, sent as a stream with a valid request signature", async () => {
  const author = generateIdentity();
  // Over 1 MiB, so that the envelope goes out in several chunks.
  const body = new Uint8Array(3 << 20).map((_, i) => (i * 7) % 256);
  const post = await signStreamedPost(author, {
    job: "j",
    type: "ceremony",
    body: pieces(body, 100_000),
    time: 1_700_000_000_000,
  });
  const whole = createPostFromBody(author, {
    job: "j",
    type: "ceremony",
    body,
    time: 1_700_000_000_000,
  });
  assert.deepEqual(post.signature, whole.signature);
  assert.deepEqual(post.digest, postDigest(whole));
  let seen: { body: Uint8Array; headers: Headers; path: string } | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen = {
      body: new Uint8Array(await req.arrayBuffer()),
      headers: req.headers,
      path: new URL(req.url).pathname,
    };
    return Response.json({ seq: 1, digest: "d", chain: "c" });
  });
  try {
    const client = new NodeClient(`http://127.0.0.1:${server.addr.port}`, { identity: author });
    assert.deepEqual(await submitStreamedPost(client, post), { seq: 1, digest: "d", chain: "c" });
  } finally {
    await server.shutdown();
  }
  assert.ok(seen);
  assert.deepEqual(seen.body, encodeMsgpack(postToEnvelope(whole)));
  // A stream: no declared length, sent in chunks.
  assert.equal(seen.headers.get("content-length"), null);
  assert.equal(seen.headers.get("transfer-encoding"), "chunked");
  const signer = new RequestVerifier({ windowSeconds: 60 }).verify({
    method: "POST",
    path: seen.path,
    body: seen.body,
    headers: seen.headers,
  });
  assert.deepEqual(signer, author.publicKey);
});

Deno.test("pieces that do not hold the length given are refused before anything is signed", async () => {
  const author = generateIdentity();
  for (const bytes of [9, 11]) {
    await assert.rejects(
      signStreamedPost(author, {
        job: "j",
        type: "ceremony",
        body: { ...pieces(new Uint8Array(10), 3), bytes },
      }),
      (e) =>
        e instanceof InvalidInputError &&
        e.message ===
          `Post body pieces hold ${Math.min(10, bytes + 1)} bytes, not the ${bytes} given`,
    );
  }
});

Deno.test("a real board takes a post sent as a stream as the same post as one sent whole", async () => {
  const net = await TestNetwork.create();
  try {
    const admin = generateIdentity();
    const board = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const client = new NodeClient(board.url, { identity: admin });
    const { publicKey } = generateKeyPair();
    const bytes = encodeMsgpack(jobBody({
      backend: "reencrypt",
      stages: [{ mixer: generateIdentity().publicKey, key: encodePublicKey(publicKey) }],
      minInputs: 2,
      submitters: [admin.publicKey],
    }));
    const time = Date.now();
    const streamed = await submitStreamedPost(
      client,
      await signStreamedPost(admin, { job: "streamed", type: "job", body: pieces(bytes, 7), time }),
    );
    assert.equal(streamed.seq, 1);
    // The same post sent whole is the one already logged: its first receipt again.
    const whole = createPostFromBody(admin, { job: "streamed", type: "job", body: bytes, time });
    assert.deepEqual(await client.submitPost(whole), streamed);
    const summary = await client.getJson("/v1/board/jobs/streamed") as { state: string };
    assert.equal(summary.state, "open");
    // A post from pieces signed by another key than the client's is refused as any post is.
    const other = generateIdentity();
    await assert.rejects(
      submitStreamedPost(
        client,
        await signStreamedPost(other, { job: "other", type: "job", body: pieces(bytes, 7) }),
      ),
      /HTTP 4\d\d/,
    );
  } finally {
    await net.close();
  }
});
