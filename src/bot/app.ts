// Puts the bot together: database, model, inference worker, job service, Discord client, routing, delivery.
// startBot() is what `npm start` runs and what the end-to-end tests start against the local Discord emulator.
import { basename } from 'node:path';
import { Events, type Client } from 'discord.js';
import type { Config } from '../config.ts';
import { logger as defaultLogger, type Logger } from '../log.ts';
import { openDatabase, JobStore, GenerationStore } from '../storage/index.ts';
import { ModerationService } from '../moderation/index.ts';
import { loadModelCatalog, type ModelCatalog } from '../models/catalog.ts';
import { InferenceEngine, type GenerationEngine } from '../jobs/inferenceEngine.ts';
import { ModelPool } from '../jobs/modelPool.ts';
import { ModelSettingsStore } from '../moderation/modelSettings.ts';
import { BotModels } from './models.ts';
import { JobService } from '../jobs/service.ts';
import type { JobParams, JobResult } from '../jobs/types.ts';
import { createClient } from '../discord/client.ts';
import { Delivery } from '../discord/delivery.ts';
import { Router } from '../discord/router.ts';
import { registerCommands } from '../discord/register.ts';
import { modelDefaults } from '../pipeline/request.ts';
import { commands, componentHandlers, messageHandlers, startHooks } from '../commands/index.ts';
import { startScaleOut, type ScaleOut } from '../scale/index.ts';
import { createMetrics, serveMetrics } from '../metrics.ts';
import type { ShardAssignment } from '../process/environment.ts';
import type { BotContext } from './types.ts';
import { isWarning } from '../pipeline/logLevel.ts';

export const SOFTWARE = 'imagine-bot';

/** One log line per job transition, each with the job id (what an operator greps for when a user reports a job). */
function logJobLifecycle(jobs: JobService, log: Logger): void {
  jobs.on('started', ({ job }) => log.info({ jobId: job.id, kind: job.params.kind, action: job.params.action }, 'job started'));
  jobs.on('succeeded', ({ job, redelivery }) => log.info({ jobId: job.id, redelivery, elapsedMs: job.result?.elapsedMs }, redelivery ? 'undelivered result found at start' : 'job finished'));
  jobs.on('delivered', ({ job }) => log.info({ jobId: job.id, latencyMs: Date.now() - job.createdAt }, 'job delivered'));
  jobs.on('failed', ({ job, retrying }) => log.warn({ jobId: job.id, retrying, error: job.error }, retrying ? 'job failed; retrying' : 'job failed'));
  jobs.on('cancelled', ({ job }) => log.info({ jobId: job.id }, 'job cancelled'));
  jobs.on('timed_out', ({ job }) => log.warn({ jobId: job.id }, 'job timed out'));
}

/**
 * Local mode's engine: one inference process per loaded model, loaded on demand within MODEL_MEMORY_BUDGET (least
 * recently used released first). The default model loads now, so a broken export fails at start.
 */
async function startModelPool(config: Config, catalog: ModelCatalog, log: Logger): Promise<ModelPool> {
  const pool: ModelPool = new ModelPool({
    catalog,
    budgetBytes: config.modelMemoryBudget,
    log: (message) => log.info({ models: true }, message),
    startEngine: async (model) => {
      const engine = await InferenceEngine.start(
        { modelDir: model.dir, provider: config.provider, attentionSlicing: config.attentionSlicing, lowMemory: config.lowMemory, vaeTiling: config.vaeTiling, fastDecode: config.fastDecode, intraOpThreads: config.intraOpThreads, graphCache: config.graphCache },
        { idleReleaseMs: config.idleReleaseMs, log: (message) => (isWarning(message) ? log.warn({ worker: true, model: model.name }, message) : log.info({ worker: true, model: model.name }, message)) },
      );
      engine.on('crash', (event) => pool.emit('crash', { model: model.name, ...event }));
      return engine;
    },
  });
  try {
    await pool.preload();
  } catch (err) {
    await pool.close();
    throw err;
  }
  if (catalog.models.length > 1) log.info({ models: catalog.names, default: catalog.defaultModel }, 'models offered');
  return pool;
}

export interface StartOptions {
  log?: Logger;
  /** Replace the inference worker (tests). */
  engine?: GenerationEngine;
  /** The gateway shard to run, in a sharded start (src/shard.ts); otherwise the bot is the only shard. */
  shard?: ShardAssignment;
}

export interface RunningBot {
  ctx: BotContext;
  client: Client;
  /** Resolves once the gateway is ready, commands are registered and persisted jobs are restored. */
  ready: Promise<void>;
  /** Graceful stop: no new jobs, the running one gets the grace period, everything persisted, gateway closed. */
  stop(reason?: string): Promise<void>;
}

export async function startBot(config: Config, options: StartOptions = {}): Promise<RunningBot> {
  const log = options.log ?? defaultLogger;
  const startedAt = Date.now();
  const redisMode = config.queueBackend === 'redis';
  // The model folders are read here (cheap, JSON and file sizes only): MODEL_DIR is the default model and a broken one
  // fails before anything runs; a broken folder under MODELS_DIR is skipped with its problem logged.
  // In redis mode the weights live on the workers: the folders are optional and MODEL_DIR's name is the default model.
  const catalogOptions = { modelDir: config.modelDir, modelsDir: config.modelsDir, log: (message: string) => log.warn({ models: true }, message) };
  const catalog: ModelCatalog | undefined = redisMode ? await loadModelCatalog(catalogOptions).catch(() => undefined) : await loadModelCatalog(catalogOptions);
  const defaultModel = catalog?.defaultModel ?? basename(config.modelDir);
  const db = openDatabase(config.dataDir);
  let engine: GenerationEngine;
  let scaleOut: ScaleOut | undefined;
  try {
    if (redisMode && !options.engine) {
      scaleOut = await startScaleOut({
        redisUrl: config.redisUrl!,
        model: defaultModel,
        modelFor: (params) => params.model ?? defaultModel,
        software: SOFTWARE,
        shard: options.shard?.id ?? null,
        log: (message, fields) => log.info({ scale: true, ...fields }, message),
      });
    }
    engine = options.engine ?? scaleOut?.engine ?? (await startModelPool(config, catalog!, log));
  } catch (err) {
    db.close();
    throw err;
  }
  const info = engine.info;
  log.info({ model: info?.modelName, provider: info?.provider, attention: info?.attention }, 'model loaded');

  const jobStore = new JobStore<JobParams, JobResult>(db);
  const generations = new GenerationStore(db);
  const moderation = new ModerationService(db, { globalLimits: { maxSteps: config.maxSteps, maxPixels: config.maxPixels, maxImagesPerJob: config.maxImagesPerJob } });
  const jobs = new JobService({
    store: jobStore,
    engine,
    ...(scaleOut ? { queueBackend: scaleOut.queueBackend } : {}),
    dataDir: config.dataDir,
    concurrency: config.queueConcurrency,
    maxQueued: config.maxQueue,
    maxPerUser: config.maxJobsPerUser,
    timeoutMs: config.jobTimeoutMs,
    upscaleModel: config.upscaleModel,
    software: SOFTWARE,
    log: (message, fields) => log.info(fields ?? {}, message),
  });
  logJobLifecycle(jobs, log);
  // Optional Prometheus endpoint; a port that cannot be opened is a start-up error like a bad model folder.
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (config.metricsPort !== undefined) {
    const metrics = createMetrics(jobs);
    if (engine instanceof InferenceEngine || engine instanceof ModelPool) engine.on('crash', () => metrics.workerRestarted());
    try {
      metricsServer = await serveMetrics(metrics, config.metricsPort);
      log.info({ port: metricsServer.port }, 'metrics endpoint listening on /metrics');
    } catch (err) {
      await engine.close();
      db.close();
      throw new Error(`could not open the metrics port ${config.metricsPort}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const client = createClient(config, options.shard);
  const delivery = new Delivery({ rest: client.rest, jobs, generations, moderation, log, progressIntervalMs: config.progressIntervalMs });
  delivery.attach();

  const models = new BotModels({
    defaultModel,
    ...(catalog ? { local: catalog } : {}),
    ...(scaleOut ? { remote: () => scaleOut.workers().flatMap((w) => w.models) } : {}),
    settings: new ModelSettingsStore(db),
  });
  const ctx: BotContext = {
    config,
    log,
    client,
    db,
    jobs,
    delivery,
    moderation,
    generations,
    models,
    defaults: catalog ? models.defaultsFor(defaultModel) : modelDefaults(scaleOut?.defaultsFor(defaultModel) ?? {}, info?.defaultSampler ?? 'pndm'),
    startedAt,
  };
  const router = new Router(commands, componentHandlers, messageHandlers, () => ctx);
  client.on(Events.InteractionCreate, (interaction) => void router.onInteraction(interaction));
  client.on(Events.MessageCreate, (message) => void router.onMessage(message));
  client.on(Events.Error, (err) => log.error({ err: err.message }, 'discord client error'));
  client.on(Events.ShardDisconnect, (event) => log.warn({ code: event.code }, 'gateway disconnected'));
  client.on(Events.ShardResume, () => log.info('gateway resumed'));

  const ready = new Promise<void>((resolve, reject) => {
    client.once(Events.ClientReady, async (c) => {
      try {
        const count = await registerCommands(client.rest, c.application.id, commands, config.devGuildId);
        log.info({ user: c.user.tag, commands: count, guild: config.devGuildId ?? 'global' }, 'connected to Discord');
        for (const hook of startHooks) await hook(ctx);
        const restored = jobs.start();
        if (restored.restored || restored.redeliveries) log.info(restored, 'resumed persisted jobs');
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });
  // Failing to log in (bad token, no network) is fatal at start: say so clearly.
  await client.login(config.discordToken).catch(async (err: Error) => {
    await metricsServer?.close();
    await engine.close();
    db.close();
    throw new Error(`could not log in to Discord: ${err.message}`);
  });

  let stopping: Promise<void> | undefined;
  const stop = (reason = 'stop requested'): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down');
      await jobs.shutdown(config.shutdownGraceMs);
      await delivery.settle(5000);
      await client.destroy();
      await metricsServer?.close();
      db.close();
      log.info('stopped');
    })();
    return stopping;
  };
  return { ctx, client, ready, stop };
}
