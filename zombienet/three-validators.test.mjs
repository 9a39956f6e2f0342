// The 3-validator network (local-3-validators.toml) on zombienet's native provider: every
// validator authors, every node finalizes, and nothing listens beyond loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useNetwork, nonLoopbackListeners, waitAllAuthored } from './harness.mjs';

const VALIDATORS = ['alice', 'bob', 'charlie'];
let net;
const guard = useNetwork({ toml: 'local-3-validators.toml', validators: VALIDATORS }, (spawned) => { net = spawned; });

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
