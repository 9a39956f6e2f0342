// Registers a base model (if its hash is not registered yet) and fine-tunes it on a Datanet
// snapshot through the chain, then waits for the model version.
//
//   node scripts/e2e/run-finetune.mjs WS_URL SNAPSHOT_ID MODEL.gguf [--steps N] [--replication R]
//
// Alice pays. Prints one JSON line: the job, the model and version, the adapter hash, the held-out
// loss before and after (nats per token), and the seconds from request to recorded version.
import { readFileSync } from 'node:fs';
import { Keyring } from '@polkadot/api';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, submit, pollUntil } from './node.mjs';

const args = process.argv.slice(2);
const [wsUrl, snapshotArg, modelPath] = args;
if (!wsUrl || snapshotArg === undefined || !modelPath) {
  console.error('usage: run-finetune.mjs WS_URL SNAPSHOT_ID MODEL.gguf [--steps N] [--replication R]');
  process.exit(2);
}
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

await cryptoWaitReady();
const { api } = await connect(wsUrl);
const alice = new Keyring({ type: 'sr25519', ss58Format: 1612 }).addFromUri('//Alice');

function check(result, what) {
  if (result.dispatchError) {
    const detail = result.dispatchError.isModule
      ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(result.dispatchError.asModule))
      : result.dispatchError.toString();
    throw new Error(`${what}: ${detail}`);
  }
  return result;
}
const eventOf = (events, section, method) => events.find(({ event }) => event.section === section && event.method === method)?.event.data;

const contentHash = blake2AsHex(readFileSync(modelPath), 256);
let base = (await api.query.models.baseModelHashes(contentHash)).unwrapOr(null)?.toNumber();
if (base === undefined || base === null) {
  const r = check(await submit(api.tx.models.registerBaseModel('SmolLM2-135M-Instruct', contentHash, 'llama', 134_515_008, 'Apache-2.0'), alice), 'registerBaseModel');
  base = eventOf(r.events, 'models', 'BaseModelRegistered').base.toNumber();
}
const hyper = {
  rank: 8, alpha: 16, dropoutPermille: 50, targets: 0b1111, learningRateMicro: 1000, warmupSteps: 2,
  steps: option('--steps', 8), batchSize: 1, gradAccum: 2, seqLen: 64, heldoutPermille: 50, seed: 1,
};
const started = Date.now();
const requested = check(await submit(api.tx.models.requestFinetune(base, Number(snapshotArg), hyper, 'Exact', 10n ** 18n, option('--replication', 1), 400, null), alice), 'requestFinetune');
const job = eventOf(requested.events, 'models', 'FinetuneRequested').job.toNumber();
const settled = await pollUntil(`train job ${job}`, async () => {
  const j = await api.query.compute.jobs(job);
  return j.isSome && j.unwrap().status.type !== 'Pending' ? j.unwrap() : null;
}, { timeoutMs: 600_000, intervalMs: 1000 });
if (settled.status.type !== 'Completed') throw new Error(`train job ${job} ${settled.status.type}`);
// The newest model whose latest version came from this job.
let found = null;
for (const [key, version] of await api.query.models.modelVersions.entries()) {
  const v = version.unwrap();
  if (v.job.toNumber() === job) found = { model: key.args[0].toNumber(), version: key.args[1].toNumber(), v };
}
if (!found) throw new Error(`no model version recorded for job ${job}`);
const m = found.v.metrics;
console.log(JSON.stringify({
  job,
  model: found.model,
  version: found.version,
  adapterHash: found.v.adapterHash.toHex(),
  heldoutLossBefore: m.heldoutLossBeforeMicro.toNumber() / 1e6,
  heldoutLossAfter: m.heldoutLossAfterMicro.toNumber() / 1e6,
  steps: m.steps.toNumber(),
  trainExamples: m.trainExamples.toNumber(),
  seconds: (Date.now() - started) / 1000,
}));
await api.disconnect();
