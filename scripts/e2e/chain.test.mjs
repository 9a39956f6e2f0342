// End-to-end: a real dev node, driven by Polkadot.js as a dApp would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/api';
import { mnemonicGenerate, cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, pollUntil, connect, submit, feePaid } from './node.mjs';

const OPEN = 10n ** 18n;
const SUPPLY = 1_000_000_000n * OPEN;
const MONTH = 432_000;

let node;
let api;
let provider;
let keyring;

async function free(address) {
  return (await api.query.system.account(address)).data.free.toBigInt();
}

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  try {
    ({ api, provider } = await connect(node.url));
    await pollUntil('finalized block 3', async () => {
      const head = await api.rpc.chain.getFinalizedHead();
      const header = await api.rpc.chain.getHeader(head);
      return header.number.toNumber() >= 3;
    }, { timeoutMs: 120_000, intervalMs: 500 });
  } catch (e) {
    console.error(node.log());
    throw e;
  }
  keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
});

test('chain properties name the OPEN token', async () => {
  const props = await api.rpc.system.properties();
  assert.deepEqual(props.tokenSymbol.unwrap().map(String), ['OPEN']);
  assert.deepEqual(props.tokenDecimals.unwrap().map((d) => d.toNumber()), [18]);
  assert.equal(props.ss58Format.unwrap().toNumber(), 1612);
  assert.equal(api.consts.system.ss58Prefix.toNumber(), 1612);
  assert.equal(api.registry.chainSS58, 1612);
  assert.equal(api.runtimeVersion.specName.toString(), 'openledger');
  // Metadata V15+ (no type bundle needed): the runtime exposes its API list in the metadata.
  assert.ok(api.runtimeMetadata.version >= 15, `metadata v${api.runtimeMetadata.version}`);
});

test('total issuance is the fixed supply and the pools hold their shares', async () => {
  assert.equal((await api.query.balances.totalIssuance()).toBigInt(), SUPPLY);
  // At genesis: emissions release the pools from the first era's end on.
  const genesis = (await api.rpc.chain.getBlockHash(0)).toHex();
  const info = await provider.send('openledger_tokenomics', [genesis]);
  assert.equal(info.symbol, 'OPEN');
  assert.equal(BigInt(info.supply), SUPPLY);
  const community = info.pools.find((p) => p.name === 'community');
  const ecosystem = info.pools.find((p) => p.name === 'ecosystem');
  assert.equal(BigInt(community.free), 517_100_000n * OPEN);
  // Less the existential deposits the attribution and emissions pots start with (0.001 OPEN
  // each).
  assert.equal(BigInt(ecosystem.free), 100_000_000n * OPEN - 2n * (OPEN / 1000n));
  const atGenesis = await api.at(genesis);
  assert.equal((await atGenesis.query.system.account(community.address)).data.free.toBigInt(), BigInt(community.free));
  // Since then the pools hold what the schedule has not released yet, and supply is unchanged.
  const best = (await api.rpc.chain.getBlockHash()).toHex();
  const schedule = await provider.send('openledger_emissions', [best]);
  assert.equal(schedule.eras, 48);
  assert.equal(schedule.eraLength, 10, 'a dev chain\'s eras last 10 blocks');
  assert.equal(BigInt(schedule.community.initial), 517_100_000n * OPEN);
  const atBest = await api.at(best);
  assert.equal((await atBest.query.system.account(community.address)).data.free.toBigInt(),
    BigInt(schedule.community.initial) - BigInt(schedule.community.released));
  assert.equal((await atBest.query.balances.totalIssuance()).toBigInt(), SUPPLY);
});

test('Alice transfers OPEN to a fresh account and pays the fee to the treasury', async () => {
  const alice = keyring.addFromUri('//Alice');
  const fresh = keyring.addFromMnemonic(mnemonicGenerate());
  const amount = 42n * OPEN;
  const treasury = (await provider.send('openledger_tokenomics', []))
    .pools.find((p) => p.name === 'treasury').address;

  const tx = api.tx.balances.transferKeepAlive(fresh.address, amount);
  const estimate = (await tx.paymentInfo(alice)).partialFee.toBigInt();
  const aliceBefore = await free(alice.address);
  const treasuryBefore = await free(treasury);

  const { events, dispatchError, blockHash } = await submit(tx, alice);
  assert.equal(dispatchError, undefined);
  const fee = feePaid(events);

  const at = await api.at(blockHash);
  const balanceAt = async (who) => (await at.query.system.account(who)).data.free.toBigInt();
  assert.equal(await balanceAt(fresh.address), amount);
  assert.equal(aliceBefore - (await balanceAt(alice.address)), amount + fee);
  assert.equal((await balanceAt(treasury)) - treasuryBefore, fee);
  assert.equal(fee, estimate, 'the fee charged is the fee quoted by payment_queryInfo');
  assert.ok(fee > 0n && fee < OPEN / 100n, `fee ${fee}`);
  assert.equal((await at.query.balances.totalIssuance()).toBigInt(), SUPPLY);
});

test('a vested team account cannot transfer before the cliff', async () => {
  const alice = keyring.addFromUri('//Alice');
  const ferdie = keyring.addFromUri('//Ferdie');
  const share = 75_000_000n * OPEN; // team: 15% split between Eve and Ferdie

  const schedules = (await api.query.vesting.vesting(ferdie.address)).unwrap();
  assert.equal(schedules.length, 1);
  assert.equal(schedules[0].startingBlock.toNumber(), 12 * MONTH);
  assert.equal(schedules[0].locked.toBigInt(), share);
  const account = await api.query.system.account(ferdie.address);
  assert.equal(account.data.free.toBigInt(), share);
  assert.equal(account.data.frozen.toBigInt(), share);

  // Everything is locked: not even a fee can be paid.
  await assert.rejects(
    api.tx.balances.transferKeepAlive(alice.address, OPEN).signAndSend(ferdie),
    /Inability to pay some fees|1010/,
  );

  // With 10 free OPEN from Alice for fees, Ferdie still cannot move any of the locked share.
  await submit(api.tx.balances.transferKeepAlive(ferdie.address, 10n * OPEN), alice);
  const { events, dispatchError } = await submit(
    api.tx.balances.transferKeepAlive(alice.address, 11n * OPEN), ferdie);
  assert.ok(dispatchError, 'the transfer must fail');
  assert.ok(events.some(({ event }) => api.events.system.ExtrinsicFailed.is(event)));
  const after = await api.query.system.account(ferdie.address);
  assert.equal(after.data.frozen.toBigInt(), share);
  assert.ok(after.data.free.toBigInt() > share, 'only the fee left the account');
});
