/**
 * Client-side steps of a cascade job on a bulletin board: an admin creates the job,
 * submitters post inputs, the admin closes it, and anyone waits for the mixers.
 *
 * @module
 */

import type { Envelope } from "../../core/envelope.ts";
import { PanoramixError } from "../../core/errors.ts";
import type { JobSummary } from "./board.ts";
import type { NodeClient } from "./client.ts";
import type { Identity } from "./identity.ts";
import { createPost, jobBody, type JobSpec } from "./posts.ts";

/**
 * Posts a job (the client's identity must be a board admin).
 *
 * @param client board client signed with the admin identity
 * @param job job id and spec
 * @returns the board sequence number of the post
 * @example
 * ```ts ignore
 * await createJob(adminClient, { id: "j1", admin, spec });
 * ```
 */
export async function createJob(
  client: NodeClient,
  job: { id: string; admin: Identity; spec: JobSpec },
): Promise<number> {
  const post = createPost(job.admin, { job: job.id, type: "job", body: jobBody(job.spec) });
  return (await client.submitPost(post)).seq;
}

/**
 * Posts input items, `chunk` per post.
 *
 * @param client board client signed with the submitter identity
 * @param inputs job id, submitter, encoded items and chunk size (default 500)
 * @returns the number of items accepted
 * @example
 * ```ts ignore
 * await submitInputs(client, { id: "j1", submitter, items });
 * ```
 */
export async function submitInputs(
  client: NodeClient,
  inputs: {
    id: string;
    submitter: Identity;
    items: readonly Envelope[];
    chunk?: number;
    /** Proofs of knowledge, one per item (open re-encryption jobs; see input_contract.ts). */
    proofs?: readonly Envelope[];
  },
): Promise<number> {
  const chunk = inputs.chunk ?? 500;
  let sent = 0;
  for (let i = 0; i < inputs.items.length; i += chunk) {
    const items = inputs.items.slice(i, i + chunk);
    const post = createPost(inputs.submitter, {
      job: inputs.id,
      type: "inputs",
      body: {
        v: 1,
        kind: "node.inputs",
        items,
        ...(inputs.proofs === undefined ? {} : { proofs: inputs.proofs.slice(i, i + chunk) }),
      },
    });
    await client.submitPost(post);
    sent += items.length;
  }
  return sent;
}

/**
 * Closes a job to inputs; mixing starts.
 *
 * @param client board client signed with the admin identity
 * @param job job id and admin
 * @returns the board sequence number of the post
 * @example
 * ```ts ignore
 * await closeJob(adminClient, { id: "j1", admin });
 * ```
 */
export async function closeJob(
  client: NodeClient,
  job: { id: string; admin: Identity },
): Promise<number> {
  const post = createPost(job.admin, {
    job: job.id,
    type: "close",
    body: { v: 1, kind: "node.close" },
  });
  return (await client.submitPost(post)).seq;
}

/**
 * Describes where a job stands, with the reason its current mixer posted for failing.
 *
 * @param summary the job summary from the board
 * @returns e.g. "stage 1 of 3 (mixer node 2Xy…: cannot mix: …)"
 * @example
 * ```ts ignore
 * console.error(describeJob(summary));
 * ```
 */
export function describeJob(summary: JobSummary): string {
  const where = summary.state === "open"
    ? `open, ${summary.inputs} inputs`
    : summary.state === "done"
    ? `done, ${summary.stages} of ${summary.stages} stages mixed`
    : `mixing stage ${summary.stage + 1} of ${summary.stages}`;
  const f = summary.failure;
  return f === undefined
    ? where
    : `${where}; mixer ${summary.mixers[f.stage]?.slice(0, 12) ?? "?"}… reports: ${f.reason}`;
}

/**
 * Polls the board until a job is done, reporting each change of stage and every failure
 * a mixer posts.
 *
 * @param client board client
 * @param job job id, timeout in ms (default 60,000), poll interval (default 200 ms) and a
 *   progress callback called with each new summary
 * @returns the final summary
 * @throws {PanoramixError} (unavailable) on timeout, naming the stage and the reason the
 *   mixer posted for failing it, if any
 * @example
 * ```ts ignore
 * const summary = await waitForJob(client, { id: "j1", onProgress: (s) => log(describeJob(s)) });
 * ```
 */
export async function waitForJob(
  client: NodeClient,
  job: {
    id: string;
    timeoutMs?: number;
    pollMs?: number;
    onProgress?: (summary: JobSummary) => void;
  },
): Promise<JobSummary> {
  const timeout = job.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  let last = "";
  for (;;) {
    const summary = await client.getJson(`/v1/board/jobs/${encodeURIComponent(job.id)}`) as
      & JobSummary
      & { spec: unknown };
    const now = describeJob(summary);
    if (now !== last) {
      last = now;
      job.onProgress?.(summary);
    }
    if (summary.state === "done") return summary;
    if (Date.now() > deadline) {
      throw new PanoramixError(
        "unavailable",
        `Job '${job.id}' is not done after ${timeout / 1000} s (${now})`,
      );
    }
    await new Promise((r) => setTimeout(r, job.pollMs ?? 200));
  }
}
