// `npm run start:sharded` with QUEUE_BACKEND=redis: the ShardingManager starts the shard process, which keeps its
// database in DATA_DIR/shard-0 and has its /imagine run by a worker through Redis. (The emulator has one gateway
// shard, so this checks the wiring, not guild distribution across shards.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDiscordEmulator, type DiscordEmulator } from '../emulator/index.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { finalOf } from '../bot/helpers.ts';
import { redisSkipReason, startRedisServer, type RedisServer } from './redisServer.ts';
import { spawnWorker, waitForWorkers, type WorkerProcess } from './workers.ts';

const skip = redisSkipReason();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let redis: RedisServer | undefined;
let worker: WorkerProcess | undefined;
let emulator: DiscordEmulator | undefined;
let manager: ChildProcess | undefined;
let dataDir: string | undefined;

after(async () => {
  if (manager && manager.exitCode === null) {
    const exited = new Promise((resolve) => manager!.once('exit', resolve));
    manager.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (manager.exitCode === null) manager.kill('SIGKILL');
  }
  await worker?.stop();
  await emulator?.close();
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a sharded start serves /imagine through the Redis workers, with a database per shard', { skip }, async () => {
  redis = await startRedisServer();
  const modelDir = join(await ensureTestModels(), 'tiny-sd15');
  worker = spawnWorker('shard-test-worker', { REDIS_URL: redis.url, MODEL_DIR: modelDir });
  emulator = await startDiscordEmulator();
  dataDir = await mkdtemp(join(tmpdir(), 'imagine-shard-'));
  let output = '';
  manager = spawn(process.execPath, ['--import', 'tsx', 'src/shard.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DISCORD_TOKEN: emulator.token,
      DISCORD_API_URL: emulator.apiUrl,
      DEV_GUILD_ID: String(emulator.guild.id),
      MODEL_DIR: modelDir,
      DATA_DIR: dataDir,
      QUEUE_BACKEND: 'redis',
      REDIS_URL: redis.url,
      SHARDS: '1',
      ORT_THREADS: '1',
      LOG_LEVEL: 'info',
    },
  });
  manager.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  manager.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForWorkers(redis.url, ['shard-test-worker']);
  await emulator.waitForCommands(emulator.guild.id, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${output}`);
  });
  const handle = emulator.slashCommand({ name: 'imagine', options: { prompt: 'a sharded cat', seed: 5, steps: 4 } });
  await finalOf(handle, 60_000);
  assert.deepEqual(readdirSync(dataDir), ['shard-0'], 'shard 0 keeps its database and images in its own folder');
  assert.ok(existsSync(join(dataDir, 'shard-0', 'images')), 'the result was written under the shard folder');
  assert.match(worker.output(), /"msg":"job done"/, 'the worker ran the job');
  assert.match(output, /"shard":0/, 'the manager started shard 0');
  assert.deepEqual(emulator.unknownRequests(), []);
});
