// End-to-end: the worker network on a real dev node with real `gpu-worker serve` processes.
// Two workers are attached to the node (`--gpu-worker`), so its off-chain worker dispatches their
// jobs; the others watch the chain themselves. The job is the verification of a Datanet snapshot
// whose contributions are served by the content store, one of them missing and one corrupt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aConcat, u8aToHex, bnToU8a, compactToU8a } from '@polkadot/util';
import { startDevNode, pollUntil, connect, submit, freePort, moduleError, submitOk } from './node.mjs';
import { startStore } from './store.mjs';
import { startWorker } from './worker.mjs';

const OPEN = 10n ** 18n;
const STAKE = 1000n;

let node;
let store;
let api;
let keyring;
let alice;
let snapshot; // { id, count, totalBytes, missing, corrupt }
const ports = [];
const workers = [];

function eventsOf(events, method) {
  return events.filter(({ event }) => event.section === 'compute' && event.method === method).map(({ event }) => event.data);
}

/** All compute events from the blocks after `fromNumber` up to the best block. */
async function computeEventsSince(fromNumber) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  const all = [];
  for (let n = fromNumber + 1; n <= best; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const events = await (await api.at(hash)).query.system.events();
    for (const { event } of events) {
      if (event.section === 'compute') all.push({ block: n, method: event.method, data: event.data });
    }
  }
  return all;
}

async function bestNumber() {
  return (await api.rpc.chain.getHeader()).number.toNumber();
}

async function job(id) {
  const record = await api.query.compute.jobs(id);
  assert.ok(record.isSome, `job ${id} exists`);
  return record.unwrap();
}

async function waitForStatus(id, status, timeoutMs = 150_000) {
  return pollUntil(`job ${id} ${status}`, async () => {
    const j = await job(id);
    return j.status.type === status ? j : null;
  }, { timeoutMs, intervalMs: 500 });
}

async function workerStake(who) {
  const info = await api.query.compute.workers(who);
  return info.isSome ? info.unwrap().stake.toBigInt() : null;
}

/** The verification report an honest worker must produce for `snapshot`, as its SCALE bytes. */
function expectedReport() {
  const ids = (list) => u8aConcat(compactToU8a(list.length), ...list.map((id) => bnToU8a(BigInt(id), { bitLength: 64, isLe: true })));
  return u8aConcat(
    bnToU8a(snapshot.id, { bitLength: 32, isLe: true }),
    new Uint8Array([1]), // the recomputed root matches
    bnToU8a(snapshot.count, { bitLength: 32, isLe: true }),
    bnToU8a(BigInt(snapshot.totalBytes), { bitLength: 64, isLe: true }),
    ids(snapshot.missing),
    ids(snapshot.corrupt),
  );
}

async function createJob(replication, fee, timeout, signer = alice) {
  const spec = bnToU8a(snapshot.id, { bitLength: 32, isLe: true });
  const { events } = await submitOk(api, api.tx.compute.createJob('VerifySnapshot', u8aToHex(spec), fee, replication, timeout), signer);
  const [created] = eventsOf(events, 'JobCreated');
  assert.ok(created, 'JobCreated');
  return { id: created.job.toNumber(), assigned: created.assigned.map((a) => a.toString()) };
}

async function waitRegistered(address) {
  await pollUntil(`${address} registered`, async () => (await api.query.compute.workers(address)).isSome, { timeoutMs: 60_000 });
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
  alice = keyring.addFromUri('//Alice');
  store = await startStore();
  ports.push(await freePort(), await freePort());
  node = await startDevNode({
    extraArgs: ports.flatMap((port) => ['--gpu-worker', `http://127.0.0.1:${port}`]),
  });
  ({ api } = await connect(node.url));

  // A Datanet with five accepted contributions: three stored, one never uploaded (missing), one
  // whose locator serves other bytes (corrupt).
  const created = await submitOk(api, api.tx.datanets.createDatanet('verify-me', 'snapshot verification e2e', ['test'], 'CC0',
    { maxBytes: 1024, mediaTypes: ['text/plain'] }, 'Public'), alice);
  const datanet = created.events.find(({ event }) => event.method === 'DatanetCreated').event.data.datanet.toNumber();
  const texts = ['first note', 'second note', 'third note', 'never uploaded', 'tampered with'];
  const calls = [];
  for (const [i, text] of texts.entries()) {
    const bytes = new TextEncoder().encode(text);
    const hash = blake2AsHex(bytes, 256);
    let locator = `${store.url}/content/${hash}`;
    if (i < 3) {
      const res = await fetch(`${store.url}/content`, { method: 'POST', body: bytes });
      assert.ok(res.status === 200 || res.status === 201, `store put: ${res.status}`);
    } else if (i === 4) {
      locator = `${store.url}/content/${blake2AsHex(new TextEncoder().encode(texts[0]), 256)}`;
    }
    calls.push(api.tx.datanets.contribute(datanet, hash, bytes.length, 'text/plain', locator, ''));
  }
  // Dave contributes (an owner may not curate its own contributions); Alice accepts.
  const contributed = await submitOk(api, api.tx.utility.batchAll(calls), keyring.addFromUri('//Dave'));
  const ids = contributed.events.filter(({ event }) => event.method === 'ContributionSubmitted').map(({ event }) => event.data.contribution.toNumber());
  await submitOk(api, api.tx.utility.batchAll(ids.map((id) => api.tx.datanets.curate(id, 'Accept'))), alice);
  const cut = await submitOk(api, api.tx.datanets.snapshot(datanet), alice);
  const snap = cut.events.find(({ event }) => event.method === 'SnapshotCreated').event.data;
  snapshot = {
    id: snap.snapshot.toNumber(),
    count: snap.count.toNumber(),
    totalBytes: snap.totalBytes.toNumber(),
    missing: [ids[3]],
    corrupt: [ids[4]],
  };

  // Accounts only this test signs for, funded by Alice.
  const fund = ['//ComputeX', '//ComputeY', '//ComputeZ'].map((uri) =>
    api.tx.balances.transferKeepAlive(keyring.addFromUri(uri).address, 30_000n * OPEN));
  await submitOk(api, api.tx.utility.batchAll(fund), alice);
});

after(async () => {
  for (const w of workers) await w.stop();
  if (api) await api.disconnect();
  if (node) await node.stop();
  if (store) await store.stop();
});

test('bad results are refused with their named errors and change nothing', async () => {
  const x = keyring.addFromUri('//ComputeX');
  const y = keyring.addFromUri('//ComputeY');
  const caps = { backend: 'Cpu', gpuMemoryMib: 0, maxResidentAdapters: 0, jobKinds: 1 };
  await Promise.all([x, y].map((w) => submitOk(api, api.tx.compute.registerWorker(STAKE * OPEN, caps), w)));
  const minTimeout = api.consts.compute.minTimeout.toNumber();
  // Long enough for the four transactions below to land before the deadline.
  const { id, assigned } = await createJob(2, OPEN, minTimeout + 6);
  assert.deepEqual([...assigned].sort(), [x.address, y.address].sort());

  const hash = blake2AsHex('some result', 256);
  const before = (await job(id)).toHex();

  // Not assigned.
  let r = await submit(api.tx.compute.submitResult(id, hash, '0x01'), alice);
  assert.equal(moduleError(api, r.dispatchError), 'compute.NotAssigned');
  assert.equal((await job(id)).toHex(), before);
  // Oversized.
  const max = api.consts.compute.maxResultLen.toNumber();
  r = await submit(api.tx.compute.submitResult(id, hash, u8aToHex(new Uint8Array(max + 1))), x);
  assert.equal(moduleError(api, r.dispatchError), 'compute.ResultTooLarge');
  assert.equal((await api.query.compute.results(id, x.address)).isNone, true);
  // Accepted once, then refused.
  await submitOk(api, api.tx.compute.submitResult(id, hash, '0x01'), x);
  r = await submit(api.tx.compute.submitResult(id, blake2AsHex('other', 256), '0x02'), x);
  assert.equal(moduleError(api, r.dispatchError), 'compute.AlreadyReported');
  assert.equal((await api.query.compute.results(id, x.address)).unwrap().payloadHash.toHex(), hash);

  // Y never reports: after the deadline its result is refused, it is slashed, and the job settles
  // on X's result (no other worker can replace Y).
  const deadline = (await job(id)).deadline.toNumber();
  const stakeBefore = await workerStake(y.address);
  await pollUntil('the deadline to pass', async () => (await bestNumber()) > deadline, { timeoutMs: 60_000 });
  r = await submit(api.tx.compute.submitResult(id, hash, '0x01'), y);
  assert.equal(moduleError(api, r.dispatchError), 'compute.DeadlinePassed');
  const done = await waitForStatus(id, 'Completed', 60_000);
  assert.equal(done.outcome.unwrap().toHex(), hash);
  const missed = api.consts.compute.slashMissedFraction.toNumber(); // parts per billion
  assert.equal(await workerStake(y.address), stakeBefore - (stakeBefore * BigInt(missed)) / 1_000_000_000n);

  // Both leave, so the process workers below take the jobs.
  await Promise.all([x, y].map((w) => submitOk(api, api.tx.compute.unregister(), w)));
});

test('two attached workers verify a snapshot, agree, and share the fee', async () => {
  const bob = keyring.addFromUri('//Bob');
  const charlie = keyring.addFromUri('//Charlie');
  for (const [i, key] of ['//Bob', '//Charlie'].entries()) {
    workers.push(await startWorker({ node: node.url, key, port: ports[i], extraArgs: ['--stake', String(STAKE)] }));
  }
  await waitRegistered(bob.address);
  await waitRegistered(charlie.address);
  const info = await workers[0].rpc('worker_info');
  assert.equal(info.account, u8aToHex(bob.publicKey));

  const from = await bestNumber();
  const fee = 10n * OPEN;
  const { id, assigned } = await createJob(2, fee, 20);
  assert.deepEqual([...assigned].sort(), [bob.address, charlie.address].sort());
  const done = await waitForStatus(id, 'Completed');

  const expected = blake2AsHex(expectedReport(), 256);
  assert.equal(done.outcome.unwrap().toHex(), expected, 'the workers found the missing and the corrupt contribution');
  const events = await computeEventsSince(from);
  const submitted = events.filter((e) => e.method === 'ResultSubmitted' && e.data.job.toNumber() === id);
  assert.equal(submitted.length, 2);
  assert.ok(submitted.every((e) => e.data.payloadHash.toHex() === expected));
  const completed = events.find((e) => e.method === 'JobCompleted' && e.data.job.toNumber() === id);
  const paid = completed.data.paid.map(([who, amount]) => [who.toString(), amount.toBigInt()]);
  assert.deepEqual(paid.map(([, a]) => a).reduce((a, b) => a + b, 0n), fee);
  assert.deepEqual(paid.map(([w]) => w).sort(), [bob.address, charlie.address].sort());
  assert.ok(!events.some((e) => e.method === 'WorkerSlashed' && e.data.job.toNumber() === id));
  // The node's off-chain worker, not only the workers' own polling, handed the job over.
  assert.match(node.log(), /dispatched job/);
});

test('a worker that corrupts its results is outvoted and slashed', async () => {
  const dave = keyring.addFromUri('//Dave');
  workers.push(await startWorker({ node: node.url, key: '//Dave', extraArgs: ['--stake', String(STAKE), '--corrupt-results'] }));
  await waitRegistered(dave.address);
  const from = await bestNumber();
  const stakeBefore = await workerStake(dave.address);
  const fee = 9n * OPEN;
  const { id, assigned } = await createJob(3, fee, 20);
  assert.ok(assigned.includes(dave.address));
  const done = await waitForStatus(id, 'Completed');
  assert.equal(done.outcome.unwrap().toHex(), blake2AsHex(expectedReport(), 256));

  const events = await computeEventsSince(from);
  const slashed = events.find((e) => e.method === 'WorkerSlashed' && e.data.job.toNumber() === id);
  assert.ok(slashed, 'WorkerSlashed');
  assert.equal(slashed.data.worker.toString(), dave.address);
  assert.equal(slashed.data.reason.type, 'Disagreed');
  const fraction = BigInt(api.consts.compute.slashDisagreeFraction.toNumber());
  const amount = (stakeBefore * fraction) / 1_000_000_000n;
  assert.equal(slashed.data.amount.toBigInt(), amount);
  assert.equal(await workerStake(dave.address), stakeBefore - amount);
  const completed = events.find((e) => e.method === 'JobCompleted' && e.data.job.toNumber() === id);
  assert.ok(!completed.data.paid.some(([who]) => who.toString() === dave.address), 'the outvoted worker is not paid');

  await submitOk(api, api.tx.compute.unregister(), dave);
  await workers.pop().stop();
});

test('a worker killed mid-job is replaced after the deadline and loses its share of stake', async () => {
  const z = keyring.addFromUri('//ComputeZ');
  // Not attached to the node and polling once an hour: once assigned, it holds the job until killed.
  const sleepy = await startWorker({ node: node.url, key: '//ComputeZ', extraArgs: ['--stake', '20000', '--poll-ms', '3600000'] });
  workers.push(sleepy);
  await waitRegistered(z.address);

  // Assignment is stake-weighted and Z holds most of the stake, so it is drawn almost always;
  // a job it is not drawn for simply completes and another is created.
  let picked;
  for (let attempt = 0; attempt < 8 && !picked; attempt += 1) {
    const created = await createJob(2, OPEN, 4);
    if (created.assigned.includes(z.address)) picked = created;
    else await waitForStatus(created.id, 'Completed');
  }
  assert.ok(picked, 'the heavily staked worker was drawn');
  const from = await bestNumber();
  const stakeBefore = await workerStake(z.address);
  await sleepy.kill();

  const done = await waitForStatus(picked.id, 'Completed');
  assert.equal(done.outcome.unwrap().toHex(), blake2AsHex(expectedReport(), 256));
  const events = await computeEventsSince(from);
  const reassigned = events.find((e) => e.method === 'JobReassigned' && e.data.job.toNumber() === picked.id);
  assert.ok(reassigned, 'JobReassigned');
  assert.equal(reassigned.data.missed.toString(), z.address);
  assert.ok(reassigned.data.replacement.isSome);
  const fraction = BigInt(api.consts.compute.slashMissedFraction.toNumber());
  assert.equal(await workerStake(z.address), stakeBefore - (stakeBefore * fraction) / 1_000_000_000n);
});
