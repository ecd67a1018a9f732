/**
 * Election definitions: questions, choices and answer rules, trustees (t-of-n),
 * mixers and the re-voting policy, with validation of every documented limit and
 * a stable fingerprint that every ballot proof binds to.
 *
 * The fingerprint hashes a canonical length-prefixed encoding of the definition
 * (the core Transcript framing, label "panoramix/vote/election/v1"), never the
 * msgpack bytes, so re-encoding a definition file cannot change it.
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import { Transcript } from "../../core/transcript.ts";

/** Envelope kind of an election definition. */
export const ELECTION_DEFINITION_KIND = "vote.election";

/** Domain-separation label of the election fingerprint. */
export const ELECTION_FINGERPRINT_LABEL = "panoramix/vote/election/v1";

/** Length of a trustee identity key (Ed25519 public key, RFC 8032 §5.1.5). */
export const TRUSTEE_KEY_BYTES = 32;

/** Length of the election fingerprint in bytes. */
export const ELECTION_FINGERPRINT_BYTES = 32;

/** Documented limits of an election definition (see docs/vote.md). */
export const ELECTION_LIMITS = {
  /** Longest election id. */
  maxIdLength: 128,
  /** Longest title, question or choice text in characters. */
  maxTextLength: 1000,
  /** Most questions per election. */
  maxQuestions: 64,
  /** Most choices per question. */
  maxChoices: 256,
  /** Most trustees. */
  maxTrustees: 32,
  /** Most mixers. */
  maxMixers: 16,
} as const;

/** How a question is answered. */
export type QuestionType = "single" | "multiple" | "ranked";

/** Re-voting policy: reject a second ballot of a voter, or count only the last one. */
export type RevotePolicy = "reject" | "last";

/** One question of an election. */
export interface ElectionQuestion {
  /** The question text. */
  text: string;
  /** The choices, in ballot order (answers refer to them by index). */
  choices: string[];
  /**
   * `single`: pick at most one choice; `multiple`: pick a set of choices (approval);
   * `ranked`: order some choices by preference.
   */
  type: QuestionType;
  /** Fewest choices an answer must hold (0 allows a blank answer). */
  min: number;
  /** Most choices an answer may hold (1 for `single`). */
  max: number;
}

/** A complete election definition. */
export interface ElectionDefinition {
  /** Unique election id: 1–128 characters from `A–Z a–z 0–9 . _ -`. */
  id: string;
  /** Human-readable title. */
  title: string;
  /** The questions, in ballot order. */
  questions: ElectionQuestion[];
  /** Trustee names (n = names.length); they hold shares of the election key. */
  trustees: string[];
  /** Trustees needed to decrypt (t of n). */
  threshold: number;
  /** Mixer names, in cascade order (k = names.length ≥ 1). */
  mixers: string[];
  /** Re-voting policy. */
  revote: RevotePolicy;
  /**
   * Each trustee's Ed25519 identity key (32 bytes, definition order), when the ceremony
   * posts and decryption shares are signed (definition v 2); absent in an election whose
   * posts are authenticated only by their channel (v 1).
   */
  trusteeKeys?: Uint8Array[];
}

/** Options for {@linkcode createElectionDefinition}; omitted fields get defaults. */
export interface ElectionDefinitionInput {
  /** Election id (see {@linkcode ElectionDefinition.id}). */
  id: string;
  /** Title (default: the id). */
  title?: string;
  /** Questions; `type` defaults to `single`, `min` to 0, `max` to 1 (single) or the choice count. */
  questions: Array<
    { text: string; choices: string[]; type?: QuestionType; min?: number; max?: number }
  >;
  /** Trustee names, or a count n (named trustee-1..trustee-n). */
  trustees: string[] | number;
  /** Threshold t (default n). */
  threshold?: number;
  /** Mixer names, or a count k (named mixer-1..mixer-k). */
  mixers: string[] | number;
  /** Re-voting policy (default `reject`). */
  revote?: RevotePolicy;
  /** Trustees' Ed25519 identity keys, one per trustee (signed ceremony). */
  trusteeKeys?: Uint8Array[];
}

const ID_PATTERN = /^[A-Za-z0-9._-]+$/;

function checkText(value: string, what: string, allowEmpty = false): string {
  if (!allowEmpty && value.length === 0) {
    throw new InvalidInputError(`Value '${what}' must not be empty`);
  }
  if (value.length > ELECTION_LIMITS.maxTextLength) {
    throw new InvalidInputError(
      `Value '${what}' is longer than ${ELECTION_LIMITS.maxTextLength} characters`,
    );
  }
  return value;
}

function checkNames(names: readonly string[], what: string, max: number): string[] {
  if (names.length < 1 || names.length > max) {
    throw new InvalidInputError(`Election needs 1 to ${max} ${what}, got ${names.length}`);
  }
  const seen = new Set<string>();
  names.forEach((name, i) => {
    checkText(name, `${what}[${i}]`);
    if (seen.has(name)) throw new InvalidInputError(`Name '${name}' appears twice in ${what}`);
    seen.add(name);
  });
  return [...names];
}

function checkQuestion(q: ElectionQuestion, i: number): ElectionQuestion {
  const what = `questions[${i}]`;
  checkText(q.text, `${what}.text`);
  if (q.type !== "single" && q.type !== "multiple" && q.type !== "ranked") {
    throw new InvalidInputError(
      `Value '${what}.type' must be 'single', 'multiple' or 'ranked', got '${String(q.type)}'`,
    );
  }
  const c = q.choices.length;
  if (c < 1 || c > ELECTION_LIMITS.maxChoices) {
    throw new InvalidInputError(
      `Question ${i + 1} needs 1 to ${ELECTION_LIMITS.maxChoices} choices, got ${c}`,
    );
  }
  const seen = new Set<string>();
  q.choices.forEach((choice, j) => {
    checkText(choice, `${what}.choices[${j}]`);
    if (seen.has(choice)) {
      throw new InvalidInputError(`Choice '${choice}' appears twice in question ${i + 1}`);
    }
    seen.add(choice);
  });
  readInteger(q.min, `${what}.min`, { max: c });
  readInteger(q.max, `${what}.max`, { min: 1, max: c });
  if (q.min > q.max) {
    throw new InvalidInputError(
      `Question ${i + 1} has min ${q.min} greater than max ${q.max}`,
    );
  }
  if (q.type === "single" && q.max !== 1) {
    throw new InvalidInputError(`Single-choice question ${i + 1} must have max 1, got ${q.max}`);
  }
  return { text: q.text, choices: [...q.choices], type: q.type, min: q.min, max: q.max };
}

/**
 * Validates a definition against every documented limit and returns a clean copy.
 * (Limits on the encoded ballot size are checked by `electionBallotLayout`.)
 *
 * @param definition the definition
 * @returns a validated copy
 * @throws {InvalidInputError} naming the first violated rule
 * @example
 * ```ts
 * import { validateElectionDefinition } from "./definition.ts";
 * const d = validateElectionDefinition({
 *   id: "e1", title: "E", revote: "reject", threshold: 1, trustees: ["a"], mixers: ["m"],
 *   questions: [{ text: "Q", choices: ["x", "y"], type: "single", min: 0, max: 1 }],
 * });
 * console.assert(d.id === "e1");
 * ```
 */
export function validateElectionDefinition(definition: ElectionDefinition): ElectionDefinition {
  if (
    definition.id.length === 0 || definition.id.length > ELECTION_LIMITS.maxIdLength ||
    !ID_PATTERN.test(definition.id)
  ) {
    throw new InvalidInputError(
      `Election id '${definition.id}' must be 1 to ${ELECTION_LIMITS.maxIdLength} characters from A-Z a-z 0-9 . _ -`,
    );
  }
  checkText(definition.title, "title", true);
  if (
    definition.questions.length < 1 || definition.questions.length > ELECTION_LIMITS.maxQuestions
  ) {
    throw new InvalidInputError(
      `Election needs 1 to ${ELECTION_LIMITS.maxQuestions} questions, got ${definition.questions.length}`,
    );
  }
  const questions = definition.questions.map(checkQuestion);
  const trustees = checkNames(definition.trustees, "trustees", ELECTION_LIMITS.maxTrustees);
  const mixers = checkNames(definition.mixers, "mixers", ELECTION_LIMITS.maxMixers);
  readInteger(definition.threshold, "threshold", { min: 1, max: trustees.length });
  if (definition.revote !== "reject" && definition.revote !== "last") {
    throw new InvalidInputError(
      `Value 'revote' must be 'reject' or 'last', got '${String(definition.revote)}'`,
    );
  }
  let trusteeKeys: Uint8Array[] | undefined;
  if (definition.trusteeKeys !== undefined) {
    if (definition.trusteeKeys.length !== trustees.length) {
      throw new InvalidInputError(
        `Election has ${trustees.length} trustees but ${definition.trusteeKeys.length} trustee keys`,
      );
    }
    const seen = new Map<string, number>();
    trusteeKeys = definition.trusteeKeys.map((k, i) => {
      if (!(k instanceof Uint8Array) || k.length !== TRUSTEE_KEY_BYTES) {
        throw new InvalidInputError(
          `Value 'trusteeKeys[${i}]' must be a ${TRUSTEE_KEY_BYTES}-byte Ed25519 public key`,
        );
      }
      const hex = Array.from(k, (b) => b.toString(16).padStart(2, "0")).join("");
      const earlier = seen.get(hex);
      if (earlier !== undefined) {
        throw new InvalidInputError(`Trustees ${earlier + 1} and ${i + 1} have the same key`);
      }
      seen.set(hex, i);
      return k.slice();
    });
  }
  return {
    id: definition.id,
    title: definition.title,
    questions,
    trustees,
    threshold: definition.threshold,
    mixers,
    revote: definition.revote,
    ...(trusteeKeys === undefined ? {} : { trusteeKeys }),
  };
}

function names(value: string[] | number, prefix: string): string[] {
  if (typeof value !== "number") return value;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(`Number of ${prefix}s '${value}' must be a positive integer`);
  }
  return Array.from({ length: value }, (_, i) => `${prefix}-${i + 1}`);
}

/**
 * Builds and validates a definition from friendlier input (defaults filled in).
 *
 * @param input id, questions, trustees, mixers and optional settings
 * @returns the validated definition
 * @throws {InvalidInputError} naming the first violated rule
 * @example
 * ```ts
 * import { createElectionDefinition } from "./definition.ts";
 * const d = createElectionDefinition({
 *   id: "board-2026", trustees: 3, threshold: 2, mixers: 3,
 *   questions: [{ text: "Chair?", choices: ["Ann", "Bob"] }],
 * });
 * console.assert(d.trustees.length === 3 && d.questions[0]!.max === 1);
 * ```
 */
export function createElectionDefinition(input: ElectionDefinitionInput): ElectionDefinition {
  const trustees = names(input.trustees, "trustee");
  return validateElectionDefinition({
    id: input.id,
    title: input.title ?? input.id,
    questions: input.questions.map((q) => {
      const type = q.type ?? "single";
      return {
        text: q.text,
        choices: q.choices,
        type,
        min: q.min ?? 0,
        max: q.max ?? (type === "single" ? 1 : q.choices.length),
      };
    }),
    trustees,
    threshold: input.threshold ?? trustees.length,
    mixers: names(input.mixers, "mixer"),
    revote: input.revote ?? "reject",
    ...(input.trusteeKeys === undefined ? {} : { trusteeKeys: input.trusteeKeys }),
  });
}

/**
 * Encodes a definition as its `vote.election` envelope.
 *
 * @param definition the definition
 * @returns the envelope
 * @example
 * ```ts
 * import { createElectionDefinition, electionDefinitionToEnvelope } from "./definition.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * console.assert(electionDefinitionToEnvelope(d).kind === "vote.election");
 * ```
 */
export function electionDefinitionToEnvelope(definition: ElectionDefinition): Envelope {
  return {
    v: definition.trusteeKeys === undefined ? 1 : 2,
    kind: ELECTION_DEFINITION_KIND,
    id: definition.id,
    title: definition.title,
    questions: definition.questions.map((q) => ({
      text: q.text,
      choices: [...q.choices],
      type: q.type,
      min: q.min,
      max: q.max,
    })),
    trustees: [...definition.trustees],
    threshold: definition.threshold,
    mixers: [...definition.mixers],
    revote: definition.revote,
    ...(definition.trusteeKeys === undefined
      ? {}
      : { trusteeKeys: definition.trusteeKeys.map((k) => k.slice()) }),
  };
}

/**
 * Decodes and validates a `vote.election` envelope (msgpack or JSON view).
 *
 * @param value the decoded envelope
 * @param what names the value in errors (default "election")
 * @returns the validated definition
 * @throws {InvalidInputError} naming the bad field
 * @example
 * ```ts
 * import {
 *   createElectionDefinition, electionDefinitionFromEnvelope, electionDefinitionToEnvelope,
 * } from "./definition.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * console.assert(electionDefinitionFromEnvelope(electionDefinitionToEnvelope(d)).id === "e");
 * ```
 */
export function electionDefinitionFromEnvelope(
  value: unknown,
  what = "election",
): ElectionDefinition {
  const env = readEnvelope(value, ELECTION_DEFINITION_KIND, { what, versions: [1, 2] });
  // v 2 names each trustee's identity key; v 1 has none.
  const trusteeKeys = env.v === 2
    ? readArray(env.trusteeKeys, `${what}.trusteeKeys`, {
      maxLength: ELECTION_LIMITS.maxTrustees,
    }).map((k, i) => readBytes(k, `${what}.trusteeKeys[${i}]`, { length: TRUSTEE_KEY_BYTES }))
    : undefined;
  const strings = (v: unknown, w: string, max: number) =>
    readArray(v, w, { maxLength: max }).map((s, i) => readString(s, `${w}[${i}]`));
  const questions = readArray(env.questions, `${what}.questions`, {
    maxLength: ELECTION_LIMITS.maxQuestions,
  }).map((raw, i) => {
    const w = `${what}.questions[${i}]`;
    const q = readRecord(raw, w);
    return {
      text: readString(q.text, `${w}.text`),
      choices: strings(q.choices, `${w}.choices`, ELECTION_LIMITS.maxChoices),
      type: readString(q.type, `${w}.type`) as QuestionType,
      min: readInteger(q.min, `${w}.min`),
      max: readInteger(q.max, `${w}.max`),
    };
  });
  return validateElectionDefinition({
    id: readString(env.id, `${what}.id`),
    title: readString(env.title, `${what}.title`),
    questions,
    trustees: strings(env.trustees, `${what}.trustees`, ELECTION_LIMITS.maxTrustees),
    threshold: readInteger(env.threshold, `${what}.threshold`),
    mixers: strings(env.mixers, `${what}.mixers`, ELECTION_LIMITS.maxMixers),
    revote: readString(env.revote, `${what}.revote`) as RevotePolicy,
    ...(trusteeKeys === undefined ? {} : { trusteeKeys }),
  });
}

/**
 * The election fingerprint: a 32-byte digest of the canonical encoding of the
 * definition. Transcript "panoramix/vote/election/v1" absorbs, in order, the version,
 * id, title, question count and for each question its type, min, max and choices (a
 * list), then trustees (a list), threshold, mixers (a list) and the re-voting policy;
 * the fingerprint is the 32-byte challenge "fingerprint".
 *
 * @param definition a validated definition
 * @returns 32 bytes
 * @example
 * ```ts
 * import { createElectionDefinition, electionFingerprint } from "./definition.ts";
 * const d = createElectionDefinition({
 *   id: "e", trustees: 1, mixers: 1, questions: [{ text: "Q", choices: ["a", "b"] }],
 * });
 * console.assert(electionFingerprint(d).length === 32);
 * ```
 */
export function electionFingerprint(definition: ElectionDefinition): Uint8Array {
  const enc = new TextEncoder();
  const t = new Transcript(ELECTION_FINGERPRINT_LABEL);
  // Version 2 (trustee identity keys) appends the keys; version 1 bytes are unchanged.
  t.appendNumber("version", definition.trusteeKeys === undefined ? 1 : 2);
  t.append("id", enc.encode(definition.id));
  t.append("title", enc.encode(definition.title));
  t.appendNumber("questions", definition.questions.length);
  for (const q of definition.questions) {
    t.append("question", enc.encode(q.text));
    t.append("type", enc.encode(q.type));
    t.appendNumber("min", q.min);
    t.appendNumber("max", q.max);
    t.appendList("choices", q.choices.map((c) => enc.encode(c)));
  }
  t.appendList("trustees", definition.trustees.map((n) => enc.encode(n)));
  t.appendNumber("threshold", definition.threshold);
  t.appendList("mixers", definition.mixers.map((n) => enc.encode(n)));
  t.append("revote", enc.encode(definition.revote));
  if (definition.trusteeKeys !== undefined) t.appendList("trustee-keys", definition.trusteeKeys);
  return t.challenge("fingerprint", ELECTION_FINGERPRINT_BYTES);
}
