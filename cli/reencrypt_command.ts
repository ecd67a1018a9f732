/**
 * Commands of the re-encryption backend: `bench reencrypt` (per-ciphertext timings) and
 * `cascade` (run k verified mixers and write the transcript; `panoramix verify FILE`
 * checks it, see cli/transcripts.ts).
 *
 * @module
 */

import { writeBinaryOrJson } from "./vote/support.ts";
import process from "node:process";
import { buildCommand } from "@stricli/core";
import { assertBatchSize } from "../core/batcher.ts";
import { concatBytes, constantTimeEqual, joinBytes } from "../core/bytes.ts";
import { VerificationError } from "../core/errors.ts";
import {
  detectItemFormat,
  type ItemFormat,
  parseItems,
  serializeItem,
} from "../core/item_stream.ts";
import { workerCount } from "../core/worker_pool.ts";
import {
  Ciphertext,
  decodePublicKey,
  decryptPackedBatch,
  encodeCascadeTranscript,
  encodeCiphertext,
  encodeInteger,
  encryptPackedBatch,
  generateKeyPair,
  packPoints,
  reencryptBackend,
  runCascade,
  shuffleAndProve,
  verifyShuffle,
} from "../backends/reencrypt/mod.ts";
import type { CliContext } from "./context.ts";
import { contextFlag, contextOption, positiveInteger, progressFlag, workersFlag } from "./flags.ts";
import { readAnyEnvelopeFile, readInput } from "./files.ts";
import { terminalProgress } from "./progress.ts";

interface BenchFlags {
  count: number;
  width: number;
  workers?: number;
  json?: boolean;
  progress?: boolean;
}

/**
 * `panoramix bench reencrypt -n N [--width W] [--workers K] [--json]` (`--count N` is the
 * long form: stricli long flags need two letters).
 */
export const reencryptBenchCommand = buildCommand({
  async func(this: CliContext, flags: BenchFlags) {
    const n = flags.count, w = flags.width;
    const workers = flags.workers ?? workerCount();
    const log = (text: string) => this.stderr.write(text);
    const keys = generateKeyPair();
    const messages = Array.from({ length: w }, (_, k) => encodeInteger(k));
    // Wall time and process CPU time (all threads, workers included) of each phase.
    const phase = async <T>(fn: () => Promise<T> | T): Promise<[T, number, number]> => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const value = await fn();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return [value, wall, (cpu.user + cpu.system) / 1000];
    };
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const onChunk = (name: string) => (done: number, total: number) =>
      progress.report({ phase: name, done, total });
    await log(`encrypting ${n} ciphertexts of width ${w} with ${workers} worker(s)\n`);
    // The same w messages in every ciphertext, packed; encrypted on the workers.
    const packed = packPoints(messages);
    const plain = new Uint8Array(n * packed.length);
    for (let i = 0; i < n; i++) plain.set(packed, i * packed.length);
    const [inputs, encryptMs, encryptCpu] = await phase(async () => {
      const bytes = await encryptPackedBatch(keys.publicKey, { width: w, messages: plain }, {
        workers,
        onChunk: onChunk("encrypt"),
      });
      const size = 64 * w;
      // Made from valid points by the workers: not decoded again here.
      return Array.from(
        { length: n },
        (_, i) => Ciphertext.unchecked(bytes.subarray(i * size, (i + 1) * size)),
      );
    });
    await log(`shuffle+prove with ${workers} worker(s)\n`);
    const [{ outputs, proof }, proveMs, proveCpu] = await phase(() =>
      shuffleAndProve(keys.publicKey, inputs, { workers, onProgress: progress.report })
    );
    await log("verify\n");
    const [, verifyMs, verifyCpu] = await phase(() =>
      verifyShuffle({ publicKey: keys.publicKey, inputs, outputs }, proof, {
        workers,
        onProgress: progress.report,
      })
    );
    await log("decrypt\n");
    const [decrypted, decryptMs, decryptCpu] = await phase(() =>
      decryptPackedBatch(keys.secretKey, {
        width: w,
        ciphertexts: joinBytes(outputs.map((ct) => ct.bytes)),
      }, { workers, onChunk: onChunk("decrypt") })
    );
    await progress.done();
    // The bench checks itself: every output decrypts to the messages encrypted.
    for (let i = 0; i < n; i++) {
      if (
        !constantTimeEqual(decrypted.subarray(i * packed.length, (i + 1) * packed.length), packed)
      ) {
        throw new VerificationError(`Bench output ${i + 1} does not decrypt to its message`);
      }
    }
    const per = (ms: number) => Number((ms / n).toFixed(4));
    const report = {
      backend: "reencrypt",
      n,
      width: w,
      cores: workers,
      hardwareConcurrency: typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 1,
      msPerCiphertext: {
        encrypt: per(encryptMs),
        shuffleProve: per(proveMs),
        verify: per(verifyMs),
        decrypt: per(decryptMs),
      },
      cpuMsPerCiphertext: {
        encrypt: per(encryptCpu),
        shuffleProve: per(proveCpu),
        verify: per(verifyCpu),
        decrypt: per(decryptCpu),
      },
      totalSeconds: {
        encrypt: Number((encryptMs / 1000).toFixed(3)),
        shuffleProve: Number((proveMs / 1000).toFixed(3)),
        verify: Number((verifyMs / 1000).toFixed(3)),
        decrypt: Number((decryptMs / 1000).toFixed(3)),
      },
    };
    if (flags.json) {
      await this.stdout.write(JSON.stringify(report) + "\n");
      return;
    }
    const m = report.msPerCiphertext, c = report.cpuMsPerCiphertext;
    const row = (name: string, k: keyof typeof m, note = "") =>
      `  ${name.padEnd(14)} ${m[k].toFixed(3).padStart(7)}  ${
        c[k].toFixed(3).padStart(7)
      }${note}\n`;
    await this.stdout.write(
      `reencrypt bench: N = ${n}, width ${w}, ${workers} worker(s)\n` +
        `  ms per ciphertext  wall      cpu (all threads)\n` +
        row("encrypt", "encrypt") +
        row("shuffle+prove", "shuffleProve") +
        row("verify", "verify") +
        row("decrypt", "decrypt"),
    );
  },
  parameters: {
    flags: {
      count: {
        kind: "parsed",
        parse: positiveInteger("--count", 1 << 24),
        brief: "Number of ciphertexts N (alias -n)",
      },
      width: {
        kind: "parsed",
        parse: positiveInteger("--width", 64),
        default: "1",
        brief: "Group elements per ciphertext",
      },
      workers: workersFlag,
      json: { kind: "boolean", optional: true, brief: "Print one JSON object" },
      progress: progressFlag,
    },
    aliases: { n: "count" },
  },
  docs: {
    brief: "Benchmark the re-encryption backend: encrypt, shuffle+prove, verify, decrypt",
  },
});

interface CascadeFlags {
  key: string;
  mixers: number;
  transcript: string;
  input: string;
  context?: string;
  force?: boolean;
  progress?: boolean;
}

/** `panoramix cascade --key PK --mixers K --transcript FILE < inputs > outputs`. */
export const reencryptCascadeCommand = buildCommand({
  async func(this: CliContext, flags: CascadeFlags) {
    const publicKey = decodePublicKey(await readAnyEnvelopeFile(flags.key, this.stdin), flags.key);
    const bytes = await readInput(flags.input, this.stdin);
    const format: ItemFormat = detectItemFormat(bytes);
    const values = parseItems(bytes, { format, what: flags.input === "-" ? "stdin" : flags.input });
    const inputs = values.map((v, i) => reencryptBackend.input.decode(v, `Input item ${i + 1}`));
    assertBatchSize(inputs.length, reencryptBackend.minBatchSize);
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const transcript = await runCascade(publicKey, {
      inputs,
      mixers: flags.mixers,
      onProgress: progress.report,
      ...contextOption(flags.context),
    });
    await progress.done();
    // msgpack, or the JSON view when the name ends in .json (issue 11 §14), as `vote` does.
    await writeBinaryOrJson(
      flags.transcript,
      encodeCascadeTranscript(transcript),
      flags.force ?? false,
    );
    const last = transcript.steps[transcript.steps.length - 1]!.outputs;
    await this.stdout.write(
      concatBytes(...last.map((c) => serializeItem(encodeCiphertext(c), format))),
    );
    await this.stderr.write(
      `cascade of ${flags.mixers} mixers over ${inputs.length} items verified; transcript in '${flags.transcript}'\n`,
    );
  },
  parameters: {
    flags: {
      key: { kind: "parsed", parse: String, brief: "Public key file (reencrypt.public-key)" },
      mixers: {
        kind: "parsed",
        parse: positiveInteger("--mixers", 1024),
        brief: "Number of mixers k",
      },
      transcript: { kind: "parsed", parse: String, brief: "Where to write the cascade transcript" },
      input: {
        kind: "parsed",
        parse: String,
        default: "-",
        brief: "Input items file, - for stdin",
      },
      context: contextFlag,
      force: { kind: "boolean", optional: true, brief: "Replace an existing transcript file" },
      progress: progressFlag,
    },
  },
  docs: { brief: "Run a re-encryption cascade of k verified mixers and write its transcript" },
});
