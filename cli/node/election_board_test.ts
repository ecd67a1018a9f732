import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { PanoramixError } from "../../core/errors.ts";
import type { AnyMixBackend } from "../../core/mixer.ts";
import { plainBackend } from "../../core/plain_backend.ts";
import {
  createElectionDefinition,
  createTrusteeDealing,
  electionDefinitionToEnvelope,
  electionFingerprint,
  encodeCeremonyPost,
  encodeDecryptionPost,
  signCeremonyPost,
} from "../../plugins/vote/mod.ts";
import { CascadeMixer } from "./cascade.ts";
import { NodeClient } from "./client.ts";
import { generateIdentity } from "./identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./job_client.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { createPost } from "./posts.ts";
import { Store } from "./storage.ts";
import { TestNetwork } from "./test_support.ts";

const admin = generateIdentity();

Deno.test("a mixer that cannot mix posts its reason once; the board shows it; waiting ends with it", async () => {
  const net = await TestNetwork.create();
  try {
    const node = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const board = node.board!;
    const mixer = generateIdentity();
    const keys = await plainBackend.generateKeys();
    const client = new NodeClient(node.url, { identity: admin });
    await createJob(client, {
      id: "stuck",
      admin,
      spec: {
        backend: "plain",
        stages: [{ mixer: mixer.publicKey, key: keys.publicKey }],
        minInputs: 2,
        submitters: [],
      },
    });
    const inputs = await plainBackend.sampleInputs(3, { key: keys.publicKey });
    await submitInputs(client, {
      id: "stuck",
      submitter: admin,
      items: inputs.map((x) => plainBackend.input.encode(x)),
    });
    await closeJob(client, { id: "stuck", admin });
    // This node's backend fails the way a misconfigured node does.
    const broken: AnyMixBackend = {
      ...plainBackend,
      mix: () =>
        Promise.reject(new PanoramixError("config", "Mixing key file 'k.json' is missing")),
    };
    const store = new Store(":memory:");
    const cascade = new CascadeMixer({
      store,
      identity: mixer,
      boardUrl: node.url,
      pollIntervalMs: 1000,
      backendByName: () => broken,
      mixKey: () => Promise.resolve(undefined),
      logger: silentLogger,
      metrics: new MetricsRegistry(),
    });
    assert.equal(await cascade.tick(), 0);
    assert.equal(await cascade.tick(), 0); // the same reason is not posted twice
    const failures = board.posts(0, 100).filter((p) => p.type === "failure");
    assert.equal(failures.length, 1);
    const summary = board.job("stuck");
    assert.equal(summary.failure?.stage, 0);
    assert.match(summary.failure!.reason, /Mixing key file 'k.json' is missing/);
    // Over HTTP too, and the wait ends with the reason instead of a bare timeout.
    const viaHttp = await client.getJson("/v1/board/jobs/stuck") as {
      failure?: { reason: string };
    };
    assert.match(viaHttp.failure!.reason, /is missing/);
    const seen: string[] = [];
    await assert.rejects(
      waitForJob(client, {
        id: "stuck",
        timeoutMs: 300,
        pollMs: 50,
        onProgress: (s) => seen.push(s.failure?.reason ?? ""),
      }),
      /not done after 0.3 s \(mixing stage 1 of 1; mixer .*… reports: Mixing key file 'k.json' is missing/,
    );
    assert.equal(seen.length, 1);
    // Only the stage's mixer may post its failure, and only while the job waits for it.
    const other = generateIdentity();
    const failure = (author: typeof other, stage: number) =>
      new NodeClient(node.url, { identity: author }).submitPost(
        createPost(author, {
          job: "stuck",
          type: "failure",
          body: { v: 1, kind: "node.failure", stage, reason: "made up" },
        }),
      );
    await assert.rejects(failure(other, 0), /not the mixer of stage 0.*HTTP 403/);
    await assert.rejects(failure(mixer, 1), /not waiting for stage 1.*HTTP 409/);
    store.close();
  } finally {
    await net.close();
  }
});

Deno.test("the board takes an election from an admin, with trustee keys; ceremony posts need it", async () => {
  const net = await TestNetwork.create();
  try {
    const node = await net.start({
      name: "board",
      roles: ["board"],
      admins: [toBase64Url(admin.publicKey)],
    });
    const trustee = generateIdentity();
    const definition = createElectionDefinition({
      id: "board-e",
      trustees: 1,
      mixers: 1,
      questions: [{ text: "Q", choices: ["a", "b"] }],
      trusteeKeys: [trustee.publicKey],
    });
    const election = { definition, fingerprint: electionFingerprint(definition) };
    const submit = (author: typeof admin, type: "election" | "ceremony", body: object) =>
      new NodeClient(node.url, { identity: author }).submitPost(
        createPost(author, { job: "vote-board-e", type, body: body as never }),
      );
    const { dealing } = createTrusteeDealing(election, { trustee: 1 });
    dealing.signature = signCeremonyPost(election, { dealing }, trustee.secretKey);
    const dealingBody = encodeCeremonyPost(election, { dealing });
    await assert.rejects(submit(trustee, "ceremony", dealingBody), /is not on this board.*404/);
    await assert.rejects(
      submit(trustee, "election", electionDefinitionToEnvelope(definition)),
      /Only a board admin may post an election.*403/,
    );
    const { trusteeKeys: _, ...unsigned } = definition;
    await assert.rejects(
      submit(admin, "election", electionDefinitionToEnvelope(unsigned)),
      /names no trustee keys.*--trustee-key/,
    );
    await submit(admin, "election", electionDefinitionToEnvelope(definition));
    await assert.rejects(
      submit(admin, "election", electionDefinitionToEnvelope(definition)),
      /already on this board.*409/,
    );
    await submit(trustee, "ceremony", dealingBody);
    // Decryption shares must be signed, and wait for a finished cascade.
    const shares = {
      trustee: 1,
      shares: [new Uint8Array(32)],
      proof: { challenge: 1n, response: 1n },
    };
    await assert.rejects(
      submit(trustee, "ceremony", encodeDecryptionPost(election, shares)),
      /Decryption shares of trustee 1 is not signed/,
    );
    const signed = {
      ...shares,
      signature: signCeremonyPost(election, { decryption: shares }, trustee.secretKey),
    };
    await assert.rejects(
      submit(trustee, "ceremony", encodeDecryptionPost(election, signed)),
      /has no finished cascade to decrypt yet.*409/,
    );
  } finally {
    await net.close();
  }
});
