/**
 * Node descriptors and topologies. A descriptor is what a node publishes about
 * itself (identity, roles, addresses, Sphinx epoch keys), signed by its identity.
 * A topology is the directory's signed list of current descriptors; clients verify
 * the directory's signature and each descriptor's signature.
 *
 * @module
 */

import { type Envelope, readEnvelope } from "../../core/envelope.ts";
import { readArray, readBytes, readInteger, readRecord, readString } from "../../core/fields.ts";
import { labelledDigest } from "../../core/transcript.ts";
import {
  type Identity,
  NODE_ID_SIZE,
  numberPart,
  SIGNATURE_SIZE,
  SIGNING_LABELS,
  signParts,
  textPart,
  verifyParts,
} from "./identity.ts";

/** A Sphinx key published for one epoch. */
export interface EpochKey {
  /** Epoch number (floor(time / epoch length)). */
  epoch: number;
  /** Key id carried in packet framing (epoch mod 256). */
  keyId: number;
  /** X25519 public key (32 bytes). */
  publicKey: Uint8Array;
  /** Start of validity, ms since the epoch. */
  validFrom: number;
  /** End of validity (epoch end plus overlap), ms since the epoch. */
  validUntil: number;
}

/** A Privacy Pass issuer key published for one epoch (issuer role). */
export interface PublishedTokenKey {
  /** Issuer name its challenges carry. */
  issuerName: string;
  /** Token type (1 VOPRF, 2 blind RSA). */
  type: number;
  /** Epoch number of the issuer. */
  epoch: number;
  /** Encoded public key (RFC 9578 §5.5 / §6.5); its SHA-256 is the token key id. */
  publicKey: Uint8Array;
  /** Start of the epoch, ms since 1970. */
  validFrom: number;
  /** End of the epoch, ms since 1970. */
  validUntil: number;
}

/** What a node publishes about itself. */
export interface NodeDescriptor {
  /** Node name. */
  name: string;
  /** Identity key = node id. */
  identity: Uint8Array;
  /** Roles it runs. */
  roles: string[];
  /** HTTP API URL. */
  httpUrl: string;
  /** Sphinx TCP address host:port ("" when not a Sphinx mix). */
  sphinxAddress: string;
  /** Sphinx epoch keys, current and next. */
  epochKeys: EpochKey[];
  /** When the descriptor was made, ms since the epoch. */
  time: number;
  /** Privacy Pass issuer keys, current and next epoch (issuer role only). */
  tokenKeys?: PublishedTokenKey[];
  /** Identity signature. */
  signature: Uint8Array;
}

function descriptorParts(d: Omit<NodeDescriptor, "signature">): Uint8Array[] {
  const parts = [
    textPart(d.name),
    d.identity,
    textPart(d.roles.join(",")),
    textPart(d.httpUrl),
    textPart(d.sphinxAddress),
    numberPart(d.epochKeys.length),
  ];
  for (const k of d.epochKeys) {
    parts.push(
      numberPart(k.epoch),
      numberPart(k.keyId),
      k.publicKey,
      numberPart(k.validFrom),
      numberPart(k.validUntil),
    );
  }
  parts.push(numberPart(d.time));
  // Token keys are signed only when present, so descriptors without them keep their encoding.
  if (d.tokenKeys && d.tokenKeys.length > 0) {
    parts.push(textPart("tokenKeys"), numberPart(d.tokenKeys.length));
    for (const k of d.tokenKeys) {
      parts.push(
        textPart(k.issuerName),
        numberPart(k.type),
        numberPart(k.epoch),
        k.publicKey,
        numberPart(k.validFrom),
        numberPart(k.validUntil),
      );
    }
  }
  return parts;
}

/**
 * Signs a descriptor.
 *
 * @param identity the node identity
 * @param fields everything but identity and signature
 * @returns the signed descriptor
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { signDescriptor, verifyDescriptor } from "./descriptor.ts";
 * const d = signDescriptor(generateIdentity(), { name: "n", roles: [], httpUrl: "", sphinxAddress: "", epochKeys: [], time: 1 });
 * verifyDescriptor(d);
 * ```
 */
export function signDescriptor(
  identity: Identity,
  fields: Omit<NodeDescriptor, "signature" | "identity">,
): NodeDescriptor {
  const unsigned = { ...fields, identity: identity.publicKey };
  const signature = signParts(identity, {
    label: SIGNING_LABELS.descriptor,
    parts: descriptorParts(unsigned),
  });
  return { ...unsigned, signature };
}

/**
 * Checks a descriptor's signature.
 *
 * @param d the descriptor
 * @throws {VerificationError} when it does not verify
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { signDescriptor, verifyDescriptor } from "./descriptor.ts";
 * verifyDescriptor(signDescriptor(generateIdentity(), { name: "n", roles: [], httpUrl: "", sphinxAddress: "", epochKeys: [], time: 1 }));
 * ```
 */
export function verifyDescriptor(d: NodeDescriptor): void {
  verifyParts(d.identity, {
    label: SIGNING_LABELS.descriptor,
    parts: descriptorParts(d),
    signature: d.signature,
    what: `descriptor of node '${d.name}'`,
  });
}

/**
 * Encodes a descriptor as an envelope.
 *
 * @param d the descriptor
 * @returns the envelope
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { descriptorToEnvelope, signDescriptor } from "./descriptor.ts";
 * const d = signDescriptor(generateIdentity(), { name: "n", roles: [], httpUrl: "", sphinxAddress: "", epochKeys: [], time: 1 });
 * console.assert(descriptorToEnvelope(d).kind === "node.descriptor");
 * ```
 */
export function descriptorToEnvelope(d: NodeDescriptor): Envelope {
  return {
    v: 1,
    kind: "node.descriptor",
    ...d,
    epochKeys: d.epochKeys.map((k) => ({ ...k })),
    ...(d.tokenKeys ? { tokenKeys: d.tokenKeys.map((k) => ({ ...k })) } : {}),
  };
}

/**
 * Decodes a descriptor envelope (does not check the signature).
 *
 * @param value decoded value
 * @param what names it in errors
 * @returns the descriptor
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { descriptorToEnvelope, readDescriptor, signDescriptor } from "./descriptor.ts";
 * const d = signDescriptor(generateIdentity(), { name: "n", roles: [], httpUrl: "", sphinxAddress: "", epochKeys: [], time: 1 });
 * console.assert(readDescriptor(descriptorToEnvelope(d), "d").name === "n");
 * ```
 */
export function readDescriptor(value: unknown, what: string): NodeDescriptor {
  const env = readEnvelope(value, "node.descriptor", { what });
  return {
    name: readString(env.name, `${what}.name`).slice(0, 200),
    identity: readBytes(env.identity, `${what}.identity`, { length: NODE_ID_SIZE }),
    roles: readArray(env.roles, `${what}.roles`, { maxLength: 8 }).map((r, i) =>
      readString(r, `${what}.roles[${i}]`)
    ),
    httpUrl: readString(env.httpUrl, `${what}.httpUrl`),
    sphinxAddress: readString(env.sphinxAddress, `${what}.sphinxAddress`),
    epochKeys: readArray(env.epochKeys, `${what}.epochKeys`, { maxLength: 8 }).map((k, i) => {
      const w = `${what}.epochKeys[${i}]`;
      const r = readRecord(k, w);
      return {
        epoch: readInteger(r.epoch, `${w}.epoch`),
        keyId: readInteger(r.keyId, `${w}.keyId`, { max: 255 }),
        publicKey: readBytes(r.publicKey, `${w}.publicKey`, { length: 32 }),
        validFrom: readInteger(r.validFrom, `${w}.validFrom`),
        validUntil: readInteger(r.validUntil, `${w}.validUntil`),
      };
    }),
    time: readInteger(env.time, `${what}.time`),
    ...(env.tokenKeys === undefined || env.tokenKeys === null
      ? {}
      : { tokenKeys: readTokenKeys(env.tokenKeys, `${what}.tokenKeys`) }),
    signature: readBytes(env.signature, `${what}.signature`, { length: SIGNATURE_SIZE }),
  };
}

function readTokenKeys(value: unknown, what: string): PublishedTokenKey[] {
  return readArray(value, what, { maxLength: 8 }).map((k, i) => {
    const w = `${what}[${i}]`;
    const r = readRecord(k, w);
    return {
      issuerName: readString(r.issuerName, `${w}.issuerName`).slice(0, 255),
      type: readInteger(r.type, `${w}.type`, { max: 0xffff }),
      epoch: readInteger(r.epoch, `${w}.epoch`),
      publicKey: readBytes(r.publicKey, `${w}.publicKey`, { maxLength: 1024 }),
      validFrom: readInteger(r.validFrom, `${w}.validFrom`),
      validUntil: readInteger(r.validUntil, `${w}.validUntil`),
    };
  });
}

/** A directory-signed list of descriptors. */
export interface Topology {
  /** Directory identity key. */
  directory: Uint8Array;
  /** When it was made, ms since the epoch. */
  time: number;
  /** Current descriptors. */
  nodes: NodeDescriptor[];
  /** Directory signature. */
  signature: Uint8Array;
}

function topologyParts(t: Omit<Topology, "signature">): Uint8Array[] {
  return [
    t.directory,
    numberPart(t.time),
    numberPart(t.nodes.length),
    // Each descriptor is bound by the digest of its own signed parts and signature.
    ...t.nodes.map((d) =>
      labelledDigest(SIGNING_LABELS.descriptor, [...descriptorParts(d), d.signature])
    ),
  ];
}

/**
 * Signs a topology.
 *
 * @param identity the directory identity
 * @param fields time and nodes
 * @returns the topology
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { signTopology, verifyTopology } from "./descriptor.ts";
 * const dir = generateIdentity();
 * verifyTopology(signTopology(dir, { time: 1, nodes: [] }), dir.publicKey);
 * ```
 */
export function signTopology(
  identity: Identity,
  fields: { time: number; nodes: NodeDescriptor[] },
): Topology {
  const unsigned = { directory: identity.publicKey, ...fields };
  return {
    ...unsigned,
    signature: signParts(identity, {
      label: SIGNING_LABELS.topology,
      parts: topologyParts(unsigned),
    }),
  };
}

/**
 * Verifies a topology and every descriptor in it.
 *
 * @param t the topology
 * @param directoryKey the expected directory identity (undefined = accept the one inside)
 * @throws {VerificationError} when any signature fails or the directory is not the expected one
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { signTopology, verifyTopology } from "./descriptor.ts";
 * const dir = generateIdentity();
 * verifyTopology(signTopology(dir, { time: 1, nodes: [] }), dir.publicKey);
 * ```
 */
export function verifyTopology(t: Topology, directoryKey: Uint8Array | undefined): void {
  verifyParts(directoryKey ?? t.directory, {
    label: SIGNING_LABELS.topology,
    parts: topologyParts(t),
    signature: t.signature,
    what: "topology",
  });
  for (const d of t.nodes) verifyDescriptor(d);
}

/**
 * Encodes a topology as an envelope.
 *
 * @param t the topology
 * @returns the envelope
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { signTopology, topologyToEnvelope } from "./descriptor.ts";
 * console.assert(topologyToEnvelope(signTopology(generateIdentity(), { time: 1, nodes: [] })).kind === "node.topology");
 * ```
 */
export function topologyToEnvelope(t: Topology): Envelope {
  return { v: 1, kind: "node.topology", ...t, nodes: t.nodes.map(descriptorToEnvelope) };
}

/**
 * Decodes a topology envelope (does not check signatures).
 *
 * @param value decoded value
 * @param what names it in errors
 * @returns the topology
 * @throws {InvalidInputError} naming the malformed field
 * @example
 * ```ts
 * import { generateIdentity } from "./identity.ts";
 * import { readTopology, signTopology, topologyToEnvelope } from "./descriptor.ts";
 * const t = topologyToEnvelope(signTopology(generateIdentity(), { time: 1, nodes: [] }));
 * console.assert(readTopology(t, "t").nodes.length === 0);
 * ```
 */
export function readTopology(value: unknown, what: string): Topology {
  const env = readEnvelope(value, "node.topology", { what });
  return {
    directory: readBytes(env.directory, `${what}.directory`, { length: NODE_ID_SIZE }),
    time: readInteger(env.time, `${what}.time`),
    nodes: readArray(env.nodes, `${what}.nodes`, { maxLength: 10_000 }).map((n, i) =>
      readDescriptor(n, `${what}.nodes[${i}]`)
    ),
    signature: readBytes(env.signature, `${what}.signature`, { length: SIGNATURE_SIZE }),
  };
}
