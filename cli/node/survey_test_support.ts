/**
 * Test networks for the survey collector: a board, a 3-mixer decryption cascade and
 * a collector node configured with surveys. Test and load-script support only.
 *
 * @module
 */

import {
  encodeSphinxCascade,
  encodeSphinxMixerSecret,
  generateSphinxCascade,
  type SphinxCascade,
} from "../../backends/decrypt/mod.ts";
import { toBase64Url } from "../../core/bytes.ts";
import type { SurveyDefinition } from "../../plugins/survey/mod.ts";
import { writeEnvelopeFile } from "../files.ts";
import { writeNodeDir } from "./cluster.ts";
import { generateIdentity, type Identity } from "./identity.ts";
import type { NodeHandle } from "./node.ts";
import { TestNetwork } from "./test_support.ts";

/** A survey to configure on the collector. */
export interface TestSurvey {
  /** The definition. */
  definition: SurveyDefinition;
  /** Round length (default 3600 s). */
  roundSeconds?: number;
  /** Reports per batch (default the survey's minimum). */
  batchReports?: number;
  /** Largest batch. */
  maxBatchReports?: number;
}

/** A running board and cascade, and the written collector directory. */
export interface SurveyTestNetwork {
  /** The in-process network (board, mixers). */
  net: TestNetwork;
  /** The board. */
  board: NodeHandle;
  /** The cascade's public key. */
  cascade: SphinxCascade;
  /** The collector's identity (a board admin). */
  collector: Identity;
  /** The collector's config file (start it in-process or as a process). */
  collectorConfig: string;
}

/**
 * Starts a board and three decrypt mixers in-process and writes a collector node
 * directory (not started) for the given surveys.
 *
 * @param surveys the surveys
 * @param options collector HTTP port (default 0) and poll interval
 * @returns the network
 * @example
 * ```ts ignore
 * const t = await startSurveyNetwork([{ definition }]);
 * const node = await t.net.start({ name: "collector", roles: ["survey"] });
 * ```
 */
export async function startSurveyNetwork(
  surveys: readonly TestSurvey[],
  options: { httpPort?: number; pollIntervalMs?: number; payloadSize?: number } = {},
): Promise<SurveyTestNetwork> {
  const net = await TestNetwork.create();
  const keys = generateSphinxCascade({ mixers: 3, payloadSize: options.payloadSize ?? 256 });
  const collector = generateIdentity();
  const { board, mixers } = await net.startCascade({
    admins: [toBase64Url(collector.publicKey)],
    mixKeys: (i) => ({ decrypt: encodeSphinxMixerSecret(keys.secrets[i]!) }),
  });
  const dir = `${net.root}/collector`;
  const { configPath } = await writeNodeDir(dir, {
    name: "collector",
    roles: ["survey"],
    boardUrl: board.url,
    identity: collector,
    httpPort: options.httpPort ?? 0,
  });
  await writeEnvelopeFile(`${dir}/cascade.pub.json`, encodeSphinxCascade(keys.cascade), {
    overwrite: true,
  });
  const config = JSON.parse(await Deno.readTextFile(configPath));
  config.survey = {
    pollIntervalMs: options.pollIntervalMs ?? 50,
    surveys: await Promise.all(surveys.map(async (s, i) => {
      await Deno.writeTextFile(`${dir}/survey${i}.json`, JSON.stringify(s.definition));
      return {
        definition: `survey${i}.json`,
        cascade: "cascade.pub.json",
        mixers: mixers.map((m) => toBase64Url(m.identity.publicKey)),
        roundSeconds: s.roundSeconds ?? 3600,
        batchReports: s.batchReports ?? 0,
        maxBatchReports: s.maxBatchReports ?? 0,
      };
    })),
  };
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
  net.configs.set("collector", configPath);
  return { net, board, cascade: keys.cascade, collector, collectorConfig: configPath };
}
