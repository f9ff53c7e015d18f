// QUEUE_BACKEND=redis, the bot's side: connects to Redis, watches the workers, and builds the PooledQueue that
// JobService uses instead of the in-process queue. See docs/scale-out.md for the design and its limits.
// Fairness stays in the bot's PooledQueue (one pool per model, slots = idle workers measured by RedisSlots), not in
// Redis: BullMQ's queue is FIFO (fair groups are a BullMQ Pro feature), so a job is put there only when a worker for
// its model is free.
import type { ImagineDefaults } from '../pipeline/modelFolder.ts';
import { PooledQueue, type JobQueueBackend } from '../queue/index.ts';
import type { QueueBackendInit } from '../jobs/service.ts';
import type { JobParams, JobProgress, JobResult } from '../jobs/types.ts';
import { closeRedis, connectRedis } from './connection.ts';
import type { WorkerAdvert } from './protocol.ts';
import { readWorkers } from './registry.ts';
import { RemoteEngine } from './remoteEngine.ts';
import { RemoteJobs } from './remoteJobs.ts';
import { RedisSlots } from './slots.ts';

export interface ScaleOutOptions {
  redisUrl: string;
  /** The model (folder name) jobs need unless modelFor says otherwise: the bot's MODEL_DIR name. */
  model: string;
  /** Per-job model choice (e.g. a future /imagine model option); default: always `model`. */
  modelFor?: (params: JobParams) => string;
  software: string;
  /** This process's shard id when sharded. */
  shard?: number | null;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** How often free worker slots are measured while jobs wait; default 1000 ms. */
  pollMs?: number;
  /** Give up connecting after this long at start; default 10 s. */
  connectTimeoutMs?: number;
}

export interface ScaleOut {
  engine: RemoteEngine;
  /** For JobServiceOptions.queueBackend. */
  queueBackend: (init: QueueBackendInit) => JobQueueBackend<JobParams, JobResult, JobProgress>;
  /** Workers seen at the last measurement. */
  workers(): readonly WorkerAdvert[];
  /** A model's imagine.json defaults as a worker advertises them (for a bot without the model folder). */
  defaultsFor(model: string): ImagineDefaults | undefined;
  close(): Promise<void>;
}

export async function startScaleOut(options: ScaleOutOptions): Promise<ScaleOut> {
  const log = options.log ?? (() => undefined);
  const redis = connectRedis(options.redisUrl, 'imagine-bot');
  const where = safeUrl(options.redisUrl);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`could not reach Redis at ${where} (REDIS_URL)`)), options.connectTimeoutMs ?? 10_000);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const modelFor = options.modelFor ?? (() => options.model);
  const extra = new Set<ReturnType<typeof connectRedis>>();
  const remote: RemoteJobs = new RemoteJobs({
    redis,
    connect: (name) => {
      const connection = connectRedis(options.redisUrl, name);
      extra.add(connection);
      return connection;
    },
    software: options.software,
    shard: options.shard ?? null,
    log,
    onResult: (result) => engine.record(result),
  });
  let queue: PooledQueue<JobParams, JobResult, JobProgress> | undefined;
  const slots = new RedisSlots({
    readWorkers: () => readWorkers(redis),
    load: (pool) => remote.load(pool),
    onChange: () => queue?.poke(),
    onError: (err) => closing || log(`measuring workers failed: ${err instanceof Error ? err.message : String(err)}`),
  });
  await slots.measure();
  slots.start(options.pollMs ?? 1000);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      slots.stop();
      await remote.close();
      await closeRedis(redis, ...extra);
    })());
  const engine = new RemoteEngine(options.model, () => slots.workers, close);
  log(`redis backend: ${slots.workers.length} worker(s) online, ${slots.capacity(options.model)} for model ${options.model}`);
  return {
    engine,
    queueBackend: (init) => {
      queue = new PooledQueue<JobParams, JobResult, JobProgress>({
        runner: (job, signal, report, started) => remote.run(modelFor(job.params), job, signal, report, started, init.jobDir(job.id)),
        poolOf: (job) => modelFor(job.params),
        slots,
        adopt: (jobs) => remote.adopt(jobs, (job) => modelFor(job.params)),
        beforeStarted: (job) => init.markRunning(job.id),
        maxQueued: init.maxQueued,
        maxPerUser: init.maxPerUser,
        timeoutMs: init.timeoutMs,
        paused: true,
        onListenerError: init.onListenerError,
      });
      return queue;
    },
    workers: () => slots.workers,
    defaultsFor: (model) => {
      for (const worker of slots.workers) {
        const found = worker.models.find((m) => m.name === model);
        if (found) return found.defaults;
      }
      return undefined;
    },
    close,
  };
}

/** REDIS_URL without its password, for messages. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}
