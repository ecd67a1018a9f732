/**
 * `panoramix vote …`: a verifiable election from the command line. The commands live in
 * cli/vote/, one file per phase; this module only assembles the route map.
 *
 * Files: the election definition and every public ceremony post are JSON envelopes;
 * a "board" is a directory of public posts (dealings, complaints, answers, the election
 * key); a trustee's "outbox"/"inbox" holds the secret dealt shares sent privately. The
 * ballot box and the transcript are msgpack envelopes (JSON view when the file name
 * ends in `.json`). Progress and diagnostics go to stderr; `--json` prints one JSON
 * object on stdout for scripts.
 *
 * @module
 */

import { buildRouteMap } from "@stricli/core";
import { voteEncryptCommand, voteSubmitCommand } from "./vote/casting_command.ts";
import {
  voteKeyCommand,
  voteTrusteeAnswerCommand,
  voteTrusteeCheckCommand,
  voteTrusteeDealCommand,
  voteTrusteeFinalizeCommand,
} from "./vote/ceremony_command.ts";
import { voteInitCommand } from "./vote/init_command.ts";
import {
  voteCloseCommand,
  voteMixCommand,
  votePublishCommand,
  voteTrusteeDecryptCommand,
  voteTrusteeKeygenCommand,
} from "./vote/board_command.ts";
import { voteBenchCommand, voteRunCommand } from "./vote/run_command.ts";
import { voteTallyCommand } from "./vote/tally_command.ts";
import { voteReceiptCommand, voteVerifyCommand } from "./vote/verify_command.ts";
import { voteServeCommand } from "./vote/serve_command.ts";
import { voteBoothCommand } from "./vote/booth_command.ts";

/** The `panoramix vote` route map. */
export const voteRoutes = buildRouteMap({
  routes: {
    init: voteInitCommand,
    trustee: buildRouteMap({
      routes: {
        deal: voteTrusteeDealCommand,
        check: voteTrusteeCheckCommand,
        answer: voteTrusteeAnswerCommand,
        finalize: voteTrusteeFinalizeCommand,
        keygen: voteTrusteeKeygenCommand,
        decrypt: voteTrusteeDecryptCommand,
      },
      docs: { brief: "Key ceremony steps of one trustee (each writes a file others verify)" },
    }),
    key: voteKeyCommand,
    publish: votePublishCommand,
    close: voteCloseCommand,
    mix: voteMixCommand,
    encrypt: voteEncryptCommand,
    submit: voteSubmitCommand,
    tally: voteTallyCommand,
    run: voteRunCommand,
    verify: voteVerifyCommand,
    receipt: voteReceiptCommand,
    bench: voteBenchCommand,
    serve: voteServeCommand,
    booth: voteBoothCommand,
  },
  docs: {
    brief: "Verifiable elections: define, key ceremony, cast, mix, decrypt, tally, verify",
  },
});
