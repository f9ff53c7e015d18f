// Several models in Redis mode: a worker serves every model it has (MODEL_DIR plus MODELS_DIR) from one BullMQ queue
// per model, one job at a time; the bot offers the models the workers advertise, routes `/imagine model:` to that
// model's queue, and /status shows which worker holds which model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../bot/harness.ts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bodyOf, customIdStarting, finalOf, pngsOf } from '../bot/helpers.ts';
import { PREFIX, queueNameFor } from '../../src/scale/keys.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import { redisSkipReason, startRedisServer, type RedisServer } from './redisServer.ts';
import { spawnWorker, waitForWorkers, type WorkerProcess } from './workers.ts';
import { capacityByModel } from '../../src/scale/registry.ts';
import type { WorkerAdvert } from '../../src/scale/protocol.ts';
import type { RemoteEngine } from '../../src/scale/remoteEngine.ts';

const skip = redisSkipReason();
if (skip) console.log(`# skipping the Redis model-routing tests: ${skip}`);

let redis: RedisServer;
let worker: WorkerProcess;
let h: Harness;
let extraModels: string;

before(async () => {
  if (skip) return;
  redis = await startRedisServer();
  const root = await ensureTestModels();
  extraModels = await mkdtemp(join(tmpdir(), 'imagine-worker-models-'));
  await cp(join(root, 'tiny-lcm'), join(extraModels, 'tiny-lcm'), { recursive: true, filter: (src) => !/\.(ort|attn)-/.test(src) });
  worker = spawnWorker('wm', { REDIS_URL: redis.url, MODEL_DIR: join(root, 'tiny-sd15'), MODELS_DIR: extraModels });
  const [harness] = await Promise.all([startHarness({ env: { QUEUE_BACKEND: 'redis', REDIS_URL: redis.url, MODELS_DIR: join(extraModels, 'none') } }), waitForWorkers(redis.url, ['wm'])]);
  h = harness;
  // The bot measures the workers about once a second: wait until it has seen this one.
  const engine = h.bot.ctx.jobs.engine as RemoteEngine;
  await h.emulator.waitFor(() => engine.workerList().some((w) => w.id === 'wm') || undefined, 30_000, 'the bot to see worker wm');
});

after(async () => {
  await h?.close();
  await worker?.stop();
  await redis?.stop();
  if (extraModels) await rm(extraModels, { recursive: true, force: true });
});

test('a model only the worker has is offered, routed to its queue, and named in the PNG', { skip }, async () => {
  const menu = h.emulator.autocomplete({ name: 'imagine', options: { prompt: 'x' }, focused: 'model' });
  const values = (bodyOf(await menu.waitFor((r) => r.kind === 'callback')).choices as { value: string }[]).map((c) => c.value);
  assert.deepEqual(values, ['tiny-sd15', 'tiny-lcm']);
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a kite', seed: 2, steps: 2, width: 64, height: 64, model: 'tiny-lcm' }, channelId: h.emulator.channels.nsfw.id });
  const final = await finalOf(handle, 90_000);
  assert.match(readPngParameters(pngsOf(final)[0]!.bytes) ?? '', /Model: tiny-lcm/);
  // It went through tiny-lcm's own BullMQ queue (the one a worker without tiny-lcm never consumes).
  const jobId = customIdStarting(handle.original(), 'img:reroll:').split(':')[2]!;
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    const [inLcm, inDefault] = await Promise.all(['tiny-lcm', 'tiny-sd15'].map((m) => new Queue(queueNameFor(m), { connection, prefix: PREFIX }).getJob(jobId)));
    assert.ok(inLcm, 'the job is in the tiny-lcm queue');
    assert.equal(inDefault, undefined);
  } finally {
    connection.disconnect();
  }
  const other = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a kite', seed: 2, steps: 2 }, channelId: h.emulator.channels.nsfw.id });
  assert.match(readPngParameters(pngsOf(await finalOf(other, 90_000))[0]!.bytes) ?? '', /Model: tiny-sd15/);
});

test('/status shows which worker holds which model', { skip }, async () => {
  const handle = h.emulator.slashCommand({ name: 'status' });
  const text = String(bodyOf(await handle.waitFor((r) => r.kind === 'callback')).embeds?.[0]?.description ?? JSON.stringify(handle.responses.map((r) => r.body)));
  assert.match(text, /`wm` holds \*\*tiny-sd15\*\*, \*\*tiny-lcm\*\*/);
});

test('a worker busy with one model has no free slot for its other models', () => {
  const advert = (runningModels: string[]): WorkerAdvert => ({
    id: 'w',
    host: 'h',
    pid: 1,
    concurrency: 1,
    running: runningModels.map((_, i) => `job${i}`),
    runningModels,
    startedAt: 0,
    models: ['a', 'b'].map((name) => ({ name, defaults: {}, info: {} as WorkerAdvert['models'][number]['info'] })),
  });
  assert.deepEqual([...capacityByModel([advert([])])], [['a', 1], ['b', 1]]);
  // Busy with a: a's own job is counted from a's queue by the caller; b has no slot here.
  assert.deepEqual([...capacityByModel([advert(['a'])])], [['a', 1], ['b', 0]]);
  assert.deepEqual([...capacityByModel([advert(['a']), advert([])])], [['a', 2], ['b', 1]]);
});
