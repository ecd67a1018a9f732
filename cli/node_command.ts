/**
 * `panoramix node`: the mix node daemon. Subcommands `init` (config and key files),
 * `run` (start the daemon), `info` (print the node descriptor) and `selftest`
 * (measure this machine). See docs/node.md.
 *
 * @module
 */

import { buildCommand, buildRouteMap, numberParser } from "@stricli/core";
import { toBase64Url } from "../core/bytes.ts";
import { toJsonView } from "../core/envelope.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import { backendByName } from "./backends.ts";
import type { CliContext } from "./context.ts";
import { writeEnvelopeFile } from "./files.ts";
import {
  defaultConfig,
  loadConfig,
  NODE_ROLES,
  type NodeRole,
  publicKeyMixingAdvice,
  renderConfig,
} from "./node/config.ts";
import { descriptorToEnvelope, signDescriptor } from "./node/descriptor.ts";
import { generateIdentity, identityToEnvelope } from "./node/identity.ts";
import { loadIdentity, startNode } from "./node/node.ts";
import { runSelftest } from "./node/selftest.ts";
import { sphinxService } from "./node/sphinx_mix.ts";
import { nodeIdentityCommand } from "./job_command.ts";

interface InitFlags {
  dir: string;
  name?: string;
  roles: string;
  httpListen?: string;
  sphinxListen?: string;
  boardUrl?: string;
  directoryUrl?: string;
  admin?: readonly string[];
  operator?: readonly string[];
  mixKey?: readonly string[];
  force?: boolean;
  json?: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `panoramix node init`: write a config file and key files. */
export const nodeInitCommand = buildCommand({
  async func(this: CliContext, flags: InitFlags) {
    const roles = flags.roles.split(",").map((r) => r.trim()).filter((r) => r !== "");
    for (const r of roles) {
      if (!NODE_ROLES.includes(r as NodeRole)) {
        throw new UsageError(`Role '${r}' is unknown (known roles: ${NODE_ROLES.join(", ")})`);
      }
    }
    const dir = flags.dir.replace(/\/+$/, "") || ".";
    await Deno.mkdir(dir, { recursive: true });
    const configPath = `${dir}/node.json`;
    const identityPath = `${dir}/identity.key.json`;
    const overwrite = flags.force ?? false;
    for (const path of [configPath, identityPath]) {
      if (!overwrite && await exists(path)) {
        throw new ConfigError(`File '${path}' already exists; pass --force to replace it`);
      }
    }
    const config = defaultConfig();
    config.name = flags.name ?? `node-${crypto.randomUUID().slice(0, 8)}`;
    config.roles = roles as NodeRole[];
    if (flags.httpListen) config.httpListen = flags.httpListen;
    if (flags.sphinxListen) config.sphinx.listen = flags.sphinxListen;
    if (flags.boardUrl) config.boardUrl = flags.boardUrl;
    if (flags.directoryUrl) config.directoryUrl = flags.directoryUrl;
    config.board.admins = [...(flags.admin ?? [])];
    config.directory.operators = [...(flags.operator ?? [])];
    // Issue 11 §4: a directory without operator keys is a test network, said loudly.
    const openDirectory = roles.includes("directory") && config.directory.operators.length === 0;
    config.directory.openRegistration = openDirectory;
    const identity = generateIdentity();
    const files = [configPath, identityPath];
    for (const name of flags.mixKey ?? []) {
      const advice = publicKeyMixingAdvice(name);
      if (advice) throw new UsageError(`Flag '--mix-key ${name}': ${advice}`);
      const backend = backendByName(name);
      const keys = await backend.generateKeys();
      const secret = `mix-${name}.secret.json`;
      const pub = `mix-${name}.public.json`;
      await writeEnvelopeFile(`${dir}/${secret}`, keys.secretKey, { secret: true, overwrite });
      await writeEnvelopeFile(`${dir}/${pub}`, keys.publicKey, { overwrite });
      config.cascade.mixKeys[name] = secret;
      files.push(`${dir}/${secret}`, `${dir}/${pub}`);
    }
    await writeEnvelopeFile(identityPath, identityToEnvelope(identity), {
      secret: true,
      overwrite,
    });
    // Validate what we are about to write exactly as `run` will read it.
    const text = renderConfig(config);
    await Deno.writeTextFile(configPath, text, { createNew: !overwrite, mode: 0o644 });
    await loadConfig(configPath);
    if (openDirectory) {
      await this.stderr.write(
        "panoramix: WARNING: this directory has no --operator keys: ANYONE may register nodes " +
          "(directory.openRegistration = true). Use this for test networks only; for a real " +
          "network pass --operator KEY for every operator's node identity.\n",
      );
    }
    const summary = { config: configPath, identity: toBase64Url(identity.publicKey), files };
    await this.stdout.write(
      flags.json ? JSON.stringify(summary) + "\n" : `wrote ${files.join(", ")}\n` +
        `node identity ${summary.identity}\nstart it with: panoramix node run -c ${configPath}\n`,
    );
  },
  parameters: {
    flags: {
      dir: {
        kind: "parsed",
        parse: String,
        default: ".",
        brief: "Directory for node.json and the key files",
      },
      name: { kind: "parsed", parse: String, optional: true, brief: "Node name" },
      roles: {
        kind: "parsed",
        parse: String,
        default: "cascade",
        brief: "Comma-separated roles: board, directory, cascade, sphinx, survey, issuer, provider",
      },
      httpListen: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "HTTP listen host:port (default 127.0.0.1:8470)",
      },
      sphinxListen: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Sphinx TCP listen host:port (default 127.0.0.1:8471)",
      },
      boardUrl: { kind: "parsed", parse: String, optional: true, brief: "Bulletin board URL" },
      directoryUrl: { kind: "parsed", parse: String, optional: true, brief: "Directory URL" },
      admin: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "Board admin identity key (base64url); repeatable",
      },
      operator: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief:
          "Node identity key (base64url) allowed to register with this directory; repeatable " +
          "(none = open registration, test networks only)",
      },
      mixKey: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "Generate a mixing key pair for this backend and use it; repeatable",
      },
      force: { kind: "boolean", optional: true, brief: "Replace existing files" },
      json: { kind: "boolean", optional: true, brief: "Print the result as JSON" },
    },
  },
  docs: {
    brief: "Write a node config (node.json) and key files (mode 0600)",
    fullDescription: "Writes DIR/node.json with every option, its default and a `_comments` map " +
      "explaining each, and DIR/identity.key.json (Ed25519 identity, mode 0600). " +
      "Refuses to overwrite existing files without --force.",
  },
});

interface RunFlags {
  config: string;
  readyFile?: string;
}

/** `panoramix node run -c FILE`: start the daemon until SIGINT or SIGTERM. */
export const nodeRunCommand = buildCommand({
  async func(this: CliContext, flags: RunFlags) {
    const config = await loadConfig(flags.config);
    const node = await startNode(config, {
      sphinx: sphinxService,
    });
    const stop = () => void node.stop();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    if (flags.readyFile) {
      const tmp = `${flags.readyFile}.tmp`;
      await Deno.writeTextFile(
        tmp,
        JSON.stringify({
          url: node.url,
          sphinxAddress: node.sphinxAddress,
          identity: toBase64Url(node.identity.publicKey),
          pid: Deno.pid,
        }) + "\n",
      );
      await Deno.rename(tmp, flags.readyFile);
    }
    await node.finished;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    // Everything is drained and committed. Should a leaked handle keep the event loop alive,
    // exit after a grace period anyway, and say so (it is a bug to report).
    const timer = setTimeout(() => {
      console.error(JSON.stringify({
        time: new Date().toISOString(),
        level: "warn",
        event: "forced_exit",
        message: "The runtime was still busy 2 s after a clean stop; exiting",
      }));
      Deno.exit(0);
    }, 2000);
    Deno.unrefTimer(timer);
  },
  parameters: {
    flags: {
      config: { kind: "parsed", parse: String, brief: "Config file (node.json)" },
      readyFile: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Write {url, sphinxAddress, identity, pid} as JSON here once listening",
      },
    },
    aliases: { c: "config" },
  },
  docs: {
    brief: "Run the node daemon (stops gracefully on SIGINT/SIGTERM)",
    fullDescription: "Starts the roles in the config. Logs are JSON lines on stderr; " +
      "metrics at GET /metrics; the descriptor at GET /v1/info.",
  },
});

/** `panoramix node info -c FILE`: print the node's signed descriptor. */
export const nodeInfoCommand = buildCommand({
  async func(this: CliContext, flags: { config: string; json?: boolean }) {
    const config = await loadConfig(flags.config);
    const identity = await loadIdentity(config.identityKeyFile);
    const descriptor = signDescriptor(identity, {
      name: config.name,
      roles: config.roles,
      httpUrl: config.publicUrl || `http://${config.httpListen}`,
      sphinxAddress: config.roles.includes("sphinx")
        ? config.sphinx.publicAddress || config.sphinx.listen
        : "",
      epochKeys: [],
      time: Date.now(),
    });
    if (flags.json) {
      await this.stdout.write(JSON.stringify(toJsonView(descriptorToEnvelope(descriptor))) + "\n");
      return;
    }
    await this.stdout.write(
      [
        `name      ${descriptor.name}`,
        `identity  ${toBase64Url(descriptor.identity)}`,
        `roles     ${descriptor.roles.join(", ")}`,
        `http      ${descriptor.httpUrl}`,
        ...(descriptor.sphinxAddress ? [`sphinx    ${descriptor.sphinxAddress}`] : []),
        `data      ${config.dataDir}`,
      ].join("\n") + "\n",
    );
  },
  parameters: {
    flags: {
      config: { kind: "parsed", parse: String, brief: "Config file (node.json)" },
      json: { kind: "boolean", optional: true, brief: "Print the signed descriptor as JSON" },
    },
    aliases: { c: "config" },
  },
  docs: { brief: "Print the node's descriptor (identity, roles, addresses)" },
});

/** `panoramix node selftest`: measure unwraps/s and signatures/s on this machine. */
export const nodeSelftestCommand = buildCommand({
  async func(this: CliContext, flags: { json?: boolean; seconds: number }) {
    if (!(flags.seconds > 0 && flags.seconds <= 60)) {
      throw new UsageError(`Duration '${flags.seconds}' must be between 0 and 60 seconds`);
    }
    const result = await runSelftest({ seconds: flags.seconds });
    if (flags.json) {
      await this.stdout.write(JSON.stringify(result) + "\n");
      return;
    }
    await this.stdout.write(
      [
        `sphinx unwraps/s      ${
          result.sphinxUnwrapsPerSecond.toFixed(0)
        } (payload ${result.payloadSize} B, ${result.x25519})`,
        `ed25519 signs/s       ${result.signaturesPerSecond.toFixed(0)}`,
        `ed25519 verifies/s    ${result.verificationsPerSecond.toFixed(0)}`,
        `sqlite commits/s      ${result.commitsPerSecond.toFixed(0)} (synchronous=FULL, WAL)`,
      ].join("\n") + "\n",
    );
  },
  parameters: {
    flags: {
      json: { kind: "boolean", optional: true, brief: "Print the figures as JSON" },
      seconds: {
        kind: "parsed",
        parse: numberParser,
        default: "1",
        brief: "Seconds to spend on each measurement",
      },
    },
  },
  docs: { brief: "Measure Sphinx unwraps/s, signatures/s and commits/s on this machine" },
});

/** The `panoramix node` route map: init, run, info, selftest. */
export const nodeRoutes = buildRouteMap({
  routes: {
    init: nodeInitCommand,
    run: nodeRunCommand,
    info: nodeInfoCommand,
    selftest: nodeSelftestCommand,
    identity: nodeIdentityCommand,
  },
  docs: {
    brief: "Run a mix node: Sphinx mix, cascade mixer, bulletin board, directory",
    fullDescription: "Sysadmins run `panoramix node` on each machine of a mix network. " +
      "`init` writes the config and keys, `run` starts the daemon, `info` prints the " +
      "descriptor, `selftest` measures this machine. See docs/node.md.",
  },
});
