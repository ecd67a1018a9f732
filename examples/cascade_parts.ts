/**
 * A re-encryption election mixed through a node bulletin board and 3 mixer nodes, all in this
 * process on 127.0.0.1 (issue 17): N width-1 ciphertexts are posted as the job's inputs, each
 * mixer node shuffles and proves its stage and posts it — in parts of `part-items` outputs
 * when the mix has more (0: as many as fit in 16 MiB, 74,893), as one post otherwise — and the
 * board checks each mix; then the mixes are read back from the board into spool files (as
 * `vote tally --board-url` reads them) and the final outputs decrypted and counted. Prints the
 * times, the mix posts in the log and the peak resident set of the process (VmHWM, Linux;
 * board, mixers and reader together).
 *
 * Run: `deno run --allow-all examples/cascade_parts.ts 250000` (a second argument: outputs
 * per part, default 0)
 *
 * @module
 */

import { toBase64Url } from "../core/bytes.ts";
import { seededRandom } from "../core/random.ts";
import { memoryRecords } from "../core/records.ts";
import {
  decodeInteger,
  decrypt,
  encodeInteger,
  encrypt,
  generateKeyPair,
} from "../backends/reencrypt/mod.ts";
import {
  createElectionDefinition,
  electionFingerprint,
  readCiphertexts,
} from "../plugins/vote/mod.ts";
import { boardLogEntries } from "../cli/node/board_reader.ts";
import { NodeClient } from "../cli/node/client.ts";
import { generateIdentity } from "../cli/node/identity.ts";
import { TestNetwork } from "../cli/node/test_support.ts";
import { Spool } from "../cli/record_file.ts";
import { readElectionCascadeRecords } from "../cli/vote_board_records.ts";
import { boardElectionCascadeRecords } from "../cli/vote_nodes.ts";

const n = Number(Deno.args[0] ?? 10_000);
const partItems = Number(Deno.args[1] ?? 0);
if (!Number.isInteger(n) || n < 2 || !Number.isInteger(partItems) || partItems < 0) {
  console.error("usage: cascade_parts.ts BALLOTS [PART_ITEMS]");
  Deno.exit(2);
}
const definition = createElectionDefinition({
  id: "cascade-parts",
  trustees: 1,
  mixers: 3,
  questions: [{ text: "Q", choices: ["A", "B"] }],
});
const fingerprint = electionFingerprint(definition);
const random = seededRandom("cascade-parts");
const keys = generateKeyPair(random);
const peakMb = () =>
  Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? 0) / 1024;
const t0 = performance.now();
// The inputs straight into one buffer of 64-byte records (no ciphertext object kept: a list
// of a million of them alone took 1.5 GB, more than the nodes below).
const inputBytes = new Uint8Array(64 * n);
for (let i = 0; i < n; i++) {
  inputBytes.set(encrypt(keys.publicKey, [encodeInteger(1 + (i % 2))], { random }).bytes, 64 * i);
}
const inputs = memoryRecords(inputBytes, 64);
const admin = generateIdentity();
const net = await TestNetwork.create();
const spool = await Spool.create();
try {
  const { board, mixers } = await net.startCascade({
    admins: [toBase64Url(admin.publicKey)],
    mixPartItems: partItems,
  });
  const t1 = performance.now();
  await boardElectionCascadeRecords({
    client: new NodeClient(board.url, { identity: admin }),
    admin,
    mixers: mixers.map((m) => m.identity.publicKey),
    job: "cascade-parts",
    timeoutMs: 3_600_000,
  })(inputs, {
    election: { definition, fingerprint, publicKey: keys.publicKey },
    sinks: spool.sinks,
  });
  const t2 = performance.now();
  const client = new NodeClient(board.url);
  const read = await readElectionCascadeRecords(client, {
    job: "cascade-parts",
    sinks: spool.sinks,
  });
  const t3 = performance.now();
  let mixPosts = 0;
  for await (const e of boardLogEntries(client, { bodyLimit: 0 })) {
    if (e.post.type === "mix") mixPosts++;
  }
  const counts = [0, 0];
  const final = read.mixes[2]!.outputs;
  for (let lo = 0; lo < final.count; lo += 4096) {
    for (const ct of readCiphertexts(final, lo, Math.min(final.count, lo + 4096))) {
      counts[decodeInteger(decrypt(keys.secretKey, ct)[0]!) - 1]!++;
    }
  }
  console.log(JSON.stringify({
    ballots: n,
    partItems,
    mixPosts,
    encryptSeconds: +((t1 - t0) / 1000).toFixed(1),
    mixSeconds: +((t2 - t1) / 1000).toFixed(1),
    readSeconds: +((t3 - t2) / 1000).toFixed(1),
    counts,
    peakMB: Math.round(peakMb()),
  }));
} finally {
  spool.close();
  await net.close();
}
