// Starts a real openledger-node for a test and always stops it again.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';

/** A TCP port that is free on the loopback interface right now. */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Path of the node binary: $OPENLEDGER_NODE, else the release build in the shared target dir. */
export function nodeBinary() {
  if (process.env.OPENLEDGER_NODE) return process.env.OPENLEDGER_NODE;
  const target = process.env.CARGO_TARGET_DIR || `${process.env.HOME}/.cache/openledger/target`;
  return `${target}/release/openledger-node`;
}

/**
 * Spawns `openledger-node --dev --tmp` on free ports, plus `extraArgs` (e.g. `--gpu-worker URL`).
 * The returned handle's `stop()` kills it; it is also killed when this process exits, whatever
 * the reason.
 */
export async function startDevNode({ extraArgs = [] } = {}) {
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const args = [
    '--dev', '--tmp',
    '--rpc-port', String(rpcPort),
    '--port', String(p2pPort),
    '--no-prometheus', '--no-telemetry', '--no-mdns',
    ...extraArgs,
  ];
  const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log = (log + chunk.toString()).slice(-20000);
  });
  const exited = once(child, 'exit');
  const kill = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.on('exit', kill);
  return {
    url: `ws://127.0.0.1:${rpcPort}`,
    rpcPort,
    log: () => log,
    exited,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function pollUntil(what, check, { timeoutMs = 120_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}

/**
 * Connects Polkadot.js to `url`, retrying (bounded) until the node answers. Resolves with the
 * API and its provider (for custom `openledger_*` methods: `provider.send(method, params)`).
 */
export async function connect(url) {
  let provider;
  const api = await pollUntil('the RPC endpoint', async () => {
    provider = new WsProvider(url, false);
    await provider.connect();
    return ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
  }, { timeoutMs: 60_000, intervalMs: 500 });
  return { api, provider };
}

/** Signs and sends `tx`; resolves at inclusion with its events, dispatch error and block hash. */
export function submit(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (status.isInBlock) resolve({ events, dispatchError, blockHash: status.asInBlock });
      else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`transaction ${status.type}`));
    }).catch(reject);
  });
}

/** `section.Name` of the module error an extrinsic failed with (asserting that it failed so). */
export function moduleError(api, dispatchError) {
  assert.ok(dispatchError, 'the extrinsic must fail');
  assert.ok(dispatchError.isModule, dispatchError.toString());
  const { section, name } = api.registry.findMetaError(dispatchError.asModule);
  return `${section}.${name}`;
}

/** Like `submit`, asserting that the extrinsic succeeded (naming its module error if not). */
export async function submitOk(api, tx, signer) {
  const result = await submit(tx, signer);
  assert.equal(result.dispatchError, undefined, result.dispatchError && moduleError(api, result.dispatchError));
  return result;
}

/** The fee an included extrinsic paid, from its `TransactionFeePaid` event. */
export function feePaid(events) {
  const record = events.find(({ event }) => event.section === 'transactionPayment' && event.method === 'TransactionFeePaid');
  if (!record) throw new Error('no TransactionFeePaid event');
  return record.event.data.actualFee.toBigInt();
}
