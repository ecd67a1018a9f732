/**
 * Privacy Pass at the survey collector, with real node processes: an issuer node and
 * a collector whose report submission ("survey.reports") requires tokens. No token →
 * 401 challenge; a token → 202 and the reports counted; the same token again →
 * refused, also after kill -9; tokens of another origin or issuer → refused; tokens
 * off → none needed. And `panoramix survey respond --collector … --token-wallet …`.
 */
import assert from "node:assert/strict";
import { toBase64Url } from "../../core/bytes.ts";
import { seededRandom } from "../../core/random.ts";
import {
  fetchSurveyInfo,
  sealSurveyReport,
  submitSurveyPackets,
  type SurveyDefinition,
  SurveyDevice,
  surveyRespond,
  surveySubmissionBody,
} from "../../plugins/survey/mod.ts";
import {
  authorizationHeader,
  beginToken,
  epochChallenge,
  fetchToken,
  generateTokenKey,
  issueToken,
  readChallengeHeader,
  TokenHttpError,
  tokenKeyIdOf,
} from "../../plugins/token/mod.ts";
import { runInMemory } from "../test_context.ts";
import { signRequest } from "./auth.ts";
import { NodeClient } from "./client.ts";
import { freePort, NodeProcess, writeNodeDir } from "./cluster.ts";
import { readDescriptor, verifyDescriptor } from "./descriptor.ts";
import { generateIdentity } from "./identity.ts";
import { startSurveyNetwork, type SurveyTestNetwork } from "./survey_test_support.ts";

const city: SurveyDefinition = {
  id: "city-2026",
  target: { epsilon: 3, delta: 1e-6 },
  questions: [
    { id: "color", type: "categorical", options: ["red", "green", "blue"], epsilon0: 2 },
    { id: "speed", type: "numeric", min: 0, max: 120, epsilon0: 2 },
  ],
};

const user = generateIdentity();

async function editConfig(path: string, edit: (c: Record<string, unknown>) => void): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(path));
  edit(config);
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
}

interface Net {
  t: SurveyTestNetwork;
  issuer: NodeProcess;
  collector?: NodeProcess | undefined;
}

/** A board and cascade in-process, an issuer node process, a collector config (not started). */
async function startNet(): Promise<Net> {
  const t = await startSurveyNetwork([{ definition: city }], { httpPort: freePort() });
  const files = await writeNodeDir(`${t.net.root}/issuer`, { name: "issuer", roles: ["issuer"] });
  await editConfig(files.configPath, (c) => {
    c.issuer = { allow: [], quotaPerEpoch: 0, epochSeconds: 3600 };
  });
  const issuer = await NodeProcess.spawn(files.configPath);
  return { t, issuer };
}

async function requireTokens(net: Net): Promise<void> {
  await editConfig(net.t.collectorConfig, (c) => {
    c.tokens = {
      services: ["survey.reports"],
      issuers: [{ url: net.issuer.info.url, key: net.issuer.info.identity }],
      graceSeconds: 60,
    };
  });
}

async function stopNet(net: Net): Promise<void> {
  await net.collector?.stop("SIGKILL").catch(() => {});
  await net.issuer.stop().catch(() => {});
  await net.t.net.close();
}

/** The issuer's published key for the collector's challenge, and the challenge. */
async function challengeAndKey(net: Net, collectorUrl: string) {
  const res = await fetch(`${collectorUrl}/v1/token/challenge`);
  assert.equal(res.status, 200);
  const [parsed] = readChallengeHeader(res.headers.get("www-authenticate")!);
  await res.body?.cancel();
  const d = readDescriptor(await new NodeClient(net.issuer.info.url).getJson("/v1/info"), "issuer");
  verifyDescriptor(d);
  const published = d.tokenKeys!.find((k) =>
    toBase64Url(k.publicKey) === toBase64Url(parsed!.tokenKey)
  )!;
  assert.ok(published, "the collector asks for a key the issuer published");
  const key = {
    type: 2 as const,
    epoch: published.epoch,
    publicKey: published.publicKey,
    tokenKeyId: await tokenKeyIdOf(published.publicKey),
  };
  return { challenge: parsed!.challenge, key, issuerName: published.issuerName };
}

/** One token from the issuer for a challenge (the collector's, or another origin's). */
async function getToken(net: Net, collectorUrl: string, origin?: string): Promise<Uint8Array> {
  const { challenge, key, issuerName } = await challengeAndKey(net, collectorUrl);
  return await fetchToken({
    issuerUrl: `${net.issuer.info.url}/v1/token/issue`,
    challenge: origin === undefined
      ? challenge
      : epochChallenge({ type: 2, issuerName, origin, epoch: key.epoch }),
    key,
    headers: (body, path) => signRequest(user, { method: "POST", path, body }),
  });
}

async function sealed(url: string, n = 1, seed = "sealed"): Promise<Uint8Array[][]> {
  const info = await fetchSurveyInfo({ collector: url, survey: city.id });
  const random = seededRandom(seed);
  const out: Uint8Array[][] = [];
  for (let i = 0; i < n; i++) {
    const reports = surveyRespond(city, { answers: { color: "red", speed: 50 }, random });
    out.push(await Promise.all(reports.map((r) => sealSurveyReport(r, info.cascade))));
  }
  return out;
}

async function post(url: string, packets: Uint8Array[], token?: Uint8Array): Promise<Response> {
  return await fetch(`${url}/v1/surveys/${city.id}/reports`, {
    method: "POST",
    headers: {
      "content-type": "application/msgpack",
      ...(token ? { authorization: authorizationHeader(token) } : {}),
    },
    body: surveySubmissionBody(packets),
  });
}

async function waiting(url: string): Promise<number> {
  const r = await fetch(`${url}/v1/surveys/${city.id}/rounds`).then((r) => r.json());
  return r.pending.waiting + r.pending.mixing + r.rounds.reduce(
    (a: number, x: { reports: number[] }) => a + x.reports[0]! + x.reports[1]!,
    0,
  );
}

Deno.test("survey collector with tokens: challenge, one token per request, double spend refused across kill -9, wrong origin and issuer refused, off by default", async () => {
  const net = await startNet();
  try {
    // 1. Tokens off (the default): no token needed, and the device's source is never asked.
    net.collector = await NodeProcess.spawn(net.t.collectorConfig);
    let url = net.collector.info.url;
    const noGate = await fetch(`${url}/v1/token/challenge`);
    assert.equal(noGate.status, 404);
    await noGate.body?.cancel();
    const device = new SurveyDevice(city, { budget: 8 });
    const never = () => Promise.reject(new Error("the token source must not be called"));
    assert.equal((await fetchSurveyInfo({ collector: url, survey: city.id })).tokenRequired, false);
    const off = await device.report({ color: "green", speed: 30 }, {
      collector: url,
      token: never,
    });
    assert.equal(off.sent, 2);
    assert.equal(await waiting(url), 2);
    assert.equal((await net.collector.stop()).code, 0);

    // 2. Tokens on for "survey.reports": a request without a token gets the challenge.
    await requireTokens(net);
    net.collector = await NodeProcess.spawn(net.t.collectorConfig);
    assert.equal(net.collector.info.url, url, "same port: same origin after restarts");
    const [p1, p2, p3, p4, p5] = await sealed(url, 5);
    const none = await post(url, p1!);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error, "token_required");
    const [parsed] = readChallengeHeader(none.headers.get("www-authenticate")!);
    assert.deepEqual(parsed!.challenge.originInfo, [new URL(url).host]);
    await assert.rejects(
      submitSurveyPackets(p1!, { collector: url, survey: city.id }),
      (e) =>
        e instanceof TokenHttpError && e.status === 401 &&
        /requires a Privacy Pass token for reports of survey 'city-2026'/.test(e.message),
    );
    assert.equal(await waiting(url), 2, "nothing stored without a token");
    // Survey info stays public and says that reports need a token.
    const info = await fetchSurveyInfo({ collector: url, survey: city.id });
    assert.equal(info.tokenRequired, true);

    // 3. With a token: 202 and the reports counted. More than one respondent's reports
    // per request is refused before the token is spent.
    const token = await getToken(net, url);
    const stuffed = await post(url, [...p1!, ...p2!], token);
    assert.equal(stuffed.status, 400);
    assert.match((await stuffed.json()).message, /holds 4 reports.*at most 2, one per question/);
    let asked = 0;
    const ack = await submitSurveyPackets(p1!, {
      collector: url,
      survey: city.id,
      token: (challenge) => {
        asked++;
        assert.match(challenge, /^PrivateToken challenge=/);
        return Promise.resolve(token);
      },
    });
    assert.equal(asked, 1);
    assert.equal(ack.accepted, 2);
    assert.equal(await waiting(url), 4);

    // 4. The same token again: refused as a double spend.
    const again = await post(url, p2!, token);
    assert.equal(again.status, 401);
    const againBody = await again.json();
    assert.equal(againBody.error, "token_spent");
    assert.match(againBody.message, /already spent in epoch \d+ \(double spend\)/);
    assert.match(again.headers.get("www-authenticate")!, /^PrivateToken /);
    await assert.rejects(
      submitSurveyPackets(p2!, { collector: url, survey: city.id, token }),
      (e) =>
        e instanceof TokenHttpError &&
        /Collector refused the token: .*double spend/.test(e.message),
    );

    // 5. A device reporting a round with a token in hand.
    const device2 = new SurveyDevice(city, { budget: 8 });
    const withToken = await device2.report(
      { color: "blue", speed: 70 },
      { collector: url, token: await getToken(net, url) },
    );
    assert.equal(withToken.sent, 2);
    assert.equal(await waiting(url), 6);

    // 6. kill -9 right after an admission: the spent record survives the restart.
    const last = await getToken(net, url);
    const admitted = await post(url, p3!, last);
    assert.equal(admitted.status, 202);
    await admitted.body?.cancel();
    await net.collector.stop("SIGKILL");
    net.collector = await NodeProcess.spawn(net.t.collectorConfig);
    url = net.collector.info.url;
    assert.equal(await waiting(url), 8, "acknowledged reports survive kill -9");
    const replay = await post(url, p4!, last);
    assert.equal(replay.status, 401);
    assert.equal((await replay.json()).error, "token_spent");
    const replay1 = await post(url, p4!, token);
    assert.equal((await replay1.json()).error, "token_spent");

    // 7. A token for another origin (here: another service of the same issuer) is refused.
    const elsewhere = await getToken(net, url, "elsewhere.example:8470");
    const wrongOrigin = await post(url, p4!, elsewhere);
    assert.equal(wrongOrigin.status, 401);
    const wrongOriginBody = await wrongOrigin.json();
    assert.equal(wrongOriginBody.error, "token_invalid");
    assert.match(wrongOriginBody.message, /wrong origin/);

    // 8. A token of an issuer the collector does not accept (its own key, same name).
    const { key, issuerName } = await challengeAndKey(net, url);
    const rogue = await generateTokenKey({ type: 2, epoch: key.epoch });
    const pending = await beginToken(
      epochChallenge({ type: 2, issuerName, origin: new URL(url).host, epoch: key.epoch }),
      rogue,
    );
    const rogueToken = await pending.finish(await issueToken(rogue, pending.request));
    const wrongIssuer = await post(url, p4!, rogueToken);
    assert.equal(wrongIssuer.status, 401);
    const wrongIssuerBody = await wrongIssuer.json();
    assert.equal(wrongIssuerBody.error, "token_invalid");
    assert.match(wrongIssuerBody.message, /wrong issuer/);

    // Refusals stored nothing; a fresh token still works.
    assert.equal(await waiting(url), 8);
    const fresh = await post(url, p5!, await getToken(net, url));
    assert.equal(fresh.status, 202, await fresh.clone().text());
    assert.deepEqual(await fresh.json(), { accepted: 2, round: ack.round });
    assert.equal(await waiting(url), 10);
    // Since the restart: two spent tokens refused, one of another origin, one of another issuer.
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    assert.match(metrics, /panoramix_token_redeemed_total\{service="survey.reports"\} 1\b/);
    assert.match(
      metrics,
      /panoramix_token_refused_total\{(?=[^}]*service="survey.reports")(?=[^}]*reason="token_spent")[^}]*\} 2\b/,
    );
    assert.equal((await net.collector.stop()).code, 0);
    net.collector = undefined;
  } finally {
    await stopNet(net);
  }
});

Deno.test("survey respond --collector --token-wallet: one token per respondent, empty wallet and refusals said clearly", async () => {
  const net = await startNet();
  try {
    await requireTokens(net);
    net.collector = await NodeProcess.spawn(net.t.collectorConfig);
    const url = net.collector.info.url;
    const dir = net.t.net.root;
    await Deno.writeTextFile(`${dir}/def.json`, JSON.stringify(city));
    await Deno.writeTextFile(`${dir}/three.csv`, "color,speed\nred,10\nblue,20\ngreen,30\n");
    await Deno.writeTextFile(`${dir}/two.csv`, "color,speed\nred,10\nblue,20\n");
    const wallet = `${dir}/wallet.json`;
    const id = await runInMemory(["token", "id", "--out", `${dir}/user.key.json`]);
    assert.equal(id.status, 0, id.stderr);
    const fetched = await runInMemory([
      "token",
      "fetch",
      "--service",
      url,
      "--issuer",
      net.issuer.info.url,
      "--identity",
      `${dir}/user.key.json`,
      "--count",
      "2",
      "--wallet",
      wallet,
      "--json",
    ]);
    assert.equal(fetched.status, 0, fetched.stderr);
    assert.equal(JSON.parse(fetched.stdout).fetched, 2);
    const respond = (input: string, ...more: string[]) =>
      runInMemory([
        "survey",
        "respond",
        "--definition",
        `${dir}/def.json`,
        "--input",
        `${dir}/${input}`,
        "--collector",
        url,
        ...more,
        "--json",
      ]);

    // Without a wallet: the collector's demand, and how to meet it.
    const bare = await respond("two.csv");
    assert.equal(bare.status, 2, bare.stderr);
    assert.match(
      bare.stderr,
      /^panoramix: error: Collector '.*' requires a Privacy Pass token per respondent for survey 'city-2026'; pass '--token-wallet FILE'/,
    );
    // Too few tokens for 3 respondents: stops before anything is sent or spent.
    const short = await respond("three.csv", "--token-wallet", wallet);
    assert.equal(short.status, 5, short.stderr);
    assert.match(
      short.stderr,
      /^panoramix: error: Wallet '.*wallet\.json' holds 2 valid token\(s\) for '127\.0\.0\.1:\d+', 3 respondent\(s\) need one each/,
    );
    assert.equal(await waiting(url), 0);
    await Deno.copyFile(wallet, `${dir}/copy.json`);
    // Two respondents, two tokens: one request each.
    const ok = await respond("two.csv", "--token-wallet", wallet);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), {
      survey: city.id,
      respondents: 2,
      accepted: 4,
      round: JSON.parse(ok.stdout).round,
      tokensSpent: 2,
    });
    assert.match(ok.stderr, /spent 2 token\(s\); 0 left in .*wallet\.json/);
    assert.equal(await waiting(url), 4);
    const list = await runInMemory(["token", "list", "--wallet", wallet, "--json"]);
    assert.deepEqual(JSON.parse(list.stdout), { tokens: [] });
    // The wallet is empty now.
    const empty = await respond("two.csv", "--token-wallet", wallet);
    assert.equal(empty.status, 5);
    assert.match(empty.stderr, /^panoramix: error: Wallet '.*' is empty: it holds no valid token/);
    // Spent tokens (an old copy of the wallet): the collector refuses, and says why.
    const spent = await respond("two.csv", "--token-wallet", `${dir}/copy.json`);
    assert.equal(spent.status, 3, spent.stderr);
    assert.match(
      spent.stderr,
      /^panoramix: error: Collector refused the token: .*double spend\) \(0 of 4 reports were accepted before\)/,
    );
    assert.equal(await waiting(url), 4);
    // --token-wallet without --collector is a usage error.
    const usage = await runInMemory([
      "survey",
      "respond",
      "--definition",
      `${dir}/def.json`,
      "--answers",
      '{"color":"red","speed":1}',
      "--token-wallet",
      wallet,
    ]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /'--token-wallet' is for '--collector'/);
  } finally {
    await stopNet(net);
  }
});
