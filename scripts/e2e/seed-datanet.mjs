// Seeds a demo Datanet on a running chain from the project's shipped dataset.
//
//   node scripts/e2e/seed-datanet.mjs WS_URL STORE_URL [DATASET.jsonl]
//
// Uploads every record (one JSON line each) to the content store, contributes them from the
// dev accounts Bob, Charlie and Dave in batches, has Alice (the owner) accept them, and cuts a
// snapshot. Prints the Datanet id, the snapshot id and its Merkle root. Later flows (training
// jobs) reference that snapshot.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/api';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, submit } from './node.mjs';

const [wsUrl, storeUrl, datasetArg] = process.argv.slice(2);
if (!wsUrl || !storeUrl) {
  console.error('usage: seed-datanet.mjs WS_URL STORE_URL [DATASET.jsonl]');
  process.exit(2);
}
const dataset = datasetArg || fileURLToPath(new URL('../data/wallet-risk-notes.jsonl', import.meta.url));
const BATCH = 50; // below MaxPendingPerContributor (64)

/** Submits and fails loudly: a seeding step that does not apply is a broken demo. */
async function submitOk(api, tx, signer) {
  const { events, dispatchError } = await submit(tx, signer);
  const interrupted = events.find(({ event }) => api.events.utility.BatchInterrupted.is(event));
  if (dispatchError || interrupted) {
    throw new Error(`extrinsic failed: ${dispatchError || interrupted.event.data.toString()}`);
  }
  return events;
}

function findEvents(api, events, method) {
  return events.filter(({ event }) => event.section === 'datanets' && event.method === method).map(({ event }) => event.data);
}

await cryptoWaitReady();
const { api } = await connect(wsUrl);
const keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
const alice = keyring.addFromUri('//Alice');
const contributors = ['//Bob', '//Charlie', '//Dave'].map((uri) => keyring.addFromUri(uri));

const lines = readFileSync(dataset, 'utf8').split('\n').filter((l) => l.trim().length > 0);
const created = await submitOk(api, api.tx.datanets.createDatanet(
  'wallet-risk-notes', 'Synthetic notes on risky on-chain wallet behaviour, written for OpenLedger demos',
  ['security', 'onchain', 'risk'], 'Apache-2.0',
  { maxBytes: 4096, mediaTypes: ['application/json'] }, 'Public'), alice);
const datanet = findEvents(api, created, 'DatanetCreated')[0].datanet.toNumber();

let contributed = 0;
for (let start = 0; start < lines.length; start += BATCH * contributors.length) {
  const round = [];
  for (const [k, who] of contributors.entries()) {
    const chunk = lines.slice(start + k * BATCH, start + (k + 1) * BATCH);
    if (chunk.length === 0) continue;
    const calls = [];
    for (const line of chunk) {
      const bytes = new TextEncoder().encode(line);
      const res = await fetch(`${storeUrl}/content`, { method: 'POST', body: bytes });
      if (res.status !== 201 && res.status !== 200) throw new Error(`store refused a record: ${res.status} ${await res.text()}`);
      const { hash } = await res.json();
      if (hash !== blake2AsHex(bytes, 256)) throw new Error('the store returned a different hash');
      calls.push(api.tx.datanets.contribute(datanet, hash, bytes.length, 'application/json', `${storeUrl}/content/${hash}`, ''));
    }
    round.push(submitOk(api, api.tx.utility.batchAll(calls), who));
  }
  const ids = (await Promise.all(round)).flatMap((events) =>
    findEvents(api, events, 'ContributionSubmitted').map((d) => d.contribution));
  await submitOk(api, api.tx.utility.batchAll(ids.map((id) => api.tx.datanets.curate(id, 'Accept'))), alice);
  contributed += ids.length;
  process.stderr.write(`seeded ${contributed}/${lines.length} records\n`);
}
const cut = await submitOk(api, api.tx.datanets.snapshot(datanet), alice);
const snap = findEvents(api, cut, 'SnapshotCreated')[0];
console.log(JSON.stringify({
  datanet, snapshot: snap.snapshot.toNumber(), root: snap.root.toHex(),
  count: snap.count.toNumber(), totalBytes: snap.totalBytes.toNumber(),
}));
await api.disconnect();
