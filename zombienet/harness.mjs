// The zombienet harness: spawns an openledger network with zombienet's native provider from one
// of the .toml files here, on a chain spec generated for exactly its validators, and always stops
// every process it started (on success, on failure, on exit and on SIGINT/SIGTERM/SIGHUP).
//
//   const net = await spawnNetwork({ toml: 'local-4-validators.toml', validators: ['alice', 'bob', 'charlie', 'dave'] });
//   try { await net.waitFinalized(['alice', 'bob'], 5); } finally { await net.stop(); }
//
// Nodes are read over plain JSON-RPC over HTTP (`net.rpc`, `net.best`, `net.finalized`), which
// survives a node being killed and restarted; `net.api(name)` gives a Polkadot.js API for
// transactions and storage. `net.kill(name)` SIGKILLs a node's process, `net.start(name)` starts
// it again with the same command line (or a changed one), on the same base path and ports.
import { spawn, execFileSync } from 'node:child_process';
import { before, after } from 'node:test';
import { createRequire } from 'node:module';
import { chmodSync, copyFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { bnToU8a, u8aToHex } from '@polkadot/util';
import { startWorker as startE2eWorker } from '../scripts/e2e/worker.mjs';
import { startStore } from '../scripts/e2e/store.mjs';

// The orchestrator brings its own (CommonJS) Polkadot.js 14, which warns at load that ours (16)
// is there too: harmless (each uses its own), so that one warning is filtered.
const require = createRequire(import.meta.url);
const { start, readNetworkConfig } = (() => {
  const warn = console.warn;
  console.warn = (...args) => { if (!String(args[0]).includes('has multiple versions')) warn(...args); };
  try {
    return { start: require('@zombienet/orchestrator').start, readNetworkConfig: require('@zombienet/utils').readNetworkConfig };
  } finally {
    console.warn = warn;
  }
})();

export { startStore };

/** This directory (zombienet/): the .toml files and the loopback wrapper. */
export const ZOMBIENET_DIR = dirname(fileURLToPath(import.meta.url));
export const OPEN = 10n ** 18n;
/** Aura slot duration of the runtime, in ms. */
export const BLOCK_MS = 6000;

function targetDir() {
  return process.env.CARGO_TARGET_DIR || `${process.env.HOME}/.cache/openledger/target`;
}

/** The node binary: $OPENLEDGER_NODE, else the release build in the shared target dir. */
export function nodeBinary() {
  return process.env.OPENLEDGER_NODE || `${targetDir()}/release/openledger-node`;
}

/** The worker binary: $GPU_WORKER, else the release build in the shared target dir. */
export function workerBinary() {
  return process.env.GPU_WORKER || `${targetDir()}/release/gpu-worker`;
}

// The binaries as configured when this module was loaded: spawnNetwork points $OPENLEDGER_NODE
// and $GPU_WORKER at its own copies, which are gone once that network is stopped.
const SOURCE_NODE = nodeBinary();
const SOURCE_WORKER = workerBinary();


/**
 * A TCP port that is free on the loopback interface right now. (scripts/e2e/node.mjs has the
 * same; importing it would load that folder's own @polkadot/api beside this one's.)
 */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Polls `check` every `intervalMs` until it returns a truthy value (which it resolves with) or
 * `timeoutMs` passes (then it throws, naming `what` and the last error or value).
 */
export async function waitFor(what, check, { timeoutMs = 120_000, intervalMs = 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = last instanceof Error ? `: ${last.message}` : last !== undefined ? ` (last: ${JSON.stringify(last)})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

/** Capitalized dev-key name: 'alice' -> 'Alice'. */
const devName = (name) => name.charAt(0).toUpperCase() + name.slice(1);

/** The Aura (sr25519) and GRANDPA (ed25519) authority addresses (SS58 42) of //Name. */
export async function authorityKeys(name) {
  await cryptoWaitReady();
  const uri = `//${devName(name)}`;
  return {
    aura: new Keyring({ type: 'sr25519' }).addFromUri(uri).address,
    grandpa: new Keyring({ type: 'ed25519' }).addFromUri(uri).address,
  };
}

/**
 * Replaces the value of the first `"key": { ... }` object in the JSON `text` by `edit(value)`,
 * leaving the rest of the text as it is (the genesis holds u128 balances that a JSON.parse and
 * stringify of the whole spec would round). Only for objects without such numbers.
 */
function editObject(text, key, edit) {
  const match = new RegExp(`"${key}"\\s*:\\s*\\{`).exec(text);
  if (!match) throw new Error(`no "${key}" object in the chain spec`);
  const open = match.index + match[0].length - 1;
  let depth = 0;
  let inString = false;
  let end = -1;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth += 1;
    else if (c === '}' && (depth -= 1) === 0) { end = i + 1; break; }
  }
  const value = edit(JSON.parse(text.slice(open, end)));
  return text.slice(0, open) + JSON.stringify(value) + text.slice(end);
}

/**
 * Generates a raw chain spec of the `local` chain whose validators (`validators.validators`, and
 * their `session.keys`: Aura and GRANDPA) are exactly `validators` (node names: //Name keys), in
 * `dir`; returns its path. Everything else in the genesis (the 1B OPEN supply, vesting,
 * governance) is the runtime's `local` preset.
 */
export async function buildChainSpec(validators, { dir, binary = nodeBinary() }) {
  const plainText = execFileSync(binary, ['build-spec', '--chain', 'local', '--disable-default-bootnode'], {
    maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8',
  });
  const keys = await Promise.all(validators.map(authorityKeys));
  let text = editObject(plainText, 'session', (session) => ({
    ...session,
    keys: keys.map((k) => [k.aura, k.aura, { aura: k.aura, grandpa: k.grandpa }]),
  }));
  text = editObject(text, 'validators', (v) => ({ ...v, validators: keys.map((k) => k.aura) }));
  const patch = JSON.parse(text).genesis.runtimeGenesis.patch;
  const wanted = JSON.stringify(keys.map((k) => [k.aura, k.grandpa]));
  if (JSON.stringify(patch.session.keys.map((k) => [k[2].aura, k[2].grandpa])) !== wanted
    || JSON.stringify(patch.validators.validators) !== JSON.stringify(keys.map((k) => k.aura))) {
    throw new Error('could not set the validators and session keys in the local chain spec');
  }
  const plainPath = join(dir, 'plain.json');
  writeFileSync(plainPath, text);
  const raw = execFileSync(binary, ['build-spec', '--chain', plainPath, '--raw', '--disable-default-bootnode'], {
    maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rawPath = join(dir, 'raw.json');
  writeFileSync(rawPath, raw);
  return rawPath;
}

// Every network spawned by this process, so that they are killed whatever way the process ends.
const live = new Set();
let handlersInstalled = false;

function killAllSync() {
  for (const net of live) {
    // zombienet's start() ends the process with exit(1) when a node fails to start; say why.
    if (!net.network?.launched && net.zombieLog.length) process.stderr.write(`${net.zombieLog.join('\n')}\nlogs: ${net.dir}\n`);
    net.killAllSync();
  }
}

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(signal, () => {
      killAllSync();
      process.exit(code);
    });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Decodes a header's Aura pre-runtime digest into its slot (BigInt), or null. */
export function auraSlot(header) {
  for (const log of header.digest.logs) {
    // DigestItem::PreRuntime (6), engine *b"aura", Vec<u8> of 8 bytes (compact 0x20), u64 LE.
    if (log.startsWith('0x0661757261')) {
      const le = log.slice(2 + 12, 2 + 12 + 16);
      return BigInt(`0x${le.match(/../g).reverse().join('')}`);
    }
  }
  return null;
}

/**
 * Spawns the network of `toml` (a file in zombienet/, or a path) with a generated chain spec whose
 * authorities are `validators`. `env` adds environment variables for the .toml's `{{VAR}}`s.
 * Fixed ports in the .toml are dropped (zombienet picks free ones) unless `keepPorts`. The node
 * binary is copied into the network's directory first, so a rebuild while it runs changes
 * nothing. Resolves with a `Network` (below).
 */
export async function spawnNetwork({ toml, validators, env = {}, keepPorts = false, quiet = true }) {
  installHandlers();
  const dir = mkdtempSync(join(tmpdir(), 'ol-zombie-'));
  const binary = join(dir, 'openledger-node');
  copyFileSync(SOURCE_NODE, binary);
  chmodSync(binary, 0o755);
  const worker = join(dir, 'gpu-worker');
  copyFileSync(SOURCE_WORKER, worker);
  chmodSync(worker, 0o755);
  process.env.OPENLEDGER_NODE = binary; // the wrapper runs this one
  process.env.GPU_WORKER = worker; // scripts/e2e/worker.mjs runs this one
  if (!process.env.PATH.split(':').includes(ZOMBIENET_DIR)) process.env.PATH = `${ZOMBIENET_DIR}:${process.env.PATH}`;

  let config;
  try {
    const spec = await buildChainSpec(validators, { dir, binary });
    Object.assign(process.env, { OPENLEDGER_CHAIN_SPEC: spec }, env);
    config = readNetworkConfig(resolve(ZOMBIENET_DIR, toml));
    const validatorNames = config.relaychain.nodes.filter((n) => n.validator).map((n) => n.name);
    if (JSON.stringify([...validatorNames].sort()) !== JSON.stringify([...validators].sort())) {
      throw new Error(`${toml} has validators ${validatorNames}, the spec ${validators}`);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const names = config.relaychain.nodes.map((n) => n.name);
  if (!keepPorts) {
    for (const node of config.relaychain.nodes) {
      for (const key of ['rpc_port', 'ws_port', 'p2p_port', 'prometheus_port']) delete node[key];
    }
  }

  // zombienet's own readiness check (a Prometheus metric) leaves a 5-minute timer behind that
  // keeps the process alive; the harness waits for each node's RPC instead.
  config.settings.node_verifier = 'None';

  const net = new Network({ dir, names, validators });
  live.add(net);
  // zombienet prints its tables with console.log; keep a test runner's stdout clean.
  const log = console.log;
  if (quiet) console.log = (...args) => net.zombieLog.push(args.join(' '));
  try {
    net.network = await start('', config, {
      dir: join(dir, 'zombie'),
      force: true,
      logType: 'silent',
      setGlobalNetwork: (network) => { net.network = network; },
    });
  } catch (e) {
    await net.stop({ keepDir: true });
    throw e;
  } finally {
    console.log = log;
  }
  try {
    for (const name of names) await net.waitUp(name);
  } catch (e) {
    await net.stop({ keepDir: true });
    throw e;
  }
  return net;
}

/**
 * Registers `before`/`after` hooks of node:test that spawn one network for a test file (`options`:
 * those of `spawnNetwork`, or an async function giving them) and stop it, keeping its files if a
 * test failed. `onSpawn(net)` receives the network. Returns `guard(fn)`, which runs a test body
 * and, on failure, marks the run failed and adds each node's last log lines to the error.
 */
export function useNetwork(options, onSpawn) {
  let net = null;
  let failed = false;
  before(async () => {
    net = await spawnNetwork(typeof options === 'function' ? await options() : options);
    onSpawn(net);
  });
  after(async () => {
    if (net) await net.stop({ keepDir: failed });
  });
  return async function guard(fn) {
    try {
      await fn();
    } catch (e) {
      failed = true;
      if (net) e.message += `\n${net.names.map((n) => `--- ${n} ---\n${net.logTail(n, 15)}`).join('\n')}`;
      throw e;
    }
  };
}

/**
 * Waits until each of `validators` has authored a block on `name`'s canonical chain; resolves
 * with the set of authors seen.
 */
export async function waitAllAuthored(net, validators, { name = 'alice', timeoutMs = 240_000 } = {}) {
  return waitFor(`${validators.join(', ')} each to author a block`, async () => {
    const seen = new Set(await net.authors(name, await net.best(name)));
    return validators.every((v) => seen.has(v)) ? seen : null;
  }, { timeoutMs, intervalMs: 2000 });
}

/** A running network: its nodes by name, helpers to read them, kill them and start them again. */
export class Network {
  constructor({ dir, names, validators }) {
    this.dir = dir;
    this.names = names;
    this.validators = validators;
    this.network = null;
    this.zombieLog = [];
    this.apis = new Map();
    this.stopped = false;
    this.extra = new Set(); // workers and stores started through this network, stopped with it
  }

  get processMap() {
    return this.network?.client?.processMap ?? {};
  }

  node(name) {
    const node = this.network.getNodeByName(name);
    return { name, wsUri: node.wsUri, httpUri: node.wsUri.replace(/^ws/, 'http'), prometheusUri: node.prometheusUri, multiAddress: node.multiAddress };
  }

  /** The pid of `name`'s node process (zombienet runs it through `bash -c`, which execs it). */
  pid(name) {
    return this.processMap[name]?.pid;
  }

  /** Path of `name`'s log file (stdout and stderr, appended across restarts). */
  logPath(name) {
    return this.processMap[name]?.logs;
  }

  logTail(name, lines = 40) {
    try {
      return readFileSync(this.logPath(name), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** One JSON-RPC call to `name` over HTTP. */
  async rpc(name, method, params = []) {
    const res = await fetch(this.node(name).httpUri, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.json();
    if (body.error) throw new Error(`${name} ${method}: ${JSON.stringify(body.error)}`);
    return body.result;
  }

  async header(name, hash) {
    return this.rpc(name, 'chain_getHeader', hash ? [hash] : []);
  }

  /** Best block number of `name`. */
  async best(name) {
    return parseInt((await this.header(name)).number, 16);
  }

  /** Finalized block number and hash of `name`. */
  async finalizedHead(name) {
    const hash = await this.rpc(name, 'chain_getFinalizedHead');
    return { hash, number: parseInt((await this.header(name, hash)).number, 16) };
  }

  async finalized(name) {
    return (await this.finalizedHead(name)).number;
  }

  /** Canonical hash at height `n` on `name` (null if it has none). */
  async blockHash(name, n) {
    return this.rpc(name, 'chain_getBlockHash', [n]);
  }

  /** Waits until every node in `names` has a best block >= `height`. */
  async waitBest(names, height, opts = {}) {
    return waitFor(`best block >= ${height} on ${names}`, async () => {
      for (const n of names) if ((await this.best(n)) < height) return false;
      return true;
    }, { timeoutMs: 180_000, ...opts });
  }

  /** Waits until every node in `names` has finalized a block >= `height`. */
  async waitFinalized(names, height, opts = {}) {
    return waitFor(`finalized >= ${height} on ${names}`, async () => {
      for (const n of names) if ((await this.finalized(n)) < height) return false;
      return true;
    }, { timeoutMs: 180_000, ...opts });
  }

  /** Waits until `name` answers RPC. */
  async waitUp(name, opts = {}) {
    return waitFor(`${name} to answer RPC`, () => this.rpc(name, 'system_health'), { timeoutMs: 60_000, ...opts });
  }

  /**
   * Aura authority of each block 1..`to` on `name`'s canonical chain, as node names: slot mod the
   * number of authorities, authorities as the runtime reports them.
   */
  async authors(name, to, from = 1) {
    const api = await this.api(name);
    const keys = await Promise.all(this.validators.map(authorityKeys));
    const byAura = new Map(keys.map((k, i) => [k.aura, this.validators[i]]));
    const authorities = (await api.query.aura.authorities()).map((a) => new Keyring({ type: 'sr25519' }).encodeAddress(a, 42));
    const out = [];
    for (let n = from; n <= to; n += 1) {
      const hash = await this.blockHash(name, n);
      const slot = auraSlot(await this.header(name, hash));
      out.push(byAura.get(authorities[Number(slot % BigInt(authorities.length))]) ?? 'unknown');
    }
    return out;
  }

  /** A Polkadot.js API connected to `name` (cached until the node is killed). */
  async api(name) {
    if (this.apis.has(name)) return this.apis.get(name);
    const url = this.node(name).wsUri;
    const api = await waitFor(`a Polkadot.js connection to ${name}`, async () => {
      const provider = new WsProvider(url, false);
      await provider.connect();
      return ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    this.apis.set(name, api);
    return api;
  }

  async dropApi(name) {
    const api = this.apis.get(name);
    this.apis.delete(name);
    if (api) await api.disconnect().catch(() => {});
  }

  /** The node's command line (one string, run with `bash -c`), as zombienet built it. */
  command(name) {
    const { cmd } = this.processMap[name];
    return Array.isArray(cmd) ? cmd.join(' ') : cmd;
  }

  /** SIGKILLs `name`'s node (a crash: no clean shutdown) and waits until the process is gone. */
  async kill(name) {
    await this.dropApi(name);
    const pid = this.pid(name);
    if (!pid || !alive(pid)) return;
    process.kill(pid, 'SIGKILL');
    await waitFor(`${name} (pid ${pid}) to exit`, () => !alive(pid), { timeoutMs: 20_000, intervalMs: 100 });
  }

  /**
   * Starts `name` again (after `kill`), with its original command line or `command` if given,
   * appending to its log; resolves once it answers RPC.
   */
  async start(name, { command } = {}) {
    const entry = this.processMap[name];
    if (entry.pid && alive(entry.pid)) throw new Error(`${name} is still running (pid ${entry.pid})`);
    const line = command ?? this.command(name);
    const log = createWriteStream(entry.logs, { flags: 'a' });
    const child = spawn('bash', ['-c', line], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    entry.pid = child.pid;
    await waitFor(`${name} to answer RPC`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${this.logTail(name, 10)}`);
      return this.rpc(name, 'system_health');
    }, { timeoutMs: 60_000 });
  }

  /**
   * Cuts `name` off the network while it keeps running: restarts it (SIGKILL, then start) with no
   * bootnodes, `--reserved-only` and no reserved peers, no peer slots, a new p2p port (so its
   * peers cannot dial it at its known address) and `--force-authoring`, so it authors a fork of
   * its own. `heal(name)` restarts it with its original command line.
   */
  async isolate(name) {
    const original = this.command(name);
    this.originalCommands ??= new Map();
    if (!this.originalCommands.has(name)) this.originalCommands.set(name, original);
    const port = await freePort();
    const line = `${original
      .replace(/--bootnodes\s+\S+/g, '')
      .replace(/(--listen-addr\s+\/ip4\/127\.0\.0\.1\/tcp\/)\d+/, `$1${port}`)} --reserved-only --in-peers 0 --out-peers 0 --force-authoring`;
    await this.kill(name);
    await this.start(name, { command: line });
  }

  /** Ends `isolate(name)`: restarts it with its original command line, among its peers. */
  async heal(name) {
    await this.kill(name);
    await this.start(name, { command: this.originalCommands?.get(name) });
  }

  /** Number of peers `name` syncs with. */
  async peers(name) {
    return (await this.rpc(name, 'system_health')).peers;
  }

  /** Starts a `gpu-worker serve` against `nodes` (names; their RPC URLs joined with commas). */
  async startWorker({ nodes, key, port = 0, extraArgs = [] }) {
    const endpoints = nodes.map((n) => this.node(n).wsUri).join(',');
    const worker = await startE2eWorker({ node: endpoints, key, port, extraArgs });
    this.extra.add(worker);
    return worker;
  }

  /** Starts a content store (`gpu-worker store`) stopped with the network. */
  async startStore() {
    const store = await startStore();
    this.extra.add(store);
    return store;
  }

  /** Pids of every process this network runs (nodes). */
  pids() {
    return Object.values(this.processMap).map((p) => p.pid).filter(Boolean);
  }

  killAllSync() {
    for (const pid of this.pids()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  /**
   * Stops everything: API connections, workers and stores, then SIGKILLs the nodes and waits for
   * them to be gone. Removes the network's directory unless `keepDir` (or $ZOMBIENET_KEEP).
   */
  async stop({ keepDir = false } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    for (const name of [...this.apis.keys()]) await this.dropApi(name);
    for (const extra of this.extra) await extra.stop().catch(() => {});
    const pids = this.pids();
    this.killAllSync();
    await waitFor('the nodes to exit', () => pids.every((pid) => !alive(pid)), { timeoutMs: 20_000, intervalMs: 100 }).catch(() => {});
    live.delete(this);
    if (keepDir || process.env.ZOMBIENET_KEEP) {
      process.stderr.write(`zombienet network files and logs kept in ${this.dir}\n`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Listening TCP sockets of `pids` that are not bound to a loopback address (from `ss -ltnp`). */
export function nonLoopbackListeners(pids) {
  const out = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  const wanted = new Set(pids.map(String));
  const bad = [];
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const local = cols[3];
    const owners = [...line.matchAll(/pid=(\d+)/g)].map((m) => m[1]);
    if (!owners.some((p) => wanted.has(p))) continue;
    const host = local.slice(0, local.lastIndexOf(':'));
    const loopback = host.startsWith('127.') || host === '[::1]' || host === 'localhost';
    if (!loopback) bad.push(line.trim());
  }
  return bad;
}

// ---- transactions and the worker network ----

/** Signs and sends `tx`; resolves at inclusion with its events and dispatch error. */
export function submit(tx, signer) {
  return new Promise((resolvePromise, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (status.isInBlock) resolvePromise({ events, dispatchError, blockHash: status.asInBlock });
      else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`transaction ${status.type}`));
    }).catch(reject);
  });
}

/** Like `submit`, throwing with the module error's name if the extrinsic failed. */
export async function submitOk(api, tx, signer) {
  const result = await submit(tx, signer);
  if (result.dispatchError) {
    const e = result.dispatchError;
    const detail = e.isModule ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(e.asModule)) : e.toString();
    throw new Error(`extrinsic failed: ${detail}`);
  }
  return result;
}

/** The OpenLedger (SS58 1612) sr25519 keyring. */
export async function accounts() {
  await cryptoWaitReady();
  return new Keyring({ type: 'sr25519', ss58Format: 1612 });
}

/**
 * A Datanet whose `count` contributions are stored in `store`, contributed by Dave and accepted by
 * Alice, and a snapshot of it. Resolves with the snapshot id.
 */
export async function seedSnapshot(api, store, { count = 3 } = {}) {
  const keyring = await accounts();
  const alice = keyring.addFromUri('//Alice');
  const created = await submitOk(api, api.tx.datanets.createDatanet(`zombienet-${Date.now()}`, 'zombienet worker test', ['test'], 'CC0',
    { maxBytes: 1024, mediaTypes: ['text/plain'] }, 'Public'), alice);
  const datanet = created.events.find(({ event }) => event.method === 'DatanetCreated').event.data.datanet.toNumber();
  const calls = [];
  for (let i = 0; i < count; i += 1) {
    const bytes = new TextEncoder().encode(`zombienet note ${i} ${Date.now()}`);
    const hash = blake2AsHex(bytes, 256);
    const res = await fetch(`${store.url}/content`, { method: 'POST', body: bytes });
    if (res.status !== 200 && res.status !== 201) throw new Error(`store put: ${res.status}`);
    calls.push(api.tx.datanets.contribute(datanet, hash, bytes.length, 'text/plain', `${store.url}/content/${hash}`, ''));
  }
  const contributed = await submitOk(api, api.tx.utility.batchAll(calls), keyring.addFromUri('//Dave'));
  const ids = contributed.events.filter(({ event }) => event.method === 'ContributionSubmitted').map(({ event }) => event.data.contribution.toNumber());
  await submitOk(api, api.tx.utility.batchAll(ids.map((id) => api.tx.datanets.curate(id, 'Accept'))), alice);
  const cut = await submitOk(api, api.tx.datanets.snapshot(datanet), alice);
  return cut.events.find(({ event }) => event.method === 'SnapshotCreated').event.data.snapshot.toNumber();
}

/** Creates a snapshot-verification job (Alice pays); resolves with its id and assigned workers. */
export async function createVerifyJob(api, snapshot, { replication = 1, fee = OPEN, timeout = 20 } = {}) {
  const keyring = await accounts();
  const spec = u8aToHex(bnToU8a(snapshot, { bitLength: 32, isLe: true }));
  const { events } = await submitOk(api, api.tx.compute.createJob('VerifySnapshot', spec, fee, replication, timeout), keyring.addFromUri('//Alice'));
  const created = events.find(({ event }) => event.section === 'compute' && event.method === 'JobCreated').event.data;
  return { id: created.job.toNumber(), assigned: created.assigned.map((a) => a.toString()) };
}

/** Waits until job `id` is Completed (resolves with the record) or fails (throws). */
export async function waitJobCompleted(api, id, opts = {}) {
  return waitFor(`job ${id} to complete`, async () => {
    const record = await api.query.compute.jobs(id);
    if (record.isNone) return false;
    const job = record.unwrap();
    if (job.status.type === 'Completed') return job;
    if (job.status.type === 'Failed' || job.status.type === 'Expired') throw new Error(`job ${id} ${job.status.type}`);
    return false;
  }, { timeoutMs: 240_000, intervalMs: 1000, ...opts });
}

/** Waits until `address` is a registered worker. */
export async function waitWorkerRegistered(api, address, opts = {}) {
  return waitFor(`worker ${address} registered`, async () => (await api.query.compute.workers(address)).isSome, { timeoutMs: 120_000, ...opts });
}

// ---- statistics ----

export function mean(xs) {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Nearest-rank percentile `q` (0..1) of `xs`. */
export function percentile(xs, q) {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
