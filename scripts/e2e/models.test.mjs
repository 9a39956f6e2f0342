// End-to-end: the ModelFactory on a real dev node. A base model (the real SmolLM2-135M GGUF) is
// registered by its content hash; a fine-tune is requested on a Datanet snapshot under a
// per-use access fee; two real `gpu-worker serve` processes train the LoRA adapter on CPU, agree
// on its hash, upload it to the content store, and the chain records the model version with its
// lineage. Skipped (with the reason) when the model file is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { Keyring } from '@polkadot/api';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, pollUntil, connect, submit, moduleError, submitOk } from './node.mjs';
import { startStore } from './store.mjs';
import { startWorker } from './worker.mjs';

const OPEN = 10n ** 18n;
const MODEL_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const modelPath = process.env.OPENLEDGER_SMOLLM2
  ?? join(process.env.OPENLEDGER_MODELS ?? join(homedir(), '.cache/openledger/models'), MODEL_FILE);
const haveModel = existsSync(modelPath);
if (!haveModel) console.log(`skipped: ${modelPath} not found; run scripts/fetch-model.sh`);

let node;
let store;
let api;
let keyring;
let alice;
let adaptersDir;
const workers = [];

function eventData(events, section, method) {
  const found = events.find(({ event }) => event.section === section && event.method === method);
  assert.ok(found, `${section}.${method}`);
  return found.event.data;
}

before(async () => {
  if (!haveModel) return;
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
  alice = keyring.addFromUri('//Alice');
  store = await startStore();
  node = await startDevNode();
  ({ api } = await connect(node.url));
  const fund = ['//TrainerA', '//TrainerB', '//Requester'].map((uri) =>
    api.tx.balances.transferKeepAlive(keyring.addFromUri(uri).address, 5_000n * OPEN));
  await submitOk(api, api.tx.utility.batchAll(fund), alice);
  adaptersDir = mkdtempSync(join(tmpdir(), 'openledger-adapters-'));
  for (const key of ['//TrainerA', '//TrainerB']) {
    workers.push(await startWorker({
      node: node.url,
      key,
      extraArgs: ['--job-kinds', 'train', '--models-dir', dirname(modelPath), '--adapters-dir', adaptersDir, '--store', store.url],
    }));
  }
});

after(async () => {
  for (const w of workers) await w.stop();
  if (api) await api.disconnect();
  if (node) await node.stop();
  if (store) await store.stop();
  if (adaptersDir) rmSync(adaptersDir, { recursive: true, force: true });
});

test('a fine-tune on a Datanet snapshot is trained by two workers and recorded with its lineage', { skip: !haveModel && 'no model file' }, async () => {
  // A Datanet of facts under a per-use training fee, contributed by Dave, accepted by Alice.
  const accessFee = 3n * OPEN;
  const created = await submitOk(api, api.tx.datanets.createDatanet('lighthouses', 'facts about lighthouse keepers', ['facts'], 'CC0',
    { maxBytes: 4096, mediaTypes: ['text/plain'] }, { FeePerUse: accessFee }), alice);
  const datanet = eventData(created.events, 'datanets', 'DatanetCreated').datanet.toNumber();
  const calls = [];
  for (let i = 0; i < 10; i += 1) {
    const bytes = new TextEncoder().encode(`Keeper ${i} of the north lighthouse lights the lamp at ${i + 5} o'clock and sings to the gulls.`);
    const hash = blake2AsHex(bytes, 256);
    const res = await fetch(`${store.url}/content`, { method: 'POST', body: bytes });
    assert.ok(res.status === 200 || res.status === 201, `store put: ${res.status}`);
    calls.push(api.tx.datanets.contribute(datanet, hash, bytes.length, 'text/plain', `${store.url}/content/${hash}`, ''));
  }
  const contributed = await submitOk(api, api.tx.utility.batchAll(calls), keyring.addFromUri('//Dave'));
  const ids = contributed.events.filter(({ event }) => event.method === 'ContributionSubmitted').map(({ event }) => event.data.contribution.toNumber());
  await submitOk(api, api.tx.utility.batchAll(ids.map((id) => api.tx.datanets.curate(id, 'Accept'))), alice);
  const cut = await submitOk(api, api.tx.datanets.snapshot(datanet), alice);
  const snap = eventData(cut.events, 'datanets', 'SnapshotCreated');
  const snapshot = snap.snapshot.toNumber();

  // The base model, registered by the hash of its file.
  const contentHash = blake2AsHex(readFileSync(modelPath), 256);
  const registered = await submitOk(api, api.tx.models.registerBaseModel('SmolLM2-135M-Instruct', contentHash, 'llama', 134_515_008, 'Apache-2.0'), alice);
  const base = eventData(registered.events, 'models', 'BaseModelRegistered').base.toNumber();
  const again = await submit(api.tx.models.registerBaseModel('copy', contentHash, 'llama', 1, 'MIT'), alice);
  assert.equal(moduleError(api, again.dispatchError), 'models.DuplicateBaseModel');

  await Promise.all(['//TrainerA', '//TrainerB'].map((uri) => pollUntil(`${uri} registered`,
    async () => (await api.query.compute.workers(keyring.addFromUri(uri).address)).isSome, { timeoutMs: 60_000 })));

  // The fine-tune: rank 4 on q and v, a few short steps, replicated on both workers.
  const requester = keyring.addFromUri('//Requester');
  const hyper = {
    rank: 4, alpha: 8, dropoutPermille: 50, targets: 0b0101, learningRateMicro: 2000, warmupSteps: 1,
    steps: 3, batchSize: 1, gradAccum: 2, seqLen: 32, heldoutPermille: 200, seed: 7,
  };
  const ownerBefore = (await api.query.system.account(alice.address)).data.free.toBigInt();
  const requested = await submitOk(api, api.tx.models.requestFinetune(base, snapshot, hyper, 'Exact', OPEN, 2, 200, null), requester);
  const req = eventData(requested.events, 'models', 'FinetuneRequested');
  assert.equal(req.accessFee.toBigInt(), accessFee);
  assert.equal((await api.query.system.account(alice.address)).data.free.toBigInt() - ownerBefore, accessFee,
    'the access fee goes to the Datanet owner');
  const job = req.job.toNumber();
  const jobCreated = eventData(requested.events, 'compute', 'JobCreated');
  assert.equal(jobCreated.kind.toString(), 'Train');
  assert.equal(jobCreated.assigned.length, 2);

  const done = await pollUntil(`train job ${job} settled`, async () => {
    const j = await api.query.compute.jobs(job);
    return j.isSome && j.unwrap().status.type !== 'Pending' ? j.unwrap() : null;
  }, { timeoutMs: 240_000, intervalMs: 1000 });
  assert.equal(done.status.type, 'Completed', `the job ended ${done.status.type}: ${workers.map((w) => w.log()).join('\n')}`);

  // The version and its lineage.
  const model = (await api.query.models.nextModelId()).toNumber() - 1;
  const record = (await api.query.models.modelRecords(model)).unwrap();
  assert.equal(record.owner.toString(), requester.address);
  assert.equal(record.base.toNumber(), base);
  const version = (await api.query.models.modelVersions(model, 1)).unwrap();
  assert.equal(version.baseHash.toHex(), contentHash);
  assert.equal(version.snapshot.toNumber(), snapshot);
  assert.equal(version.snapshotRoot.toHex(), snap.root.toHex());
  assert.equal(version.job.toNumber(), job);
  assert.deepEqual(version.workers.map((w) => w.toString()).sort(),
    ['//TrainerA', '//TrainerB'].map((u) => keyring.addFromUri(u).address).sort(), 'both workers agreed');
  assert.equal(version.hyper.rank.toNumber(), 4);
  const m = version.metrics;
  assert.equal(m.steps.toNumber(), 3);
  assert.ok(m.heldoutExamples.toNumber() > 0 && m.trainExamples.toNumber() > 0);
  assert.ok(m.heldoutLossAfterMicro.toBigInt() < m.heldoutLossBeforeMicro.toBigInt(),
    `held-out loss ${m.heldoutLossBeforeMicro} -> ${m.heldoutLossAfterMicro}`);

  // The adapter is in the content store, and it is a PEFT safetensors file.
  const res = await fetch(`${store.url}/content/${version.adapterHash.toHex()}`);
  assert.equal(res.status, 200);
  const weights = new Uint8Array(await res.arrayBuffer());
  assert.equal(blake2AsHex(weights, 256), version.adapterHash.toHex());
  const headerLen = Number(new DataView(weights.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(weights.slice(8, 8 + headerLen)));
  assert.deepEqual(header['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'].shape, [4, 576]);
  const cfg = await fetch(`${store.url}/content/${version.configHash.toHex()}`);
  assert.equal(JSON.parse(await cfg.text()).peft_type, 'LORA');

  // Owner calls: publish, then a stranger may not deprecate, then transfer.
  await submitOk(api, api.tx.models.publish(model), requester);
  assert.equal((await api.query.models.modelRecords(model)).unwrap().status.type, 'Published');
  const stranger = await submit(api.tx.models.deprecate(model), alice);
  assert.equal(moduleError(api, stranger.dispatchError), 'models.NotOwner');
  await submitOk(api, api.tx.models.transferModel(model, alice.address), requester);
  assert.equal((await api.query.models.modelRecords(model)).unwrap().owner.toString(), alice.address);
});
