import assert from "node:assert/strict";
import { VerificationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/random.ts";
import { RequestVerifier, signRequest } from "./auth.ts";
import {
  descriptorToEnvelope,
  readDescriptor,
  readTopology,
  signDescriptor,
  signTopology,
  topologyToEnvelope,
  verifyDescriptor,
  verifyTopology,
} from "./descriptor.ts";
import { HttpError } from "./http_error.ts";
import {
  generateIdentity,
  identityFromEnvelope,
  identityToEnvelope,
  signParts,
  verifyParts,
} from "./identity.ts";
import { createPost, postToEnvelope, readPost, verifyPost } from "./posts.ts";

const id = generateIdentity(seededRandom("node identity test"));

Deno.test("signatures bind the label and every part", () => {
  const parts = [new Uint8Array([1, 2]), new Uint8Array([3])];
  const signature = signParts(id, { label: "panoramix/node/post/v1", parts });
  verifyParts(id.publicKey, { label: "panoramix/node/post/v1", parts, signature });
  const bad = [
    { label: "panoramix/node/receipt/v1", parts, signature },
    {
      label: "panoramix/node/post/v1",
      parts: [new Uint8Array([1]), new Uint8Array([2, 3])],
      signature,
    },
    { label: "panoramix/node/post/v1", parts, signature: signature.map((b, i) => i ? b : b ^ 1) },
  ];
  for (const m of bad) {
    assert.throws(() => verifyParts(id.publicKey, m), VerificationError);
  }
  assert.throws(
    () =>
      verifyParts(generateIdentity().publicKey, {
        label: "panoramix/node/post/v1",
        parts,
        signature,
      }),
    VerificationError,
  );
});

Deno.test("identity files round-trip and a mismatched public key is refused", () => {
  const env = identityToEnvelope(id);
  assert.deepEqual(identityFromEnvelope(env, "f").publicKey, id.publicKey);
  const other = { ...env, publicKey: generateIdentity().publicKey };
  assert.throws(() => identityFromEnvelope(other, "f"), VerificationError);
});

Deno.test("posts: round trip through the envelope, any change breaks the signature", () => {
  const post = createPost(id, { job: "j-1", type: "close", body: { v: 1, kind: "node.close" } });
  const back = readPost(postToEnvelope(post), "post");
  verifyPost(back);
  for (const field of ["job", "time", "body"] as const) {
    const changed = { ...back };
    if (field === "job") changed.job = "j-2";
    if (field === "time") changed.time = back.time + 1;
    if (field === "body") changed.body = new Uint8Array([...back.body, 0]);
    assert.throws(() => verifyPost(changed), VerificationError, field);
  }
  assert.throws(() => readPost({ ...postToEnvelope(post), job: "../x" }, "post"), /job/);
  assert.throws(() => readPost({ ...postToEnvelope(post), type: "delete" }, "post"), /type/);
});

Deno.test("topologies verify, and a changed descriptor or wrong directory key is refused", () => {
  const node = generateIdentity();
  const descriptor = signDescriptor(node, {
    name: "mix",
    roles: ["sphinx"],
    httpUrl: "http://127.0.0.1:1",
    sphinxAddress: "127.0.0.1:2",
    epochKeys: [{
      epoch: 5,
      keyId: 5,
      publicKey: new Uint8Array(32).fill(7),
      validFrom: 1,
      validUntil: 2,
    }],
    time: 10,
  });
  verifyDescriptor(readDescriptor(descriptorToEnvelope(descriptor), "d"));
  const topology = signTopology(id, { time: 11, nodes: [descriptor] });
  const decoded = readTopology(topologyToEnvelope(topology), "t");
  verifyTopology(decoded, id.publicKey);
  assert.throws(() => verifyTopology(decoded, node.publicKey), VerificationError);
  const moved = { ...descriptor, sphinxAddress: "10.0.0.1:2" };
  assert.throws(() => verifyDescriptor(moved), VerificationError);
  assert.throws(
    () => verifyTopology({ ...decoded, nodes: [moved] }, id.publicKey),
    VerificationError,
  );
});

Deno.test("authenticated requests: valid once, within the window, over the exact body", () => {
  let now = 1_000_000;
  const verifier = new RequestVerifier({ windowSeconds: 60, now: () => now });
  const body = new Uint8Array([1, 2, 3]);
  const headers = new Headers(signRequest(id, { method: "POST", path: "/v1/x", body, now }));
  const key = verifier.verify({ method: "POST", path: "/v1/x", body, headers });
  assert.deepEqual(key, id.publicKey);
  const reject = (f: () => unknown, pattern: RegExp) =>
    assert.throws(
      f,
      (e: unknown) => e instanceof HttpError && e.status === 401 && pattern.test(e.message),
    );
  reject(() => verifier.verify({ method: "POST", path: "/v1/x", body, headers }), /already used/);
  const h2 = new Headers(signRequest(id, { method: "POST", path: "/v1/x", body, now }));
  reject(
    () => verifier.verify({ method: "POST", path: "/v1/y", body, headers: h2 }),
    /does not verify/,
  );
  reject(
    () =>
      verifier.verify({ method: "POST", path: "/v1/x", body: new Uint8Array([1]), headers: h2 }),
    /does not verify/,
  );
  now += 61_000;
  reject(() => verifier.verify({ method: "POST", path: "/v1/x", body, headers: h2 }), /window/);
  reject(
    () => verifier.verify({ method: "POST", path: "/", body, headers: new Headers() }),
    /headers/,
  );
});
