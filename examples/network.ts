/**
 * A whole mix network on loopback with one command: a hub (bulletin board and
 * directory) and three mix nodes (cascade mixer and Sphinx mix), each a separate
 * `panoramix node run` process with its own identity, keys and SQLite store.
 *
 * 1. For every registered backend (plain, reencrypt, decrypt) a batch is posted to the
 *    board, the three nodes mix it in turn (each output verified by the board on
 *    arrival), and this script re-verifies the whole job from the board's public log.
 *    Re-encrypted outputs are decrypted and compared with the inputs; the decryption
 *    cascade's outputs are the plaintexts.
 * 2. Messages are sent through the Sphinx mixes (3 hops, Poisson delays) and read from
 *    the exits' mailboxes.
 * 3. Everything shuts down gracefully (SIGTERM).
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-net --allow-sys --allow-run examples/network.ts`
 * Options: --items N (batch size, default 64), --messages N (Sphinx messages, default 20), --keep
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../core/bytes.ts";
import type { Envelope } from "../core/envelope.ts";
import type { AnyMixBackend } from "../core/mixer.ts";
import {
  decodeCiphertext,
  decodeInteger,
  decodeSecretKey,
  decrypt,
} from "../backends/reencrypt/mod.ts";
import {
  encodeSphinxCascade,
  encodeSphinxMixerSecret,
  generateSphinxCascade,
} from "../backends/decrypt/mod.ts";
import { backendByName, BACKENDS } from "../cli/backends.ts";
import { verifyJobFromBoard } from "../cli/node/board_reader.ts";
import { NodeClient } from "../cli/node/client.ts";
import { freePort, NodeProcess, writeNodeDir } from "../cli/node/cluster.ts";
import { generateIdentity } from "../cli/node/identity.ts";
import { fetchMailbox } from "../cli/node/mailbox.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "../cli/node/job_client.ts";
import { buildPacket, chooseRoute, fetchTopology } from "../cli/node/sphinx_client.ts";
import { SPHINX_STATUS, SphinxLink } from "../cli/node/sphinx_link.ts";

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  const value = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 2) {
    console.error(`network: ${name} must be an integer of at least 2`);
    Deno.exit(2);
  }
  return value;
}

const items = option("--items", 64);
const messages = option("--messages", 20);
const keep = Deno.args.includes("--keep");
const say = (text: string) => console.log(text);

const root = await Deno.makeTempDir({ prefix: "panoramix-network-" });
const processes: NodeProcess[] = [];
let failed = false;
try {
  // --- start the network ------------------------------------------------------------
  const admin = generateIdentity();
  const hubPort = freePort();
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  const hub = await writeNodeDir(`${root}/hub`, {
    name: "hub",
    roles: ["board", "directory"],
    httpPort: hubPort,
    admins: [toBase64Url(admin.publicKey)],
  });
  processes.push(await NodeProcess.spawn(hub.configPath));
  // The decryption cascade's keys: each node gets its own mixer secret (mode 0600).
  const sphinxCascade = generateSphinxCascade({ mixers: 3 });
  const mixers = [];
  for (let i = 0; i < 3; i++) {
    const files = await writeNodeDir(`${root}/mix${i}`, {
      name: `mix${i}`,
      roles: ["cascade", "sphinx"],
      boardUrl: hubUrl,
      directoryUrl: hubUrl,
      mixKeys: { decrypt: encodeSphinxMixerSecret(sphinxCascade.secrets[i]!) },
    });
    mixers.push(files.identity);
    processes.push(await NodeProcess.spawn(files.configPath));
  }
  say(`network up in ${root}: hub ${hubUrl} (board + directory), 3 mix nodes`);
  for (const p of processes.slice(1)) say(`  node ${p.info.url}  sphinx ${p.info.sphinxAddress}`);

  // --- a batch through each backend ---------------------------------------------------
  const board = new NodeClient(hubUrl, { identity: admin });
  for (const backend of BACKENDS.values()) {
    const started = performance.now();
    const keys = backend.name === "decrypt"
      ? { publicKey: encodeSphinxCascade(sphinxCascade.cascade), secretKey: undefined }
      : await backend.generateKeys();
    const inputs = await backend.sampleInputs(items, { key: keys.publicKey });
    const id = `demo-${backend.name}`;
    await createJob(board, {
      id,
      admin,
      spec: {
        backend: backend.name,
        stages: mixers.map((m) => ({ mixer: m.publicKey, key: keys.publicKey })),
        minInputs: 2,
        submitters: [admin.publicKey],
      },
    });
    await submitInputs(board, {
      id,
      submitter: admin,
      items: inputs.map((x) => backend.input.encode(x)),
    });
    await closeJob(board, { id, admin });
    await waitForJob(board, { id, timeoutMs: 300_000 });
    const verified = await verifyJobFromBoard(new NodeClient(hubUrl), { job: id, backendByName });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    say(
      `[${backend.name}] ${items} items mixed by 3 nodes in ${seconds} s; ` +
        `re-verified from the board: ${
          verified.stages.map((s) => `stage ${s.stage} ${s.inputs}→${s.outputs}`).join(", ")
        }`,
    );
    say(`  ${checkOutputs(backend, inputs, verified.outputs, keys.secretKey)}`);
  }

  // --- Sphinx messages -----------------------------------------------------------------
  const topology = await fetchTopology(
    new NodeClient(hubUrl),
    fromBase64Url(
      processes[0]!.info.identity,
      "hub identity",
    ),
  );
  const owner = generateIdentity(); // the mailbox key: exits let only it read the mailbox
  const recipient = owner.publicKey;
  const links = new Map<string, SphinxLink>();
  const exits = new Set<string>();
  const sentAt = performance.now();
  for (let i = 0; i < messages; i++) {
    const route = chooseRoute(topology, { hops: 3, meanDelayMs: 20 });
    const packet = await buildPacket(new TextEncoder().encode(`hello #${i}`), {
      route,
      recipient,
      payloadSize: 1024,
    });
    const first = route.nodes[0]!.sphinxAddress;
    if (!links.has(first)) links.set(first, await SphinxLink.connect(first));
    const status = await links.get(first)!.send(packet);
    if (status !== SPHINX_STATUS.accepted) throw new Error(`Packet ${i} refused: ${status}`);
    exits.add(route.nodes[2]!.httpUrl);
  }
  for (const link of links.values()) link.close();
  let delivered: string[] = [];
  const deadline = Date.now() + 30_000;
  while (delivered.length < messages && Date.now() < deadline) {
    delivered = [];
    for (const url of exits) {
      const got = await fetchMailbox(url, { identity: owner });
      for (const m of got) delivered.push(new TextDecoder().decode(m.message));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  say(
    `[sphinx] ${delivered.length}/${messages} messages crossed 3 mixes (mean delay 20 ms per hop) in ${
      ((performance.now() - sentAt) / 1000).toFixed(2)
    } s, e.g. "${delivered.sort()[0]}"`,
  );
  if (delivered.length !== messages) failed = true;
} catch (error) {
  failed = true;
  console.error(`network: ${error instanceof Error ? error.message : String(error)}`);
  for (const p of processes) console.error(p.log.slice(-3).join("\n"));
} finally {
  const statuses = [];
  for (const p of processes.reverse()) statuses.push((await p.stop("SIGTERM")).code);
  say(`shut down gracefully (exit codes ${statuses.join(", ")})`);
  if (keep) say(`kept ${root}`);
  else await Deno.remove(root, { recursive: true });
}
Deno.exit(failed ? 1 : 0);

function checkOutputs(
  backend: AnyMixBackend,
  inputs: unknown[],
  outputs: unknown[],
  secretKey: Envelope | undefined,
): string {
  if (backend.name === "reencrypt" && secretKey) {
    const secret = decodeSecretKey(secretKey).secret;
    const open = (c: unknown, w: string) =>
      decodeInteger(decrypt(secret, decodeCiphertext(c, w))[0]!);
    const before = inputs.map((x, i) => open(backend.input.encode(x), `input ${i}`)).sort();
    const after = outputs.map((o, i) => open(o, `output ${i}`)).sort();
    if (before.join() !== after.join()) {
      failed = true;
      return "outputs do NOT decrypt to the inputs";
    }
    return `outputs decrypt to the same multiset of ${after.length} values as the inputs`;
  }
  if (backend.name === "decrypt") {
    const kinds = new Set(outputs.map((o) => (o as { kind: string }).kind));
    return `outputs are ${outputs.length} plaintexts (${[...kinds].join(", ")})`;
  }
  return `outputs are a permutation of the inputs (proof checked)`;
}
