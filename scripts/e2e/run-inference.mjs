// Paid completions from a fine-tuned model version, end to end: the model's owner (Alice) sets a
// price, a client (Charlie) deposits OPEN for inference, signs each request for the worker, and
// the worker answers through its OpenAI-compatible API with a receipt and the answer's Proof of
// Attribution; the receipts are then settled on-chain, where pallet-attribution splits each fee
// between the owner, the contributors the answer is attributed to, the worker and the treasury.
//
//   node scripts/e2e/run-inference.mjs WS_URL OPENAI_URL MODEL VERSION WORKER_URI
//
// Prints each answer with its receipt and attribution, the payout table (per contributor: the
// attributed weight summed over the answers and the OPEN credited, read back from the chain's
// FeeDistributed events and reward balances), then one JSON line with the settlement.
import { Keyring } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, submit, pollUntil } from './node.mjs';
import { paidRequest } from './inference.mjs';

const [wsUrl, openaiUrl, modelArg, versionArg, workerUri] = process.argv.slice(2);
if (!wsUrl || !openaiUrl || modelArg === undefined || versionArg === undefined || !workerUri) {
  console.error('usage: run-inference.mjs WS_URL OPENAI_URL MODEL VERSION WORKER_URI');
  process.exit(2);
}
const [model, version] = [Number(modelArg), Number(versionArg)];
const OPEN = 10n ** 18n;
const PRICE = OPEN / 100n; // 0.01 OPEN per 1,000 tokens
const MAX_FEE = OPEN / 100n;

await cryptoWaitReady();
const { api } = await connect(wsUrl);
const keyring = new Keyring({ type: 'sr25519', ss58Format: 1612 });
const [alice, charlie] = ['//Alice', '//Charlie'].map((uri) => keyring.addFromUri(uri));
const worker = keyring.addFromUri(workerUri);

function check(result, what) {
  if (result.dispatchError) {
    const detail = result.dispatchError.isModule
      ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(result.dispatchError.asModule))
      : result.dispatchError.toString();
    throw new Error(`${what}: ${detail}`);
  }
  return result;
}

check(await submit(api.tx.inference.setPrice(model, PRICE), alice), 'setPrice');
check(await submit(api.tx.inference.deposit(OPEN), charlie), 'deposit');
const depositBefore = (await api.call.inferenceApi.depositOf(charlie.address)).held.toBigInt();
await pollUntil('the OpenAI API', async () => (await fetch(`${openaiUrl}/health`)).ok, { timeoutMs: 120_000, intervalMs: 500 });

const questions = [
  'What should a wallet risk note say about a new address?',
  'Name one sign of a risky token approval.',
  'How do you spot a drained wallet?',
];
// Collect the splits as blocks come.
const splits = [];
const unsubscribe = await api.query.system.events((records) => {
  for (const { event } of records) {
    if (event.section === 'attribution' && event.method === 'FeeDistributed') splits.push(event.data);
  }
});
let nonce = Number((await api.call.inferenceApi.nonceOf(charlie.address, worker.address)).toBigInt());
let fees = 0n;
const attributed = new Map(); // contribution -> summed weight (parts per billion)
for (const question of questions) {
  nonce += 1;
  const body = { model: `${model}:${version}`, messages: [{ role: 'user', content: question }], max_tokens: 32, temperature: 0 };
  const { status, json } = await paidRequest({
    url: openaiUrl, body, pair: charlie, genesis: api.genesisHash, worker: worker.publicKey,
    model, version, nonce, maxFee: MAX_FEE,
  });
  if (status !== 200) throw new Error(`request ${nonce}: HTTP ${status} ${JSON.stringify(json)}`);
  const receipt = json.openledger.receipt;
  fees += BigInt(receipt.fee);
  const attribution = json.openledger.attribution ?? [];
  for (const { contribution, weight } of attribution) {
    attributed.set(contribution, (attributed.get(contribution) ?? 0) + weight);
  }
  const shown = attribution.map(({ contribution, weight }) => `#${contribution} ${(weight / 1e7).toFixed(1)}%`).join(', ');
  console.log(`Q: ${question}\nA: ${json.choices[0].message.content.trim()}\n   receipt: nonce ${receipt.nonce}, ${receipt.prompt_tokens}+${receipt.completion_tokens} tokens, fee ${receipt.fee} plancks, request 0x…${receipt.request_hash.slice(-8)}\n   attribution: ${shown || '(none)'}`);
}
// The worker submits its receipts in a batch; wait until the chain has settled the last.
await pollUntil('the receipts to settle', async () =>
  (await api.call.inferenceApi.nonceOf(charlie.address, worker.address)).toBigInt() >= BigInt(nonce),
{ timeoutMs: 120_000, intervalMs: 1000 });
await pollUntil('every fee split', async () => splits.length >= questions.length, { timeoutMs: 60_000, intervalMs: 500 });
unsubscribe();
const depositAfter = (await api.call.inferenceApi.depositOf(charlie.address)).held.toBigInt();

// The payout table: per contributor, its attributed contributions, their summed weight over the
// demo answers, and what the chain credited it for them.
const rows = new Map(); // account -> { contributions: Set, weight, earned }
let toContributors = 0n;
for (const split of splits.slice(-questions.length)) {
  for (const [contribution, account, amount] of split.contributions) {
    const key = account.toString();
    const row = rows.get(key) ?? { contributions: new Set(), weight: 0, earned: 0n };
    row.contributions.add(contribution.toNumber());
    row.weight += attributed.get(contribution.toNumber()) ?? 0;
    row.earned += amount.toBigInt();
    toContributors += amount.toBigInt();
    rows.set(key, row);
  }
}
const names = new Map(['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie']
  .map((uri) => [keyring.addFromUri(uri).address, uri.slice(2)]));
const open = (planck) => (Number(planck) / 1e18).toFixed(9);
console.log('\nPayout to data contributors (Proof of Attribution, read back from the chain):');
console.log('| contributor | contributions attributed | attributed weight (sum over answers) | OPEN earned | OPEN claimable now |');
console.log('|---|---|---:|---:|---:|');
for (const [account, row] of [...rows].sort((a, b) => (b[1].earned > a[1].earned ? 1 : -1))) {
  const claimable = (await api.call.attributionApi.rewardsOf(account)).toBigInt();
  const ids = [...row.contributions].sort((a, b) => a - b).map((c) => `#${c}`).join(' ');
  console.log(`| ${names.get(account) ?? account} | ${ids} | ${(row.weight / 1e9).toFixed(3)} | ${open(row.earned)} | ${open(claimable)} |`);
}
if (rows.size === 0) console.log('| (no eligible contribution was attributed) | | | | |');

// Emissions: the pools' release of the era these answers fell in is paid by points — the
// contributors' attribution rewards, the worker's fee parts, curators' acceptances, authored
// blocks. Wait for that era to close, then claim each demo account's emissions.
const schedule = await api.call.emissionsApi.schedule();
const era = schedule.openEra.toNumber();
await pollUntil(`emissions era ${era} to close`, async () =>
  (await api.call.emissionsApi.schedule()).openEra.toNumber() > era,
{ timeoutMs: 6_000 * (schedule.eraLength.toNumber() + 5), intervalMs: 1000 });
const record = (await api.call.emissionsApi.era(era)).unwrap();
const budgets = ['contributors', 'workers', 'curators', 'authors']
  .map((stream) => `${stream} ${open(record[stream].budget.toBigInt())}`).join(', ');
console.log(`\nEmissions of era ${era} (${schedule.eraLength} blocks): released ${open(record.fromCommunity.toBigInt() + record.fromEcosystem.toBigInt())} OPEN from the pools; budgets: ${budgets}; treasury ${open(record.toTreasury.toBigInt())}`);
console.log('| account | OPEN of emissions claimed now (every closed era so far) | points in the open era (contributor / worker / curator / author) |');
console.log('|---|---:|---|');
const demo = new Set([...rows.keys(), worker.address, ...names.keys()]);
for (const account of demo) {
  const earnings = await api.call.emissionsApi.earnings(account);
  const owed = earnings.claimable.toBigInt() + earnings.unsettled.toBigInt();
  if (owed === 0n) continue;
  const res = await submit(api.tx.emissions.claim(account), alice);
  const claimed = res.events.find(({ event }) => event.section === 'emissions' && event.method === 'Claimed');
  const { accruing } = await api.call.emissionsApi.earnings(account);
  const shown = [accruing.contributors, accruing.workers, accruing.curators, accruing.authors].map(String).join(' / ');
  console.log(`| ${names.get(account) ?? (account === worker.address ? 'worker' : account)} | ${open(claimed ? claimed.event.data.amount.toBigInt() : 0n)} | ${shown} |`);
}

console.log(JSON.stringify({
  model, version, requests: questions.length,
  feesInReceipts: fees.toString(), depositDebited: (depositBefore - depositAfter).toString(),
  toContributors: toContributors.toString(), contributorsPaid: rows.size,
  settledNonce: nonce,
}));
await api.disconnect();
