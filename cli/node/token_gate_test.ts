/**
 * The token gate in-process with a fake clock: epochs and the grace period, which
 * routes are gated, type-1 tokens of a local issuer, and when epochs become due for
 * settlement.
 */
import assert from "node:assert/strict";
import {
  authorizationHeader,
  beginToken,
  epochChallenge,
  generateTokenKey,
  issueToken,
  type TokenSecretKey,
  type TokenType,
} from "../../plugins/token/mod.ts";
import { jsonResponse } from "./http_error.ts";
import { generateIdentity } from "./identity.ts";
import { NodeClient } from "./client.ts";
import {
  descriptorToEnvelope,
  readDescriptor,
  signDescriptor,
  signTopology,
  topologyToEnvelope,
  verifyDescriptor,
} from "./descriptor.ts";
import { toJsonView } from "../../core/envelope.ts";
import { createLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost, postToEnvelope } from "./posts.ts";
import type { Route, RouteRequest } from "./server.ts";
import { Store } from "./storage.ts";
import { gateNodeRoutes, localIssuerSource, remoteIssuerSource, TokenGate } from "./token_gate.ts";
import { encodeMsgpack } from "../../core/envelope.ts";

const EPOCH_S = 100;
const ORIGIN = "node.test:1";

async function setup(type: TokenType) {
  let now = 10 * EPOCH_S * 1000 + 5_000; // 5 s into epoch 10
  const keys = [
    await generateTokenKey({ type, epoch: 10 }),
    await generateTokenKey({ type, epoch: 11 }),
  ];
  const issuer = {
    issuerName: () => "issuer.test",
    liveKeys: (): TokenSecretKey[] => keys,
  };
  const store = new Store(":memory:");
  const gate = new TokenGate({
    store,
    origin: () => ORIGIN,
    issuers: [localIssuerSource(issuer, EPOCH_S)],
    graceSeconds: 10,
    metrics: new MetricsRegistry(),
    logger: createLogger({ level: "error" }),
    now: () => now,
  });
  const mint = async (epoch: number) => {
    const key = keys.find((k) => k.epoch === epoch)!;
    const p = await beginToken(
      epochChallenge({ type, issuerName: "issuer.test", origin: ORIGIN, epoch }),
      key,
    );
    return await p.finish(await issueToken(key, p.request));
  };
  return { gate, store, mint, setNow: (t: number) => (now = t) };
}

function request(token?: Uint8Array, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", authorizationHeader(token));
  return new Request("http://node.test:1/x", { ...init, headers });
}

async function status(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "admitted";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

for (const type of [1, 2] as const) {
  Deno.test(`gate (type ${type}): epochs, grace period, double spend, settlement timing`, async () => {
    const { gate, store, mint, setNow } = await setup(type);
    try {
      const t10 = await mint(10);
      const t10b = await mint(10);
      const t11 = await mint(11);
      assert.equal(await status(gate.admit(request(), "svc")), "token_required");
      assert.equal(await status(gate.admit(request(t11), "svc")), "token_invalid"); // next epoch: not yet
      assert.equal(await status(gate.admit(request(t10), "svc")), "admitted");
      assert.equal(await status(gate.admit(request(t10), "svc")), "token_spent");
      const challenge = await gate.challenge();
      assert.match(challenge, /^PrivateToken challenge=/);
      // Epoch 11 starts: epoch 10 tokens still count during the 10 s grace period.
      setNow(11 * EPOCH_S * 1000 + 2_000);
      assert.notEqual(await gate.challenge(), challenge, "the challenge follows the epoch");
      assert.equal(gate.pendingSettlements().length, 0, "epoch 10 not settled during grace");
      assert.equal(await status(gate.admit(request(t11), "svc")), "admitted");
      setNow(11 * EPOCH_S * 1000 + 11_000);
      assert.equal(await status(gate.admit(request(t10b), "svc")), "token_invalid");
      const due = gate.pendingSettlements();
      assert.equal(due.length, 1);
      assert.equal(due[0]!.epoch, 10);
      assert.equal(due[0]!.origin, ORIGIN);
      assert.deepEqual(due[0]!.tokens, [t10]);
      assert.equal(gate.spentCount(), 2);
      await gate.markSettled(due[0]!, 7);
      assert.equal(gate.pendingSettlements().length, 0);
      // Settled epoch 10 is forgotten; epoch 11 (current) stays.
      assert.equal(gate.spentCount(), 1);
      assert.equal(await status(gate.admit(request(t11), "svc")), "token_spent");
      // Unsettled records of a finished epoch go after 30 days.
      setNow(12 * EPOCH_S * 1000 + 31 * 24 * 3600 * 1000);
      assert.equal(gate.prune(), 1);
      assert.equal(gate.spentCount(), 0);
    } finally {
      store.close();
    }
  });
}

Deno.test("gateNodeRoutes gates the listed services only: sphinx.mailbox, board.inputs posts", async () => {
  const { gate, store, mint } = await setup(2);
  try {
    const ok = (): Response => jsonResponse({ ok: true });
    const routes: Route[] = [
      { method: "POST", path: "/v1/mailbox/fetch", handle: ok },
      { method: "POST", path: "/v1/board/posts", auth: true, handle: ok },
      { method: "GET", path: "/v1/board/jobs", handle: ok },
    ];
    const gated = gateNodeRoutes(routes, gate, ["sphinx.mailbox", "board.inputs"]);
    const call = async (i: number, token?: Uint8Array, body: Uint8Array = new Uint8Array()) => {
      const req: RouteRequest = {
        url: new URL("http://node.test:1" + routes[i]!.path),
        params: {},
        body,
        signer: undefined,
        request: request(token, { method: routes[i]!.method }),
      };
      return await status(Promise.resolve(gated[i]!.handle(req)));
    };
    assert.equal(await call(0), "token_required");
    assert.equal(await call(0, await mint(10)), "admitted");
    assert.equal(await call(2), "admitted", "listing jobs is not gated");
    const post = (type: "inputs" | "close") =>
      encodeMsgpack(postToEnvelope(createPost(generateIdentity(), {
        job: "j",
        type,
        body: { v: 1, kind: type === "inputs" ? "node.inputs" : "node.close", items: [] },
      })));
    assert.equal(await call(1, undefined, post("inputs")), "token_required");
    assert.equal(await call(1, await mint(10), post("inputs")), "admitted");
    assert.equal(await call(1, undefined, post("close")), "admitted", "admin posts need no token");
    const off = gateNodeRoutes(routes, gate, ["board.inputs"]);
    assert.equal(off[0], routes[0], "sphinx.mailbox not listed: route unchanged");
  } finally {
    store.close();
  }
});

Deno.test("descriptors sign their token keys; the directory's copy is what the gate accepts", async () => {
  const node = generateIdentity();
  const key = await generateTokenKey({ type: 2, epoch: 5 });
  const fields = {
    name: "issuer",
    roles: ["issuer"],
    httpUrl: "http://issuer.test",
    sphinxAddress: "",
    epochKeys: [],
    time: 1,
  };
  const tokenKeys = [{
    issuerName: "issuer.test",
    type: 2,
    epoch: 5,
    publicKey: key.publicKey,
    validFrom: 0,
    validUntil: 8.64e15,
  }];
  // Without token keys the signed parts are unchanged (older descriptors still verify).
  const plain = signDescriptor(node, fields);
  verifyDescriptor(readDescriptor(descriptorToEnvelope(plain), "d"));
  const d = signDescriptor(node, { ...fields, tokenKeys });
  const back = readDescriptor(JSON.parse(JSON.stringify(toJsonView(descriptorToEnvelope(d)))), "d");
  verifyDescriptor(back);
  assert.deepEqual(back.tokenKeys![0]!.publicKey, key.publicKey);
  const swapped = { ...back, tokenKeys: [{ ...tokenKeys[0]!, epoch: 6 }] };
  assert.throws(() => verifyDescriptor(swapped), /does not verify|signature/i);
  // The gate finds the issuer in the directory's signed topology (url "").
  const directory = generateIdentity();
  const topology = toJsonView(topologyToEnvelope(signTopology(directory, { time: 2, nodes: [d] })));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json(topology),
  );
  try {
    const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    const source = remoteIssuerSource({
      url: "",
      identity: node.publicKey,
      directory: () => new NodeClient(url),
      directoryKey: directory.publicKey,
    });
    const { issuerName, keys } = await source.keys();
    assert.equal(issuerName, "issuer.test");
    assert.deepEqual(keys[0]!.tokenKeyId, key.tokenKeyId);
    const wrongDirectory = remoteIssuerSource({
      url: "",
      identity: node.publicKey,
      directory: () => new NodeClient(url),
      directoryKey: generateIdentity().publicKey,
    });
    await assert.rejects(wrongDirectory.keys(), /topology/i);
  } finally {
    await server.shutdown();
  }
});
