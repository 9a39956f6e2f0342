// Governance on a 3-validator `local` network (no sudo): a runtime upgrade decided by OPEN
// holders in a root-track referendum, then enacted while the chain runs.
//
// The new runtime is this one built with `next-spec-version` (spec_version + 1), which the
// runtime's build script produces next to the normal wasm. The referendum authorizes its hash
// (`system.authorizeUpgrade`); anyone may then submit the code (`system.applyAuthorizedUpgrade`,
// unsigned). Checked: the spec version on every node, blocks and finality after the upgrade,
// state from before it (balances, issuance, the validator set, pallets' storage versions), and
// a transaction under the new runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { blake2AsHex, xxhashAsHex } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import { OPEN, accounts, spawnNetwork, submitOk, waitFor } from './harness.mjs';

const VALIDATORS = ['alice', 'bob', 'charlie'];
const TARGET = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/openledger/target');
const NEXT_WASM = process.env.OPENLEDGER_NEXT_WASM
  ?? join(TARGET, 'release/wbuild/openledger-runtime/openledger_runtime_next.compact.compressed.wasm');

/** Every pallet's on-chain storage version (`:__STORAGE_VERSION__:` under its prefix). */
async function storageVersions(api, at) {
  const out = {};
  for (const pallet of api.runtimeMetadata.asLatest.pallets) {
    const name = pallet.name.toString();
    const key = xxhashAsHex(name, 128) + xxhashAsHex(':__STORAGE_VERSION__:', 128).slice(2);
    out[name] = (await api.rpc.state.getStorage(key, at))?.toHex() ?? null;
  }
  return out;
}

/** Sends `tx` unsigned; resolves when it is in a block. */
function sendUnsigned(tx) {
  return new Promise((resolve, reject) => {
    tx.send(({ status, dispatchError }) => {
      if (status.isInBlock) resolve({ blockHash: status.asInBlock, dispatchError });
      else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`transaction ${status.type}`));
    }).catch(reject);
  });
}

test('a runtime upgrade through a root-track referendum: enacted, blocks go on, state survives', { timeout: 600_000 }, async () => {
  assert.ok(existsSync(NEXT_WASM), `the next-spec-version runtime is built by the runtime's build script: ${NEXT_WASM}`);
  const code = readFileSync(NEXT_WASM);
  const codeHash = blake2AsHex(code, 256);
  const net = await spawnNetwork({ toml: 'local-3-validators.toml', validators: VALIDATORS });
  try {
    const api = await net.api('alice');
    const keyring = await accounts();
    const [alice, eve, ferdie] = ['//Alice', '//Eve', '//Ferdie'].map((uri) => keyring.addFromUri(uri));
    const marker = keyring.addFromUri('//GovernanceMarker');
    await net.waitFinalized(VALIDATORS, 1, { timeoutMs: 180_000 });

    // No sudo key on this chain: the only way to root is a referendum.
    assert.ok((await api.query.sudo.key()).isNone);
    const before = await api.rpc.state.getRuntimeVersion();
    assert.equal(before.specVersion.toNumber(), 100);

    // State to find again after the upgrade.
    await submitOk(api, api.tx.balances.transferKeepAlive(marker.address, 123n * OPEN), alice);
    const head = await api.rpc.chain.getFinalizedHead();
    const snapshot = {
      marker: (await api.query.system.account(marker.address)).data.free.toBigInt(),
      issuance: (await api.query.balances.totalIssuance()).toBigInt(),
      validators: (await api.query.validators.validators()).map(String),
    };
    assert.equal(snapshot.marker, 123n * OPEN);

    // The referendum: Alice submits and places the decision deposit; Eve and Ferdie vote aye
    // with conviction 1x, with their team OPEN (vested, so locked, but votes may use locked OPEN;
    // the fees come from a little free OPEN that Alice sends them).
    await submitOk(api, api.tx.utility.batchAll([
      api.tx.balances.transferKeepAlive(eve.address, 10n * OPEN),
      api.tx.balances.transferKeepAlive(ferdie.address, 10n * OPEN),
    ]), alice);
    const proposal = api.tx.system.authorizeUpgrade(codeHash);
    const index = (await api.query.referenda.referendumCount()).toNumber();
    await submitOk(api, api.tx.referenda.submit({ system: 'Root' }, { Inline: proposal.method.toHex() }, { After: 0 }), alice);
    await submitOk(api, api.tx.referenda.placeDecisionDeposit(index), alice);
    const aye = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 70_000_000n * OPEN } };
    await submitOk(api, api.tx.convictionVoting.vote(index, aye), eve);
    await submitOk(api, api.tx.convictionVoting.vote(index, aye), ferdie);
    await waitFor(`referendum ${index} approved`, async () => {
      const info = await api.query.referenda.referendumInfoFor(index);
      if (info.isSome && (info.unwrap().isRejected || info.unwrap().isTimedOut)) throw new Error(`referendum ${info.unwrap().type}`);
      return info.isSome && info.unwrap().isApproved;
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    await waitFor('the upgrade to be authorized (the enactment delay)', async () => {
      const authorized = await api.query.system.authorizedUpgrade();
      return authorized.isSome && authorized.unwrap().codeHash.toHex() === codeHash;
    }, { timeoutMs: 120_000, intervalMs: 1000 });

    // Anyone may now bring the code: an unsigned extrinsic that the runtime accepts only for the
    // authorized hash.
    const applied = await sendUnsigned(api.tx.system.applyAuthorizedUpgrade(u8aToHex(code)));
    assert.ok(!applied.dispatchError, `applyAuthorizedUpgrade failed: ${applied.dispatchError}`);
    const upgradedAt = (await api.rpc.chain.getHeader(applied.blockHash)).number.toNumber();

    // Every node runs the new runtime, keeps producing blocks and finalizes past the upgrade.
    for (const name of VALIDATORS) {
      await waitFor(`${name} on spec_version 101`, async () => (await net.rpc(name, 'state_getRuntimeVersion')).specVersion === 101, { timeoutMs: 120_000, intervalMs: 1000 });
    }
    await net.waitFinalized(VALIDATORS, upgradedAt + 3, { timeoutMs: 180_000 });
    const last = await api.query.system.lastRuntimeUpgrade();
    assert.equal(last.unwrap().specVersion.toNumber(), 101, 'the executive ran the upgrade hooks for 101');

    // State survived: the same balances, issuance, validators and storage versions.
    const upgraded = await api.at(await api.rpc.chain.getFinalizedHead());
    assert.equal((await upgraded.query.system.account(marker.address)).data.free.toBigInt(), snapshot.marker);
    assert.equal((await upgraded.query.balances.totalIssuance()).toBigInt(), snapshot.issuance);
    assert.deepEqual((await upgraded.query.validators.validators()).map(String), snapshot.validators);
    assert.deepEqual(await storageVersions(api, await api.rpc.chain.getFinalizedHead()), await storageVersions(api, head));

    // And transactions go through under the new runtime (signed for spec_version 101).
    await submitOk(api, api.tx.balances.transferKeepAlive(marker.address, OPEN), alice);
    assert.equal((await api.query.system.account(marker.address)).data.free.toBigInt(), 124n * OPEN);
  } finally {
    await net.stop();
  }
});
