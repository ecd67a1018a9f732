/**
 * `panoramix encrypt` and `panoramix decrypt` for the re-encryption backend: one's own
 * values (integers or short UTF-8 texts) in, `reencrypt.ciphertext` items out, ready for
 * `mix` or `cascade`; and the mix outputs back to values with one secret key, or with the
 * key shares of t trustees of a threshold key (combined by Lagrange interpolation of their
 * partial decryptions; the secret itself is never rebuilt).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { concatBytes } from "../core/bytes.ts";
import { InvalidInputError, UsageError } from "../core/errors.ts";
import {
  detectItemFormat,
  type ItemFormat,
  parseItems,
  serializeItem,
} from "../core/item_stream.ts";
import {
  checkDkgParameters,
  type Ciphertext,
  combineDecryptionShares,
  createDecryptionShare,
  decodeCiphertext,
  decodeInteger,
  decodePublicKey,
  decodeSecretKey,
  embedBytes,
  encodeCiphertext,
  encodeInteger,
  encodePublicKey,
  encodeSecretKey,
  encrypt,
  extractBytes,
  MAX_EMBED_BYTES,
  MAX_EMBED_INTEGER,
  type Point,
  type SecretShare,
  simulateDkg,
} from "../backends/reencrypt/mod.ts";
import type { CliContext } from "./context.ts";
import { readAnyEnvelopeFile, readInput, writeEnvelopeFile } from "./files.ts";

type ValueKind = "integer" | "text" | "hex";

const asFlag = {
  kind: "enum",
  values: ["integer", "text", "hex"],
  default: "integer",
  brief: `What a value is: integer (0 to ${MAX_EMBED_INTEGER}), text (UTF-8, at most ` +
    `${MAX_EMBED_BYTES} bytes) or hex (at most ${MAX_EMBED_BYTES} bytes)`,
} as const;

const HEX = /^(?:[0-9a-f]{2})*$/i;

/**
 * Embeds one value given on the command line or on a line of stdin.
 *
 * @param text the value as written
 * @param as how to read it
 * @param what names the value in errors
 * @returns the group element
 */
function embedValue(text: string, as: ValueKind, what: string): Point {
  if (as === "integer") {
    if (!/^\d+$/.test(text) || Number(text) > MAX_EMBED_INTEGER) {
      throw new InvalidInputError(
        `${what} '${text}' is not an integer from 0 to ${MAX_EMBED_INTEGER} (use --as text for texts)`,
      );
    }
    return encodeInteger(Number(text));
  }
  const bytes = as === "text"
    ? new TextEncoder().encode(text)
    : HEX.test(text)
    ? Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16))
    : undefined;
  if (bytes === undefined) throw new InvalidInputError(`${what} '${text}' is not hexadecimal`);
  if (bytes.length > MAX_EMBED_BYTES) {
    throw new InvalidInputError(
      `${what} '${text}' is ${bytes.length} bytes; at most ${MAX_EMBED_BYTES} fit in a ciphertext`,
    );
  }
  return embedBytes(bytes);
}

/**
 * Reads a decrypted element back as a value.
 *
 * @param point the plaintext element
 * @param as how to show it
 * @param what names the item in errors
 * @returns the value as text
 */
function extractValue(point: Point, as: ValueKind, what: string): string {
  try {
    if (as === "integer") return String(decodeInteger(point));
    const bytes = extractBytes(point);
    if (as === "hex") return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      `${what} does not decrypt to ${
        { integer: "an integer", text: "a UTF-8 text", hex: "embedded bytes" }[as]
      } (${detail}); likely a wrong secret key, too few ` +
        `trustees' key files for a threshold key, or a different --as than at encryption`,
      { cause: error },
    );
  }
}

interface EncryptFlags {
  key: string;
  as: ValueKind;
  format: ItemFormat;
}

/** `panoramix encrypt --key PUB [--as integer|text|hex] [VALUE...]`. */
export const encryptCommand = buildCommand({
  async func(this: CliContext, flags: EncryptFlags, ...values: string[]) {
    const publicKey = decodePublicKey(await readAnyEnvelopeFile(flags.key, this.stdin), flags.key);
    const given = values.length > 0 ? values : new TextDecoder().decode(
      await readInput("-", this.stdin),
    ).split(/\r?\n/).filter((line) => line !== "");
    if (given.length === 0) {
      throw new UsageError("No values to encrypt: give them as arguments or one per line on stdin");
    }
    const items = given.map((value, i) => {
      const ciphertext = encrypt(publicKey, [embedValue(value, flags.as, `Value ${i + 1}`)]);
      return serializeItem(encodeCiphertext(ciphertext), flags.format);
    });
    await this.stdout.write(concatBytes(...items));
    await this.stderr.write(`encrypted ${given.length} value(s) under ${flags.key}\n`);
  },
  parameters: {
    flags: {
      key: { kind: "parsed", parse: String, brief: "Public key file (reencrypt.public-key)" },
      as: asFlag,
      format: {
        kind: "enum",
        values: ["ndjson", "msgpack"],
        default: "ndjson",
        brief: "Output format",
      },
    },
    positional: {
      kind: "array",
      parameter: {
        placeholder: "VALUE",
        brief: "Values to encrypt (default: one per line on stdin)",
        parse: String,
      },
    },
  },
  docs: {
    brief: "Encrypt integers or short texts into reencrypt ciphertext items (one per value)",
    fullDescription:
      "Writes one reencrypt.ciphertext item per value, in order, to stdout (NDJSON by default), " +
      "ready for `panoramix mix --backend reencrypt` or `panoramix cascade`. Values are the " +
      "arguments, or the lines of stdin. Exit codes: 0 ok, 2 usage, 4 a value that does not fit.",
  },
});

/**
 * Reads secret key files and checks that they can work together.
 *
 * @param ctx the command context
 * @param paths the --secret files
 * @returns the key shares, distinct indices
 */
async function readSecretKeys(ctx: CliContext, paths: readonly string[]): Promise<SecretShare[]> {
  const keys: SecretShare[] = [];
  for (const path of paths) {
    const key = decodeSecretKey(await readAnyEnvelopeFile(path, ctx.stdin), path);
    const twin = keys.findIndex((k) => k.index === key.index);
    if (twin >= 0) {
      throw new UsageError(
        `Secret key files '${paths[twin]}' and '${path}' are both trustee ${key.index}; ` +
          "give one key file per trustee",
      );
    }
    keys.push(key);
  }
  return keys;
}

/**
 * Checks the key shares against the public key: Σ λᵢ·(sᵢ·G) must be the public key.
 *
 * @param keys the key shares
 * @param publicKey the public key
 * @param paths names the files in the error
 */
function checkKeysMatch(keys: readonly SecretShare[], publicKey: Point, paths: readonly string[]) {
  // Decrypt a fresh encryption of a known value: the Lagrange combination of the shares gives
  // it back only if Σ λᵢ·sᵢ is the secret of the public key (else with probability ≈ 2^-252).
  const probe = encrypt(publicKey, [encodeInteger(0)]);
  const shares = keys.map((key) => createDecryptionShare(key, probe));
  const expected = combineDecryptionShares(probe, shares)[0]!;
  if (!expected.equals(encodeInteger(0))) {
    throw new InvalidInputError(
      `Secret key file(s) ${paths.map((p) => `'${p}'`).join(", ")} do not match the public key` +
        (keys.length === 1 && keys[0]!.index !== 1
          ? ` (trustee ${keys[0]!.index} alone: give the key files of a threshold of trustees)`
          : keys.length > 1
          ? " (too few trustees for the threshold, or keys of different key pairs)"
          : ""),
    );
  }
}

interface DecryptFlags {
  secret: readonly string[];
  key?: string;
  input: string;
  as: ValueKind;
  json?: boolean;
}

/** `panoramix decrypt --secret SEC [--secret SEC…] [--key PUB] [--as …] [--input FILE]`. */
export const decryptCommand = buildCommand({
  async func(this: CliContext, flags: DecryptFlags) {
    const keys = await readSecretKeys(this, flags.secret);
    if (flags.key !== undefined) {
      const publicKey = decodePublicKey(
        await readAnyEnvelopeFile(flags.key, this.stdin),
        flags.key,
      );
      checkKeysMatch(keys, publicKey, flags.secret);
    }
    const bytes = await readInput(flags.input, this.stdin);
    const what = flags.input === "-" ? "stdin" : flags.input;
    const values = parseItems(bytes, { format: detectItemFormat(bytes), what });
    const ciphertexts: Ciphertext[] = values.map((value, i) => {
      const kind = (value as { kind?: unknown } | null)?.kind;
      if (typeof kind === "string" && kind.endsWith("proof")) {
        throw new InvalidInputError(
          `Item ${i + 1} of ${what} is a proof record ('${kind}'); decrypt the output items only ` +
            "(mix with --proof FILE)",
        );
      }
      return decodeCiphertext(value, `Item ${i + 1} of ${what}`);
    });
    const out: string[] = [];
    for (const [i, ciphertext] of ciphertexts.entries()) {
      const shares = keys.map((key) => createDecryptionShare(key, ciphertext));
      const elements = combineDecryptionShares(ciphertext, shares);
      const shown = elements.map((e, k) =>
        extractValue(e, flags.as, `Item ${i + 1}${elements.length > 1 ? ` element ${k}` : ""}`)
      );
      out.push(
        flags.json
          ? JSON.stringify(
            flags.as === "integer" ? shown.map(Number) : shown,
          )
          : shown.join(","),
      );
    }
    await this.stdout.write(out.map((line) => line + "\n").join(""));
  },
  parameters: {
    flags: {
      secret: {
        kind: "parsed",
        parse: String,
        variadic: true,
        brief: "Secret key file (reencrypt.secret-key); repeat once per trustee of a threshold key",
      },
      key: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Public key file: check first that the secret key files match it",
      },
      input: {
        kind: "parsed",
        parse: String,
        default: "-",
        brief: "Ciphertext items (NDJSON or msgpack), - for stdin",
      },
      as: asFlag,
      json: {
        kind: "boolean",
        optional: true,
        brief: "Print each item as a JSON array of its values",
      },
    },
  },
  docs: {
    brief: "Decrypt reencrypt ciphertext items (e.g. mix outputs) back to integers or texts",
    fullDescription:
      "Prints one line per item, in order: its value (elements of a wider ciphertext joined " +
      "with commas), or with --json a JSON array. With a threshold key, give the secret key " +
      "files of t trustees (any t of them); each computes its partial decryption and they are " +
      "combined by Lagrange interpolation. Exit codes: 0 ok, 2 usage, 4 malformed item or " +
      "an item that does not decrypt to the expected kind of value (wrong key), 6 file not found.",
  },
});

/**
 * `keygen --backend reencrypt --set trustees=N [--set threshold=T]`: a t-of-n key made by a
 * Pedersen DKG run in this one process (every dealer here: a demo and test setup, as a
 * trusted dealer would be; a real election runs the ceremony of `panoramix vote trustee`).
 * Writes the public key and one secret key share per trustee, `sec.json` → `sec-1.json` …
 *
 * @param settings the --set values
 * @param files the public key path, the secret key path pattern and --force
 * @returns the paths written, or undefined when the settings ask for a single key
 * @throws {UsageError} on unknown settings or a threshold without trustees
 */
export async function writeThresholdKeys(
  settings: Readonly<Record<string, unknown>>,
  files: { public: string; secret: string; overwrite: boolean },
): Promise<string[] | undefined> {
  const unknown = Object.keys(settings).filter((k) => k !== "trustees" && k !== "threshold");
  if (unknown.length > 0) {
    throw new UsageError(
      `Setting '${unknown[0]}' is unknown to the reencrypt backend (known: trustees, threshold)`,
    );
  }
  if (settings.trustees === undefined) {
    if (settings.threshold !== undefined) {
      throw new UsageError("Setting 'threshold' needs 'trustees' (e.g. --set trustees=3)");
    }
    return undefined;
  }
  const trustees = settings.trustees as number;
  const threshold = (settings.threshold ?? trustees) as number;
  try {
    checkDkgParameters({ threshold, trustees });
  } catch (error) {
    throw new UsageError(`Settings trustees/threshold: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { result, secretShares } = simulateDkg({ threshold, trustees });
  const dot = files.secret.lastIndexOf(".");
  const slash = files.secret.lastIndexOf("/");
  const [stem, ext] = dot > slash + 1
    ? [files.secret.slice(0, dot), files.secret.slice(dot)]
    : [files.secret, ""];
  const written = [files.public];
  await writeEnvelopeFile(files.public, encodePublicKey(result.publicKey), {
    overwrite: files.overwrite,
  });
  for (const share of secretShares) {
    const path = `${stem}-${share.index}${ext}`;
    await writeEnvelopeFile(path, encodeSecretKey(share), {
      secret: true,
      overwrite: files.overwrite,
    });
    written.push(path);
  }
  return written;
}
