/**
 * Privacy Pass end to end with real node processes: an issuer node, and a board node
 * whose `board.inputs` service requires tokens. Challenge, issuance (allow-list and
 * quota), redemption, double spend (also after kill -9), settlement and audit.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import {
  authorizationHeader,
  fetchToken,
  readChallengeHeader,
  TokenHttpError,
  tokenKeyIdOf,
} from "../../plugins/token/mod.ts";
import { signRequest } from "./auth.ts";
import { NodeClient } from "./client.ts";
import { freePort, NodeProcess, writeNodeDir } from "./cluster.ts";
import { readDescriptor, verifyDescriptor } from "./descriptor.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import { createJob } from "./job_client.ts";
import { createPost, postToEnvelope } from "./posts.ts";
import { encodeMsgpack } from "../../core/envelope.ts";

const admin = generateIdentity();
const user = generateIdentity();
const stranger = generateIdentity();

async function editConfig(path: string, edit: (c: Record<string, unknown>) => void): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(path));
  edit(config);
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
}

interface Net {
  root: string;
  issuer: NodeProcess;
  board: NodeProcess;
  boardConfig: string;
  issuerConfig: string;
  jobKey: Awaited<ReturnType<typeof plainBackend.generateKeys>>["publicKey"];
}

async function startNet(options: { epochSeconds: number; graceSeconds: number }): Promise<Net> {
  const root = await Deno.makeTempDir({ prefix: "panoramix-token-" });
  const issuerFiles = await writeNodeDir(`${root}/issuer`, { name: "issuer", roles: ["issuer"] });
  await editConfig(issuerFiles.configPath, (c) => {
    c.issuer = {
      allow: [toBase64Url(user.publicKey)],
      quotaPerEpoch: 5,
      epochSeconds: options.epochSeconds,
    };
  });
  const issuer = await NodeProcess.spawn(issuerFiles.configPath);
  const boardFiles = await writeNodeDir(`${root}/board`, {
    name: "board",
    roles: ["board"],
    httpPort: freePort(),
    admins: [toBase64Url(admin.publicKey)],
  });
  await editConfig(boardFiles.configPath, (c) => {
    c.tokens = {
      services: ["board.inputs"],
      issuers: [{ url: issuer.info.url, key: issuer.info.identity }],
      graceSeconds: options.graceSeconds,
    };
  });
  const board = await NodeProcess.spawn(boardFiles.configPath);
  const jobKey = (await plainBackend.generateKeys()).publicKey;
  await createJob(new NodeClient(board.info.url, { identity: admin }), {
    id: "poll",
    admin,
    spec: {
      backend: "plain",
      stages: [{ mixer: generateIdentity().publicKey, key: jobKey }],
      minInputs: 2,
      submitters: [],
    },
  });
  return {
    root,
    issuer,
    board,
    boardConfig: boardFiles.configPath,
    issuerConfig: issuerFiles.configPath,
    jobKey,
  };
}

async function stopNet(net: Net): Promise<void> {
  await net.board.stop().catch(() => {});
  await net.issuer.stop().catch(() => {});
  await Deno.remove(net.root, { recursive: true });
}

/** An outsider's inputs post (signed by a fresh key: the board knows nothing of it). */
async function inputsRequest(net: Net, token?: Uint8Array): Promise<Response> {
  const author = generateIdentity();
  const [item] = await plainBackend.sampleInputs(1, { key: net.jobKey });
  const post = createPost(author, {
    job: "poll",
    type: "inputs",
    body: { v: 1, kind: "node.inputs", items: [plainBackend.input.encode(item!)] },
  });
  const body = encodeMsgpack(postToEnvelope(post));
  const path = "/v1/board/posts";
  const headers: Record<string, string> = {
    "content-type": "application/msgpack",
    ...signRequest(author, { method: "POST", path, body }),
  };
  if (token) headers.authorization = authorizationHeader(token);
  return await fetch(net.board.info.url + path, {
    method: "POST",
    headers,
    body: body as BodyInit,
  });
}

async function getToken(net: Net, who: Identity = user): Promise<Uint8Array> {
  const res = await inputsRequest(net);
  assert.equal(res.status, 401);
  await res.body?.cancel();
  const [parsed] = readChallengeHeader(res.headers.get("www-authenticate")!);
  // The token key in the challenge must be the one the issuer signed into its descriptor.
  const d = readDescriptor(
    await new NodeClient(net.issuer.info.url).getJson("/v1/info"),
    "issuer",
  );
  verifyDescriptor(d);
  assert.equal(toBase64Url(d.identity), net.issuer.info.identity);
  const published = d.tokenKeys!.find((k) =>
    toBase64Url(k.publicKey) === toBase64Url(parsed!.tokenKey)
  );
  assert.ok(published, "challenge names a key the issuer published");
  const publicKey = published.publicKey;
  return await fetchToken({
    issuerUrl: `${net.issuer.info.url}/v1/token/issue`,
    challenge: parsed!.challenge,
    key: { type: 2, epoch: published.epoch, publicKey, tokenKeyId: await tokenKeyIdOf(publicKey) },
    headers: (body, path) => signRequest(who, { method: "POST", path, body }),
  });
}

Deno.test("token gate on board inputs: challenge, issuance, redemption, double spend, kill -9", async () => {
  const net = await startNet({ epochSeconds: 3600, graceSeconds: 60 });
  try {
    // 1. No token: 401 with an RFC 9577 challenge bound to this origin.
    const res = await inputsRequest(net);
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.equal(body.error, "token_required");
    const header = res.headers.get("www-authenticate")!;
    assert.match(header, /^PrivateToken challenge="[^"]+",\s*token-key="[^"]+"/);
    const [parsed] = readChallengeHeader(header);
    assert.deepEqual(parsed!.challenge.originInfo, [new URL(net.board.info.url).host]);
    assert.equal(parsed!.challenge.tokenType, 2);

    // 2. Admin and mixer posts are not gated (identity-authorised): the job exists.
    // 3. Issuance: the allow-listed user gets tokens; a stranger is refused.
    const token = await getToken(net);
    await assert.rejects(getToken(net, stranger), (e) => {
      assert.ok(e instanceof TokenHttpError);
      assert.equal(e.status, 403);
      assert.match(e.message, /not on this issuer's allow-list/);
      return true;
    });

    // 4. Redemption admits the post; the same token is refused the second time.
    const ok = await inputsRequest(net, token);
    assert.equal(ok.status, 201, await ok.clone().text());
    await ok.body?.cancel();
    const again = await inputsRequest(net, token);
    assert.equal(again.status, 401);
    assert.equal((await again.json()).error, "token_spent");
    assert.match(again.headers.get("www-authenticate")!, /^PrivateToken /);

    // 5. Forged token: refused with a clear reason.
    const forged = (await getToken(net)).slice();
    forged[forged.length - 1]! ^= 1;
    const bad = await inputsRequest(net, forged);
    assert.equal(bad.status, 401);
    const badBody = await bad.json();
    assert.equal(badBody.error, "token_invalid");
    assert.match(badBody.message, /\(forged\)/);

    // 6. Quota: 5 tokens per identity and epoch (2 fetched so far).
    const spare = [await getToken(net), await getToken(net), await getToken(net)];
    await assert.rejects(getToken(net), (e) => {
      assert.ok(e instanceof TokenHttpError);
      assert.equal(e.status, 429);
      assert.match(e.message, /fetched its 5 tokens of epoch/);
      return true;
    });

    // 7. kill -9 right after admissions: no spent token is lost.
    const admitted = await Promise.all(spare.map((t) => inputsRequest(net, t)));
    for (const r of admitted) {
      assert.equal(r.status, 201);
      await r.body?.cancel();
    }
    await net.board.stop("SIGKILL");
    net.board = await NodeProcess.spawn(net.boardConfig);
    for (const t of [token, ...spare]) {
      const r = await inputsRequest(net, t);
      assert.equal(r.status, 401);
      assert.equal((await r.json()).error, "token_spent");
    }
    // The metrics count what happened.
    const metrics = await (await fetch(`${net.issuer.info.url}/metrics`)).text();
    assert.match(metrics, /panoramix_token_issued_total\{type="2"\} 5/);
    assert.match(metrics, /panoramix_token_issue_refused_total\{reason="quota"\} 1/);
  } finally {
    await stopNet(net);
  }
});

Deno.test("type-1 tokens of the node's own issuer gate its Sphinx mailbox (real process)", async () => {
  const root = await Deno.makeTempDir({ prefix: "panoramix-token-mailbox-" });
  let node: NodeProcess | undefined;
  try {
    const files = await writeNodeDir(`${root}/n`, {
      name: "mix-provider",
      roles: ["directory", "sphinx", "issuer"],
    });
    await editConfig(files.configPath, (c) => {
      c.issuer = { type: 1, allow: [toBase64Url(user.publicKey)] };
      c.tokens = { services: ["sphinx.mailbox"] };
    });
    node = await NodeProcess.spawn(files.configPath);
    // The mailbox owner's signed fetch (docs/message.md); the token comes on top of it.
    const fetchMailbox = (extra: Record<string, string> = {}) => {
      const body = new TextEncoder().encode(JSON.stringify({ kind: "mailbox.fetch" }));
      const signed = signRequest(user, { method: "POST", path: "/v1/mailbox/fetch", body });
      return fetch(`${node!.info.url}/v1/mailbox/fetch`, {
        method: "POST",
        body,
        headers: { ...signed, "content-type": "application/json", ...extra },
      });
    };
    const bare = await fetchMailbox();
    assert.equal(bare.status, 401);
    await bare.body?.cancel();
    const [parsed] = readChallengeHeader(bare.headers.get("www-authenticate")!);
    assert.equal(parsed!.challenge.tokenType, 1);
    const d = readDescriptor(await new NodeClient(node.info.url).getJson("/v1/info"), "node");
    verifyDescriptor(d);
    const published = d.tokenKeys!.find((k) =>
      toBase64Url(k.publicKey) === toBase64Url(parsed!.tokenKey)
    )!;
    const token = await fetchToken({
      issuerUrl: `${node.info.url}/v1/token/issue`,
      challenge: parsed!.challenge,
      key: {
        type: 1,
        epoch: published.epoch,
        publicKey: published.publicKey,
        tokenKeyId: await tokenKeyIdOf(published.publicKey),
      },
      headers: (body, path) => signRequest(user, { method: "POST", path, body }),
    });
    const ok = await fetchMailbox({ authorization: authorizationHeader(token) });
    assert.equal(ok.status, 200);
    assert.deepEqual((await ok.json()).messages, []);
    const again = await fetchMailbox({ authorization: authorizationHeader(token) });
    assert.equal(again.status, 401);
    assert.equal((await again.json()).error, "token_spent");
    // The directory and keys routes stay open.
    const keys = await fetch(`${node.info.url}/v1/sphinx/keys`);
    assert.equal(keys.status, 200);
    await keys.body?.cancel();
  } finally {
    await node?.stop().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
