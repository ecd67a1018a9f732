/**
 * Shared file helpers of the `panoramix vote` commands: reading elections, boards, shares, transcripts and voter rolls.
 *
 * @module
 */

import { encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { InvalidInputError, NotFoundError } from "../../core/errors.ts";
import {
  CEREMONY_KINDS,
  type CeremonyElection,
  type CeremonyPosts,
  decodeComplaintAnswers,
  decodeDealtShare,
  decodeElectionKey,
  decodeTrusteeComplaints,
  decodeTrusteeDealing,
  electionDefinitionFromEnvelope,
  electionFingerprint,
  type ElectionPublicInfo,
  type ElectionTranscript,
  type ElectionTranscriptRecords,
  writeElectionTranscriptJsonRecords,
  writeElectionTranscriptRecords,
} from "../../plugins/vote/mod.ts";
import {
  ballotBoxChunks,
  type ElectionBallot,
  openBallotBoxStream,
  readBallotBoxStream,
} from "../../plugins/vote/mod.ts";
import type { ItemChunks } from "../../core/records.ts";
import type { Spool } from "../record_file.ts";
import { type ElectionTranscriptFile, openElectionTranscriptFile } from "./transcript_file.ts";
import type { CliContext } from "../context.ts";
import { fileWriteError, readAnyEnvelopeFile, readInput, writeEnvelopeFile } from "../files.ts";

/** Reads an election definition file and computes its fingerprint. */
export async function readElection(ctx: CliContext, path: string): Promise<CeremonyElection> {
  const definition = electionDefinitionFromEnvelope(
    await readAnyEnvelopeFile(path, ctx.stdin),
    path,
  );
  return { definition, fingerprint: electionFingerprint(definition) };
}

/** Reads the definition and the resolved election key: what voters and the box need. */
export async function readPublicInfo(
  ctx: CliContext,
  electionPath: string,
  keyPath: string,
): Promise<ElectionPublicInfo> {
  const election = await readElection(ctx, electionPath);
  const key = decodeElectionKey(election, await readAnyEnvelopeFile(keyPath, ctx.stdin), keyPath);
  return { ...election, publicKey: key.publicKey };
}

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".json")) out.push(`${dir}/${entry.name}`);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`Directory '${dir}' does not exist`, { cause: error });
    }
    throw error;
  }
  return out.sort();
}

async function readDir(ctx: CliContext, dir: string): Promise<Array<[string, Envelope]>> {
  const out: Array<[string, Envelope]> = [];
  for (const path of await jsonFiles(dir)) {
    out.push([path, await readAnyEnvelopeFile(path, ctx.stdin)]);
  }
  return out;
}

/** Reads every public ceremony post in a board directory. */
export async function readBoard(
  ctx: CliContext,
  election: CeremonyElection,
  dir: string,
): Promise<CeremonyPosts> {
  const posts: CeremonyPosts = { dealings: [], complaints: [], answers: [] };
  for (const [path, env] of await readDir(ctx, dir)) {
    if (env.kind === CEREMONY_KINDS.dealing) {
      posts.dealings.push(decodeTrusteeDealing(election, env, path));
    } else if (env.kind === CEREMONY_KINDS.complaints) {
      posts.complaints.push(decodeTrusteeComplaints(election, env, path));
    } else if (env.kind === CEREMONY_KINDS.answers) {
      posts.answers.push(decodeComplaintAnswers(election, env, path));
    }
  }
  return posts;
}

/** Reads the secret dealt shares a trustee received in its inbox directory. */
export async function readShares(
  ctx: CliContext,
  election: CeremonyElection,
  dir: string,
  filter: { dealer?: number; recipient?: number },
) {
  const out = [];
  for (const [path, env] of await readDir(ctx, dir)) {
    if (env.kind !== CEREMONY_KINDS.dealtShare) continue;
    const share = decodeDealtShare(election, env, path);
    if (filter.dealer !== undefined && share.dealer !== filter.dealer) continue;
    if (filter.recipient !== undefined && share.recipient !== filter.recipient) continue;
    out.push(share);
  }
  return out;
}

/** Creates a directory (and parents) if missing. */
export async function ensureDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
}

/** Writes an envelope as msgpack, or as the JSON view when the path ends in `.json`. */
export async function writeBinaryOrJson(path: string, envelope: Envelope, force: boolean) {
  if (path.endsWith(".json")) {
    await writeEnvelopeFile(path, envelope, { overwrite: force });
    return;
  }
  try {
    await Deno.writeFile(path, encodeMsgpack(envelope), { createNew: !force });
  } catch (error) {
    throw fileWriteError(path, error);
  }
}

/**
 * Writes an election transcript held as record lists (issue 17: the lists of a large run are
 * files of a spool), a chunk at a time: the JSON view when the path ends in `.json` (the
 * same bytes as `writeEnvelopeFile` of its envelope, `writeElectionTranscriptJsonRecords`),
 * else its msgpack encoding (the same bytes as `encodeMsgpack` of its envelope). A file left
 * half-written by an error is removed. A transcript held in memory is written through
 * `electionTranscriptRecords(transcript)`.
 *
 * @returns the number of bytes written
 */
export async function writeTranscriptFile(
  path: string,
  records: ElectionTranscriptRecords,
  force: boolean,
): Promise<number> {
  const json = path.endsWith(".json");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, {
      write: true,
      create: true,
      truncate: true,
      createNew: !force,
      ...(json ? { mode: 0o644 } : {}),
    });
  } catch (error) {
    throw fileWriteError(path, error);
  }
  try {
    const bytes = json
      ? await writeElectionTranscriptJsonRecords(records, file.writable)
      : await writeElectionTranscriptRecords(records, file.writable);
    await file.writable.close();
    return bytes;
  } catch (error) {
    try {
      file.close();
    } catch { /* closed already */ }
    await Deno.remove(path).catch(() => {});
    throw error;
  }
}

/**
 * Opens a box file for reading, with the command line's errors for a missing file or a
 * directory. The file is share-locked (`flock`) until the stream ends or is cancelled (it
 * then closes the file): a `vote submit` holds the exclusive lock while it appends, so a
 * reader waits for it and never sees its ballots before their count is written. A submit
 * that replaced the file (renamed a new one over it) while this waited: the new file is read.
 */
async function openBoxStream(path: string): Promise<ReadableStream<Uint8Array>> {
  while (true) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new NotFoundError(`File '${path}' does not exist`, { cause: error });
      }
      throw error;
    }
    try {
      const stat = await file.stat();
      if (stat.isDirectory) {
        throw new InvalidInputError(`Path '${path}' is a directory, expected a file`);
      }
      await file.lock(false);
      const now = await Deno.stat(path).catch(() => undefined);
      if (now === undefined || now.ino === stat.ino) return file.readable;
    } catch (error) {
      file.close();
      throw error;
    }
    file.close();
  }
}

/**
 * Reads a stored ballot box (msgpack) a run of ballots at a time (issue 17), from a file or
 * from standard input ("-"), into an array (for small boxes and tests; see
 * {@linkcode openBoxFile} to read it a chunk at a time, and cli/vote/box_file.ts for the
 * appends of `vote submit`).
 *
 * @throws {NotFoundError} when the file does not exist
 */
export async function readBoxFile(
  stdin: ReadableStream<Uint8Array>,
  election: ElectionPublicInfo,
  path: string,
): Promise<ElectionBallot[]> {
  return await readBallotBoxStream(election, path === "-" ? stdin : await openBoxStream(path));
}

/**
 * Opens a stored ballot box (msgpack) to be read a chunk at a time, never whole (issue 17):
 * the head is checked now, and each read of the chunks opens the file again. Standard input
 * ("-") is first copied to a file of the spool (it can be read only once).
 *
 * @param stdin standard input
 * @param election the election the box must belong to
 * @param path the box file, or "-"
 * @param spool where standard input is copied
 * @returns the ballots as item chunks
 * @throws {NotFoundError} when the file does not exist
 * @throws {InvalidInputError} when its head is malformed or for another election
 */
export async function openBoxFile(
  stdin: ReadableStream<Uint8Array>,
  election: ElectionPublicInfo,
  path: string,
  spool: Spool,
): Promise<ItemChunks<ElectionBallot>> {
  const source = path === "-" ? await spoolStdin(stdin, spool, "box") : path;
  return await openBallotBoxStream(election, () => openBoxStream(source));
}

/**
 * Copies standard input to a new file of the spool, a chunk at a time (issue 17: a box or a
 * transcript on standard input can be read only once, and is read in place afterwards).
 *
 * @param stdin standard input
 * @param spool where the copy goes (removed with the spool)
 * @param name what the copy holds (names the file)
 * @returns the copy's path
 */
export async function spoolStdin(
  stdin: ReadableStream<Uint8Array>,
  spool: Spool,
  name: string,
): Promise<string> {
  const copy = spool.openFile(name);
  await stdin.pipeTo(copy.file.writable);
  return copy.path;
}

/**
 * Opens an election transcript to be read in place (issue 17), from a file or from standard
 * input ("-"), which is first copied to a file of the spool a chunk at a time: msgpack is
 * then read a chunk at a time from the copy, the JSON view (for people) whole.
 *
 * @param stdin standard input
 * @param path the transcript file, or "-"
 * @param spool where standard input is copied (close the transcript before the spool)
 * @returns the transcript and `close`
 * @throws {NotFoundError} when the file does not exist
 * @throws {InvalidInputError} naming the malformed or truncated field ("stdin" for "-")
 */
export async function openTranscriptInput(
  stdin: ReadableStream<Uint8Array>,
  path: string,
  spool: Spool,
): Promise<ElectionTranscriptFile> {
  if (path !== "-") return await openElectionTranscriptFile(path);
  return await openElectionTranscriptFile(await spoolStdin(stdin, spool, "transcript"), {
    what: "stdin",
  });
}

/** Writes a stored ballot box (msgpack) a chunk at a time, replacing the file. */
export async function writeBoxFile(
  path: string,
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  try {
    for (const chunk of ballotBoxChunks(election, ballots)) await writer.write(chunk);
    await writer.close();
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  }
}

/** Milliseconds as seconds with two decimals. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/** The tally as indented text lines, one per choice. */
export function describeTally(
  transcript: Pick<ElectionTranscript, "definition" | "tally">,
): string {
  const { definition, tally } = transcript;
  const lines = [
    `tally of '${definition.id}': ${tally.ballots} ballots, ${tally.valid} valid, ${tally.invalid} invalid`,
  ];
  definition.questions.forEach((q, i) => {
    const t = tally.questions[i]!;
    lines.push(`  ${i + 1}. ${q.text} (${q.type})`);
    q.choices.forEach((c, j) => {
      const first = t.ranks ? `, first preference ${t.ranks[j]![0]}` : "";
      lines.push(`     ${String(t.counts[j]).padStart(8)}  ${c}${first}`);
    });
    lines.push(`     ${String(t.blank).padStart(8)}  (blank)`);
  });
  return lines.join("\n") + "\n";
}

/** Reads a voter roll (one credential per line), or undefined when no path is given. */
export async function readVoters(ctx: CliContext, path: string | undefined) {
  if (path === undefined) return undefined;
  const text = new TextDecoder().decode(await readInput(path, ctx.stdin));
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}
