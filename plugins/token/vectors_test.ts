/**
 * Published test vectors reproduced through our wrapper and the libraries under it:
 * RFC 9578 Appendix A (token types 1 and 2, end to end through beginToken / issueToken /
 * finish / verifyTokenAuthenticator), RFC 9474 Appendix A (blind RSA, through the
 * blindrsa-ts suite our type-2 tokens use) and RFC 9497 Appendix A (VOPRF and OPRF over
 * P-384, through voprf-ts, which our type-1 tokens use). Randomness is replayed from the
 * vectors by serving `crypto.getRandomValues` requests of the vector's lengths.
 * Provenance of the files: testdata/README.md.
 */
import assert from "node:assert/strict";
import { TOKEN_TYPES, TokenChallenge } from "@cloudflare/privacypass-ts";
import { RSABSSA } from "@cloudflare/blindrsa-ts";
import { Oprf, OPRFClient, OPRFServer, VOPRFClient, VOPRFServer } from "@cloudflare/voprf-ts";
import { fromHex, toHex } from "../../core/bytes.ts";
import {
  authorizationHeader,
  beginToken,
  issueToken,
  parseToken,
  readAuthorizationHeader,
  tokenKeyIdOf,
  type TokenSecretKey,
  verifyTokenAuthenticator,
} from "./mod.ts";

const dir = new URL("./testdata/", import.meta.url);
const load = async (name: string) => JSON.parse(await Deno.readTextFile(new URL(name, dir)));
const hex = (s: string) => fromHex(s.replace(/^0x/, ""), "vector");

/** Serves queued bytes to getRandomValues calls of matching length while fn runs. */
async function replayRandom<T>(queue: Uint8Array[], fn: () => Promise<T>): Promise<T> {
  const original = crypto.getRandomValues;
  const pending = [...queue];
  crypto.getRandomValues = (<A extends ArrayBufferView | null>(array: A): A => {
    const next = pending[0];
    if (array instanceof Uint8Array && next && next.length === array.length) {
      array.set(next);
      pending.shift();
      return array;
    }
    return original.call(crypto, array as never) as A;
  }) as typeof crypto.getRandomValues;
  try {
    const out = await fn();
    assert.equal(pending.length, 0, "every replayed random value was used");
    return out;
  } finally {
    crypto.getRandomValues = original;
  }
}

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

Deno.test("RFC 9578 A.2 type-2 (blind RSA) vectors through beginToken/issueToken/finish", async () => {
  const vectors = await load("rfc9578_type2.json");
  assert.equal(vectors.length, 5);
  for (const v of vectors) {
    const publicKey = hex(v.pkS);
    const key: TokenSecretKey = {
      type: 2,
      epoch: 0,
      publicKey,
      tokenKeyId: await tokenKeyIdOf(publicKey),
      secretKey: pemToDer(new TextDecoder().decode(hex(v.skS))),
    };
    const challenge = TokenChallenge.deserialize(hex(v.token_challenge));
    const pending = await replayRandom(
      [hex(v.nonce), hex(v.salt), hex(v.blind)],
      () => beginToken(challenge, key),
    );
    assert.equal(toHex(pending.request), v.token_request);
    const response = await issueToken(key, pending.request);
    assert.equal(toHex(response), v.token_response);
    const token = await pending.finish(response);
    assert.equal(toHex(token), v.token);
    assert.equal(await verifyTokenAuthenticator(token, key), true);
    assert.deepEqual(readAuthorizationHeader(authorizationHeader(token)), token);
    assert.deepEqual(parseToken(token).tokenKeyId, key.tokenKeyId);
    const tampered = token.slice();
    tampered[tampered.length - 1]! ^= 1;
    assert.equal(await verifyTokenAuthenticator(tampered, key), false);
  }
});

Deno.test("RFC 9578 A.1 type-1 (VOPRF) vectors through beginToken/issueToken/finish", async () => {
  const vectors = await load("rfc9578_type1.json");
  assert.equal(vectors.length, 5);
  // randomBlinder lives on the base class shared with OPRFClient; patch and restore it there.
  const proto = Object.getPrototypeOf(VOPRFClient.prototype) as {
    randomBlinder: () => Promise<unknown>;
  };
  const originalBlinder = proto.randomBlinder;
  try {
    for (const v of vectors) {
      const publicKey = hex(v.pkS);
      const key: TokenSecretKey = {
        type: 1,
        epoch: 0,
        publicKey,
        tokenKeyId: await tokenKeyIdOf(publicKey),
        secretKey: hex(v.skS),
      };
      proto.randomBlinder = () => Promise.resolve(TOKEN_TYPES.VOPRF.group.desScalar(hex(v.blind)));
      const challenge = TokenChallenge.deserialize(hex(v.token_challenge));
      const pending = await replayRandom([hex(v.nonce)], () => beginToken(challenge, key));
      assert.equal(toHex(pending.request), v.token_request);
      const response = await issueToken(key, pending.request);
      // The DLEQ proof is randomized and its randomness is not in RFC 9578's vectors:
      // the evaluated element must match exactly, the proof must verify (finish checks it).
      const ne = TOKEN_TYPES.VOPRF.Ne;
      assert.equal(toHex(response.slice(0, ne)), v.token_response.slice(0, 2 * ne));
      const token = await pending.finish(response);
      assert.equal(toHex(token), v.token);
      assert.equal(await verifyTokenAuthenticator(token, key), true);
    }
  } finally {
    proto.randomBlinder = originalBlinder;
  }
});

function b64url(n: bigint): string {
  let h = n.toString(16);
  if (h.length % 2) h = "0" + h;
  const bytes = fromHex(h, "n");
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

Deno.test("RFC 9474 A blind RSA vectors (the blindrsa-ts suite of our type-2 tokens)", async () => {
  const vectors = await load("rfc9474.json");
  assert.equal(vectors.length, 4);
  const suites: Record<string, () => ReturnType<typeof RSABSSA.SHA384.PSS.Randomized>> = {
    "RSABSSA-SHA384-PSS-Randomized": () => RSABSSA.SHA384.PSS.Randomized(),
    "RSABSSA-SHA384-PSSZERO-Randomized": () => RSABSSA.SHA384.PSSZero.Randomized(),
    "RSABSSA-SHA384-PSS-Deterministic": () => RSABSSA.SHA384.PSS.Deterministic(),
    "RSABSSA-SHA384-PSSZERO-Deterministic": () => RSABSSA.SHA384.PSSZero.Deterministic(),
  };
  for (const v of vectors) {
    const suite = suites[v.name]!();
    const [p, q, n, e, d] = [v.p, v.q, v.n, v.e, v.d].map((x: string) => BigInt(x));
    const jwk = {
      kty: "RSA",
      n: b64url(n!),
      e: b64url(e!),
      d: b64url(d!),
      p: b64url(p!),
      q: b64url(q!),
      dp: b64url(d! % (p! - 1n)),
      dq: b64url(d! % (q! - 1n)),
      qi: b64url(modInverse(q!, p!)),
    };
    const alg = { name: "RSA-PSS", hash: "SHA-384" };
    const sk = await crypto.subtle.importKey("jwk", jwk, alg, true, ["sign"]);
    const pk = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e }, alg, true, [
      "verify",
    ]);
    const msg = hex(v.msg);
    const prefix = v.msg_prefix ? [hex(v.msg_prefix)] : [];
    const input = await replayRandom(prefix, () => Promise.resolve(suite.prepare(msg)));
    assert.equal(toHex(input), v.input_msg.replace(/^0x/, ""), v.name);
    const kLen = (n!.toString(16).length + 1) >> 1;
    const r = modInverse(BigInt(v.inv), n!);
    const rBytes = fromHex(r.toString(16).padStart(2 * kLen, "0"), "r");
    const salt = v.salt ? [hex(v.salt)] : [];
    const { blindedMsg, inv } = await replayRandom([...salt, rBytes], () => suite.blind(pk, input));
    assert.equal(toHex(blindedMsg), v.blinded_msg.replace(/^0x/, ""), v.name);
    assert.equal(BigInt("0x" + toHex(inv)), BigInt(v.inv));
    const blindSig = await suite.blindSign(sk, blindedMsg);
    assert.equal(toHex(blindSig), v.blind_sig.replace(/^0x/, ""), v.name);
    const sig = await suite.finalize(pk, input, blindSig, inv);
    assert.equal(toHex(sig), v.sig.replace(/^0x/, ""), v.name);
    assert.equal(await suite.verify(pk, sig, input), true);
  }
});

Deno.test("RFC 9497 A.4 P384-SHA384 OPRF and VOPRF vectors (voprf-ts, our type-1 engine)", async () => {
  const suitesByMode = await load("rfc9497_p384.json");
  const group = TOKEN_TYPES.VOPRF.group;
  // randomBlinder lives on the common base class of OPRFClient and VOPRFClient.
  const blinder = Object.getPrototypeOf(OPRFClient.prototype) as {
    randomBlinder: () => Promise<unknown>;
  };
  const original = blinder.randomBlinder;
  let checked = 0;
  try {
    for (const s of suitesByMode) {
      if (s.mode !== Oprf.Mode.OPRF && s.mode !== Oprf.Mode.VOPRF) continue;
      const sk = hex(s.skSm);
      for (const v of s.vectors) {
        const inputs = (v.Input as string).split(",").map(hex);
        const blinds = (v.Blind as string).split(",").map(hex);
        let i = 0;
        blinder.randomBlinder = () => Promise.resolve(group.desScalar(blinds[i++]!));
        const voprf = s.mode === Oprf.Mode.VOPRF;
        const client = voprf
          ? new VOPRFClient(Oprf.Suite.P384_SHA384, hex(s.pkSm))
          : new OPRFClient(Oprf.Suite.P384_SHA384);
        const server = voprf
          ? new VOPRFServer(Oprf.Suite.P384_SHA384, sk)
          : new OPRFServer(Oprf.Suite.P384_SHA384, sk);
        if (voprf) {
          const prover = (server as unknown as { prover: { randomScalar: () => Promise<unknown> } })
            .prover;
          prover.randomScalar = () => Promise.resolve(group.desScalar(hex(v.Proof.r)));
        }
        const [finData, request] = await client.blind(inputs);
        assert.deepEqual(
          request.blinded.map((b) => toHex(b.serialize(true))),
          v.BlindedElement.split(","),
        );
        const evaluation = await server.blindEvaluate(request);
        assert.deepEqual(
          evaluation.evaluated.map((e) => toHex(e.serialize(true))),
          v.EvaluationElement.split(","),
        );
        if (voprf) assert.equal(toHex(evaluation.proof!.serialize()), v.Proof.proof);
        const outputs = await client.finalize(finData, evaluation);
        assert.deepEqual(outputs.map(toHex), v.Output.split(","));
        checked++;
      }
    }
  } finally {
    blinder.randomBlinder = original;
  }
  assert.equal(checked, 5);
});
