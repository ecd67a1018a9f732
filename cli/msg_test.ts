/**
 * Messaging through real node processes (a directory, 2 providers, 3 mix layers on
 * loopback): round trips with ACKs, a SURB reply, a lost ACK and its retransmission with
 * exactly-once delivery, mailbox access control, malformed packets, kill -9 of a provider,
 * loops that reveal a dead mix, mix loops (λ_M), and the `panoramix msg` commands.
 */
import assert from "node:assert/strict";
import {
  addressOf,
  encodeAddress,
  generateMessageIdentity,
  MessageClient,
  type MessageIdentity,
  type ReceivedMessage,
  type SentReport,
} from "../plugins/message/mod.ts";
import { NodeClient, type NodeHttpError } from "./node/client.ts";
import { deleteMailboxItems, fetchMailbox } from "./node/mailbox.ts";
import { MessageNetwork } from "./node/message_network.ts";
import {
  providerInfo,
  providerProfile,
  ProviderTransport,
  registerWithProvider,
} from "./msg_transport.ts";
import type { MsgProfile } from "./msg_store.ts";
import { runInMemory } from "./test_context.ts";

// Generous: the machine running the tests may be shared and loaded.
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface User {
  identity: MessageIdentity;
  client: MessageClient;
  address: string;
  received: ReceivedMessage[];
  sent: SentReport[];
  profile: MsgProfile;
}

async function user(
  net: MessageNetwork,
  providerIndex: number,
  extra: { ackTimeoutMs?: number; rates?: { payload: number; loop: number; drop: number } } = {},
): Promise<User> {
  const url = net.providers[providerIndex]!.url;
  const info = await providerInfo(url);
  const profile = providerProfile(url, info);
  const identity = await generateMessageIdentity(profile.provider);
  await registerWithProvider(url, identity);
  const received: ReceivedMessage[] = [];
  const sent: SentReport[] = [];
  const client = new MessageClient({
    identity,
    transport: new ProviderTransport(profile, identity),
    payloadSize: info.payloadSize,
    meanDelayMs: 5,
    pollIntervalMs: 100,
    ...(extra.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: extra.ackTimeoutMs }),
    ...(extra.rates === undefined ? {} : { rates: extra.rates }),
    onMessage: (m) => void received.push(m),
    onSent: (r) => void sent.push(r),
  });
  return { identity, client, address: encodeAddress(addressOf(identity)), received, sent, profile };
}

async function pollUntil<T>(u: User, what: string, f: () => T | undefined): Promise<T> {
  try {
    return await until(what, async () => {
      await u.client.poll();
      await u.client.flush(); // retransmissions, if any
      return f();
    });
  } catch (error) {
    console.error(what, JSON.stringify(u.client.stats));
    throw error;
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("messaging through real node processes", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "panoramix-msg-test-" });
  const net = await MessageNetwork.start({ root, loopsPerSecond: 20, loopMeanDelayMs: 5 });
  try {
    const alice = await user(net, 0, { ackTimeoutMs: 8000 });
    const bob = await user(net, 1);

    await t.step("a message crosses the layers both ways and a SURB reply comes back", async () => {
      const id = await alice.client.send(bob.address, new TextEncoder().encode("hello bob"), {
        revealSender: true,
        replySurbs: 1,
      });
      assert.equal(await alice.client.flush(), 1);
      const m = await pollUntil(bob, "bob's message", () => bob.received[0]);
      assert.equal(m.id, id);
      assert.equal(text(m.body), "hello bob");
      assert.equal(m.from, alice.address);
      const report = await pollUntil(alice, "alice's ACK", () => alice.sent[0]);
      assert.equal(report.status, "delivered");
      assert.equal(report.transmissions, 1, "no retransmission within the 8 s timeout");
      await bob.client.send(alice.address, new TextEncoder().encode("hello alice"));
      await bob.client.flush();
      const back = await pollUntil(alice, "alice's message", () => alice.received[0]);
      assert.equal(text(back.body), "hello alice");
      assert.equal(back.from, undefined, "bob did not reveal himself");
      await bob.client.reply(id, new TextEncoder().encode("answered through your SURB"));
      await bob.client.flush();
      const reply = await pollUntil(alice, "the SURB reply", () => alice.received[1]);
      assert.equal(reply.kind, "reply");
      assert.equal(reply.inReplyTo, id);
      assert.equal(text(reply.body), "answered through your SURB");
    });

    await t.step("a lost ACK leads to a retransmission and exactly-once delivery", async () => {
      const carol = await user(net, 0, { ackTimeoutMs: 1500 });
      const before = bob.received.length;
      await carol.client.send(bob.address, new TextEncoder().encode("once"));
      await carol.client.flush();
      // The ACK reaches carol's mailbox; it is destroyed before her client sees it.
      const acks = await until("carol's ACK in her mailbox", async () => {
        const items = await fetchMailbox(carol.profile.providerUrl, {
          identity: carol.identity.mailboxKey,
        });
        return items.length > 0 ? items : undefined;
      });
      await deleteMailboxItems(carol.profile.providerUrl, {
        identity: carol.identity.mailboxKey,
        ids: acks.map((a) => a.id),
      });
      await new Promise((r) => setTimeout(r, 1600));
      const report = await pollUntil(carol, "carol's report", () => carol.sent[0]);
      assert.equal(report.status, "delivered");
      // At least one retransmission (more if the machine is slow enough to miss 1.5 s again).
      assert.ok(report.transmissions >= 2, `transmissions ${report.transmissions}`);
      assert.equal(carol.client.stats.retransmissions, report.transmissions - 1);
      await until("bob's copies", async () => {
        await bob.client.poll();
        return bob.client.stats.duplicates >= 1 ? true : undefined;
      });
      const got = bob.received.slice(before).filter((m) => text(m.body) === "once");
      assert.equal(got.length, 1, "delivered exactly once");
    });

    await t.step("nobody but the owner's key reads, counts or deletes a mailbox", async () => {
      const eve = await user(net, 1);
      await alice.client.send(bob.address, new TextEncoder().encode("private"));
      await alice.client.flush();
      const bobsItems = await until("an item in bob's mailbox", async () => {
        const items = await fetchMailbox(bob.profile.providerUrl, {
          identity: bob.identity.mailboxKey,
        });
        return items.length > 0 ? items : undefined;
      });
      // Eve signs with her own key: she sees her mailbox only and deletes nothing of bob's.
      assert.deepEqual(
        await fetchMailbox(bob.profile.providerUrl, { identity: eve.identity.mailboxKey }),
        [],
      );
      const deleted = await deleteMailboxItems(bob.profile.providerUrl, {
        identity: eve.identity.mailboxKey,
        ids: bobsItems.map((i) => i.id),
      });
      assert.equal(deleted, 0);
      const still = await fetchMailbox(bob.profile.providerUrl, {
        identity: bob.identity.mailboxKey,
      });
      assert.ok(still.length >= bobsItems.length);
      // Unsigned reads are refused; the old open read by id is gone.
      const unsigned = new NodeClient(bob.profile.providerUrl);
      await assert.rejects(
        () => unsigned.postEnvelope("/v1/mailbox/fetch", { v: 1, kind: "mailbox.fetch" }),
        (e: NodeHttpError) => e.status === 401,
      );
      await assert.rejects(
        () => unsigned.getJson(`/v1/sphinx/messages?recipient=${"A".repeat(43)}`),
        (e: NodeHttpError) => e.status === 404,
      );
      // An unregistered key may not submit packets.
      const stranger = await generateMessageIdentity(bob.profile.provider);
      await assert.rejects(
        () => new ProviderTransport(bob.profile, stranger).submit([new Uint8Array(10)]),
        (e: NodeHttpError) => e.status === 403 && /not registered/.test(e.message),
      );
      await bob.client.poll(); // drain
    });

    await t.step("malformed packets get a status, not a crash", async () => {
      const transport = new ProviderTransport(alice.profile, alice.identity);
      const size = 2 + 32 + 480 + 32 + 2048;
      const garbage = crypto.getRandomValues(new Uint8Array(size));
      garbage[0] = 1;
      const [short, wrongKey, badMac] = await transport.submit([
        new Uint8Array(10),
        garbage,
        Uint8Array.from(garbage, (b, i) => (i === 1 ? 0 : b)),
      ]);
      assert.equal(short, 1, "invalid");
      assert.ok([1, 3, 5].includes(wrongKey!), `status ${wrongKey}`);
      assert.ok([1, 3, 5].includes(badMac!), `status ${badMac}`);
      const health = await new NodeClient(alice.profile.providerUrl).getJson("/v1/health");
      assert.deepEqual(health, { ok: true });
    });

    await t.step("mix loops (λ_M) come back to the nodes", async () => {
      const metrics = await until("mix loops back", async () => {
        const m = await (await fetch(`${net.mixes[0]!.url}/metrics`)).text();
        const back = /panoramix_sphinx_loops_returned_total(?:\{[^}]*\})? (\d+)/.exec(m);
        return back && Number(back[1]) > 0 ? m : undefined;
      });
      assert.match(metrics, /panoramix_sphinx_loop_loss_ratio/);
    });

    await t.step(
      "the panoramix msg commands: init, address, send, inbox, reply, client API",
      async () => {
        const cli = async (...args: string[]) => {
          const r = await runInMemory(args);
          if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.status} ${r.stderr}`);
          return r.stdout;
        };
        const a = `${root}/cli-alice`;
        const b = `${root}/cli-bob`;
        const aliceAddr =
          (await cli("msg", "init", "--provider", net.providers[0]!.url, "--dir", a))
            .trim();
        const bobInit = JSON.parse(
          await cli("msg", "init", "--provider", net.providers[1]!.url, "--dir", b, "--json"),
        );
        assert.match(aliceAddr, /^pmx1[a-z2-7]{162}$/);
        assert.equal((await cli("msg", "address", "--dir", a)).trim(), aliceAddr);
        const again = await runInMemory([
          "msg",
          "init",
          "--provider",
          net.providers[0]!.url,
          "--dir",
          a,
        ]);
        assert.equal(again.status, 5);
        assert.match(again.stderr, /already exists; pass --force/);
        const sent = JSON.parse(
          await cli(
            "msg",
            "send",
            "--dir",
            a,
            "--to",
            bobInit.address,
            "--text",
            "via the CLI",
            "--reveal",
            "--mean-delay-ms",
            "5",
            "--json",
          ),
        );
        assert.equal(sent.status, "delivered");
        const inbox = (await cli("msg", "inbox", "--dir", b, "--json")).trim().split("\n").map((
          l,
        ) => JSON.parse(l));
        assert.equal(inbox.length, 1);
        assert.equal(inbox[0].text, "via the CLI");
        assert.equal(inbox[0].from, aliceAddr);
        assert.equal(inbox[0].id, sent.id);
        const second = await runInMemory(["msg", "inbox", "--dir", b, "--json"]);
        assert.equal(second.stdout, "", "a message is shown once");
        const replyId = (await cli("msg", "reply", inbox[0].id, "--dir", b, "--text", "got it"))
          .trim();
        const reply = await until("the reply in alice's inbox", async () => {
          const out = (await cli("msg", "inbox", "--dir", a, "--json")).trim();
          return out ? JSON.parse(out.split("\n")[0]!) : undefined;
        });
        assert.equal(reply.id, replyId);
        assert.equal(reply.kind, "reply");
        assert.equal(reply.inReplyTo, sent.id);
        assert.equal(reply.text, "got it");
        // A typo in an address is caught, not routed.
        const typo = bobInit.address.slice(0, 20) + (bobInit.address[20] === "a" ? "b" : "a") +
          bobInit.address.slice(21);
        const bad = await runInMemory(["msg", "send", "--dir", a, "--to", typo, "--text", "x"]);
        assert.equal(bad.status, 4);
        assert.match(bad.stderr, /^panoramix: error: Address .* (checksum|curve point)/);
        assert.equal(bad.stderr.trim().split("\n").length, 1);

        // The long-running client of bob, used through its local API.
        const ready = `${root}/bob-client.json`;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            new URL("./main.ts", import.meta.url).pathname,
            "msg",
            "client",
            "--dir",
            b,
            "--listen",
            "127.0.0.1:0",
            "--ready-file",
            ready,
            "--mean-delay-ms",
            "5",
            "--rate-payload",
            "10",
            "--rate-loop",
            "5",
            "--rate-drop",
            "5",
            "--poll-ms",
            "100",
          ],
          stdout: "null",
          stderr: "piped",
        }).spawn();
        try {
          const { url } = await until("the client's ready file", async () => {
            try {
              return JSON.parse(await Deno.readTextFile(ready)) as { url: string };
            } catch {
              return undefined;
            }
          });
          const api = async (path: string, body?: unknown) => {
            const r = await fetch(
              `${url}${path}`,
              body === undefined ? {} : {
                method: "POST",
                body: JSON.stringify(body),
              },
            );
            return { status: r.status, json: await r.json() };
          };
          assert.equal((await api("/v1/address")).json.address, bobInit.address);
          // While the client runs, one-shot commands on the same files are refused.
          const busy = await runInMemory(["msg", "inbox", "--dir", b]);
          assert.equal(busy.status, 2);
          assert.match(busy.stderr, /msg client' is running/);
          await cli(
            "msg",
            "send",
            "--dir",
            a,
            "--to",
            bobInit.address,
            "--text",
            "to the API",
            "--mean-delay-ms",
            "5",
            "--json",
          );
          const got = await until("the message through the API", async () => {
            const { json } = await api(`/v1/messages?after=${inbox.length}`);
            return json.messages.find((m: { text: string }) => m.text === "to the API");
          });
          assert.equal(got.from, null);
          const queued = await api("/v1/send", {
            to: aliceAddr,
            text: "from the API",
            reveal: true,
          });
          assert.equal(queued.status, 202);
          const fromApi = await until("alice gets the API's message", async () => {
            const out = (await cli("msg", "inbox", "--dir", a, "--json")).trim();
            return out ? JSON.parse(out.split("\n")[0]!) : undefined;
          });
          assert.equal(fromApi.text, "from the API");
          assert.equal(fromApi.from, bobInit.address);
          const bad = await api("/v1/send", { to: "pmx1nope", text: "x" });
          assert.equal(bad.status, 400);
          // Cover traffic is on: loops leave at 5/s (Poisson), so one comes within a few seconds
          // (a timeout fails the test).
          await until("a loop from the client (cover traffic is on)", async () => {
            const status = await api("/v1/status");
            return status.json.stats.loopsSent > 0 ? true : undefined;
          }, 20_000);
        } finally {
          child.kill("SIGTERM");
          const status = await child.status;
          const err = await new Response(child.stderr).text();
          assert.equal(status.code, 0, err);
          assert.match(err, /stopped; loops \d+\/\d+ back/);
        }
      },
    );

    await t.step("kill -9 of a provider loses no stored message", async () => {
      const dave = await user(net, 1);
      const n = 12;
      for (let i = 0; i < n; i++) {
        await alice.client.send(dave.address, new TextEncoder().encode(`stored ${i}`));
      }
      const sentBefore = alice.sent.length;
      await alice.client.flush();
      // Every ACK means the message was committed in dave's mailbox at provider1.
      await pollUntil(alice, "all ACKs", () => alice.sent.length >= sentBefore + n || undefined);
      const provider = net.providers[1]!;
      await provider.process.stop("SIGKILL");
      await net.restart(provider);
      const got = await until("dave's messages after the restart", async () => {
        await dave.client.poll().catch(() => {});
        return dave.received.length >= n ? dave.received : undefined;
      });
      assert.deepEqual(
        got.map((m) => text(m.body)).sort(),
        [...Array(n).keys()].map((i) => `stored ${i}`).sort(),
      );
    });

    await t.step("loops reveal a mix that drops packets", async () => {
      const erin = await user(net, 0, {
        ackTimeoutMs: 3000,
        rates: { payload: 0, loop: 20, drop: 0 },
      });
      erin.client.start();
      await until("loops back", async () => {
        await new Promise((r) => setTimeout(r, 200));
        return erin.client.stats.loopsReturned >= 5 || undefined;
      });
      await erin.client.stop();
      await new Promise((r) => setTimeout(r, 3100));
      await erin.client.poll();
      const healthy = erin.client.stats;
      assert.equal(healthy.loopsReturned + healthy.loopsLost, healthy.loopsSent);
      // One mix dies (kill -9). With one mix per layer every loop crosses it: all are lost.
      const mix = net.mixes[0]!;
      await mix.process.stop("SIGKILL");
      erin.client.start();
      await new Promise((r) => setTimeout(r, 1000));
      await erin.client.stop();
      await new Promise((r) => setTimeout(r, 3100));
      await erin.client.poll();
      const s = erin.client.stats;
      const sentSince = s.loopsSent - healthy.loopsSent;
      assert.ok(sentSince >= 5, `loops sent while the mix was down: ${sentSince}`);
      assert.equal(s.loopsReturned, healthy.loopsReturned, "no loop came back");
      assert.equal(s.loopsLost - healthy.loopsLost, sentSince, "every loop is counted lost");
      assert.ok(s.loopLossRate > healthy.loopLossRate);
      await net.restart(mix);
    });
  } finally {
    const codes = await net.stop();
    await Deno.remove(root, { recursive: true });
    assert.ok(codes.every((c) => c === 0), `graceful exit codes ${codes}`);
  }
});
