/**
 * `panoramix vote run` and `vote bench`: whole local elections with simulated trustees and voters.
 *
 * @module
 */

import process from "node:process";
import { buildCommand } from "@stricli/core";
import { InvalidInputError, UsageError } from "../../core/errors.ts";
import { closeWorkerPool, startWorkers, workerCount } from "../../core/worker_pool.ts";
import type { ItemChunks } from "../../core/records.ts";
import {
  ballotStoreChunks,
  createElectionDefinition,
  type ElectionBallot,
  electionFingerprint,
  type ElectionPublicInfo,
  runLocalElectionRecords,
  simulateEncodedBallotChunks,
  verifyElectionRecords,
} from "../../plugins/vote/mod.ts";
import type { CliContext } from "../context.ts";
import { Spool } from "../record_file.ts";
import { FileBallotStore } from "./ballot_store_file.ts";
import { openElectionTranscriptFile } from "./transcript_file.ts";
import { positiveInteger, progressFlag, workersFlag } from "../flags.ts";
import { terminalProgress } from "../progress.ts";
import { describeTally, readElection, seconds, writeTranscriptFile } from "./support.ts";

function blankRate(text: string): number {
  const x = Number(text);
  if (text.trim() === "" || !(x >= 0 && x <= 1)) {
    throw new UsageError(`Flag '--blank' must be a number from 0 to 1, got '${text}'`);
  }
  return x;
}

interface RunFlags {
  election: string;
  ballots: number;
  out: string;
  blank?: number;
  workers?: number;
  force?: boolean;
  progress?: boolean;
}

/** `panoramix vote run`: a whole simulated election (trustees and voters simulated). */
export const voteRunCommand = buildCommand({
  async func(this: CliContext, flags: RunFlags) {
    const { definition } = await readElection(this, flags.election);
    if (definition.trusteeKeys !== undefined) {
      throw new UsageError(
        `Election '${definition.id}' names its trustees' keys; vote run simulates the trustees ` +
          "and cannot sign for them: simulate with a definition made without --trustee-key",
      );
    }
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    // Ballots, mixes, shares and plaintexts in spool files (issue 17: memory of a chunk).
    const spool = await Spool.create();
    try {
      const { transcript, times } = await runLocalElectionRecords(definition, {
        ...(flags.workers === undefined ? {} : { workers: flags.workers }),
        onProgress: progress.report,
        // Simulated voters encrypt on every worker, with progress, into a spool file.
        ballots: (e) =>
          simulatedBallotsFile(spool, e, {
            count: flags.ballots,
            blank: flags.blank ?? 0,
            ...(flags.workers === undefined ? {} : { workers: flags.workers }),
            onChunk: (done, total) => progress.report({ phase: "encrypt ballots", done, total }),
          }),
        store: FileBallotStore.inSpool(spool, electionFingerprint(definition)),
        sinks: spool.sinks,
        receipts: false,
        onPhase: (phase, ms) => void this.stderr.write(`${phase}: ${seconds(ms)} s\n`),
      });
      await writeTranscriptFile(flags.out, transcript, flags.force ?? false);
      await progress.done();
      await this.stdout.write(describeTally(transcript));
      await this.stderr.write(
        `transcript written to ${flags.out} (${
          seconds(Object.values(times).reduce((a, b) => a + b, 0))
        } s)\n`,
      );
    } finally {
      await progress.done();
      spool.close();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      election: { kind: "parsed", parse: String, brief: "Election definition file" },
      ballots: {
        kind: "parsed",
        parse: positiveInteger("--ballots", 10_000_000),
        brief: "Number of simulated voters",
      },
      out: { kind: "parsed", parse: String, brief: "Transcript file (.msgpack, or .json)" },
      blank: {
        kind: "parsed",
        parse: blankRate,
        optional: true,
        brief: "Share of answers a simulated voter leaves blank where allowed (0-1, default 0)",
      },
      workers: workersFlag,
      force: { kind: "boolean", optional: true, brief: "Replace an existing transcript" },
      progress: progressFlag,
    },
  },
  docs: {
    brief: "Run a whole local election with simulated trustees and voters; write the transcript",
    fullDescription: "The key ceremony, the simulated voters' ballots, the box, every mixer's " +
      "shuffle and proof, the trustees' decryption and the tally, then the transcript (check it " +
      "with `panoramix vote verify`). The run's lists are kept in a spool folder under $TMPDIR " +
      "(removed at the end or on Ctrl-C), so a large election needs disk, not memory; the " +
      "transcript is written from them a chunk at a time, as msgpack or, for a .json path, as " +
      "its JSON view.",
  },
});

/**
 * CPU seconds used so far by this process's main thread (the one running JavaScript outside
 * the workers), from Linux's /proc; undefined elsewhere. Its share of a phase's wall time is
 * the phase's serial part (issue 17).
 */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
    // Fields after the command name: state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Simulated voters' ballots (made a chunk at a time on the worker pool) appended to a file of
 * the spool, and read back from it a chunk at a time (issue 17: no array of all ballots). The
 * workers encode each chunk as the file keeps it, so this thread appends the chunk's bytes
 * whole: no ballot object, decode or encode here.
 */
async function simulatedBallotsFile(
  spool: Spool,
  election: ElectionPublicInfo,
  options: Parameters<typeof simulateEncodedBallotChunks>[1],
): Promise<ItemChunks<ElectionBallot>> {
  const store = FileBallotStore.inSpool(spool, election.fingerprint);
  for await (const { lo, count, encoded } of simulateEncodedBallotChunks(election, options)) {
    const appended = store.appendEncoded(encoded);
    if (appended !== count) {
      throw new InvalidInputError(
        `Simulated voters ${lo + 1}..${lo + count} came back as ${appended} ballots`,
      );
    }
  }
  return ballotStoreChunks(store);
}

interface BenchFlags {
  ballots: number;
  trustees: number;
  threshold: number;
  mixers: number;
  workers?: number;
  json?: boolean;
  progress?: boolean;
}

/** `panoramix vote bench --ballots N`: time per phase of a whole election. */
export const voteBenchCommand = buildCommand({
  async func(this: CliContext, flags: BenchFlags) {
    const definition = createElectionDefinition({
      id: "bench",
      trustees: flags.trustees,
      threshold: flags.threshold,
      mixers: flags.mixers,
      questions: [{ text: "Which option?", choices: ["A", "B", "C", "D", "E"] }],
    });
    const workers = flags.workers ?? workerCount();
    const progress = terminalProgress(this.stderr, flags.progress ?? this.stderr.isTerminal);
    const log = (text: string) => void this.stderr.write(text);
    // Process CPU time (all threads, workers included) per phase, and the peak resident
    // memory sampled every 200 ms (issue 17: scaling and memory on a shared machine).
    const cpuSeconds: Record<string, number> = {};
    let cpuMark = process.cpuUsage();
    // The main thread's CPU seconds per phase: what did not run on the workers.
    const mainThreadSeconds: Record<string, number> = {};
    let mainMark = mainThreadCpuSeconds();
    // Resident memory, this thread's JS heap and its external (ArrayBuffer) memory when each
    // phase ends (MB), to see what holds it.
    const memoryMB: Record<string, { rss: number; heap: number; external: number }> = {};
    // The peak resident memory and main-thread heap sampled during each phase (MB).
    const phasePeakMB: Record<string, { rss: number; heap: number }> = {};
    let phasePeakRss = 0;
    let phasePeakHeap = 0;
    const cpuPhase = (name: string) => {
      const used = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      cpuSeconds[name] = Number(((used.user + used.system) / 1e6).toFixed(2));
      const main = mainThreadCpuSeconds();
      if (main !== undefined && mainMark !== undefined) {
        mainThreadSeconds[name] = Number((main - mainMark).toFixed(2));
      }
      mainMark = main;
      const memory = process.memoryUsage();
      phasePeakMB[name] = {
        rss: Math.round(Math.max(phasePeakRss, memory.rss) / 1e6),
        heap: Math.round(Math.max(phasePeakHeap, memory.heapUsed) / 1e6),
      };
      phasePeakRss = 0;
      phasePeakHeap = 0;
      memoryMB[name] = {
        rss: Math.round(memory.rss / 1e6),
        heap: Math.round(memory.heapUsed / 1e6),
        external: Math.round(memory.external / 1e6),
      };
    };
    let peakRss = process.memoryUsage.rss();
    // And the main thread's JS heap (against V8's heap limit, about 4.4 GB by default here).
    let peakHeap = 0;
    let spool: Spool | undefined;
    const sampler = setInterval(() => {
      const memory = process.memoryUsage();
      peakRss = Math.max(peakRss, memory.rss);
      peakHeap = Math.max(peakHeap, memory.heapUsed);
      phasePeakRss = Math.max(phasePeakRss, memory.rss);
      phasePeakHeap = Math.max(phasePeakHeap, memory.heapUsed);
    }, 500);
    try {
      log(
        `vote bench: ${flags.ballots} ballots, ${flags.mixers} mixers, ${flags.threshold}-of-${flags.trustees} trustees, ${workers} worker(s)\n`,
      );
      // The workers start (and load their module) before the clock of the first phase: a
      // one-off cost of the process, reported on its own.
      const started = performance.now();
      await startWorkers(workers);
      const workerStartSeconds = Number(((performance.now() - started) / 1000).toFixed(2));
      cpuPhase("start workers");
      log(`  start workers: ${workerStartSeconds} s\n`);
      // Every O(N) list of the run, and the transcript, in files of a spool (a temporary
      // folder): the process holds a few chunks, not the election (issue 17).
      const files = spool = await Spool.create();
      const run = await runLocalElectionRecords(definition, {
        workers,
        onProgress: progress.report,
        ballots: (e) =>
          simulatedBallotsFile(files, e, {
            count: flags.ballots,
            workers,
            onChunk: (done, total) => progress.report({ phase: "encrypt ballots", done, total }),
          }),
        store: FileBallotStore.inSpool(files, electionFingerprint(definition)),
        sinks: files.sinks,
        receipts: false,
        onPhase: (phase, ms) => {
          cpuPhase(phase);
          const main = mainThreadSeconds[phase];
          log(
            `  ${phase}: ${seconds(ms)} s (cpu ${cpuSeconds[phase]!.toFixed(2)} s${
              main === undefined ? "" : `, main thread ${main.toFixed(2)} s`
            })\n`,
          );
        },
      });
      const { times } = run;
      const tallyCounts = run.transcript.tally.questions[0]!.counts;
      let t = performance.now();
      // The transcript goes to a file and is verified from it, read in place (issue 17).
      const transcriptPath = `${files.dir}/transcript.msgpack`;
      const transcriptBytes = (await writeTranscriptFile(transcriptPath, run.transcript, true))!;
      times["write transcript"] = performance.now() - t;
      cpuPhase("write transcript");
      t = performance.now();
      const opened = await openElectionTranscriptFile(transcriptPath);
      times["read transcript"] = performance.now() - t;
      cpuPhase("read transcript");
      t = performance.now();
      let mark = t;
      const verifySteps: Record<string, number> = {};
      try {
        await verifyElectionRecords(opened.transcript, {
          workers,
          store: FileBallotStore.inSpool(files, opened.transcript.fingerprint),
          sinks: files.sinks,
          onProgress: (e) => {
            progress.report(e);
            if (e.done !== e.total) return;
            const now = performance.now();
            verifySteps[e.phase] = Number(((now - mark) / 1000).toFixed(2));
            mark = now;
          },
        });
      } finally {
        opened.close();
      }
      times["verify"] = performance.now() - t;
      cpuPhase("verify");
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      await progress.done();
      const election = Object.entries(times)
        .filter(([p]) => p !== "encrypt ballots")
        .reduce((a, [, ms]) => a + ms, 0);
      const report = {
        ballots: flags.ballots,
        mixers: flags.mixers,
        trustees: `${flags.threshold}-of-${flags.trustees}`,
        workers,
        workerStartSeconds,
        transcriptBytes,
        seconds: Object.fromEntries(
          Object.entries(times).map(([p, ms]) => [p, Number((ms / 1000).toFixed(2))]),
        ),
        verifySteps,
        // Process CPU seconds per phase (all threads); wall seconds above.
        cpuSeconds,
        // CPU seconds of the main thread per phase (Linux): the part not on the workers.
        mainThreadSeconds,
        peakRssMB: Math.round(peakRss / 1e6),
        peakHeapMB: Math.round(peakHeap / 1e6),
        memoryMB,
        phasePeakMB,
        // Everything but the voters' own encryption (done on their devices).
        electionSeconds: Number((election / 1000).toFixed(2)),
        tally: tallyCounts,
      };
      if (flags.json) {
        await this.stdout.write(JSON.stringify(report) + "\n");
        return;
      }
      const lines = Object.entries(report.seconds).map(([p, s]) =>
        `  ${p.padEnd(18)} ${s.toFixed(2).padStart(9)} s  cpu ${
          (cpuSeconds[p] ?? 0).toFixed(2).padStart(9)
        } s${
          mainThreadSeconds[p] === undefined
            ? ""
            : `  main thread ${mainThreadSeconds[p]!.toFixed(2).padStart(8)} s`
        }`
      );
      // Each verification step under "verify".
      for (const [p, s] of Object.entries(verifySteps)) {
        lines.push(`    ${p.padEnd(28)} ${s.toFixed(2).padStart(9)} s`);
      }
      await this.stdout.write(
        `vote bench: ${flags.ballots} ballots through ${flags.mixers} mixers, ${report.trustees} trustees, ${workers} worker(s)\n` +
          lines.join("\n") +
          `\n  election total     ${
            report.electionSeconds.toFixed(2).padStart(9)
          } s (all phases except voters' encryption)\n` +
          `  transcript         ${(transcriptBytes / 1e6).toFixed(1)} MB; tally ${
            report.tally.join(" / ")
          }\n` +
          `  peak memory        ${report.peakRssMB} MB resident, ${report.peakHeapMB} MB of main-thread heap (sampled)\n` +
          `  workers started in ${workerStartSeconds.toFixed(2)} s (before the first phase)\n`,
      );
    } finally {
      clearInterval(sampler);
      spool?.close();
      await progress.done();
      closeWorkerPool();
    }
  },
  parameters: {
    flags: {
      ballots: {
        kind: "parsed",
        parse: positiveInteger("--ballots", 10_000_000),
        brief: "Number of ballots N",
      },
      trustees: {
        kind: "parsed",
        parse: positiveInteger("--trustees", 32),
        default: "3",
        brief: "Trustees n",
      },
      threshold: {
        kind: "parsed",
        parse: positiveInteger("--threshold", 32),
        default: "2",
        brief: "Threshold t",
      },
      mixers: {
        kind: "parsed",
        parse: positiveInteger("--mixers", 16),
        default: "3",
        brief: "Mixers k",
      },
      workers: workersFlag,
      json: { kind: "boolean", optional: true, brief: "Print one JSON object" },
      progress: progressFlag,
    },
  },
  docs: {
    brief: "Benchmark a whole election: time per phase, including full verification",
    fullDescription: "Simulated voters, the box, the mixers' shuffles and proofs, the trustees' " +
      "shares and the tally, then the transcript written to a file and verified from it. Every " +
      "list of the run is kept in a spool folder under $TMPDIR (about 2.5 KB a ballot, removed at " +
      "the end or on Ctrl-C), so memory stays about 1 GB even at 1,000,000 ballots. Prints wall " +
      "time, CPU time and main-thread CPU time per phase and the peak memory (--json for scripts).",
  },
});
