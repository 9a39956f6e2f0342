// Measures the 4-validator network (local-4-validators.toml, zombienet native provider):
//   - block time (deltas of consecutive blocks' timestamps: mean, p50, p95) and finality lag
//     (best - finalized on alice, sampled at each new best block: mean, max) over N blocks with
//     all four validators up, then over N blocks with one validator (charlie) down;
//   - catch-up: charlie stays down until the others are M blocks past its last block, then it is
//     started again; the time until its best block, then its finalized block, reach the others'.
// Prints a markdown table and the exact command.
//
//   node measure.mjs [--blocks N] [--catchup M] [--down NAME]     (defaults: 100, 500, charlie)
//   node measure.mjs --blocks 20 --catchup 30                     (a short run, ~10 minutes)
import { cpus } from 'node:os';
import { spawnNetwork, waitFor, freePort, mean, percentile } from './harness.mjs';

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}
const N = Number(option('--blocks', 100));
const M = Number(option('--catchup', 500));
const DOWN = option('--down', 'charlie');
const VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];
if (!(N > 1) || !(M > 0) || !VALIDATORS.includes(DOWN) || DOWN === 'alice') {
  console.error('usage: node measure.mjs [--blocks N>1] [--catchup M>0] [--down bob|charlie|dave]');
  process.exit(2);
}
const log = (...a) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

const net = await spawnNetwork({
  toml: 'local-4-validators.toml',
  validators: VALIDATORS,
  // No workers here: the nodes' --gpu-worker URLs point at free ports nobody listens on.
  env: { GPU_WORKER_PORT_1: String(await freePort()), GPU_WORKER_PORT_2: String(await freePort()) },
});

/**
 * Follows alice's best block until `n` new blocks were seen; at each new best block samples the
 * finality lag. Returns the block heights covered and the lags.
 */
async function sample(n, label) {
  const from = await net.best('alice');
  const lags = [];
  let last = from;
  await waitFor(`${n} blocks (${label})`, async () => {
    const best = await net.best('alice');
    if (best > last) {
      last = best;
      lags.push(best - (await net.finalized('alice')));
      if (lags.length % 10 === 0) log(`${label}: ${lags.length}/${n} blocks`);
    }
    return best >= from + n;
  }, { timeoutMs: n * 60_000, intervalMs: 200 });
  const api = await net.api('alice');
  const times = [];
  for (let h = from; h <= from + n; h += 1) {
    const hash = await net.blockHash('alice', h);
    times.push((await (await api.at(hash)).query.timestamp.now()).toNumber());
  }
  const deltas = times.slice(1).map((t, i) => (t - times[i]) / 1000);
  return { from, to: from + n, deltas, lags };
}

const rows = [];
let exitCode = 0;
try {
  log(`network up in ${net.dir}; waiting for finality to start`);
  await net.waitFinalized(VALIDATORS, 1, { timeoutMs: 300_000 });

  log(`sampling ${N} blocks with all validators up`);
  const up = await sample(N, 'all up');

  const downLast = await net.best(DOWN);
  await net.kill(DOWN);
  log(`${DOWN} killed at its block #${downLast}; sampling ${N} blocks`);
  const down = await sample(N, `${DOWN} down`);

  log(`waiting until the others are ${M} blocks past ${DOWN}'s #${downLast}`);
  let logged = 0;
  await waitFor(`the others to be ${M} blocks ahead`, async () => {
    const best = await net.best('alice');
    if (best % 25 === 0 && best !== logged) {
      logged = best;
      log(`alice at #${best}, ${best - downLast}/${M} ahead`);
    }
    return best - downLast >= M;
  }, { timeoutMs: M * 60_000, intervalMs: 1000 });
  const t0 = Date.now();
  await net.start(DOWN);
  const tRpc = Date.now() - t0;
  let tBest;
  let tFinal;
  await waitFor(`${DOWN} to catch up`, async () => {
    const [best, tipBest, fin, tipFin] = await Promise.all([
      net.best(DOWN), net.best('alice'), net.finalized(DOWN), net.finalized('alice'),
    ]);
    if (tBest === undefined && best >= tipBest) tBest = Date.now() - t0;
    if (tFinal === undefined && fin >= tipFin) tFinal = Date.now() - t0;
    return tBest !== undefined && tFinal !== undefined;
  }, { timeoutMs: 30 * 60_000, intervalMs: 250 });
  const behind = (await net.best('alice')) - downLast;

  for (const [label, s] of [['all 4 up', up], [`${DOWN} down (3 of 4)`, down]]) {
    rows.push([`block time, ${label}, #${s.from}..#${s.to}`,
      `mean ${fmt(mean(s.deltas))} s, p50 ${fmt(percentile(s.deltas, 0.5))} s, p95 ${fmt(percentile(s.deltas, 0.95))} s`]);
    rows.push([`finality lag (best - finalized), ${label}`,
      `mean ${fmt(mean(s.lags))} blocks, max ${Math.max(...s.lags)} blocks (${s.lags.length} samples)`]);
  }
  rows.push([`catch-up of ${DOWN}, ${behind} blocks behind at restart`,
    `RPC up ${fmt(tRpc / 1000, 1)} s, best at tip ${fmt(tBest / 1000, 1)} s, finalized at tip ${fmt(tFinal / 1000, 1)} s (from process start)`]);
} catch (e) {
  log(`failed: ${e.stack}`);
  exitCode = 1;
} finally {
  await net.stop({ keepDir: exitCode !== 0 });
}

if (rows.length) {
  console.log(`| measurement (N=${N}, M=${M}) | value |`);
  console.log('|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(`\nCommand: \`cd zombienet && node measure.mjs --blocks ${N} --catchup ${M} --down ${DOWN}\` `
    + `(${cpus().length} CPUs; 4 validators on one machine, zombienet native provider)`);
}
process.exit(exitCode);
