// Paid completions from a fine-tuned model version, end to end: the model's owner (Alice) sets a
// price, a client (Charlie) deposits OPEN for inference, signs each request for the worker, and
// the worker answers through its OpenAI-compatible API with a receipt; the receipts are then
// settled on-chain (the client's deposit pays the worker and the owner).
//
//   node scripts/e2e/run-inference.mjs WS_URL OPENAI_URL MODEL VERSION WORKER_URI
//
// Prints each answer with its receipt, then one JSON line with the on-chain settlement.
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
let nonce = Number((await api.call.inferenceApi.nonceOf(charlie.address, worker.address)).toBigInt());
let fees = 0n;
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
  console.log(`Q: ${question}\nA: ${json.choices[0].message.content.trim()}\n   receipt: nonce ${receipt.nonce}, ${receipt.prompt_tokens}+${receipt.completion_tokens} tokens, fee ${receipt.fee} plancks, request 0x…${receipt.request_hash.slice(-8)}`);
}
// The worker submits its receipts in a batch; wait until the chain has settled the last.
await pollUntil('the receipts to settle', async () =>
  (await api.call.inferenceApi.nonceOf(charlie.address, worker.address)).toBigInt() >= BigInt(nonce),
{ timeoutMs: 120_000, intervalMs: 1000 });
const depositAfter = (await api.call.inferenceApi.depositOf(charlie.address)).held.toBigInt();
console.log(JSON.stringify({
  model, version, requests: questions.length,
  feesInReceipts: fees.toString(), depositDebited: (depositBefore - depositAfter).toString(),
  settledNonce: nonce,
}));
await api.disconnect();
