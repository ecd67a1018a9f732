/**
 * The one command that creates an Ed25519 identity key file, offered where each
 * audience looks for it (`node identity`, `token id`, `vote trustee keygen`): it writes
 * the secret file (mode 0600) and prints the public key (base64url) on stdout.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { toBase64Url } from "../core/bytes.ts";
import type { CliContext } from "./context.ts";
import { writeEnvelopeFile } from "./files.ts";
import { generateIdentity, identityToEnvelope } from "./node/identity.ts";

/** What each place says about the new identity. */
export interface IdentityCommandDocs {
  /** One-line description for `--help`. */
  brief: string;
  /** Where the printed public key goes next (shown on stderr). */
  next: string;
}

/**
 * Builds an identity-creating command.
 *
 * @param docs the help line and the advice printed after writing the key
 * @returns the stricli command
 * @example
 * ```ts ignore
 * const cmd = identityCommand({ brief: "Create an identity", next: "give it to the board" });
 * ```
 */
export function identityCommand(docs: IdentityCommandDocs) {
  return buildCommand({
    async func(this: CliContext, flags: { out: string; force?: boolean; json?: boolean }) {
      const identity = generateIdentity();
      await writeEnvelopeFile(flags.out, identityToEnvelope(identity), {
        secret: true,
        overwrite: flags.force ?? false,
      });
      const id = toBase64Url(identity.publicKey);
      await this.stdout.write(
        flags.json ? JSON.stringify({ identity: id, file: flags.out }) + "\n" : `${id}\n`,
      );
      await this.stderr.write(
        `wrote identity key to ${flags.out} (mode 0600); its public key is on stdout: ${docs.next}\n`,
      );
    },
    parameters: {
      flags: {
        out: {
          kind: "parsed",
          parse: String,
          brief: "Where to write the identity key file (mode 0600)",
        },
        force: { kind: "boolean", optional: true, brief: "Replace an existing file" },
        json: { kind: "boolean", optional: true, brief: "Print {identity, file} as JSON" },
      },
    },
    docs: {
      brief: docs.brief,
      fullDescription: `Writes a node.identity-secret file (mode 0600) and prints its public ` +
        `key (base64url) on stdout: ${docs.next}. Exit codes: 0 ok, 5 the file exists ` +
        "(use --force).",
    },
  });
}
