/**
 * Mixing an election through mix nodes: the election's mix input becomes a
 * `reencrypt` cascade job on a node bulletin board (one stage per mixer node, keyed with
 * the election public key); the nodes mix in turn and post outputs and proofs; this
 * module reads every stage back from the board (signatures and hash chain checked by the
 * board reader) and returns the mixes for the election transcript, where the universal
 * verifier checks them again.
 *
 * @module
 */

import { decodeMsgpack, type Envelope } from "../core/envelope.ts";
import { VerificationError } from "../core/errors.ts";
import { readArray, readInteger, readRecord } from "../core/fields.ts";
import {
  type Ciphertext,
  decodeCiphertext,
  decodeShuffleProof,
  encodeCiphertext,
  encodePublicKey,
  type ShuffleProof,
} from "../backends/reencrypt/mod.ts";
import type { ElectionCascade } from "../plugins/vote/mod.ts";
import { readBoardLog } from "./node/board_reader.ts";
import type { NodeClient } from "./node/client.ts";
import type { Identity } from "./node/identity.ts";
import { closeJob, createJob, submitInputs, waitForJob } from "./node/job_client.ts";

/** Options of {@linkcode boardElectionCascade}. */
export interface BoardCascadeOptions {
  /** Client of the board, signed with the admin identity. */
  client: NodeClient;
  /** A board admin identity (creates and closes the job, submits the inputs). */
  admin: Identity;
  /** Identity public keys of the mixer nodes, in cascade order (one per election mixer). */
  mixers: readonly Uint8Array[];
  /** Job id on the board (default `vote-<election id>`). */
  job?: string;
  /** How long to wait for the nodes (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * An {@linkcode ElectionCascade} that mixes through nodes via a bulletin board job.
 *
 * @param options board client, admin identity, mixer node keys, job id, timeout
 * @returns the cascade
 * @example
 * ```ts ignore
 * const mixes = await mixElection(election, { inputs, cascade: boardElectionCascade(options) });
 * ```
 */
export function boardElectionCascade(options: BoardCascadeOptions): ElectionCascade {
  return async (inputs, { election }) => {
    const id = options.job ?? `vote-${election.definition.id}`.slice(0, 64);
    const key = encodePublicKey(election.publicKey);
    await createJob(options.client, {
      id,
      admin: options.admin,
      spec: {
        backend: "reencrypt",
        stages: options.mixers.map((mixer) => ({ mixer, key })),
        minInputs: inputs.length,
        submitters: [options.admin.publicKey],
        context: election.fingerprint, // every shuffle proof binds the election
      },
    });
    await submitInputs(options.client, {
      id,
      submitter: options.admin,
      items: inputs.map(encodeCiphertext),
    });
    await closeJob(options.client, { id, admin: options.admin });
    await waitForJob(options.client, { id, timeoutMs: options.timeoutMs ?? 600_000 });
    return await readCascadeFromBoard(options.client, { job: id, inputs });
  };
}

async function readCascadeFromBoard(
  client: NodeClient,
  options: { job: string; inputs: readonly Ciphertext[] },
): Promise<Array<{ outputs: Ciphertext[]; proof: ShuffleProof }>> {
  const posts = (await readBoardLog(client)).filter((p) => p.job === options.job);
  const posted: Uint8Array[] = [];
  for (const p of posts) {
    if (p.type === "close") break;
    if (p.type !== "inputs") continue;
    const body = decodeMsgpack(p.body, "inputs") as Envelope;
    readArray(body.items, "inputs.items").forEach((item, i) =>
      posted.push(decodeCiphertext(item, `board input ${posted.length + i + 1}`).bytes)
    );
  }
  // The board must hold exactly the election's mix input, in order.
  if (
    posted.length !== options.inputs.length ||
    posted.some((b, i) => b.some((x, j) => x !== options.inputs[i]!.bytes[j]))
  ) {
    throw new VerificationError(
      `Board job '${options.job}' does not hold the election's mix input`,
    );
  }
  const steps: Array<{ outputs: Ciphertext[]; proof: ShuffleProof }> = [];
  for (const p of posts.filter((x) => x.type === "mix")) {
    const body = readRecord(decodeMsgpack(p.body, "mix"), "mix");
    const stage = readInteger(body.stage, "mix.stage");
    if (stage !== steps.length) {
      throw new VerificationError(`Board job '${options.job}' has mix stage ${stage} out of order`);
    }
    steps.push({
      outputs: readArray(body.outputs, "mix.outputs").map((o, i) =>
        decodeCiphertext(o, `stage ${stage + 1} output ${i + 1}`)
      ),
      proof: decodeShuffleProof(body.proof, `stage ${stage + 1} proof`),
    });
  }
  return steps;
}
