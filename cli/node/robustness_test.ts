import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { encodeMsgpack } from "../../core/envelope.ts";
import { seededRandom } from "../../core/random.ts";
import { UniformIntegers } from "../../core/permutation.ts";
import { signRequest } from "./auth.ts";
import { generateIdentity } from "./identity.ts";
import { createPost, postToEnvelope } from "./posts.ts";
import { SPHINX_STATUS, SphinxLink } from "./sphinx_link.ts";
import { TestNetwork } from "./test_support.ts";

// Seeded so a failure reproduces; bounded count, loopback only.
const random = seededRandom("panoramix/node/robustness-test");
const ints = new UniformIntegers(random);
const bytes = (n: number) => {
  const out = new Uint8Array(n);
  random(out);
  return out;
};

function mutant(i: number): unknown {
  const admin = generateIdentity(random);
  const post = postToEnvelope(
    createPost(admin, { job: "j", type: "inputs", body: { v: 1, kind: "node.inputs", items: [] } }),
  ) as Record<string, unknown>;
  const values: unknown[] = [null, 1, -1, 2 ** 60, "x", "", bytes(3), [], {}, [1, 2], { v: 1 }];
  switch (i % 4) {
    case 0: // one field replaced by a value of another type
      post[Object.keys(post)[ints.below(Object.keys(post).length)]!] =
        values[ints.below(values.length)];
      return post;
    case 1: // body bytes that are not msgpack, or a different envelope
      post.body = i % 8 === 1
        ? bytes(ints.below(64))
        : encodeMsgpack(values[ints.below(values.length)]);
      return post;
    case 2:
      return values[ints.below(values.length)];
    default: // truncated msgpack of a real post
      return encodeMsgpack(post).subarray(0, ints.below(100));
  }
}

Deno.test("garbage to every endpoint gets 4xx and the node keeps serving", async () => {
  const net = await TestNetwork.create();
  try {
    const identity = generateIdentity(random);
    const node = await net.start({
      name: "fuzz",
      roles: ["board", "directory", "sphinx"],
      admins: [toBase64Url(identity.publicKey)],
    });
    for (let i = 0; i < 160; i++) {
      const value = mutant(i);
      const body = value instanceof Uint8Array ? value : encodeMsgpack(value);
      const path = i % 2 === 0 ? "/v1/board/posts" : "/v1/directory/descriptors";
      const response = await fetch(node.url + path, {
        method: "POST",
        headers: {
          "content-type": "application/msgpack",
          ...signRequest(identity, { method: "POST", path, body }),
        },
        body: body as BodyInit,
      });
      const text = await response.text();
      assert.ok(
        response.status >= 400 && response.status < 500,
        `${i}: ${response.status} ${text}`,
      );
      assert.equal(typeof JSON.parse(text).message, "string");
    }
    for (
      const path of ["/v1/board/jobs/%ZZ", "/v1/board/posts?after=-1", "/v1/board/posts?limit=x"]
    ) {
      const r = await fetch(node.url + path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
      await r.body?.cancel();
    }
    // Random frames on the Sphinx port: each answered with a rejection status.
    const link = await SphinxLink.connect(node.sphinxAddress);
    for (let i = 0; i < 40; i++) {
      const status = await link.send(bytes(ints.below(1586))); // up to the largest frame accepted
      assert.ok(
        status !== SPHINX_STATUS.accepted && status !== SPHINX_STATUS.internal,
        `${status}`,
      );
    }
    link.close();
    assert.equal((await (await fetch(`${node.url}/v1/health`)).json()).ok, true);
  } finally {
    await net.close();
  }
});
