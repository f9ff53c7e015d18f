// `npm run worker` configuration. The model and inference variables are the bot's own (same names, same checks:
// loadConfig validates them); a worker needs no Discord token, so a placeholder satisfies that check. Worker-only
// variables are read here.
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { PipelineOptions } from '../pipeline/types.ts';

export interface WorkerConfig {
  redisUrl: string;
  /** The default model (always served). */
  modelDir: string;
  /** Every valid model folder under it is served too. */
  modelsDir: string;
  modelMemoryBudget: number;
  pipeline: PipelineOptions;
  idleReleaseMs: number;
  upscaleModel: string | undefined;
  /** Shown in logs and job results; unique per worker. */
  name: string;
  /** BullMQ lock duration and stalled-check interval (ms). */
  lockMs: number;
  /** On SIGTERM/SIGINT, how long the running job may finish before the worker leaves it to another worker. */
  shutdownGraceMs: number;
  logLevel: string;
  logFormat: Config['logFormat'];
}

const workerSchema = z.object({
  WORKER_NAME: z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits, dot, dash or underscore').optional(),
  WORKER_LOCK_SECONDS: z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(3600, 'must be at most 3600'))
    .default(30),
});

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig({ ...env, DISCORD_TOKEN: env.DISCORD_TOKEN?.trim() || 'not-needed-by-a-worker', QUEUE_BACKEND: 'redis' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const present = Object.fromEntries(Object.keys(workerSchema.shape).filter((k) => env[k]?.trim()).map((k) => [k, env[k]]));
  const parsed = workerSchema.safeParse(present);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  if (problems.length || !config || !parsed.success) throw new ConfigError(problems);
  return {
    redisUrl: config.redisUrl!,
    modelDir: config.modelDir,
    modelsDir: config.modelsDir,
    modelMemoryBudget: config.modelMemoryBudget,
    pipeline: {
      modelDir: config.modelDir,
      provider: config.provider,
      attentionSlicing: config.attentionSlicing,
      lowMemory: config.lowMemory,
      vaeTiling: config.vaeTiling,
      fastDecode: config.fastDecode,
      intraOpThreads: config.intraOpThreads,
      graphCache: config.graphCache,
    },
    idleReleaseMs: config.idleReleaseMs,
    upscaleModel: config.upscaleModel,
    name: parsed.data.WORKER_NAME ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}`,
    lockMs: parsed.data.WORKER_LOCK_SECONDS * 1000,
    shutdownGraceMs: config.shutdownGraceMs,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
  };
}
