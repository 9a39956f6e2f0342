// Creates snapshot-verification jobs on a running chain and waits for each to complete.
//
//   node scripts/e2e/run-jobs.mjs WS_URL SNAPSHOT_ID [--jobs N] [--replication R] [--fee OPEN]
//
// Alice pays for the jobs. Jobs are created one after another, each once the previous one has
// completed, so every figure is a job's own latency. Prints one JSON line per job (id, blocks
// and milliseconds from the creating transaction's inclusion to the JobCompleted event, and the
// outcome), then a summary line with the median, 90th percentile and maximum.
import { Keyring } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { bnToU8a, u8aToHex } from '@polkadot/util';
import { connect, submit } from './node.mjs';

const args = process.argv.slice(2);
const [wsUrl, snapshotArg] = args;
if (!wsUrl || snapshotArg === undefined) {
  console.error('usage: run-jobs.mjs WS_URL SNAPSHOT_ID [--jobs N] [--replication R] [--fee OPEN]');
  process.exit(2);
}
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}
const jobs = option('--jobs', 1);
const replication = option('--replication', 1);
const fee = BigInt(option('--fee', 1)) * 10n ** 18n;
const timeout = 20;

await cryptoWaitReady();
const { api } = await connect(wsUrl);
const alice = new Keyring({ type: 'sr25519', ss58Format: 1612 }).addFromUri('//Alice');
const spec = u8aToHex(bnToU8a(Number(snapshotArg), { bitLength: 32, isLe: true }));

/** Resolves with the block number and time at which job `id` completes (or fails). */
function whenDone(id) {
  return new Promise((resolve, reject) => {
    let unsubscribe;
    api.query.system.events(async (events) => {
      for (const { event } of events) {
        const done = api.events.compute.JobCompleted.is(event) || api.events.compute.JobFailed.is(event);
        if (done && event.data.job.toNumber() === id) {
          const header = await api.rpc.chain.getHeader();
          if (unsubscribe) unsubscribe();
          resolve({ at: Date.now(), block: header.number.toNumber(), event });
        }
      }
    }).then((u) => { unsubscribe = u; }, reject);
  });
}

const results = [];
for (let i = 0; i < jobs; i += 1) {
  const { events, dispatchError, blockHash } = await submit(
    api.tx.compute.createJob('VerifySnapshot', spec, fee, replication, timeout), alice);
  if (dispatchError) {
    const detail = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : dispatchError;
    throw new Error(`createJob failed: ${detail.section ?? ''}.${detail.name ?? detail}`);
  }
  const createdAt = Date.now();
  const createdBlock = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
  const id = events.find(({ event }) => api.events.compute.JobCreated.is(event)).event.data.job.toNumber();
  const done = await whenDone(id);
  const completed = api.events.compute.JobCompleted.is(done.event);
  const line = {
    job: id,
    status: completed ? 'completed' : 'failed',
    blocks: done.block - createdBlock,
    ms: done.at - createdAt,
    outcome: completed ? done.event.data.outcome.toHex() : null,
  };
  results.push(line);
  console.log(JSON.stringify(line));
}

const ms = results.map((r) => r.ms).sort((a, b) => a - b);
const blocks = results.map((r) => r.blocks).sort((a, b) => a - b);
const pick = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(JSON.stringify({
  summary: true,
  jobs: results.length,
  completed: results.filter((r) => r.status === 'completed').length,
  medianMs: pick(ms, 0.5),
  p90Ms: pick(ms, 0.9),
  maxMs: ms[ms.length - 1],
  medianBlocks: pick(blocks, 0.5),
  maxBlocks: blocks[blocks.length - 1],
}));
await api.disconnect();
process.exit(results.every((r) => r.status === 'completed') ? 0 : 1);
