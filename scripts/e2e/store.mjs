// Starts the project's content store (`gpu-worker store`) for a test and always stops it again.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Path of the worker binary: $GPU_WORKER, else the release build in the shared target dir. */
export function workerBinary() {
  if (process.env.GPU_WORKER) return process.env.GPU_WORKER;
  const target = process.env.CARGO_TARGET_DIR || `${process.env.HOME}/.cache/openledger/target`;
  return `${target}/release/gpu-worker`;
}

/**
 * Resolves with the URL of the first `listening on http://...` line on `child`'s stdout (the
 * `gpu-worker` subcommands print one), and keeps draining stdout so the child never blocks on a
 * full pipe. Rejects if the child exits first; `detail()` adds context to the error.
 */
export async function listeningUrl(child, what, detail = () => '') {
  const lines = createInterface({ input: child.stdout });
  const url = await Promise.race([
    (async () => {
      for await (const line of lines) {
        const match = line.match(/listening on (http:\/\/\S+)/);
        if (match) return match[1];
      }
      throw new Error(`${what} exited before listening${detail()}`);
    })(),
    once(child, 'exit').then(([code]) => { throw new Error(`${what} exited with ${code}${detail()}`); }),
  ]);
  lines.on('line', () => {});
  return url;
}

/** Spawns `gpu-worker store` on a free port in a fresh directory; resolves once it listens. */
export async function startStore() {
  const dir = mkdtempSync(join(tmpdir(), 'ol-store-'));
  const child = spawn(workerBinary(), ['store', '--dir', dir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.on('exit', kill);
  const url = await listeningUrl(child, 'the store');
  return {
    url,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
