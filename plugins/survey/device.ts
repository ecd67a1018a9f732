/**
 * The device side of a survey run as a service: seal reports for the collector's
 * mix cascade, submit them, and spend a device's privacy budget soundly across
 * rounds.
 *
 * Transport: each report is onion-encrypted as a Sphinx packet to the survey's
 * decryption cascade (`decrypt` backend). The collector only relays the packets
 * into a cascade job on the bulletin board; it reads reports after the last mixer
 * has shuffled and decrypted the batch, so it never sees which device sent which
 * report.
 *
 * Privacy across rounds ({@linkcode SurveyDevice}): a device that reports every
 * round would spend ε0 again each round. The device keeps a ledger:
 * - `memoize: true` (RAPPOR's permanent randomized response): one randomized
 *   report per (question, answer), drawn the first time the answer is seen and
 *   sent again unchanged every round the answer stays the same. Only a new
 *   answer costs ε0.
 * - `memoize: false`: a fresh report every round, each costing ε0.
 * Either way a report is sent only while the spent ε stays within `budget`, so
 * the device's whole history is `budget`-LDP (basic composition of the
 * independent randomizations it ever drew; with memoization, for histories with
 * the same pattern of answer changes). See docs/survey.md, "Privacy across rounds".
 *
 * @module
 */

import {
  createSphinxPacket,
  decodeSphinxCascade,
  DECRYPT_KINDS,
  type SphinxCascade,
  sphinxCascadeRoute,
} from "../../backends/decrypt/mod.ts";
import { toBase64Url } from "../../core/bytes.ts";
import { decodeMsgpack, encodeMsgpack, type Envelope } from "../../core/envelope.ts";
import { InvalidInputError, PanoramixError } from "../../core/errors.ts";
import { readArray, readNumber, readRecord, readString } from "../../core/fields.ts";
import type { RandomSource } from "../../core/random.ts";
// The token plugin's dependency-free client part: presenting tokens loads no Privacy Pass library.
import { fetchAnsweringChallenge, TokenHttpError, type TokenSource } from "../token/client/mod.ts";
import { readSurveyDefinition, type SurveyDefinition } from "./definition.ts";
import { type SurveyAnswer, surveyRespond } from "./randomize.ts";
import { decodeSurveyReport, encodeSurveyReport, type SurveyReport } from "./report.ts";

/** Envelope kind of a device's submission to a collector. */
export const SURVEY_SUBMISSION_KIND = "survey.submission";

/** Envelope kind of a device's persisted ledger. */
export const SURVEY_DEVICE_STATE_KIND = "survey.device-state";

/** Most packets in one submission. */
export const SURVEY_SUBMISSION_MAX_ITEMS = 10_000;

/** What a collector publishes about one survey (`GET /v1/surveys/:id`). */
export interface SurveyCollectorInfo {
  /** The survey. */
  definition: SurveyDefinition;
  /** The cascade that carries reports (decrypt backend). */
  cascade: SphinxCascade;
  /** The round now open. */
  round: { index: number; start: number; end: number };
  /**
   * The collector requires a Privacy Pass token per report submission (one request
   * per token, one respondent's reports of a round per request).
   */
  tokenRequired: boolean;
}

/**
 * Reads the collector's description of a survey (JSON from `GET /v1/surveys/:id`).
 *
 * @param value the decoded JSON
 * @returns definition, cascade, current round, whether reports need a token
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts ignore
 * const info = readSurveyCollectorInfo(await (await fetch(url)).json());
 * ```
 */
export function readSurveyCollectorInfo(value: unknown): SurveyCollectorInfo {
  const r = readRecord(value, "survey info");
  const transport = readRecord(r.transport, "survey info.transport");
  const backend = readString(transport.backend, "survey info.transport.backend");
  if (backend !== "decrypt") {
    throw new InvalidInputError(
      `Value 'survey info.transport.backend' must be 'decrypt', got '${backend}'`,
    );
  }
  const round = readRecord(r.round, "survey info.round");
  return {
    definition: readSurveyDefinition(r.definition, "survey info.definition"),
    cascade: decodeSphinxCascade(transport.cascade, "survey info.transport.cascade"),
    round: {
      index: readNumber(round.index, "survey info.round.index"),
      start: readNumber(round.start, "survey info.round.start"),
      end: readNumber(round.end, "survey info.round.end"),
    },
    tokenRequired: r.tokenRequired === true,
  };
}

/**
 * Seals one report for the cascade: a Sphinx packet only the mixers, in order, can
 * peel; the last one outputs the report bytes.
 *
 * @param report a report or its encoded bytes
 * @param cascade the survey's decryption cascade
 * @returns the packet
 * @example
 * ```ts
 * import { generateSphinxCascade } from "../../backends/decrypt/mod.ts";
 * import { sealSurveyReport } from "./device.ts";
 * const { cascade } = generateSphinxCascade({ mixers: 2, payloadSize: 256 });
 * const packet = await sealSurveyReport({ survey: "s", question: "q", mechanism: "krr", value: 1 }, cascade);
 * console.assert(packet.length > 256);
 * ```
 */
export async function sealSurveyReport(
  report: SurveyReport | Uint8Array,
  cascade: SphinxCascade,
): Promise<Uint8Array> {
  const bytes = report instanceof Uint8Array ? report : encodeSurveyReport(report);
  const { packet } = await createSphinxPacket(bytes, {
    route: sphinxCascadeRoute(cascade),
    payloadSize: cascade.payloadSize,
  });
  return packet;
}

/**
 * The body a device posts to `POST /v1/surveys/:id/reports` (msgpack).
 *
 * @param packets sealed reports
 * @returns the encoded `survey.submission` envelope
 * @example
 * ```ts
 * import { surveySubmissionBody } from "./device.ts";
 * console.assert(surveySubmissionBody([new Uint8Array(4)]).length > 4);
 * ```
 */
export function surveySubmissionBody(
  packets: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  return encodeMsgpack({
    v: 1,
    kind: SURVEY_SUBMISSION_KIND,
    items: packets.map((packet) => ({ v: 1, kind: DECRYPT_KINDS.packet, packet })),
  }).slice();
}

/** Options of {@linkcode submitSurveyPackets}. */
export interface SubmitSurveyOptions {
  /** Collector base URL, e.g. `http://127.0.0.1:8470`. */
  collector: string;
  /** Survey id. */
  survey: string;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /**
   * A Privacy Pass token, or a callback that yields one, presented only when the
   * collector answers `401 WWW-Authenticate: PrivateToken` (collectors with
   * `survey.reports` in `tokens.services`). One token admits one request, which then
   * carries one respondent's reports of a round (at most one per question).
   */
  token?: TokenSource;
}

/**
 * Posts sealed reports to a collector, which acknowledges them only once they are
 * on its disk. When the collector asks for a token (RFC 9577), one is taken from
 * `options.token` and the request is sent again with it.
 *
 * @param packets sealed reports (at most {@linkcode SURVEY_SUBMISSION_MAX_ITEMS}; with
 *   tokens, one respondent's reports of a round)
 * @param options collector URL, survey id, token source
 * @returns the number accepted and the round they count in
 * @throws {PanoramixError} (unavailable) when the collector refuses or cannot be reached
 * @throws {TokenHttpError} (401) when the collector needs a token and none was given, or
 *   refuses the token presented (invalid, another origin or issuer, already spent)
 * @example
 * ```ts ignore
 * await submitSurveyPackets(packets, { collector: "http://127.0.0.1:8470", survey: "traffic" });
 * await submitSurveyPackets(packets, { collector, survey, token: tokenFromWallet });
 * ```
 */
export async function submitSurveyPackets(
  packets: readonly Uint8Array[],
  options: SubmitSurveyOptions,
): Promise<{ accepted: number; round: number }> {
  const doFetch = options.fetch ?? fetch;
  const url = `${options.collector.replace(/\/+$/, "")}/v1/surveys/${
    encodeURIComponent(options.survey)
  }/reports`;
  let response: Response;
  let challenged = false;
  let presented = false;
  try {
    ({ response, challenged, presented } = await fetchAnsweringChallenge(url, {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: surveySubmissionBody(packets),
    }, { token: options.token, fetch: doFetch }));
  } catch (error) {
    if (error instanceof PanoramixError) throw error; // the token source's own error
    throw new PanoramixError("unavailable", `Collector '${options.collector}' cannot be reached`, {
      cause: error,
    });
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = String(JSON.parse(text).message ?? text);
    } catch { /* not JSON */ }
    if (response.status === 401 && challenged) {
      throw new TokenHttpError(
        401,
        presented
          ? `Collector refused the token: ${message}`
          : `Collector '${options.collector}' requires a Privacy Pass token for reports of survey '${options.survey}' (WWW-Authenticate: PrivateToken); none was given`,
      );
    }
    const after = Number(response.headers.get("retry-after"));
    throw new SurveySubmitError(
      response.status,
      `Collector refused the reports (HTTP ${response.status}): ${message}`,
      Number.isFinite(after) && after >= 0 ? after : undefined,
    );
  }
  const r = readRecord(JSON.parse(text), "collector answer");
  return {
    accepted: readNumber(r.accepted, "collector answer.accepted"),
    round: readNumber(r.round, "collector answer.round"),
  };
}

/**
 * A collector's refusal of a submission: the HTTP status, and the `Retry-After` it
 * asked for. Code `unavailable` (worth retrying) for 5xx and 429, else `invalid_input`.
 *
 * @example
 * ```ts
 * import { SurveySubmitError } from "./device.ts";
 * const e = new SurveySubmitError(503, "busy", 1);
 * console.assert(e.code === "unavailable" && e.retryAfterSeconds === 1);
 * ```
 */
export class SurveySubmitError extends PanoramixError {
  /** The HTTP status. */
  readonly status: number;
  /** Seconds the collector asked to wait (Retry-After), when it said. */
  readonly retryAfterSeconds: number | undefined;

  /**
   * Creates the error.
   *
   * @param status HTTP status
   * @param message what the collector said
   * @param retryAfterSeconds the Retry-After header, if any
   */
  constructor(status: number, message: string, retryAfterSeconds?: number) {
    super(status >= 500 || status === 429 ? "unavailable" : "invalid_input", message);
    this.name = "SurveySubmitError";
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The sealed reports of a round that {@linkcode SurveyDevice.report} could not get
 * acknowledged. The device has already answered the round (and spent its budget on it), so
 * these exact packets must be sent again later, e.g. with
 * {@linkcode submitSurveyPacketsUntilAcknowledged}; answering the round afresh would
 * randomize the same answer twice.
 *
 * @example
 * ```ts
 * import { SurveyReportsUnsentError } from "./device.ts";
 * const e = new SurveyReportsUnsentError(7, [new Uint8Array(4)], new Error("no answer"));
 * console.assert(e.round === 7 && e.packets.length === 1 && e.code === "unavailable");
 * ```
 */
export class SurveyReportsUnsentError extends PanoramixError {
  /** The round the packets answer. */
  readonly round: number;
  /** The sealed reports, to send again as they are. */
  readonly packets: readonly Uint8Array[];

  /**
   * Creates the error.
   *
   * @param round the round answered
   * @param packets the sealed reports not acknowledged
   * @param cause why the submission failed
   */
  constructor(round: number, packets: readonly Uint8Array[], cause: Error) {
    super(
      cause instanceof PanoramixError ? cause.code : "unavailable",
      `Round ${round}: ${packets.length} sealed reports were not acknowledged (${cause.message}); ` +
        "send error.packets again later, do not answer the round again",
      { cause },
    );
    this.name = "SurveyReportsUnsentError";
    this.round = round;
    this.packets = packets;
  }
}

/** Options of {@linkcode submitSurveyPacketsUntilAcknowledged}. */
export interface SubmitUntilAcknowledgedOptions extends SubmitSurveyOptions {
  /** Give up (and throw) once this many ms have passed since the first try (default 600,000). */
  retryForMs?: number;
  /** First backoff in ms (default 250); it doubles per try up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Largest backoff in ms (default 10,000). */
  maxBackoffMs?: number;
  /** Uniform [0, 1) for the jitter (default Math.random; not security relevant). */
  jitter?: () => number;
  /** Told before each wait: the try that failed, its error and the wait in ms. */
  onRetry?: (attempt: number, error: PanoramixError, waitMs: number) => void;
}

/**
 * Posts sealed reports like {@linkcode submitSurveyPackets} and keeps trying until
 * the collector acknowledges them (they are then on its disk), as a device keeps its
 * reports until they are safe. Only failures worth retrying are retried (no answer,
 * 5xx such as `503 busy`, 429); each wait is the collector's `Retry-After` when it
 * gave one, else an exponential backoff with full jitter (so devices refused
 * together do not come back together). A refusal of the reports themselves (4xx) is
 * thrown at once. Re-sending after a lost answer is safe: the collector batches one
 * copy of a packet and the cascade drops replays.
 *
 * @param packets sealed reports
 * @param options collector, survey, token source, retry window and backoff
 * @returns the acknowledgement and the number of tries it took
 * @throws {PanoramixError} (unavailable) naming the tries when the window ends
 *   without an acknowledgement (the device still holds its reports), or the
 *   collector's refusal when it is not worth retrying
 * @example
 * ```ts ignore
 * const ack = await submitSurveyPacketsUntilAcknowledged(packets, { collector, survey, retryForMs: 60_000 });
 * ```
 */
export async function submitSurveyPacketsUntilAcknowledged(
  packets: readonly Uint8Array[],
  options: SubmitUntilAcknowledgedOptions,
): Promise<{ accepted: number; round: number; attempts: number }> {
  const started = Date.now();
  const window = options.retryForMs ?? 600_000;
  const initial = options.initialBackoffMs ?? 250;
  const cap = options.maxBackoffMs ?? 10_000;
  const jitter = options.jitter ?? Math.random;
  for (let attempt = 1;; attempt++) {
    try {
      return { ...(await submitSurveyPackets(packets, options)), attempts: attempt };
    } catch (error) {
      if (!(error instanceof PanoramixError) || error.code !== "unavailable") throw error;
      const backoff = jitter() * Math.min(cap, initial * 2 ** (attempt - 1));
      const asked = error instanceof SurveySubmitError && error.retryAfterSeconds !== undefined
        ? error.retryAfterSeconds * 1000 * (1 + jitter() / 2)
        : 0;
      const wait = Math.max(backoff, asked);
      const left = started + window - Date.now();
      if (left <= wait) {
        throw new PanoramixError(
          "unavailable",
          `Collector '${options.collector}' did not acknowledge ${packets.length} reports after ${attempt} tries in ${
            Math.round((Date.now() - started) / 1000)
          } s (last: ${error.message})`,
          { cause: error },
        );
      }
      options.onRetry?.(attempt, error, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Fetches a survey's description from its collector.
 *
 * @param options collector URL and survey id
 * @returns definition, cascade and current round
 * @throws {PanoramixError} when the collector cannot be reached or does not run the survey
 * @example
 * ```ts ignore
 * const info = await fetchSurveyInfo({ collector: "http://127.0.0.1:8470", survey: "traffic" });
 * ```
 */
export async function fetchSurveyInfo(options: SubmitSurveyOptions): Promise<SurveyCollectorInfo> {
  const doFetch = options.fetch ?? fetch;
  const url = `${options.collector.replace(/\/+$/, "")}/v1/surveys/${
    encodeURIComponent(options.survey)
  }`;
  let response: Response;
  try {
    response = await doFetch(url);
  } catch (error) {
    throw new PanoramixError("unavailable", `Collector '${options.collector}' cannot be reached`, {
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new PanoramixError(
      response.status === 404 ? "not_found" : "unavailable",
      `Collector '${options.collector}' does not serve survey '${options.survey}' (HTTP ${response.status})`,
    );
  }
  return readSurveyCollectorInfo(await response.json());
}

/** Options of {@linkcode SurveyDevice}. */
export interface SurveyDeviceOptions {
  /** Total local ε the device may ever spend on this survey. */
  budget: number;
  /** Reuse one randomized report per (question, answer) across rounds (default true). */
  memoize?: boolean;
  /** A ledger saved earlier with {@linkcode SurveyDevice.state}. */
  state?: unknown;
  /** Randomness (default the system CSPRNG). */
  random?: RandomSource;
}

/** What one round of a device produced. */
export interface SurveyDeviceRound {
  /** Reports to send (memoized or fresh). */
  reports: SurveyReport[];
  /** Questions left out because the budget would be exceeded. */
  withheld: string[];
  /** ε spent by this round (0 when every report was memoized). */
  spent: number;
}

function answerKey(answer: SurveyAnswer): string {
  return JSON.stringify(Array.isArray(answer) ? [...answer].map(String).sort() : String(answer));
}

/**
 * A device that reports every round under a lifetime privacy budget.
 *
 * @example
 * ```ts
 * import { SurveyDevice } from "./device.ts";
 * const def = {
 *   id: "s", target: { epsilon: 1, delta: 1e-6 },
 *   questions: [{ id: "q", type: "categorical" as const, options: ["a", "b"], epsilon0: 1 }],
 * };
 * const device = new SurveyDevice(def, { budget: 2 });
 * const day1 = device.respond({ q: "a" }, 1);
 * const day2 = device.respond({ q: "a" }, 2); // same answer: the same report, nothing spent
 * console.assert(day2.spent === 0 && device.spent === 1 && day1.reports.length === 1);
 * ```
 */
export class SurveyDevice {
  /** The survey. */
  readonly definition: SurveyDefinition;
  /** Lifetime budget. */
  readonly budget: number;
  /** Whether reports are memoized per answer. */
  readonly memoize: boolean;
  #spent = 0;
  #lastRound = -Infinity;
  /** Memoized encoded reports by `question \u0000 answer`. */
  #memo = new Map<string, Uint8Array>();
  #random: RandomSource | undefined;

  /**
   * Creates a device, or restores one from its saved ledger.
   *
   * @param definition the survey
   * @param options budget, memoization, saved state, randomness
   * @throws {InvalidInputError} on a bad budget or a ledger of another survey
   */
  constructor(definition: SurveyDefinition, options: SurveyDeviceOptions) {
    this.definition = definition;
    if (!(options.budget > 0 && Number.isFinite(options.budget))) {
      throw new InvalidInputError(
        `Value 'budget' must be a positive number, got ${options.budget}`,
      );
    }
    this.budget = options.budget;
    this.memoize = options.memoize ?? true;
    this.#random = options.random;
    if (options.state !== undefined) this.#restore(options.state);
  }

  /** ε spent so far. */
  get spent(): number {
    return this.#spent;
  }

  #restore(value: unknown): void {
    const r = readRecord(value, "device state");
    if (r.kind !== SURVEY_DEVICE_STATE_KIND || r.survey !== this.definition.id) {
      throw new InvalidInputError(
        `Value 'device state' is not a ledger of survey '${this.definition.id}'`,
      );
    }
    this.#spent = readNumber(r.spent, "device state.spent");
    this.#lastRound = r.lastRound === null
      ? -Infinity
      : readNumber(r.lastRound, "device state.lastRound");
    for (const [i, m] of readArray(r.memo, "device state.memo").entries()) {
      const e = readRecord(m, `device state.memo[${i}]`);
      const bytes = e.report;
      if (!(bytes instanceof Uint8Array)) {
        throw new InvalidInputError(`Value 'device state.memo[${i}].report' must be bytes`);
      }
      this.#memo.set(readString(e.key, `device state.memo[${i}].key`), bytes);
    }
  }

  /**
   * The ledger to persist (msgpack bytes; store them and pass them back as `state`
   * after decoding with {@linkcode SurveyDevice.decodeState}).
   *
   * @returns the encoded `survey.device-state` envelope
   */
  state(): Uint8Array {
    const env: Envelope = {
      v: 1,
      kind: SURVEY_DEVICE_STATE_KIND,
      survey: this.definition.id,
      spent: this.#spent,
      lastRound: Number.isFinite(this.#lastRound) ? this.#lastRound : null,
      memo: [...this.#memo].map(([key, report]) => ({ key, report })),
    };
    return encodeMsgpack(env);
  }

  /**
   * Decodes a ledger saved with {@linkcode SurveyDevice.state}.
   *
   * @param bytes the saved bytes
   * @returns the value to pass as `state`
   */
  static decodeState(bytes: Uint8Array): unknown {
    return decodeMsgpack(bytes, "device state");
  }

  /**
   * The reports of one round: memoized where the answer was seen before, fresh
   * otherwise while the budget allows; one call per round.
   *
   * @param answers the device's true answers by question id (missing = not reported)
   * @param round the round index (must increase from call to call)
   * @returns reports to send, questions withheld, ε spent now
   * @throws {InvalidInputError} when the round was already answered or an answer does not fit
   */
  respond(answers: Readonly<Record<string, SurveyAnswer>>, round: number): SurveyDeviceRound {
    if (!(round > this.#lastRound)) {
      throw new InvalidInputError(
        `Round ${round} was already answered by this device (last round ${this.#lastRound})`,
      );
    }
    const reports: SurveyReport[] = [];
    const withheld: string[] = [];
    let spentNow = 0;
    for (const question of this.definition.questions) {
      const answer = answers[question.id];
      if (answer === undefined) continue;
      const key = `${question.id}\u0000${answerKey(answer)}`;
      const memo = this.memoize ? this.#memo.get(key) : undefined;
      if (memo !== undefined) {
        reports.push(decodeMemo(memo));
        continue;
      }
      // A fresh randomization of this answer costs ε0 (sequential composition).
      if (this.#spent + spentNow + question.epsilon0 > this.budget + 1e-12) {
        withheld.push(question.id);
        continue;
      }
      const single: SurveyDefinition = { ...this.definition, questions: [question] };
      const [report] = surveyRespond(single, {
        answers: { [question.id]: answer },
        ...(this.#random === undefined ? {} : { random: this.#random }),
      });
      spentNow += question.epsilon0;
      if (this.memoize) this.#memo.set(key, encodeSurveyReport(report!));
      reports.push(report!);
    }
    this.#spent += spentNow;
    this.#lastRound = round;
    return { reports, withheld, spent: spentNow };
  }

  /**
   * Reports one round to a collector: fetches the round, randomizes (or reuses)
   * the answers, seals them for the cascade and posts them.
   *
   * @param answers true answers by question id
   * @param options collector URL (the survey is this device's), fetch, a token
   *   source for collectors that require tokens (one token per round's request), and
   *   `retryForMs`: keep retrying the submission (busy collector, no answer) this long
   *   before giving up (default 60,000; 0 for one try)
   * @returns what was sent and withheld
   * @throws {PanoramixError} when the collector cannot be reached for the round's description
   * @throws {SurveyReportsUnsentError} when the sealed reports were not acknowledged: they
   *   are in the error, to send again later
   */
  async report(
    answers: Readonly<Record<string, SurveyAnswer>>,
    options: { collector: string; fetch?: typeof fetch; token?: TokenSource; retryForMs?: number },
  ): Promise<SurveyDeviceRound & { round: number; sent: number }> {
    const target = { ...options, survey: this.definition.id };
    const info = await fetchSurveyInfo(target);
    if (info.round.index <= this.#lastRound) {
      return { reports: [], withheld: [], spent: 0, round: info.round.index, sent: 0 };
    }
    const round = this.respond(answers, info.round.index);
    const packets: Uint8Array[] = [];
    for (const r of round.reports) packets.push(await sealSurveyReport(r, info.cascade));
    if (packets.length === 0) return { ...round, round: info.round.index, sent: 0 };
    try {
      const ack = await submitSurveyPacketsUntilAcknowledged(packets, {
        ...target,
        retryForMs: options.retryForMs ?? 60_000,
      });
      return { ...round, round: info.round.index, sent: ack.accepted };
    } catch (error) {
      throw new SurveyReportsUnsentError(
        info.round.index,
        packets,
        error instanceof Error ? error : new Error(String(error)),
      );
    }
  }
}

function decodeMemo(bytes: Uint8Array): SurveyReport {
  // Memoized reports were produced by this device and are re-sent unchanged.
  return decodeSurveyReport(bytes, "memoized report");
}

/**
 * The base64url view of a packet (for NDJSON item streams).
 *
 * @param packet a sealed report
 * @returns the `decrypt.packet` item in its JSON view
 * @example
 * ```ts
 * import { surveyPacketItemJson } from "./device.ts";
 * console.assert(surveyPacketItemJson(new Uint8Array(3)).kind === "decrypt.packet");
 * ```
 */
export function surveyPacketItemJson(
  packet: Uint8Array,
): { v: 1; kind: string; packet: string } {
  return { v: 1, kind: DECRYPT_KINDS.packet, packet: toBase64Url(packet) };
}
