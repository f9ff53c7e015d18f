// A worker: one model loaded in a InferenceProcess process (restarted if it crashes), consuming that model's BullMQ
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
import { InferenceEngine } from '../jobs/inferenceEngine.ts';
import { ModelPool } from '../jobs/modelPool.ts';
import { loadModelCatalog, type CatalogModel } from '../models/catalog.ts';
import { renderJob } from '../jobs/runJob.ts';
import { GenerationCancelledError, InvalidRequestError } from '../pipeline/pipeline.ts';
import { BlobStore } from '../scale/blobs.ts';
import { closeRedis, connectRedis } from '../scale/connection.ts';
import { CANCEL_CHANNEL, PREFIX, cancelKey, queueNameFor } from '../scale/keys.ts';
import { encodeFailure, encodeProgress, parsePayload, remoteJobDataSchema, type AdvertisedModel, type RemoteJobData, type RemoteResult, type WorkerAdvert } from '../scale/protocol.ts';
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
  const catalog = await loadModelCatalog({ modelDir: config.modelDir, modelsDir: config.modelsDir, log: (message) => log.warn({ models: true }, message) });
  const inferenceLog = (model: string) => (message: string) =>
    isWarning(message) ? log.warn({ inference: true, model }, message) : log.info({ inference: true, model }, message);
  // Every model this worker has, loaded on demand within MODEL_MEMORY_BUDGET (least recently used released first);
  // the default loads now, so a broken export fails at start.
  const engine = new ModelPool({
    catalog,
    budgetBytes: config.modelMemoryBudget,
    log: (message) => log.info({ models: true }, message),
    startEngine: (m) => InferenceEngine.start({ ...config.pipeline, modelDir: m.dir }, { idleReleaseMs: config.idleReleaseMs, log: inferenceLog(m.name) }),
  });
  await engine.preload();
  const info = engine.info!;
  const model = catalog.defaultModel;
  const redis = connectRedis(config.redisUrl, `imagine-worker ${config.name}`);
  const subscriber = connectRedis(config.redisUrl, `imagine-worker ${config.name} cancel`);
  const blobs = new BlobStore(redis);
  const running = new Map<string, { controller: AbortController; model: string }>();
  const startedAt = Date.now();
  /** What the bot needs of a model that is not loaded yet (its info until then: from the folder, not a session). */
  const describe = (m: CatalogModel): AdvertisedModel => ({
    name: m.name,
    family: m.family,
    defaults: m.defaults,
    loaded: engine.isLoaded(m.name),
    info: engine.infoOf(m.name) ?? { ...info, modelName: m.name, modelDir: m.dir, defaultSampler: m.folderSampler, attention: 'not loaded yet' },
  });
  const advert = (): WorkerAdvert => ({
    id: config.name,
    host: hostname(),
    pid: process.pid,
    models: catalog.models.map(describe),
    concurrency: 1,
    running: [...running.keys()],
    runningModels: [...running.values()].map((r) => r.model),
    startedAt,
  });
  let exclusive: Promise<void> = Promise.resolve();
  const heartbeat = new WorkerHeartbeat(redis, advert, (err) => log.warn({ err: String(err) }, 'heartbeat failed'));

  subscriber.on('message', (_channel: string, jobId: string) => {
    const controller = running.get(jobId)?.controller;
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
    // One job at a time across this worker's models (one GPU): a job of another model waits here for its turn.
    running.set(jobId, { controller, model: data.model });
    const turn = exclusive;
    let release!: () => void;
    exclusive = new Promise<void>((resolve) => (release = resolve));
    await turn;
    void heartbeat.beat().catch(() => undefined);
    log.info({ jobId, user: data.userId, shard: data.shard, stalls: job.stalledCounter }, 'job started');
    try {
      const init = data.inputs.init ? await blobs.get(data.inputs.init) : undefined;
      const mask = data.inputs.mask ? await blobs.get(data.inputs.mask) : undefined;
      const upscaleSource = data.inputs.upscaleSource ? await blobs.get(data.inputs.upscaleSource) : undefined;
      if ((data.inputs.init && !init) || (data.inputs.mask && !mask) || (data.inputs.upscaleSource && !upscaleSource)) throw new InvalidRequestError('the input image is no longer available; please try again');
      let lastSent = 0;
      const { images: rendered, grid, ...outcome } = await renderJob(engine, { ...data.params, model: data.params.model ?? data.model }, { init, mask, upscaleSource }, {
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
      release();
      void heartbeat.beat().catch(() => undefined);
    }
  };

  // One BullMQ consumer per model queue (each on its own connection: BullMQ blocks on it while waiting for jobs).
  const consumers = catalog.models.map((m) => {
    const connection = connectRedis(config.redisUrl, `imagine-worker ${config.name} jobs ${m.name}`);
    const worker = new Worker<RemoteJobData, RemoteResult>(queueNameFor(m.name), processor, {
      connection,
      prefix: PREFIX,
      name: config.name,
      concurrency: 1,
      lockDuration: config.lockMs,
      stalledInterval: config.lockMs,
      maxStalledCount: 1,
    });
    worker.on('error', (err) => log.warn({ err: err.message, model: m.name }, 'worker error'));
    return { worker, connection };
  });
  await Promise.all(consumers.map((c) => c.worker.waitUntilReady()));
  // Advertise only once consuming: the bot hands out a slot as soon as it sees us.
  await heartbeat.start();
  log.info({ worker: config.name, models: catalog.names, default: model, provider: info.provider }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    name: config.name,
    model,
    close: (graceMs = config.shutdownGraceMs) =>
      (closing ??= (async () => {
        await heartbeat.stop();
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          Promise.all(consumers.map((c) => c.worker.close())).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (!finished) {
          // Leave the job locked and go: its lock lapses and another worker takes it over.
          log.warn({ jobs: [...running.keys()] }, 'grace period over; the running job goes to another worker');
          await Promise.all(consumers.map((c) => c.worker.close(true).catch(() => undefined)));
        }
        await engine.close();
        await closeRedis(redis, subscriber, ...consumers.map((c) => c.connection));
      })()),
  };
}
