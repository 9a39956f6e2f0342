// End-to-end: paid inference (OpenLoRA + pallet-inference) on a real dev node. A real
// `gpu-worker serve` trains a small LoRA adapter of the real SmolLM2-135M on a Datanet snapshot,
// then serves it through its OpenAI-compatible API: the model's owner sets a price, a client
// deposits OPEN and signs requests (checked against the chain's own signing payload); the worker
// refuses unsigned, forged and replayed requests, answers the good ones with receipts and their
// Proof of Attribution, and settles them on-chain, where pallet-attribution splits each fee
// between the owner, the attributed contributors, the worker and the treasury. Each of the six
// contributions (one fact each) comes from its own contributor, and the contributor whose fact is
// asked about earns the largest share. Skipped (with the reason) when the model file is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { Keyring } from '@polkadot/api';
import { compactStripLength, u8aToHex, stringToU8a } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, pollUntil, connect, submitOk, freePort } from './node.mjs';
import { startStore } from './store.mjs';
import { startWorker } from './worker.mjs';
import { paidRequest, signingPayload, sseChunks } from './inference.mjs';

const OPEN = 10n ** 18n;
const PRICE = OPEN / 1000n; // per 1,000 tokens
const CONTRIBUTORS = [0, 1, 2, 3, 4, 5].map((i) => `//Contributor${i}`);
/** The default split (pallet-attribution's `Params::default`): 20 % to the owner. */
const ownerPart = (fee) => fee / 5n;
const MODEL_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const modelPath = process.env.OPENLEDGER_SMOLLM2
  ?? join(process.env.OPENLEDGER_MODELS ?? join(homedir(), '.cache/openledger/models'), MODEL_FILE);
const haveModel = existsSync(modelPath);
if (!haveModel) console.log(`skipped: ${modelPath} not found; run scripts/fetch-model.sh`);

let node;
let store;
let api;
let provider;
let worker;
let openaiUrl;
let adaptersDir;
let keyring;

function eventData(events, section, method) {
  const found = events.find(({ event }) => event.section === section && event.method === method);
  assert.ok(found, `${section}.${method}`);
  return found.event.data;
}

before(async () => {
  if (!haveModel) return;
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
  const alice = keyring.addFromUri('//Alice');
  store = await startStore();
  node = await startDevNode();
  ({ api, provider } = await connect(node.url));
  const fund = ['//Server', '//Owner', '//Client', '//Backer0', '//Backer1', ...CONTRIBUTORS].map((uri) =>
    api.tx.balances.transferKeepAlive(keyring.addFromUri(uri).address, 5_000n * OPEN));
  await submitOk(api, api.tx.utility.batchAll(fund), alice);
  adaptersDir = mkdtempSync(join(tmpdir(), 'openledger-adapters-'));
  const port = await freePort();
  openaiUrl = `http://127.0.0.1:${port}`;
  worker = await startWorker({
    node: node.url,
    key: '//Server',
    extraArgs: ['--job-kinds', 'train,infer', '--models-dir', dirname(modelPath), '--adapters-dir', adaptersDir,
      '--store', store.url, '--openai', `127.0.0.1:${port}`, '--receipt-interval-ms', '1000'],
  });
});

after(async () => {
  if (worker) await worker.stop();
  if (api) await api.disconnect();
  if (node) await node.stop();
  if (store) await store.stop();
  if (adaptersDir) rmSync(adaptersDir, { recursive: true, force: true });
});

/** Each harbour's fact, contributed by `CONTRIBUTORS[i]`. */
const fact = (i) => `Harbour ${i} opens its gates at ${i + 6} o'clock for the fishing boats.`;
/** Contribution ids by harbour, set by `trainModel`. */
let contributionOf = [];
/** What the model was trained with (base model, snapshot, hyperparameters), for a new version. */
let trainedWith;

/** Trains a two-step adapter for //Owner and returns its model id (version 1). */
async function trainModel() {
  const alice = keyring.addFromUri('//Alice');
  const owner = keyring.addFromUri('//Owner');
  const created = await submitOk(api, api.tx.datanets.createDatanet('harbours', 'harbour notes', ['notes'], 'CC0',
    { maxBytes: 4096, mediaTypes: ['text/plain'] }, 'Public'), alice);
  const datanet = eventData(created.events, 'datanets', 'DatanetCreated').datanet.toNumber();
  const ids = [];
  for (let i = 0; i < 6; i += 1) {
    const bytes = new TextEncoder().encode(fact(i));
    const hash = blake2AsHex(bytes, 256);
    const res = await fetch(`${store.url}/content`, { method: 'POST', body: bytes });
    assert.ok(res.status === 200 || res.status === 201, `store put: ${res.status}`);
    const contributed = await submitOk(api, api.tx.datanets.contribute(datanet, hash, bytes.length, 'text/plain', `${store.url}/content/${hash}`, ''),
      keyring.addFromUri(CONTRIBUTORS[i]));
    ids.push(eventData(contributed.events, 'datanets', 'ContributionSubmitted').contribution.toNumber());
  }
  contributionOf = ids;
  await submitOk(api, api.tx.utility.batchAll(ids.map((id) => api.tx.datanets.curate(id, 'Accept'))), alice);
  const snapshot = eventData((await submitOk(api, api.tx.datanets.snapshot(datanet), alice)).events, 'datanets', 'SnapshotCreated').snapshot.toNumber();
  const contentHash = blake2AsHex(readFileSync(modelPath), 256);
  const registered = await submitOk(api, api.tx.models.registerBaseModel('SmolLM2-135M-Instruct', contentHash, 'llama', 134_515_008, 'Apache-2.0'), alice);
  const base = eventData(registered.events, 'models', 'BaseModelRegistered').base.toNumber();
  await pollUntil('the worker registered', async () => (await api.query.compute.workers(keyring.addFromUri('//Server').address)).isSome, { timeoutMs: 60_000 });
  const hyper = {
    rank: 4, alpha: 8, dropoutPermille: 0, targets: 0b0101, learningRateMicro: 2000, warmupSteps: 0,
    steps: 2, batchSize: 1, gradAccum: 1, seqLen: 24, heldoutPermille: 200, seed: 3,
  };
  trainedWith = { base, snapshot, hyper };
  const requested = await submitOk(api, api.tx.models.requestFinetune(base, snapshot, hyper, 'Exact', OPEN, 1, 200, null), owner);
  await trainJobCompleted(requested);
  return (await api.query.models.nextModelId()).toNumber() - 1;
}

/** Waits for the train job `requested` (a `requestFinetune` result) created, asserts it completed. */
async function trainJobCompleted(requested) {
  const job = eventData(requested.events, 'models', 'FinetuneRequested').job.toNumber();
  const done = await pollUntil(`train job ${job}`, async () => {
    const j = await api.query.compute.jobs(job);
    return j.isSome && j.unwrap().status.type !== 'Pending' ? j.unwrap() : null;
  }, { timeoutMs: 240_000, intervalMs: 1000 });
  assert.equal(done.status.type, 'Completed', worker.log());
}

let trained;
/** The model trained once for both tests. */
async function trainedModel() {
  trained ??= await trainModel();
  return trained;
}

test('paid completions are signed, refused when bad, answered with receipts and settled on-chain', { skip: !haveModel && 'no model file' }, async () => {
  const modelId = await trainedModel();
  const model = modelId;
  const owner = keyring.addFromUri('//Owner');
  const client = keyring.addFromUri('//Client');
  const server = keyring.addFromUri('//Server');
  await submitOk(api, api.tx.inference.setPrice(model, PRICE), owner);
  await submitOk(api, api.tx.inference.deposit(OPEN), client);
  await pollUntil('the OpenAI API', async () => (await fetch(`${openaiUrl}/health`)).ok, { timeoutMs: 120_000 });

  const body = { model: `${model}:1`, messages: [{ role: 'user', content: 'When does harbour 2 open?' }], max_tokens: 8, temperature: 0 };
  const common = { url: openaiUrl, pair: client, genesis: api.genesisHash, worker: server.publicKey, model, version: 1 };
  const maxFee = OPEN / 10n;

  // The client's bytes are the chain's own signing payload.
  const requestHash = blake2AsU8a(stringToU8a(JSON.stringify(body)), 256);
  const local = signingPayload({ genesis: api.genesisHash, worker: server.publicKey, model, version: 1, requestHash, nonce: 1, maxFee });
  const onChain = await api.call.inferenceApi.signingPayload(server.address, model, 1, requestHash, 1, maxFee);
  // The runtime API answers a SCALE `Vec<u8>`: its length prefix, then the bytes.
  const [, onChainBytes] = compactStripLength(onChain.toU8a(true));
  assert.equal(u8aToHex(local), u8aToHex(onChainBytes));

  // Refusals, each with its status: unsigned, signed by someone else, more than the deposit.
  const unsigned = await fetch(`${openaiUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(unsigned.status, 402);
  const forged = await paidRequest({ ...common, body, nonce: 1, maxFee, tamper: { 'x-openledger-client': u8aToHex(owner.publicKey) } });
  assert.equal(forged.status, 401);
  const greedy = await paidRequest({ ...common, body, nonce: 1, maxFee: 2n * OPEN });
  assert.equal(greedy.status, 402);

  const ownerBefore = (await api.call.attributionApi.rewardsOf(owner.address)).toBigInt();
  const first = await paidRequest({ ...common, body, nonce: 1, maxFee });
  assert.equal(first.status, 200, JSON.stringify(first.json));
  const content = first.json.choices[0].message.content;
  assert.ok(content.length > 0);
  const receipt = first.json.openledger.receipt;
  const tokens = BigInt(first.json.usage.prompt_tokens + first.json.usage.completion_tokens);
  const fee = (PRICE * tokens + 999n) / 1000n;
  assert.equal(BigInt(receipt.fee), fee);
  assert.equal(receipt.worker, u8aToHex(server.publicKey));

  // Replayed: refused.
  const replay = await paidRequest({ ...common, body, nonce: 1, maxFee });
  assert.equal(replay.status, 409);

  // Streamed, with the next nonce: the same greedy answer, the receipt on the last chunk.
  const streamBody = { ...body, stream: true };
  const streamed = await paidRequest({ ...common, body: streamBody, nonce: 2, maxFee });
  assert.equal(streamed.status, 200);
  const chunks = sseChunks(streamed.text);
  assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), content);
  assert.equal(chunks.at(-1).openledger.receipt.nonce, 2);

  // The answer carries its attribution: contributions of the trained snapshot, at most the
  // top 4, weights summing to the whole (parts per billion), or none when nothing in the
  // snapshot shaped this answer measurably (the next test asks about a contribution's fact).
  const attribution = first.json.openledger.attribution;
  assert.ok(Array.isArray(attribution) && attribution.length <= 4, JSON.stringify(attribution));
  if (attribution.length > 0) assert.equal(attribution.reduce((sum, e) => sum + e.weight, 0), 1_000_000_000);
  // The train job indexed gradient sketches, so the worker captured this answer's gradient and
  // scored it too (a two-step adapter's sketches hardly say anything: spans decide here).
  assert.deepEqual(first.json.openledger.attribution_signals, ['spans', 'influence']);
  for (const { contribution } of attribution) assert.ok(contributionOf.includes(contribution), `#${contribution}`);

  // The worker's batched receipts settle: the deposit pays both fees, the owner is credited its
  // part of each.
  await pollUntil('both receipts settled', async () =>
    (await api.call.inferenceApi.nonceOf(client.address, server.address)).toNumber() === 2, { timeoutMs: 60_000, intervalMs: 500 });
  const fees = fee + BigInt(chunks.at(-1).openledger.receipt.fee);
  const deposit = await api.call.inferenceApi.depositOf(client.address);
  assert.equal(deposit.held.toBigInt(), OPEN - fees);
  const ownerGain = (await api.call.attributionApi.rewardsOf(owner.address)).toBigInt() - ownerBefore;
  assert.equal(ownerGain, ownerPart(fee) + ownerPart(BigInt(chunks.at(-1).openledger.receipt.fee)));
  // Claimed, the credit becomes the owner's free balance.
  const freeBefore = (await api.query.system.account(owner.address)).data.free.toBigInt();
  const owed = (await api.call.attributionApi.rewardsOf(owner.address)).toBigInt();
  const claim = await submitOk(api, api.tx.attribution.claim(owner.address), client);
  assert.equal(eventData(claim.events, 'attribution', 'Claimed').amount.toBigInt(), owed);
  assert.equal((await api.query.system.account(owner.address)).data.free.toBigInt(), freeBefore + owed);
});

test('the contributor whose fact is asked about earns the largest share of the fee', { skip: !haveModel && 'no model file' }, async () => {
  const model = await trainedModel();
  const owner = keyring.addFromUri('//Owner');
  const client = keyring.addFromUri('//Client');
  const server = keyring.addFromUri('//Server');
  await submitOk(api, api.tx.inference.setPrice(model, PRICE), owner);
  const deposit = await api.call.inferenceApi.depositOf(client.address);
  if (deposit.held.toBigInt() < OPEN / 10n) await submitOk(api, api.tx.inference.deposit(OPEN), client);
  const asked = 3;
  const splits = [];
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) if (event.section === 'attribution' && event.method === 'FeeDistributed') splits.push(event.data);
  });
  try {
    const nonce = (await api.call.inferenceApi.nonceOf(client.address, server.address)).toNumber() + 1;
    const body = { model: `${model}:1`, prompt: `Harbour ${asked} opens its gates at`, max_tokens: 8, temperature: 0 };
    const answer = await paidRequest({
      url: openaiUrl, path: '/v1/completions', body, pair: client, genesis: api.genesisHash,
      worker: server.publicKey, model, version: 1, nonce, maxFee: OPEN / 10n,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const attribution = answer.json.openledger.attribution;
    assert.equal(attribution[0].contribution, contributionOf[asked], JSON.stringify({ attribution, contributionOf, text: answer.json.choices[0].text }));
    assert.deepEqual(answer.json.openledger.attribution_signals, ['spans', 'influence'], worker.log());

    await pollUntil('the receipt settled', async () =>
      (await api.call.inferenceApi.nonceOf(client.address, server.address)).toNumber() >= nonce, { timeoutMs: 60_000, intervalMs: 500 });
    const split = await pollUntil('its split', async () => splits.find((s) => s.fee.toBigInt() === BigInt(answer.json.openledger.receipt.fee)), { timeoutMs: 30_000, intervalMs: 250 });
    const earned = new Map(split.contributions.map(([c, account, amount]) => [c.toNumber(), { account: account.toString(), amount: amount.toBigInt() }]));
    const top = earned.get(contributionOf[asked]);
    assert.ok(top, `contribution ${contributionOf[asked]} earned nothing: ${split.toString()}`);
    assert.equal(top.account, keyring.addFromUri(CONTRIBUTORS[asked]).address);
    for (const [c, { amount }] of earned) if (c !== contributionOf[asked]) assert.ok(amount < top.amount, `#${c} earned ${amount} >= ${top.amount}`);
    // The chain keeps the contribution's history.
    const record = await api.call.attributionApi.contributionRecord(contributionOf[asked]);
    assert.ok(record.isSome && record.unwrap().earned.toBigInt() >= top.amount);
    // And serves it over the node's JSON-RPC.
    const rpc = await provider.send('openledger_contributionAttribution', [contributionOf[asked]]);
    assert.equal(BigInt(rpc.earned), record.unwrap().earned.toBigInt());
    assert.equal(rpc.inferences, record.unwrap().inferences.toNumber());
    assert.equal(await provider.send('openledger_contributionAttribution', [999_999]), null);
    const rewards = await provider.send('openledger_attributionRewards', [top.account]);
    assert.equal(BigInt(rewards.claimable), (await api.call.attributionApi.rewardsOf(top.account)).toBigInt());
    assert.ok(BigInt(rewards.claimable) >= top.amount);
    await assert.rejects(provider.send('openledger_attributionRewards', ['not-an-account']));
    const byVersion = await provider.send('openledger_versionAttribution', [model, 1]);
    assert.ok(byVersion.inferences >= 1 && BigInt(byVersion.toContributors) >= top.amount, JSON.stringify(byVersion));
    const params = await provider.send('openledger_attributionParams', []);
    assert.equal(params.owner + params.contributors + params.workers + params.treasury, 1_000_000_000);
    assert.equal(params.contributors, 350_000_000);
  } finally {
    unsubscribe();
  }
});

test('an on-chain infer job is answered by the worker and its fee split, as the API answers', { skip: !haveModel && 'no model file' }, async () => {
  const modelId = await trainedModel();
  const owner = keyring.addFromUri('//Owner');
  const client = keyring.addFromUri('//Client');
  await submitOk(api, api.tx.inference.setPrice(modelId, PRICE), owner);
  const prompt = 'Harbour 3 opens its gates at';

  // Collect this pallet's events as blocks come.
  const seen = [];
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) if (event.section === 'inference') seen.push(event);
  });
  try {
    const requested = await submitOk(api, api.tx.inference.requestInference(modelId, 1, prompt, 6, OPEN / 10n, 1, 50), client);
    const { job, held } = eventData(requested.events, 'inference', 'InferenceRequested');
    assert.ok(held.toBigInt() > 0n);
    const ownerBefore = (await api.call.attributionApi.rewardsOf(owner.address)).toBigInt();
    const done = await pollUntil(`infer job ${job}`, async () =>
      seen.find((e) => ['InferenceCompleted', 'InferenceFailed', 'InferenceResultInvalid'].includes(e.method) && e.data.job.eq(job)),
    { timeoutMs: 120_000, intervalMs: 500 });
    assert.equal(done.method, 'InferenceCompleted', `${done.method}: ${worker.log()}`);
    const completion = new TextDecoder().decode(done.data.completion.toU8a(true));
    assert.ok(completion.length > 0);
    const tokens = done.data.promptTokens.toBigInt() + done.data.completionTokens.toBigInt();
    const fee = (PRICE * tokens + 999n) / 1000n;
    assert.equal(done.data.fee.toBigInt(), fee);
    const ownerGain = (await api.call.attributionApi.rewardsOf(owner.address)).toBigInt() - ownerBefore;
    assert.equal(ownerGain, ownerPart(fee), 'the owner is credited its part of the token fee; the rest of the hold goes back');

    // The paid API gives the same greedy answer to the same prompt.
    const server = keyring.addFromUri('//Server');
    const nonce = (await api.call.inferenceApi.nonceOf(client.address, server.address)).toNumber() + 10;
    const body = { model: `${modelId}:1`, prompt, max_tokens: 6, temperature: 0 };
    const answer = await paidRequest({
      url: openaiUrl, path: '/v1/completions', body, pair: client, genesis: api.genesisHash,
      worker: server.publicKey, model: modelId, version: 1, nonce, maxFee: OPEN / 10n,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.choices[0].text, completion);
  } finally {
    unsubscribe();
  }
});

// ---- Initial AI Offerings ------------------------------------------------------------------

const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const untilBlock = (n) => pollUntil(`block ${n}`, async () => (await head()) >= n, { timeoutMs: 120_000, intervalMs: 500 });
const freeOf = async (who) => (await api.query.system.account(who)).data.free.toBigInt();

/** Creates an offering of `model` by //Owner, open from two blocks on for `blocks` blocks. */
async function createOffering(model, { softCap, blocks = 3 }) {
  const start = (await head()) + 2;
  const terms = {
    totalShares: 1000n, price: OPEN, softCap, hardCap: 500n * OPEN, start, end: start + blocks,
    revenueShare: 600_000_000, tranches: [500_000_000, 500_000_000],
  };
  const created = await submitOk(api, api.tx.iao.createOffering(model, terms), keyring.addFromUri('//Owner'));
  const { offering, asset } = eventData(created.events, 'iao', 'OfferingCreated');
  await untilBlock(start);
  return { id: offering.toNumber(), asset: asset.toNumber(), end: start + blocks };
}

let offering;

test('an offering under its soft cap fails and refunds every backer in full', { skip: !haveModel && 'no model file' }, async () => {
  const model = await trainedModel();
  const backer = keyring.addFromUri('//Backer0');
  const failed = await createOffering(model, { softCap: 100n * OPEN });
  await submitOk(api, api.tx.iao.buy(failed.id, 10n), backer);
  assert.equal((await api.call.iaoApi.position(failed.id, backer.address)).purchased.toBigInt(), 10n * OPEN);
  // Outside the window: refused.
  await untilBlock(failed.end + 1);
  await assert.rejects(submitOk(api, api.tx.iao.buy(failed.id, 1n), backer), /OutsideWindow/);
  const final = await submitOk(api, api.tx.iao.finalize(failed.id), backer);
  assert.equal(eventData(final.events, 'iao', 'OfferingFailed').raised.toBigInt(), 10n * OPEN);
  // The refund is the whole purchase; the fee is paid by whoever asks for it (here Alice).
  const before = await freeOf(backer.address);
  const refund = await submitOk(api, api.tx.iao.refund(failed.id, backer.address), keyring.addFromUri('//Alice'));
  assert.equal(eventData(refund.events, 'iao', 'Refunded').amount.toBigInt(), 10n * OPEN);
  assert.equal(await freeOf(backer.address), before + 10n * OPEN);
  assert.equal((await api.call.iaoApi.offering(failed.id)).unwrap().status.type, 'Failed');
  assert.ok((await api.call.iaoApi.modelOffering(model)).isNone, 'the owner may offer the model again');
});

test('a successful offering issues shares, releases its first tranche and earns the model\'s owner share of paid inferences', { skip: !haveModel && 'no model file' }, async () => {
  const model = await trainedModel();
  const owner = keyring.addFromUri('//Owner');
  const client = keyring.addFromUri('//Client');
  const server = keyring.addFromUri('//Server');
  const [b0, b1] = ['//Backer0', '//Backer1'].map((uri) => keyring.addFromUri(uri));
  const ownerFree = await freeOf(owner.address);
  // Three buys follow one another, a block each at best: the window leaves room for a slow
  // block (a session change fills its whole block on dev chains).
  const o = await createOffering(model, { softCap: 20n * OPEN, blocks: 8 });
  offering = o;
  await submitOk(api, api.tx.iao.buy(o.id, 30n), b0);
  await submitOk(api, api.tx.iao.buy(o.id, 20n), b1);
  await assert.rejects(submitOk(api, api.tx.iao.buy(o.id, 451n), b1), /OverHardCap/);
  await untilBlock(o.end + 1);
  const final = await submitOk(api, api.tx.iao.finalize(o.id), b0);
  assert.equal(eventData(final.events, 'iao', 'OfferingSucceeded').raised.toBigInt(), 50n * OPEN);
  const tranche = eventData(final.events, 'iao', 'TrancheReleased');
  assert.equal(tranche.amount.toBigInt(), 25n * OPEN);
  assert.ok((await freeOf(owner.address)) > ownerFree + 24n * OPEN, 'the first tranche went to the owner');
  for (const [who, shares] of [[b0, 30n], [b1, 20n]]) {
    const claimed = await submitOk(api, api.tx.iao.claimShares(o.id, who.address), who);
    assert.equal(eventData(claimed.events, 'iao', 'SharesClaimed').shares.toBigInt(), shares);
    const account = await api.query.assets.account(o.asset, who.address);
    assert.equal(account.unwrap().balance.toBigInt(), shares);
  }
  // Share assets move only through the offering (its revenue accounting follows them).
  await assert.rejects(submitOk(api, api.tx.assets.transfer(o.asset, b1.address, 1n), b0), /CallFiltered/);

  // A paid inference: the model's owner share now goes to the offering's revenue account.
  const view = (await api.call.iaoApi.offering(o.id)).unwrap();
  const revenueAccount = view.revenueAccount.toString();
  await submitOk(api, api.tx.inference.setPrice(model, PRICE), owner);
  const deposit = await api.call.inferenceApi.depositOf(client.address);
  if (deposit.held.toBigInt() < OPEN / 10n) await submitOk(api, api.tx.inference.deposit(OPEN), client);
  const splits = [];
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) if (event.section === 'attribution' && event.method === 'FeeDistributed') splits.push(event.data);
  });
  let fee;
  try {
    const nonce = (await api.call.inferenceApi.nonceOf(client.address, server.address)).toNumber() + 1;
    const body = { model: `${model}:1`, prompt: 'Harbour 1 opens its gates at', max_tokens: 8, temperature: 0 };
    const answer = await paidRequest({
      url: openaiUrl, path: '/v1/completions', body, pair: client, genesis: api.genesisHash,
      worker: server.publicKey, model, version: 1, nonce, maxFee: OPEN / 10n,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    fee = BigInt(answer.json.openledger.receipt.fee);
    const split = await pollUntil('the split', async () => splits.find((s) => s.fee.toBigInt() === fee), { timeoutMs: 60_000, intervalMs: 250 });
    const [to, amount] = split.owner.unwrap();
    assert.equal(to.toString(), revenueAccount);
    assert.equal(amount.toBigInt(), ownerPart(fee));
  } finally {
    unsubscribe();
  }
  // Claimed from the attribution pot into the revenue account, it is shared: 60 % to the 50
  // shares (B0 holds 30 of them), the rest to the owner.
  await submitOk(api, api.tx.attribution.claim(revenueAccount), b0);
  const distributed = await submitOk(api, api.tx.iao.distributeRevenue(o.id), b0);
  const d = eventData(distributed.events, 'iao', 'RevenueDistributed');
  assert.equal(d.amount.toBigInt(), ownerPart(fee));
  assert.equal(d.toHolders.toBigInt() + d.toOwner.toBigInt(), ownerPart(fee));
  const expected = (d.toHolders.toBigInt() * 30n) / 50n;
  const position = await api.call.iaoApi.position(o.id, b0.address);
  assert.ok(position.claimableRevenue.toBigInt() <= expected && position.claimableRevenue.toBigInt() + 1n >= expected,
    `${position.claimableRevenue} vs ${expected}`);
  const claimed = await submitOk(api, api.tx.iao.claimRevenue(o.id, b0.address), b1);
  assert.equal(eventData(claimed.events, 'iao', 'RevenueClaimed').amount.toBigInt(), position.claimableRevenue.toBigInt());
});

test('shareholders vote a new model version active; the owner alone no longer can', { skip: !haveModel && 'no model file' }, async () => {
  const model = await trainedModel();
  assert.ok(offering, 'the offering of the test before');
  const owner = keyring.addFromUri('//Owner');
  const [b0, b1] = ['//Backer0', '//Backer1'].map((uri) => keyring.addFromUri(uri));
  // Version 2: the same data, trained again.
  const { base, snapshot, hyper } = trainedWith;
  const requested = await submitOk(api, api.tx.models.requestFinetune(base, snapshot, { ...hyper, seed: 4 }, 'Exact', OPEN, 1, 200, model), owner);
  await trainJobCompleted(requested);
  assert.equal((await api.query.models.modelRecords(model)).unwrap().versions.toNumber(), 2);
  await assert.rejects(submitOk(api, api.tx.models.setActiveVersion(model, 2), owner), /CallFiltered/);

  const proposed = await submitOk(api, api.tx.iao.propose(offering.id, { ActivateVersion: 2 }), b1);
  const { proposal, votingEnds } = eventData(proposed.events, 'iao', 'Proposed');
  await submitOk(api, api.tx.iao.vote(proposal, true), b0);
  await submitOk(api, api.tx.iao.vote(proposal, false), b1);
  await untilBlock(votingEnds.toNumber() + 1);
  const closed = await submitOk(api, api.tx.iao.close(proposal), b1);
  const c = eventData(closed.events, 'iao', 'ProposalClosed');
  assert.equal(c.ayes.toBigInt(), 30n);
  assert.equal(c.nays.toBigInt(), 20n);
  assert.ok(c.executableAt.isSome, 'passed: 100 % turnout, more ayes');
  await untilBlock(c.executableAt.unwrap().toNumber());
  const executed = await submitOk(api, api.tx.iao.execute(proposal), b1);
  assert.ok(eventData(executed.events, 'iao', 'Executed').result.isOk);
  assert.equal((await api.query.models.modelRecords(model)).unwrap().active.unwrap().toNumber(), 2);
});
