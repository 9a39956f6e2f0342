// Writes a raw chain spec of the `local` chain whose Aura and GRANDPA authorities are exactly the
// given validators (//Name dev keys), and prints its path: for running a network by hand.
//
//   export OPENLEDGER_CHAIN_SPEC=$(node spec.mjs alice,bob,charlie,dave [DIR])
//
// The node binary is $OPENLEDGER_NODE, else $CARGO_TARGET_DIR/release/openledger-node (default
// target dir ~/.cache/openledger/target).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildChainSpec } from './harness.mjs';

const [list, dirArg] = process.argv.slice(2);
if (!list) {
  console.error('usage: node spec.mjs alice,bob,charlie[,dave...] [DIR]');
  process.exit(2);
}
const dir = dirArg ?? mkdtempSync(join(tmpdir(), 'ol-spec-'));
mkdirSync(dir, { recursive: true });
console.log(await buildChainSpec(list.split(','), { dir }));
process.exit(0);
