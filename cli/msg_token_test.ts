/**
 * Privacy Pass at a messaging provider, with real node processes (a directory, one
 * provider, 3 mix layers, an issuer): tokens off → no token needed; "provider.send" and
 * "provider.register" on → a submission without credit gets the 401 challenge, a token
 * buys `provider.packetsPerToken` packets, a malformed request spends no token, a reused
 * token is refused, also after kill -9 (and the credit survives), tokens of another origin
 * or issuer are refused, the credit lapses with the token's epoch; and
 * `panoramix msg init|send|client --token-wallet`.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../core/bytes.ts";
import { encodeMsgpack, type Envelope } from "../core/envelope.ts";
import { generateMessageIdentity, type MessageIdentity } from "../plugins/message/mod.ts";
import {
  authorizationHeader,
  beginToken,
  epochChallenge,
  fetchToken,
  generateTokenKey,
  issueToken,
  readChallengeHeader,
  TokenHttpError,
  tokenKeyIdOf,
} from "../plugins/token/mod.ts";
import { signRequest } from "./node/auth.ts";
import { NodeClient } from "./node/client.ts";
import { NodeProcess, writeNodeDir } from "./node/cluster.ts";
import { readDescriptor, verifyDescriptor } from "./node/descriptor.ts";
import { generateIdentity } from "./node/identity.ts";
import { MessageNetwork } from "./node/message_network.ts";
import {
  providerInfo,
  providerProfile,
  ProviderTransport,
  registerWithProvider,
} from "./msg_transport.ts";
import { runInMemory } from "./test_context.ts";

const issuerUser = generateIdentity();

async function editConfig(path: string, edit: (c: Record<string, unknown>) => void): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(path));
  edit(config);
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
}

/** A signed request to the provider, with a token or none. */
async function signed(
  url: string,
  path: string,
  envelope: Envelope,
  identity: MessageIdentity,
  token?: Uint8Array,
): Promise<Response> {
  const body = encodeMsgpack(envelope);
  return await fetch(`${url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/msgpack",
      ...signRequest(identity.mailboxKey, { method: "POST", path, body }),
      ...(token ? { authorization: authorizationHeader(token) } : {}),
    },
    body: body as BodyInit,
  });
}

const packets = (n: number) =>
  ({
    v: 1,
    kind: "provider.packets",
    packets: Array.from({ length: n }, (_, i) => new Uint8Array(64).fill(i % 256)),
    nonce: crypto.getRandomValues(new Uint8Array(8)),
  }) as Envelope;
const registration = () =>
  ({
    v: 1,
    kind: "provider.register",
    nonce: crypto.getRandomValues(new Uint8Array(8)),
  }) as Envelope;

/** The provider's challenge and the issuer's published key for it. */
async function challengeAndKey(issuerUrl: string, providerUrl: string) {
  const res = await fetch(`${providerUrl}/v1/token/challenge`);
  assert.equal(res.status, 200);
  const [parsed] = readChallengeHeader(res.headers.get("www-authenticate")!);
  await res.body?.cancel();
  const d = readDescriptor(await new NodeClient(issuerUrl).getJson("/v1/info"), "issuer");
  verifyDescriptor(d);
  const published = d.tokenKeys!.find((k) =>
    toBase64Url(k.publicKey) === toBase64Url(parsed!.tokenKey)
  )!;
  assert.ok(published, "the provider asks for a key the issuer published");
  const key = {
    type: 2 as const,
    epoch: published.epoch,
    publicKey: published.publicKey,
    tokenKeyId: await tokenKeyIdOf(published.publicKey),
  };
  return { challenge: parsed!.challenge, key, issuerName: published.issuerName };
}

async function getToken(issuerUrl: string, providerUrl: string, origin?: string) {
  const { challenge, key, issuerName } = await challengeAndKey(issuerUrl, providerUrl);
  return await fetchToken({
    issuerUrl: `${issuerUrl}/v1/token/issue`,
    challenge: origin === undefined
      ? challenge
      : epochChallenge({ type: 2, issuerName, origin, epoch: key.epoch }),
    key,
    headers: (body, path) => signRequest(issuerUser, { method: "POST", path, body }),
  });
}

Deno.test("messaging provider with tokens: a token buys a batch of packets, challenge, no spend on malformed requests, double spend refused across kill -9, wrong origin and issuer refused, msg --token-wallet", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "panoramix-msg-token-test-" });
  const net = await MessageNetwork.start({ root, providers: 1 });
  const files = await writeNodeDir(`${root}/issuer`, { name: "issuer", roles: ["issuer"] });
  await editConfig(files.configPath, (c) => {
    c.issuer = { allow: [], quotaPerEpoch: 0, epochSeconds: 3600 };
  });
  const issuer = await NodeProcess.spawn(files.configPath);
  const node = net.providers[0]!;
  const url = node.url;
  const info = await providerInfo(url);
  const profile = providerProfile(url, info);
  const alice = await generateMessageIdentity(profile.provider);
  try {
    await t.step("tokens off (the default): register and submit as before", async () => {
      assert.deepEqual(info.tokens, { send: false, register: false, packetsPerToken: 16_384 });
      const gate = await fetch(`${url}/v1/token/challenge`);
      assert.equal(gate.status, 404);
      await gate.body?.cancel();
      const never = () => Promise.reject(new Error("the token source must not be called"));
      await registerWithProvider(url, alice, never);
      const transport = new ProviderTransport(profile, alice, never);
      assert.equal((await transport.submit([new Uint8Array(64)])).length, 1);
      assert.equal(transport.credit, undefined, "no credit without the gate");
    });

    // Tokens on for sending and registering, 300 packets per token.
    await node.process.stop();
    await editConfig(node.configPath, (c) => {
      c.tokens = {
        services: ["provider.send", "provider.register"],
        issuers: [{ url: issuer.info.url, key: issuer.info.identity }],
        graceSeconds: 60,
      };
      (c.provider as Record<string, unknown>).packetsPerToken = 300;
    });
    await net.restart(node);
    assert.equal(node.process.info.url, url, "same port: same origin after restarts");

    let first: Uint8Array;
    await t.step(
      "no credit: 401 with the challenge; a malformed request spends no token",
      async () => {
        assert.deepEqual((await providerInfo(url)).tokens, {
          send: true,
          register: true,
          packetsPerToken: 300,
        });
        const none = await signed(url, "/v1/provider/packets", packets(1), alice);
        assert.equal(none.status, 401);
        assert.equal((await none.json()).error, "token_required");
        const [parsed] = readChallengeHeader(none.headers.get("www-authenticate")!);
        assert.deepEqual(parsed!.challenge.originInfo, [new URL(url).host]);
        first = await getToken(issuer.info.url, url);
        // Malformed (no packets, wrong kind), or from an unregistered key: 4xx, token kept.
        const empty = await signed(
          url,
          "/v1/provider/packets",
          { ...packets(1), packets: [] },
          alice,
          first,
        );
        assert.equal(empty.status, 400, await empty.clone().text());
        await empty.body?.cancel();
        const wrongKind = await signed(
          url,
          "/v1/provider/packets",
          { ...packets(1), kind: "x" },
          alice,
          first,
        );
        assert.equal(wrongKind.status, 400);
        await wrongKind.body?.cancel();
        const stranger = await generateMessageIdentity(profile.provider);
        const unregistered = await signed(url, "/v1/provider/packets", packets(1), stranger, first);
        assert.equal(unregistered.status, 403);
        await unregistered.body?.cancel();
      },
    );

    await t.step(
      "a token buys 300 packets, spent across submissions; then the challenge again",
      async () => {
        const ok = await signed(url, "/v1/provider/packets", packets(10), alice, first);
        assert.equal(ok.status, 200, await ok.clone().text());
        const body = await ok.json();
        assert.equal(body.statuses.length, 10);
        assert.equal(body.credit, 290);
        const fromCredit = await signed(url, "/v1/provider/packets", packets(256), alice);
        assert.equal(fromCredit.status, 200);
        assert.equal((await fromCredit.json()).credit, 34);
        const short = await signed(url, "/v1/provider/packets", packets(35), alice);
        assert.equal(short.status, 401, "35 packets > 34 of credit");
        assert.equal((await short.json()).error, "token_required");
        assert.match(short.headers.get("www-authenticate")!, /^PrivateToken challenge=/);
        // The transport answers the challenge with one token from its source.
        let asked = 0;
        const token = await getToken(issuer.info.url, url);
        const transport = new ProviderTransport(profile, alice, (challenge) => {
          asked++;
          assert.match(challenge, /^PrivateToken challenge=/);
          return Promise.resolve(token);
        });
        assert.equal((await transport.submit(Array(35).fill(new Uint8Array(64)))).length, 35);
        assert.equal(asked, 1);
        assert.equal(transport.credit, 34 + 300 - 35);
        await transport.submit([new Uint8Array(64)]);
        assert.equal(asked, 1, "no token while the credit lasts");
        assert.equal(transport.credit, 298);
        // Without a token source: the provider's demand, said clearly.
        const bob = await generateMessageIdentity(profile.provider);
        await assert.rejects(
          registerWithProvider(url, bob),
          (e) =>
            e instanceof TokenHttpError && e.status === 401 &&
            /requires a Privacy Pass token to register a mailbox .*--token-wallet FILE/.test(
              e.message,
            ),
        );
        await registerWithProvider(url, bob, async () => await getToken(issuer.info.url, url));
        await registerWithProvider(url, bob); // registering again is free
        await assert.rejects(
          new ProviderTransport(profile, bob).submit([new Uint8Array(64)]),
          (e) =>
            e instanceof TokenHttpError &&
            /requires a Privacy Pass token to send packets/.test(e.message),
        );
        // A reused token: refused as a double spend, by the transport too.
        const again = await signed(url, "/v1/provider/packets", packets(1), bob, first);
        assert.equal(again.status, 401);
        const againBody = await again.json();
        assert.equal(againBody.error, "token_spent");
        assert.match(againBody.message, /already spent in epoch \d+ \(double spend\)/);
        await assert.rejects(
          new ProviderTransport(profile, bob, first).submit([new Uint8Array(64)]),
          (e) =>
            e instanceof TokenHttpError &&
            /Provider refused the token: .*double spend/.test(e.message),
        );
      },
    );

    await t.step("kill -9 after an admission: spent tokens and credit survive", async () => {
      const last = await getToken(issuer.info.url, url);
      const carol = await generateMessageIdentity(profile.provider);
      const reg = await signed(url, "/v1/provider/register", registration(), carol, last);
      assert.equal(reg.status, 201);
      await reg.body?.cancel();
      const paid = await signed(
        url,
        "/v1/provider/packets",
        packets(5),
        alice,
        await getToken(issuer.info.url, url),
      );
      const credit = (await paid.json()).credit;
      assert.equal(credit, 298 + 300 - 5);
      await node.process.stop("SIGKILL");
      await net.restart(node);
      for (const token of [last, first]) {
        const replay = await signed(
          url,
          "/v1/provider/register",
          registration(),
          await generateMessageIdentity(profile.provider),
          token,
        );
        assert.equal(replay.status, 401);
        assert.equal((await replay.json()).error, "token_spent");
      }
      const after = await signed(url, "/v1/provider/packets", packets(3), alice);
      assert.equal(after.status, 200);
      assert.equal((await after.json()).credit, credit - 3, "the credit survived kill -9");
      const carolSends = await signed(url, "/v1/provider/packets", packets(1), carol);
      assert.equal(carolSends.status, 401, "a registration token buys no packets");
      await carolSends.body?.cancel();
    });

    await t.step("tokens of another origin or of an unaccepted issuer are refused", async () => {
      const dave = await generateMessageIdentity(profile.provider);
      const elsewhere = await getToken(issuer.info.url, url, "elsewhere.example:8470");
      const wrongOrigin = await signed(
        url,
        "/v1/provider/register",
        registration(),
        dave,
        elsewhere,
      );
      assert.equal(wrongOrigin.status, 401);
      const wrongOriginBody = await wrongOrigin.json();
      assert.equal(wrongOriginBody.error, "token_invalid");
      assert.match(wrongOriginBody.message, /wrong origin/);
      const { key, issuerName } = await challengeAndKey(issuer.info.url, url);
      const rogue = await generateTokenKey({ type: 2, epoch: key.epoch });
      const pending = await beginToken(
        epochChallenge({ type: 2, issuerName, origin: new URL(url).host, epoch: key.epoch }),
        rogue,
      );
      const rogueToken = await pending.finish(await issueToken(rogue, pending.request));
      const wrongIssuer = await signed(url, "/v1/provider/packets", packets(1), dave, rogueToken);
      assert.equal(wrongIssuer.status, 403, "dave is not registered: refused before the token");
      await wrongIssuer.body?.cancel();
      const rogueSend = await signed(
        url,
        "/v1/provider/register",
        registration(),
        dave,
        rogueToken,
      );
      assert.equal(rogueSend.status, 401);
      const body = await rogueSend.json();
      assert.equal(body.error, "token_invalid");
      assert.match(body.message, /wrong issuer/);
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      assert.match(
        metrics,
        /panoramix_token_refused_total\{(?=[^}]*service="provider.register")(?=[^}]*reason="token_spent")[^}]*\} 2\b/,
      );
    });

    await t.step(
      "msg init and msg send --token-wallet; empty wallet and no wallet said clearly",
      async () => {
        const wallet = `${root}/wallet.json`;
        const id = await runInMemory(["token", "id", "--out", `${root}/user.key.json`]);
        assert.equal(id.status, 0, id.stderr);
        const fetched = await runInMemory([
          "token",
          "fetch",
          "--service",
          url,
          "--issuer",
          issuer.info.url,
          "--identity",
          `${root}/user.key.json`,
          "--count",
          "2",
          "--wallet",
          wallet,
          "--json",
        ]);
        assert.equal(fetched.status, 0, fetched.stderr);
        assert.equal(JSON.parse(fetched.stdout).fetched, 2);
        const a = `${root}/alice-cli`;
        const bare = await runInMemory(["msg", "init", "--provider", url, "--dir", `${root}/x`]);
        assert.equal(bare.status, 3, bare.stderr);
        assert.match(
          bare.stderr,
          /^panoramix: error: Provider '.*' requires a Privacy Pass token to register a mailbox .*pass '--token-wallet FILE'/,
        );
        const init = await runInMemory([
          "msg",
          "init",
          "--provider",
          url,
          "--dir",
          a,
          "--token-wallet",
          wallet,
          "--json",
        ]);
        assert.equal(init.status, 0, init.stderr);
        assert.match(init.stderr, /spent 1, 1 left in .*wallet\.json/);
        const me = JSON.parse(init.stdout).address;
        // An existing identity is refused before a token is spent on registering a new key.
        const again = await runInMemory([
          "msg",
          "init",
          "--provider",
          url,
          "--dir",
          a,
          "--token-wallet",
          wallet,
        ]);
        assert.equal(again.status, 5, again.stderr);
        assert.match(again.stderr, /already exists; pass --force/);
        const send = (...more: string[]) =>
          runInMemory([
            "msg",
            "send",
            "--dir",
            a,
            "--to",
            me,
            "--text",
            "paid for",
            "--mean-delay-ms",
            "5",
            ...more,
            "--json",
          ]);
        const noWallet = await send();
        assert.equal(noWallet.status, 3, noWallet.stderr);
        assert.match(noWallet.stderr, /requires a Privacy Pass token to send packets/);
        const sent = await send("--token-wallet", wallet);
        assert.equal(sent.status, 0, sent.stderr);
        assert.equal(JSON.parse(sent.stdout).status, "delivered");
        assert.match(sent.stderr, /spent 1, 0 left/);
        // Sent to myself: the send command's own polling already took it in.
        const inbox = await runInMemory(["msg", "inbox", "--all", "--dir", a, "--json"]);
        assert.equal(inbox.status, 0, inbox.stderr);
        assert.equal(JSON.parse(inbox.stdout.trim().split("\n")[0]!).text, "paid for");
        // The credit bought by that token still covers the next message: no token taken.
        const second = await send("--token-wallet", wallet);
        assert.equal(second.status, 0, second.stderr);
        assert.doesNotMatch(second.stderr, /spent 1/);
        // An empty wallet where a token is needed.
        const empty = await runInMemory([
          "msg",
          "init",
          "--provider",
          url,
          "--dir",
          `${root}/y`,
          "--token-wallet",
          wallet,
        ]);
        assert.equal(empty.status, 5, empty.stderr);
        assert.match(
          empty.stderr,
          /^panoramix: error: Wallet '.*wallet\.json' holds no valid token for '127\.0\.0\.1:\d+'/,
        );
      },
    );

    await t.step(
      "msg client --token-wallet: buys credit as it runs, says once when the wallet is empty",
      async () => {
        const wallet = `${root}/wallet2.json`;
        const fetched = await runInMemory([
          "token",
          "fetch",
          "--service",
          url,
          "--issuer",
          issuer.info.url,
          "--identity",
          `${root}/user.key.json`,
          "--count",
          "2",
          "--wallet",
          wallet,
        ]);
        assert.equal(fetched.status, 0, fetched.stderr);
        const c = `${root}/carol-cli`;
        const init = await runInMemory([
          "msg",
          "init",
          "--provider",
          url,
          "--dir",
          c,
          "--token-wallet",
          wallet,
        ]);
        assert.equal(init.status, 0, init.stderr);
        const ready = `${root}/carol-client.json`;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            new URL("./main.ts", import.meta.url).pathname,
            "msg",
            "client",
            "--dir",
            c,
            "--listen",
            "127.0.0.1:0",
            "--ready-file",
            ready,
            "--mean-delay-ms",
            "5",
            "--rate-payload",
            "20",
            "--rate-loop",
            "10",
            "--rate-drop",
            "10",
            "--token-wallet",
            wallet,
          ],
          stdout: "null",
          stderr: "piped",
        }).spawn();
        let stderr = "";
        const reading = (async () => {
          for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
            stderr += chunk;
          }
        })();
        const waitFor = async (re: RegExp) => {
          const deadline = Date.now() + 90_000;
          while (!re.test(stderr)) {
            if (Date.now() > deadline) throw new Error(`Timed out waiting for ${re}: ${stderr}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        try {
          // The one token left buys 300 packets; at 40 packets/s they last ~8 s.
          await waitFor(/provider asked for a token: spent 1, 0 left in .*wallet2\.json/);
          await waitFor(/panoramix: error: Wallet '.*wallet2\.json' holds no valid token/);
          const { url: api } = JSON.parse(await Deno.readTextFile(ready));
          const status = await fetch(`${api}/v1/status`).then((r) => r.json());
          assert.ok(status.stats.loopsSent + status.stats.drops >= 250, JSON.stringify(status));
          // The credit the provider last reported: the 300 packets are used up (one per request).
          assert.deepEqual(status.tokens, { credit: 0, wallet });
          await new Promise((r) => setTimeout(r, 1000));
          assert.equal(
            stderr.match(/holds no valid token/g)?.length,
            1,
            `an empty wallet is said once: ${stderr}`,
          );
        } finally {
          child.kill("SIGTERM");
          assert.equal((await child.status).code, 0, stderr);
          await reading;
        }
      },
    );

    await t.step("the credit lapses at the end of the token's epoch", async () => {
      // A second issuer with 10-second epochs, the only one the provider accepts now.
      const files2 = await writeNodeDir(`${root}/issuer2`, { name: "issuer2", roles: ["issuer"] });
      await editConfig(files2.configPath, (c) => {
        c.issuer = { allow: [], quotaPerEpoch: 0, epochSeconds: 10 };
      });
      const issuer2 = await NodeProcess.spawn(files2.configPath);
      try {
        await node.process.stop();
        await editConfig(node.configPath, (c) => {
          c.tokens = {
            services: ["provider.send"],
            issuers: [{ url: issuer2.info.url, key: issuer2.info.identity }],
            graceSeconds: 0,
          };
        });
        await net.restart(node);
        const erin = await generateMessageIdentity(profile.provider);
        await registerWithProvider(url, erin); // registration is free now
        // Start early in an epoch, so that the token is spent within it.
        while (Date.now() % 10_000 > 3_000) await new Promise((r) => setTimeout(r, 100));
        const token = await getToken(issuer2.info.url, url);
        const paid = await signed(url, "/v1/provider/packets", packets(1), erin, token);
        assert.equal(paid.status, 200, await paid.clone().text());
        assert.equal((await paid.json()).credit, 299);
        const epochEnd = Math.ceil(Date.now() / 10_000) * 10_000;
        const within = await signed(url, "/v1/provider/packets", packets(1), erin);
        assert.equal(within.status, 200);
        assert.equal((await within.json()).credit, 298);
        await new Promise((r) => setTimeout(r, epochEnd - Date.now() + 500));
        const lapsed = await signed(url, "/v1/provider/packets", packets(1), erin);
        assert.equal(lapsed.status, 401, "the credit ended with its token's epoch");
        assert.equal((await lapsed.json()).error, "token_required");
      } finally {
        await issuer2.stop().catch(() => {});
      }
    });
  } finally {
    await issuer.stop().catch(() => {});
    await net.stop("SIGKILL").catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
