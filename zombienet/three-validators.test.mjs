// The 3-validator network (local-3-validators.toml) on zombienet's native provider: every
// validator authors, every node finalizes, and nothing listens beyond loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnNetwork, nonLoopbackListeners, waitAllAuthored } from './harness.mjs';

const VALIDATORS = ['alice', 'bob', 'charlie'];
let net;
let failed = false;

/** Runs a test body; on failure keeps the network's files and adds each node's last log lines. */
async function guard(fn) {
  try {
    await fn();
  } catch (e) {
    failed = true;
    if (net) e.message += `\n${net.names.map((n) => `--- ${n} ---\n${net.logTail(n, 15)}`).join('\n')}`;
    throw e;
  }
}

before(async () => {
  net = await spawnNetwork({ toml: 'local-3-validators.toml', validators: VALIDATORS });
});

after(async () => {
  if (net) await net.stop({ keepDir: failed });
});

test('every validator authors blocks and finality advances on every node', () => guard(async () => {
  // Each validator's Aura slots produce blocks on the canonical chain.
  const authors = await waitAllAuthored(net, VALIDATORS);
  assert.deepEqual([...VALIDATORS].filter((v) => !authors.has(v)), []);

  // Finality advances on every node, and they agree on what is final.
  const start = Math.max(...await Promise.all(VALIDATORS.map((n) => net.finalized(n))));
  await net.waitFinalized(VALIDATORS, Math.max(start + 2, 3));
  const common = Math.min(...await Promise.all(VALIDATORS.map((n) => net.finalized(n))));
  const hashes = await Promise.all(VALIDATORS.map((n) => net.blockHash(n, common)));
  assert.equal(new Set(hashes).size, 1, `finalized #${common} differs: ${hashes}`);

  // Every port of every node is on loopback (the wrapper dropped --prometheus-external).
  assert.deepEqual(nonLoopbackListeners(net.pids()), []);
}));
