// The 4-validator network (local-4-validators.toml) on zombienet's native provider, one network
// shared by the tests below, which run in order:
//   1. all four validators author, every node finalizes, only loopback ports;
//   2. a validator is killed: blocks and finality go on (3 of 4 > 2/3); it restarts and catches up;
//   3. dave, to which the workers are attached, is killed: the workers' jobs still complete;
//   4. a minority (dave) is partitioned off and authors a fork of its own: the majority keeps
//      finalizing, dave finalizes nothing of its fork, and after healing every node has the same
//      finalized chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useNetwork, waitFor, freePort, nonLoopbackListeners, accounts, seedSnapshot, createVerifyJob,
  waitJobCompleted, waitWorkerRegistered, OPEN, waitAllAuthored } from './harness.mjs';

const VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];
let net;
let workerPorts;
const guard = useNetwork(async () => {
  workerPorts = [await freePort(), await freePort()];
  return {
    toml: 'local-4-validators.toml',
    validators: VALIDATORS,
    env: { GPU_WORKER_PORT_1: String(workerPorts[0]), GPU_WORKER_PORT_2: String(workerPorts[1]) },
  };
}, (spawned) => { net = spawned; });

/** Compute events of alice's canonical blocks after #`from`, up to its best block. */
async function computeEvents(api, from) {
  const best = await net.best('alice');
  const out = [];
  for (let n = from + 1; n <= best; n += 1) {
    const events = await (await api.at(await net.blockHash('alice', n))).query.system.events();
    for (const { event } of events) if (event.section === 'compute') out.push({ block: n, method: event.method, data: event.data });
  }
  return out;
}

/** Starts `name` again if an earlier test left it down, and waits until it has caught up. */
async function ensureUp(name) {
  if (await net.rpc(name, 'system_health').then(() => true, () => false)) return;
  await net.start(name);
  await waitCaughtUp(name);
}

const others = (name) => VALIDATORS.filter((n) => n !== name);
const maxOf = async (names, f) => Math.max(...await Promise.all(names.map(f)));
const minOf = async (names, f) => Math.min(...await Promise.all(names.map(f)));

/** Waits until `name`'s best and finalized blocks reach the others' at the time of the call. */
async function waitCaughtUp(name) {
  const rest = others(name);
  const best = await maxOf(rest, (n) => net.best(n));
  const finalized = await minOf(rest, (n) => net.finalized(n));
  await net.waitBest([name], best, { timeoutMs: 240_000 });
  await net.waitFinalized([name], finalized, { timeoutMs: 240_000 });
  assert.equal(await net.blockHash(name, finalized), await net.blockHash(rest[0], finalized));
}

test('all four validators author blocks and finality advances on every node', () => guard(async () => {
  const authors = await waitAllAuthored(net, VALIDATORS);
  assert.deepEqual(VALIDATORS.filter((v) => !authors.has(v)), []);
  const start = await maxOf(VALIDATORS, (n) => net.finalized(n));
  await net.waitFinalized(VALIDATORS, Math.max(start + 2, 3));
  assert.deepEqual(nonLoopbackListeners(net.pids()), []);
}));

test('a killed validator: the other three keep authoring and finalizing; it restarts and catches up', () => guard(async () => {
  const victim = 'charlie';
  const rest = others(victim);
  const pid = net.pid(victim);
  await net.kill(victim);
  assert.throws(() => process.kill(pid, 0), 'the process is gone');
  await assert.rejects(net.rpc(victim, 'system_health'));

  const best0 = await maxOf(rest, (n) => net.best(n));
  const final0 = await maxOf(rest, (n) => net.finalized(n));
  await net.waitBest(rest, best0 + 4);
  await net.waitFinalized(rest, final0 + 4);

  await net.start(victim);
  await waitCaughtUp(victim);
}));

test('workers attached to a killed node still complete their jobs', () => guard(async () => {
  for (const n of VALIDATORS) await ensureUp(n);
  const api = await net.api('alice');
  const store = await net.startStore();
  const snapshot = await seedSnapshot(api, store);
  const keyring = await accounts();
  const keys = ['//Bob', '//Charlie'];
  // Each worker talks to dave first and alice second (fail-over); both dave and alice dispatch
  // jobs to both workers (--gpu-worker in the .toml).
  const endpoints = ['dave', 'alice'];
  const workers = [];
  for (const [i, key] of keys.entries()) {
    workers.push(await net.startWorker({ nodes: endpoints, key, port: workerPorts[i], extraArgs: ['--stake', '1000'] }));
  }
  for (const key of keys) await waitWorkerRegistered(api, keyring.addFromUri(key).address);

  await net.kill('dave');
  const created = await net.best('alice');
  const { id, assigned } = await createVerifyJob(api, snapshot, { replication: 2, fee: 10n * OPEN, timeout: 20 });
  assert.deepEqual([...assigned].sort(), keys.map((k) => keyring.addFromUri(k).address).sort());
  const job = await waitJobCompleted(api, id);
  assert.ok(job.outcome.isSome);
  const events = await computeEvents(api, created);
  const reported = events.filter((e) => e.method === 'ResultSubmitted' && e.data.job.toNumber() === id).map((e) => e.data.worker.toString());
  assert.deepEqual(reported.sort(), [...assigned].sort(), 'both workers reported');
  const completed = events.find((e) => e.method === 'JobCompleted' && e.data.job.toNumber() === id);
  assert.ok(completed, 'JobCompleted');
  assert.deepEqual(completed.data.paid.map(([who]) => who.toString()).sort(), [...assigned].sort());
  for (const w of workers) assert.equal(typeof (await w.rpc('worker_info')).account, 'string', 'the worker is still serving');

  for (const w of workers) await w.stop();
  await net.start('dave');
  await waitCaughtUp('dave');
}));

test('a partitioned minority authors its own fork, finalizes none of it, and reorgs onto the majority when healed', () => guard(async () => {
  const minority = 'dave';
  const majority = others(minority);
  for (const n of VALIDATORS) await ensureUp(n);
  const finalBefore = await maxOf(VALIDATORS, (n) => net.finalized(n));

  await net.isolate(minority);
  assert.equal(await net.peers(minority), 0, 'the minority has no peers');
  const isolatedAt = await net.finalizedHead(minority);
  const bestAtIsolation = await net.best(minority);

  // The majority (3 of 4) keeps finalizing; the minority authors blocks of its own and never
  // finalizes past what it had before the partition.
  const majorityFinal0 = await maxOf(majority, (n) => net.finalized(n));
  let forkTip;
  await waitFor('the majority to finalize 4 more blocks and the minority to author its own fork', async () => {
    const minorityFinal = await net.finalizedHead(minority);
    assert.ok(minorityFinal.number <= Math.max(isolatedAt.number, finalBefore), `the minority finalized #${minorityFinal.number} alone`);
    assert.equal(await net.peers(minority), 0, 'the minority stays without peers');
    const header = await net.header(minority);
    const height = parseInt(header.number, 16);
    const majorityHash = await net.blockHash('alice', height);
    const minorityHash = await net.blockHash(minority, height);
    if (height > bestAtIsolation && majorityHash !== minorityHash) forkTip = { height, hash: minorityHash };
    return forkTip && (await minOf(majority, (n) => net.finalized(n))) >= majorityFinal0 + 4;
  }, { timeoutMs: 300_000, intervalMs: 1000 });
  const minorityFinal = await net.finalizedHead(minority);
  assert.equal(await net.blockHash('alice', minorityFinal.number), minorityFinal.hash, "the minority's finalized block is on the majority chain");
  // The minority's own blocks, from its finalized block to its fork's tip.
  const fork = [];
  for (let h = minorityFinal.number + 1; h <= forkTip.height; h += 1) {
    const hash = await net.blockHash(minority, h);
    if (hash !== (await net.blockHash('alice', h))) fork.push({ h, hash });
  }
  assert.ok(fork.length > 0, 'the minority authored a fork');

  await net.heal(minority);
  await waitCaughtUp(minority);
  // The fork's tip can be at or above the height the majority had finalized when the partition
  // healed (finality runs a block or two behind the best block), so catching up to that is not
  // enough: wait for every node, the minority included, to finalize past the fork's tip.
  await net.waitFinalized(VALIDATORS, forkTip.height + 1, { timeoutMs: 240_000 });
  const common = await minOf(VALIDATORS, (n) => net.finalized(n));
  for (let h = 1; h <= common; h += 1) {
    const hashes = await Promise.all(VALIDATORS.map((n) => net.blockHash(n, h)));
    assert.equal(new Set(hashes).size, 1, `finalized #${h} differs between nodes: ${hashes}`);
  }
  for (const { h, hash } of fork) {
    assert.notEqual(await net.blockHash(minority, h), hash, `the minority's fork block #${h} was kept`);
  }
}));
