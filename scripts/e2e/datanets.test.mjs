// End-to-end: a Datanet's life on a real dev node, driven by Polkadot.js, with contribution
// bytes in the project's content store. Every deposit and slash is checked by balance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { blake2AsU8a, blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aConcat, u8aToHex, hexToU8a, bnToU8a } from '@polkadot/util';
import { startDevNode, pollUntil, connect, submit, feePaid, moduleError } from './node.mjs';
import { startStore } from './store.mjs';

const OPEN = 10n ** 18n;
const DATANET_DEPOSIT = 10n * OPEN;
const CONTRIBUTION_DEPOSIT = OPEN;

let node;
let store;
let api;
let provider;
let alice;
let bob;

function eventData(events, section, method) {
  const record = events.find(({ event }) => event.section === section && event.method === method);
  assert.ok(record, `${section}.${method} event`);
  return record.event.data;
}

/** Free and reserved (held) balance of `who`, at `blockHash` or at the best block. */
async function account(who, blockHash) {
  const at = blockHash ? await api.at(blockHash) : api;
  const { data } = await at.query.system.account(who);
  return { free: data.free.toBigInt(), reserved: data.reserved.toBigInt() };
}

async function parentOf(blockHash) {
  return (await api.rpc.chain.getHeader(blockHash)).parentHash;
}

/** Leaf of the snapshot tree: blake2_256(SCALE(id: u64, content_hash: [u8; 32], size: u64)). */
function leafHash(id, contentHash, size) {
  return blake2AsU8a(u8aConcat(
    bnToU8a(BigInt(id), { bitLength: 64, isLe: true }),
    hexToU8a(contentHash),
    bnToU8a(BigInt(size), { bitLength: 64, isLe: true }),
  ), 256);
}

/** Walks a proof from the leaf to the root, as the pallet does (odd last node promoted). */
function verifyProof(root, leaf, { leafIndex, leafCount, siblings }) {
  if (leafIndex >= leafCount) return false;
  let node = leaf;
  let position = leafIndex;
  let width = leafCount;
  const path = siblings.map((sibling) => hexToU8a(sibling));
  while (width > 1) {
    if (position % 2 === 1) {
      const sibling = path.shift();
      if (!sibling) return false;
      node = blake2AsU8a(u8aConcat(sibling, node), 256);
    } else if (position + 1 < width) {
      const sibling = path.shift();
      if (!sibling) return false;
      node = blake2AsU8a(u8aConcat(node, sibling), 256);
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  return path.length === 0 && u8aToHex(node) === root;
}

before(async () => {
  await cryptoWaitReady();
  store = await startStore();
  node = await startDevNode();
  try {
    ({ api, provider } = await connect(node.url));
    await pollUntil('block 1', async () => (await api.rpc.chain.getHeader()).number.toNumber() >= 1);
  } catch (e) {
    console.error(node.log());
    throw e;
  }
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
  if (store) await store.stop();
});

test('a Datanet from creation to a verified snapshot proof', async () => {
  // 1. Alice creates a Datanet; 10 OPEN are held.
  const before = await account(alice.address);
  const created = await submit(api.tx.datanets.createDatanet(
    'wallet-risk', 'Notes on risky on-chain wallet behaviour', ['security', 'onchain'], 'Apache-2.0',
    { maxBytes: 4096, mediaTypes: ['application/json'] }, 'Public'), alice);
  assert.equal(created.dispatchError, undefined);
  const datanet = eventData(created.events, 'datanets', 'DatanetCreated').datanet.toNumber();
  const afterCreate = await account(alice.address, created.blockHash);
  assert.equal(afterCreate.reserved - before.reserved, DATANET_DEPOSIT);
  assert.equal(before.free - afterCreate.free, DATANET_DEPOSIT + feePaid(created.events));

  // 2. Three records go to the content store; the store answers with their blake2-256.
  const records = [
    { pattern: 'mixer-funded', risk: 'high', note: 'Funded within minutes of a mixer withdrawal.' },
    { pattern: 'dust-attack', risk: 'low', note: 'Received many tiny transfers from unrelated senders.' },
    { pattern: 'peel-chain', risk: 'critical', note: 'Splits funds through a long chain of fresh addresses.' },
  ].map((r) => new TextEncoder().encode(JSON.stringify(r)));
  const uploaded = [];
  for (const bytes of records) {
    const res = await fetch(`${store.url}/content`, { method: 'POST', body: bytes });
    assert.equal(res.status, 201);
    const { hash, size } = await res.json();
    assert.equal(hash, blake2AsHex(bytes, 256));
    assert.equal(size, bytes.length);
    uploaded.push({ hash, size, locator: `${store.url}/content/${hash}` });
  }

  // 3. Bob contributes them: 1 OPEN held for each.
  const bobStart = await account(bob.address);
  const ids = [];
  let last;
  for (const { hash, size, locator } of uploaded) {
    last = await submit(api.tx.datanets.contribute(datanet, hash, size, 'application/json', locator, '{}'), bob);
    assert.equal(last.dispatchError, undefined);
    ids.push(eventData(last.events, 'datanets', 'ContributionSubmitted').contribution.toNumber());
  }
  const bobAfterContribute = await account(bob.address, last.blockHash);
  assert.equal(bobAfterContribute.reserved - bobStart.reserved, 3n * CONTRIBUTION_DEPOSIT);

  // 4. An exact duplicate is refused and holds nothing more.
  const dup = await submit(api.tx.datanets.contribute(
    datanet, uploaded[0].hash, uploaded[0].size, 'application/json', uploaded[0].locator, '{}'), bob);
  assert.equal(moduleError(api, dup.dispatchError), 'datanets.DuplicateContribution');
  assert.equal((await account(bob.address, dup.blockHash)).reserved, bobAfterContribute.reserved);

  // 5. Alice accepts the first: Bob's deposit comes back.
  const accepted = await submit(api.tx.datanets.curate(ids[0], 'Accept'), alice);
  assert.equal(accepted.dispatchError, undefined);
  const bobBeforeAccept = await account(bob.address, await parentOf(accepted.blockHash));
  const bobAfterAccept = await account(bob.address, accepted.blockHash);
  assert.equal(bobBeforeAccept.reserved - bobAfterAccept.reserved, CONTRIBUTION_DEPOSIT);
  assert.equal(bobAfterAccept.free - bobBeforeAccept.free, CONTRIBUTION_DEPOSIT);

  // 6. Alice rejects the second (reason 3): the deposit is slashed, half to the treasury, half
  //    to Alice as curator; Bob gets nothing back.
  const treasury = (await provider.send('openledger_tokenomics', [])).pools.find((p) => p.name === 'treasury').address;
  const rejected = await submit(api.tx.datanets.curate(ids[1], { Reject: 3 }), alice);
  assert.equal(rejected.dispatchError, undefined);
  const slash = eventData(rejected.events, 'datanets', 'ContributionRejected');
  assert.equal(slash.toTreasury.toBigInt() + slash.toCurator.toBigInt(), CONTRIBUTION_DEPOSIT);
  assert.equal(slash.toTreasury.toBigInt(), CONTRIBUTION_DEPOSIT / 2n);
  const parent = await parentOf(rejected.blockHash);
  const fee = feePaid(rejected.events);
  const [bobPre, bobPost] = [await account(bob.address, parent), await account(bob.address, rejected.blockHash)];
  assert.equal(bobPre.reserved - bobPost.reserved, CONTRIBUTION_DEPOSIT);
  assert.equal(bobPost.free, bobPre.free);
  const [alicePre, alicePost] = [await account(alice.address, parent), await account(alice.address, rejected.blockHash)];
  assert.equal(alicePost.free - alicePre.free, slash.toCurator.toBigInt() - fee);
  const [trePre, trePost] = [await account(treasury, parent), await account(treasury, rejected.blockHash)];
  assert.equal(trePost.free - trePre.free, slash.toTreasury.toBigInt() + fee);

  // 7. Accept the third too, then cut a snapshot of the two accepted contributions.
  assert.equal((await submit(api.tx.datanets.curate(ids[2], 'Accept'), alice)).dispatchError, undefined);
  const cut = await submit(api.tx.datanets.snapshot(datanet), alice);
  assert.equal(cut.dispatchError, undefined);
  const event = eventData(cut.events, 'datanets', 'SnapshotCreated');
  const snapshotId = event.snapshot.toNumber();
  assert.equal(event.count.toNumber(), 2);
  assert.equal(event.totalBytes.toNumber(), uploaded[0].size + uploaded[2].size);

  // 8. The RPC serves the snapshot and a proof; the proof verifies here, in JS.
  const snapshot = await provider.send('openledger_snapshot', [snapshotId]);
  assert.equal(snapshot.root, event.root.toHex());
  assert.equal(snapshot.count, 2);
  const proof = await provider.send('openledger_contributionProof', [snapshotId, ids[2]]);
  assert.equal(proof.contentHash, uploaded[2].hash);
  assert.equal(proof.leafCount, 2);
  assert.equal(proof.siblings.length, 1);
  const leaf = leafHash(ids[2], uploaded[2].hash, uploaded[2].size);
  assert.equal(u8aToHex(leaf), proof.leaf);
  assert.ok(verifyProof(snapshot.root, leaf, proof),
    `the proof verifies against the on-chain root: ${JSON.stringify({ snapshot, proof })}`);
  const tampered = { ...proof, siblings: [u8aToHex(blake2AsU8a('not the sibling', 256))] };
  assert.equal(verifyProof(snapshot.root, leaf, tampered), false);
  assert.equal(await provider.send('openledger_contributionProof', [snapshotId, ids[1]]), null,
    'a rejected contribution is in no snapshot');

  // 9. Paged listing shows all three with their curation outcome.
  const listed = await provider.send('openledger_contributions', [datanet, 0, 10]);
  assert.deepEqual(listed.map((c) => c.curation.status), ['accepted', 'rejected', 'accepted']);
  assert.deepEqual((await provider.send('openledger_contributions', [datanet, 1, 1])).map((c) => c.id), [ids[1]]);
  const [view] = (await provider.send('openledger_datanets', [datanet, 1]));
  assert.equal(view.name, 'wallet-risk');
  assert.equal(view.counters.accepted, 2);

  // 10. The bytes behind an accepted contribution come back from the store and match the chain.
  const res = await fetch(listed[2].locator);
  assert.equal(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(blake2AsHex(bytes, 256), listed[2].contentHash);
});
