/// <reference lib="webworker" />
/**
 * The booth's Web Worker: encrypts the voter's answers and proves the ballot with the
 * vote plugin (`encryptElectionBallot`), off the page's main thread, where the
 * WebAssembly engine may compile synchronously (and falls back to plain JavaScript where
 * the page's policy refuses WebAssembly). Browser module.
 *
 * Message in: `{ election, key, credential, answers }` (envelopes as JSON views).
 * Message out: `{ ok: true, ballot, receipt }` or `{ ok: false, message }`.
 *
 * @module
 */

import { toJsonView } from "../../../../core/mod.ts";
import {
  ballotReceipt,
  decodeElectionKey,
  electionBallotToEnvelope,
  electionDefinitionFromEnvelope,
  electionFingerprint,
  encryptElectionBallot,
  formatElectionReceipt,
} from "../../../../plugins/vote/mod.ts";

interface Request {
  election: unknown;
  key: unknown;
  credential: string;
  answers: number[][];
}

self.onmessage = (event: MessageEvent<Request>) => {
  try {
    const { election, key, credential, answers } = event.data;
    const definition = electionDefinitionFromEnvelope(election);
    const fingerprint = electionFingerprint(definition);
    const publicKey = decodeElectionKey({ definition, fingerprint }, key).publicKey;
    const ballot = encryptElectionBallot(
      { definition, fingerprint, publicKey },
      { credential, answers },
    );
    self.postMessage({
      ok: true,
      ballot: toJsonView(electionBallotToEnvelope(ballot)),
      receipt: formatElectionReceipt(ballotReceipt(ballot)),
    });
  } catch (error) {
    self.postMessage({ ok: false, message: (error as Error).message });
  }
};
