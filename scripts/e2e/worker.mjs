// Starts `gpu-worker serve` processes for a test and always stops them again.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { listeningUrl, workerBinary } from './store.mjs';

/**
 * Spawns `gpu-worker serve --node NODE --key KEY --listen 127.0.0.1:PORT ...extraArgs` and
 * resolves once it listens. `stop()` ends it with SIGTERM, `kill()` with SIGKILL (a crash).
 */
export async function startWorker({ node, key, port = 0, extraArgs = [] }) {
  const args = ['serve', '--node', node, '--key', key, '--listen', `127.0.0.1:${port}`, ...extraArgs];
  const child = spawn(workerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk.toString()).slice(-20000); });
  const killNow = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  process.on('exit', killNow);
  const exited = once(child, 'exit');
  const url = await listeningUrl(child, 'the worker', () => `: ${log}`);
  return {
    url,
    log: () => log,
    /** Calls the worker's JSON-RPC API. */
    async rpc(method, params = []) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
      const body = await res.json();
      if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
      return body.result;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(killNow, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
