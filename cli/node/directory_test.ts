/**
 * The directory cannot be filled by outsiders (issue 11 §4): operator keys are required
 * outside test networks, descriptors dated in the future are refused, and the number of
 * descriptors held is capped so a topology stays readable.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { ConfigError } from "../../core/errors.ts";
import { runInMemory } from "../test_context.ts";
import { parseConfig } from "./config.ts";
import { signDescriptor } from "./descriptor.ts";
import { checkDirectoryOperators, Directory } from "./directory.ts";
import { generateIdentity } from "./identity.ts";
import { silentLogger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { Store } from "./storage.ts";

function directory(
  store: Store,
  options: { maxNodes?: number; operators?: Uint8Array[] } = {},
): Directory {
  return new Directory({
    store,
    identity: generateIdentity(),
    operators: options.operators ?? [],
    ttlSeconds: 3600,
    maxNodes: options.maxNodes ?? 1000,
    skewSeconds: 120,
    logger: silentLogger,
    metrics: new MetricsRegistry(),
  });
}

function descriptor(time: number, identity = generateIdentity()) {
  return signDescriptor(identity, {
    name: "n",
    roles: ["sphinx"],
    httpUrl: "http://127.0.0.1:1",
    sphinxAddress: "",
    epochKeys: [],
    time,
  });
}

Deno.test("a descriptor dated in the year 2200 is refused and never enters the topology", async () => {
  const store = new Store(":memory:");
  try {
    const dir = directory(store);
    const future = descriptor(Date.UTC(2200, 0, 1));
    await assert.rejects(dir.register(future, future.identity), /in the future/);
    const skewed = descriptor(Date.now() + 60_000); // within the 120 s skew: accepted
    await dir.register(skewed, skewed.identity);
    assert.equal(dir.topology().nodes.length, 1);
  } finally {
    store.close();
  }
});

Deno.test("the directory holds at most directory.maxNodes; refreshes still pass", async () => {
  const store = new Store(":memory:");
  try {
    const dir = directory(store, { maxNodes: 5 });
    const ids = Array.from({ length: 5 }, () => generateIdentity());
    for (const id of ids) await dir.register(descriptor(Date.now(), id), id.publicKey);
    const extra = descriptor(Date.now());
    await assert.rejects(
      dir.register(extra, extra.identity),
      (e: { status?: number }) => e.status === 503,
    );
    const refresh = descriptor(Date.now() + 1, ids[0]!);
    await dir.register(refresh, refresh.identity);
    assert.equal(dir.topology().nodes.length, 5);
  } finally {
    store.close();
  }
});

Deno.test("a directory without operators refuses to start unless it is a test network", () => {
  const closed = parseConfig({ roles: ["directory"] }, "/tmp");
  assert.throws(() => checkDirectoryOperators(closed, silentLogger), ConfigError);
  const warnings: string[] = [];
  const logger = {
    ...silentLogger,
    log: (_level: string, event: string) => void warnings.push(event),
  };
  const open = parseConfig({ roles: ["directory"], directory: { openRegistration: true } }, "/");
  checkDirectoryOperators(open, logger as typeof silentLogger);
  assert.deepEqual(warnings, ["directory_open_registration"]);
  const key = toBase64Url(generateIdentity().publicKey);
  const real = parseConfig({ roles: ["directory"], directory: { operators: [key] } }, "/");
  checkDirectoryOperators(real, silentLogger);
});

Deno.test("node init --operator sets the operators; without it a directory is open, loudly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = toBase64Url(generateIdentity().publicKey);
    const withKey = await runInMemory([
      "node",
      "init",
      "--dir",
      `${dir}/a`,
      "--roles",
      "directory",
      "--operator",
      key,
    ]);
    assert.equal(withKey.status, 0, withKey.stderr);
    assert.doesNotMatch(withKey.stderr, /WARNING/);
    const a = JSON.parse(await Deno.readTextFile(`${dir}/a/node.json`));
    assert.deepEqual(a.directory.operators, [key]);
    assert.equal(a.directory.openRegistration, false);
    const open = await runInMemory(["node", "init", "--dir", `${dir}/b`, "--roles", "directory"]);
    assert.equal(open.status, 0, open.stderr);
    assert.match(open.stderr, /WARNING: .*ANYONE may register/);
    const b = JSON.parse(await Deno.readTextFile(`${dir}/b/node.json`));
    assert.equal(b.directory.openRegistration, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with operators set, only a listed operator's node registers; each holds one entry", async () => {
  const store = new Store(":memory:");
  try {
    const operator = generateIdentity();
    const dir = directory(store, { operators: [operator.publicKey] });
    await dir.register(descriptor(Date.now(), operator), operator.publicKey);
    const outsider = descriptor(Date.now());
    await assert.rejects(
      dir.register(outsider, outsider.identity),
      (e: { status?: number; message?: string }) =>
        e.status === 403 && /not an allowed operator/.test(e.message ?? ""),
    );
    // A node registers its own descriptor only, so an operator key holds one entry.
    const stolen = descriptor(Date.now() + 2, operator);
    await assert.rejects(
      dir.register(stolen, generateIdentity().publicKey),
      (e: { status?: number }) => e.status === 403,
    );
    await dir.register(descriptor(Date.now() + 1, operator), operator.publicKey);
    assert.equal(dir.topology().nodes.length, 1);
  } finally {
    store.close();
  }
});

Deno.test("node run of a directory without operators outside a test network exits 5", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const init = await runInMemory(["node", "init", "--dir", dir, "--roles", "directory"]);
    assert.equal(init.status, 0, init.stderr);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/node.json`));
    config.directory.openRegistration = false;
    await Deno.writeTextFile(`${dir}/node.json`, JSON.stringify(config));
    const run = await runInMemory(["node", "run", "-c", `${dir}/node.json`]);
    assert.equal(run.status, 5, run.stderr);
    assert.match(run.stderr, /panoramix: error: .*'directory\.operators' is empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
