// Worker processes for scale-out tests and the benchmark: `node --import tsx src/redisWorker/index.ts`, exactly what
// `npm run worker` runs, each with its own name; waitForWorkers() reads the registry the bot reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { readWorkers } from '../../src/scale/registry.ts';
import type { WorkerAdvert } from '../../src/scale/protocol.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  /** Everything it printed (pino JSON lines and errors). */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM and wait; SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

export function spawnWorker(name: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/redisWorker/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, ORT_THREADS: '1', LOG_LEVEL: process.env.WORKER_LOG_LEVEL ?? 'info', WORKER_NAME: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    if (process.env.WORKER_LOG) process.stderr.write(`[${name}] ${chunk.toString()}`);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    output: () => output,
    exited,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until these workers advertise themselves in Redis. */
export async function waitForWorkers(redisUrl: string, names: readonly string[], timeoutMs = 60_000): Promise<WorkerAdvert[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const adverts = await readWorkers(redis);
      if (names.every((name) => adverts.some((a) => a.id === name))) return adverts;
      if (Date.now() > deadline) throw new Error(`workers ${names.join(', ')} did not come up (seen: ${adverts.map((a) => a.id).join(', ') || 'none'})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    redis.disconnect();
  }
}
