/**
 * A stored ballot box (`vote.ballot-box`) written and read in chunks (issue 17): the same
 * bytes as `encodeMsgpack(ballotBoxToEnvelope(...))`, and the same ballots and errors as
 * {@linkcode ballotBoxFromEnvelope}, without a msgpack tree of the whole box.
 *
 * @module
 */

import { constantTimeEqual } from "../../core/bytes.ts";
import { readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes } from "../../core/fields.ts";
import {
  msgpackChunks,
  MsgpackStreamReader,
  StreamedArray,
  StreamedMap,
} from "../../core/msgpack_stream.ts";
import {
  type ElectionBallot,
  electionBallotFromEnvelope,
  electionBallotToEnvelope,
  type ElectionPublicInfo,
} from "./ballot.ts";
import { BALLOT_BOX_KIND, ballotBoxToEnvelope } from "./ballot_box.ts";

/** Ballots decoded per run. */
const RUN = 4096;

/**
 * Encodes a ballot box in chunks: exactly `encodeMsgpack(ballotBoxToEnvelope(election, ballots))`.
 *
 * @param election the election (its fingerprint is stamped on the file)
 * @param ballots the accepted ballots in box order
 * @returns the chunks, in order
 * @example
 * ```ts ignore
 * for (const chunk of ballotBoxChunks(election, box.ballots)) await writer.write(chunk);
 * ```
 */
export function ballotBoxChunks(
  election: ElectionPublicInfo,
  ballots: readonly ElectionBallot[],
): Generator<Uint8Array> {
  const head = ballotBoxToEnvelope(election, []);
  return msgpackChunks(
    new StreamedMap(
      Object.entries(head).map(([k, v]) =>
        k === "ballots"
          ? [k, new StreamedArray(ballots.length, ballots.map(electionBallotToEnvelope))] as const
          : [k, v] as const
      ),
    ),
  );
}

/**
 * Reads a stored ballot box from a msgpack stream, a run of ballots at a time (their bytes
 * are views into one buffer per chunk read).
 *
 * @param election the election it must belong to
 * @param stream the msgpack bytes
 * @returns the ballots in box order
 * @throws {InvalidInputError} when malformed, truncated or for another election (the
 *   messages of {@linkcode ballotBoxFromEnvelope})
 * @example
 * ```ts ignore
 * const ballots = await readBallotBoxStream(election, (await Deno.open(path)).readable);
 * ```
 */
export async function readBallotBoxStream(
  election: ElectionPublicInfo,
  stream: ReadableStream<Uint8Array>,
): Promise<ElectionBallot[]> {
  const what = "ballot box";
  const reader = new MsgpackStreamReader(stream);
  try {
    const entries = await reader.readMapHeader(what);
    const small: Record<string, unknown> = {};
    let ballots: ElectionBallot[] | undefined;
    const checkHead = () => {
      readEnvelope(small, BALLOT_BOX_KIND, { what });
      const fp = readBytes(small.election, `${what}.election`, {
        length: election.fingerprint.length,
      });
      if (!constantTimeEqual(fp, election.fingerprint)) {
        throw new InvalidInputError("Ballot box belongs to another election");
      }
    };
    for (let e = 0; e < entries; e++) {
      const key = await reader.readValue(`${what} key`);
      if (typeof key !== "string" || key === "__proto__") {
        throw new InvalidInputError(`Value '${what}' has a key that is not a field name`);
      }
      if (key !== "ballots") {
        small[key] = await reader.readValue(`${what}.${key}`);
        continue;
      }
      checkHead();
      const count = await reader.readArrayHeader(`${what}.ballots`);
      ballots = new Array(count);
      let i = 0;
      while (i < count) {
        const run = await reader.readValues(Math.min(RUN, count - i), `${what}.ballots[${i}]`);
        for (const raw of run) {
          ballots[i] = electionBallotFromEnvelope(raw, {
            what: `${what}.ballots[${i}]`,
            deferPoints: true,
            view: true,
          });
          i++;
        }
      }
    }
    await reader.end(what);
    checkHead();
    return ballots ?? (readArray(undefined, `${what}.ballots`) as never);
  } catch (error) {
    await reader.cancel();
    throw error;
  }
}
