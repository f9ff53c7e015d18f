// A worker: one model loaded in a PipelineWorker process (restarted if it crashes), consuming that model's BullMQ
// queue one job at a time, advertising itself in Redis, and stopping a job when the bot publishes its id on the
// cancel channel. Results go back as PNG blobs in Redis plus a small JSON return value (see src/scale/blobs.ts).
//
// Stalls: BullMQ holds a lock on the running job and renews it every lockMs/2 from this process's event loop, which
// stays free because inference runs in the child process. If this process dies, the lock lapses and the stalled-job
// check of any other worker of the same model puts the job back (maxStalledCount 1: a job whose worker died twice
// fails, and the bot retries it once more).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import type { Logger } from '../log.ts';
import { WorkerEngine, type GenerationEngine } from '../jobs/engine.ts';
import { renderJob } from '../jobs/render.ts';
import { GenerationCancelledError, InvalidRequestError } from '../pipeline/pipeline.ts';
import { loadModelFolder } from '../pipeline/modelFolder.ts';
import { BlobStore } from '../scale/blobs.ts';
import { closeRedis, connectRedis } from '../scale/connection.ts';
import { CANCEL_CHANNEL, PREFIX, cancelKey, queueNameFor } from '../scale/keys.ts';
import { encodeFailure, encodeProgress, parsePayload, remoteJobDataSchema, type RemoteJobData, type RemoteResult, type WorkerAdvert } from '../scale/protocol.ts';
import { WorkerHeartbeat } from '../scale/registry.ts';
import type { WorkerConfig } from './config.ts';
import { isWarning } from '../pipeline/logLevel.ts';

/** Progress without a preview goes out at most this often (each update is a Redis write and an event). */
const PROGRESS_EVERY_MS = 250;

export interface RunningWorker {
  readonly name: string;
  readonly model: string;
  /** Stop taking jobs, let the running one finish within graceMs (else another worker takes it over), exit cleanly. */
  close(graceMs?: number): Promise<void>;
}

export async function startWorker(config: WorkerConfig, log: Logger): Promise<RunningWorker> {
  const folder = await loadModelFolder(config.modelDir);
  const engine: GenerationEngine = await WorkerEngine.start(config.pipeline, {
    idleReleaseMs: config.idleReleaseMs,
    log: (message) => (isWarning(message) ? log.warn({ inference: true }, message) : log.info({ inference: true }, message)),
  });
  const info = engine.info!;
  const model = info.modelName;
  const redis = connectRedis(config.redisUrl, `imagine-worker ${config.name}`);
  const subscriber = connectRedis(config.redisUrl, `imagine-worker ${config.name} cancel`);
  const consumer = connectRedis(config.redisUrl, `imagine-worker ${config.name} jobs`);
  const blobs = new BlobStore(redis);
  const running = new Map<string, AbortController>();
  const startedAt = Date.now();
  const advert = (): WorkerAdvert => ({
    id: config.name,
    host: hostname(),
    pid: process.pid,
    models: [{ name: model, info, defaults: folder.defaults }],
    concurrency: 1,
    running: [...running.keys()],
    startedAt,
  });
  const heartbeat = new WorkerHeartbeat(redis, advert, (err) => log.warn({ err: String(err) }, 'heartbeat failed'));

  subscriber.on('message', (_channel: string, jobId: string) => {
    const controller = running.get(jobId);
    if (controller && !controller.signal.aborted) {
      log.info({ jobId }, 'cancel requested');
      controller.abort();
    }
  });
  await subscriber.subscribe(CANCEL_CHANNEL);

  const processor = async (job: BullJob<RemoteJobData>): Promise<RemoteResult> => {
    const jobId = job.id!;
    let data: RemoteJobData;
    try {
      data = parsePayload(remoteJobDataSchema, job.data, `the data of job ${jobId}`);
    } catch (err) {
      log.warn({ jobId, err: err instanceof Error ? err.message : String(err) }, 'job refused');
      throw new UnrecoverableError(encodeFailure(err));
    }
    if (await redis.exists(cancelKey(jobId))) throw new UnrecoverableError(encodeFailure(new GenerationCancelledError()));
    const controller = new AbortController();
    running.set(jobId, controller);
    void heartbeat.beat().catch(() => undefined);
    log.info({ jobId, user: data.userId, shard: data.shard, stalls: job.stalledCounter }, 'job started');
    try {
      const init = data.inputs.init ? await blobs.get(data.inputs.init) : undefined;
      const mask = data.inputs.mask ? await blobs.get(data.inputs.mask) : undefined;
      const upscaleSource = data.inputs.upscaleSource ? await blobs.get(data.inputs.upscaleSource) : undefined;
      if ((data.inputs.init && !init) || (data.inputs.mask && !mask) || (data.inputs.upscaleSource && !upscaleSource)) throw new InvalidRequestError('the input image is no longer available; please try again');
      let lastSent = 0;
      const { images: rendered, grid, ...outcome } = await renderJob(engine, data.params, { init, mask, upscaleSource }, {
        signal: controller.signal,
        software: data.software,
        upscaleModel: config.upscaleModel,
        onProgress: (progress) => {
          const now = Date.now();
          if (!progress.preview && progress.step < progress.total && now - lastSent < PROGRESS_EVERY_MS) return;
          lastSent = now;
          job.updateProgress(encodeProgress(progress) as unknown as object).catch(() => undefined);
        },
      });
      // A run id in the key: should a worker that lost its lock still write, it cannot overwrite this run's bytes.
      const run = randomUUID().slice(0, 8);
      const images = await Promise.all(rendered.map(async ({ png, ...facts }, i) => ({ key: await blobs.put(jobId, `result-${run}-${i + 1}`, png), ...facts })));
      const gridKey = grid ? await blobs.put(jobId, `result-${run}-grid`, grid) : undefined;
      log.info({ jobId, ms: Math.round(outcome.elapsedMs) }, 'job done');
      return { images, ...(gridKey ? { gridKey } : {}), ...outcome, worker: config.name };
    } catch (err) {
      log.info({ jobId, err: err instanceof Error ? err.message : String(err) }, controller.signal.aborted ? 'job cancelled' : 'job failed');
      // Never retried by BullMQ: the bot decides (it retries a crash once, and never a cancellation).
      throw new UnrecoverableError(encodeFailure(controller.signal.aborted ? new GenerationCancelledError() : err));
    } finally {
      running.delete(jobId);
      void heartbeat.beat().catch(() => undefined);
    }
  };

  const worker = new Worker<RemoteJobData, RemoteResult>(queueNameFor(model), processor, {
    connection: consumer,
    prefix: PREFIX,
    name: config.name,
    concurrency: 1,
    lockDuration: config.lockMs,
    stalledInterval: config.lockMs,
    maxStalledCount: 1,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  await worker.waitUntilReady();
  // Advertise only once consuming: the bot hands out a slot as soon as it sees us.
  await heartbeat.start();
  log.info({ worker: config.name, model, provider: info.provider, queue: queueNameFor(model) }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    name: config.name,
    model,
    close: (graceMs = config.shutdownGraceMs) =>
      (closing ??= (async () => {
        await heartbeat.stop();
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          worker.close().then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (!finished) {
          // Leave the job locked and go: its lock lapses and another worker takes it over.
          log.warn({ jobs: [...running.keys()] }, 'grace period over; the running job goes to another worker');
          await worker.close(true).catch(() => undefined);
        }
        await engine.close();
        await closeRedis(redis, subscriber, consumer);
      })()),
  };
}
