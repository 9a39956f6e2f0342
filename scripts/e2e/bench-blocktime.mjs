// Block time and finality lag of a dev chain over N blocks (default 50).
//
//   node scripts/e2e/bench-blocktime.mjs [N]
//
// Starts `openledger-node --dev --tmp` on free ports, follows new and finalized heads with
// Polkadot.js, and prints a Markdown table: the configured slot (the baseline) beside the
// measured block interval (on-chain timestamps and wall-clock arrival), and the finality lag
// (wall-clock from a block's import to its finalization, and in blocks).
import { startDevNode, connect } from './node.mjs';

const N = Number(process.argv[2] || 50);
const node = await startDevNode();
let api;
try {
  ({ api } = await connect(node.url));

  const slotMs = Number(api.consts.aura.slotDuration.toString());
  const seen = new Map(); // number -> { at: wall ms, hash }
  const finalizedAt = new Map(); // number -> wall ms
  const lagBlocks = [];
  let best = 0;
  let start = null;

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), (N + 20) * slotMs * 2);
    api.rpc.chain.subscribeNewHeads((header) => {
      const n = header.number.toNumber();
      best = Math.max(best, n);
      if (!seen.has(n)) seen.set(n, { at: Date.now(), hash: header.hash });
      if (start === null && n >= 1) start = n; // genesis has no timestamp
    });
    api.rpc.chain.subscribeFinalizedHeads((header) => {
      const f = header.number.toNumber();
      const now = Date.now();
      for (const n of seen.keys()) if (n <= f && !finalizedAt.has(n)) finalizedAt.set(n, now);
      lagBlocks.push(best - f);
      if (start !== null && f >= start + N) { clearTimeout(timer); resolve(); }
    });
  });

  const numbers = [...seen.keys()].filter((n) => n > start && n <= start + N).sort((a, b) => a - b);
  const stamps = [];
  for (const n of [start, ...numbers]) {
    const at = await api.at(seen.get(n).hash);
    stamps.push(Number((await at.query.timestamp.now()).toString()));
  }
  const chainIntervals = stamps.slice(1).map((t, i) => t - stamps[i]);
  const wallIntervals = numbers.map((n) => seen.get(n).at - seen.get(n - 1).at).filter((x) => !Number.isNaN(x));
  const lagMs = numbers.map((n) => finalizedAt.get(n) - seen.get(n).at);
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const pct = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return `${mean.toFixed(0)} / ${pct(0.5)} / ${pct(0.95)} / ${s[s.length - 1]}`;
  };
  console.log(`blocks #${start + 1}..#${start + N} of a --dev chain (1 validator)\n`);
  console.log('| measure | mean / p50 / p95 / max |');
  console.log('|---|---|');
  console.log(`| configured slot (baseline), ms | ${slotMs} |`);
  console.log(`| block interval, on-chain timestamps, ms | ${stats(chainIntervals)} |`);
  console.log(`| block interval, wall-clock arrival, ms | ${stats(wallIntervals)} |`);
  console.log(`| finality lag, import to finalized, ms | ${stats(lagMs)} |`);
  console.log(`| finality lag, best - finalized, blocks | ${stats(lagBlocks)} |`);
} finally {
  if (api) await api.disconnect();
  await node.stop();
}
