// End-to-end: the dev flow's demo Datanet. Runs the seeder that `./scripts/dev.sh` runs against a
// real dev node and content store, then checks the chain holds exactly the shipped dataset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, connect } from './node.mjs';
import { startStore } from './store.mjs';

const dataset = fileURLToPath(new URL('../data/wallet-risk-notes.jsonl', import.meta.url));
let node;
let store;
let api;
let provider;

before(async () => {
  await cryptoWaitReady();
  store = await startStore();
  node = await startDevNode();
  ({ api, provider } = await connect(node.url));
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
  if (store) await store.stop();
});

test('the seeder puts the whole shipped dataset into one snapshot', async () => {
  const seeder = fileURLToPath(new URL('./seed-datanet.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [seeder, node.url, store.url], { timeout: 240_000 });
  const seeded = JSON.parse(stdout.trim().split('\n').pop());

  const records = readFileSync(dataset, 'utf8').split('\n').filter((l) => l.trim().length > 0);
  assert.ok(records.length >= 300, `the dataset has ${records.length} records`);
  assert.equal(seeded.count, records.length);
  const bytes = records.reduce((sum, line) => sum + new TextEncoder().encode(line).length, 0);
  assert.equal(seeded.totalBytes, bytes);

  const snapshot = await provider.send('openledger_snapshot', [seeded.snapshot]);
  assert.equal(snapshot.root, seeded.root);
  const listed = await provider.send('openledger_contributions', [seeded.datanet, 0, 1000]);
  assert.equal(listed.length, records.length);
  assert.ok(listed.every((c) => c.curation.status === 'accepted'));
  // Submission order follows the file, so each record's hash is where the seeder put it... as a
  // set at least: the three contributors' batches interleave per round.
  const onChain = new Set(listed.map((c) => c.contentHash));
  for (const line of records) assert.ok(onChain.has(blake2AsHex(line, 256)));

  const last = listed[listed.length - 1];
  const back = new Uint8Array(await (await fetch(last.locator)).arrayBuffer());
  assert.equal(blake2AsHex(back, 256), last.contentHash);
});
