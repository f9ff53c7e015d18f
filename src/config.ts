// The bot's configuration: read from the environment (and `.env` through dotenv, loaded by the entry point), validated
// once at start. Every problem is reported together, each naming its variable, so a server owner fixes .env in one go.
// .env.example documents each variable; keep the two in step.
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DISCORD_CDN_HOSTS } from './net/download.ts';
import type { AttentionSlicing, ProviderName, VaeTiling } from './pipeline/types.ts';
import { rangeOf } from './pipeline/request.ts';

export const PROVIDER_NAMES: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

export interface Config {
  discordToken: string;
  /** REST base for discord.js (`rest.api`); undefined = Discord's own. */
  discordApiUrl: string | undefined;
  devGuildId: string | undefined;
  /** Ask for the privileged Message Content intent (reply-with-image on other people's uploads). */
  messageContentIntent: boolean;
  /** The default model folder (always offered, even when outside modelsDir). */
  modelDir: string;
  /** Every valid model folder under it is offered by /imagine's `model` option. */
  modelsDir: string;
  /** Bytes the loaded models may take together (estimated from their ONNX files); least recently used ones are released. */
  modelMemoryBudget: number;
  dataDir: string;
  attachmentHosts: string[];
  queueConcurrency: number;
  maxQueue: number;
  maxJobsPerUser: number;
  /** Per-job time limit, ms (0 = none). */
  jobTimeoutMs: number;
  provider: ProviderName;
  attentionSlicing: AttentionSlicing;
  lowMemory: boolean;
  /** VAE_TILING: tile the VAE above its sample size (auto), never (off), or at this many pixels. */
  vaeTiling: VaeTiling;
  /** FAST_DECODE: final images decoded by the model's TAESD decoder when it has one. */
  fastDecode: boolean;
  intraOpThreads: number | undefined;
  /** Keep ONNX Runtime's optimized graph beside each model file, so later loads skip the optimization. */
  graphCache: boolean;
  /** Release model sessions after this long idle (0 = never). */
  idleReleaseMs: number;
  maxSteps: number;
  maxPixels: number;
  maxImagesPerJob: number;
  maxAttachmentBytes: number;
  /** Init images are scaled to fit this many pixels (keeping aspect ratio, multiples of 64). */
  initImagePixels: number;
  /** Upscaler ONNX model (Real-ESRGAN style); sharp's Lanczos when unset. */
  upscaleModel: string | undefined;
  /** Seconds between progress edits of one message. */
  progressIntervalMs: number;
  /** Grace period for the running job on SIGTERM/SIGINT. */
  shutdownGraceMs: number;
  /** Port for the Prometheus endpoint; undefined = off. */
  metricsPort: number | undefined;
  logLevel: string;
  /** json, pretty, or auto (pretty when stdout is a terminal). */
  logFormat: LogFormat;
  /** Where jobs run: `local` (the embedded queue and inference process) or `redis` (BullMQ workers, see docs/scale-out.md). */
  queueBackend: 'local' | 'redis';
  /** Redis for QUEUE_BACKEND=redis (and `npm run worker`). */
  redisUrl: string | undefined;
}

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''].includes(v), 'expected true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

function int(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const snowflake = z.string().trim().regex(/^\d{15,22}$/, 'expected a Discord id (digits)');

const attention = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['off', 'auto', 'max', 'flash'].includes(v) || /^\d+$/.test(v), 'expected off, auto, max, flash or a slice count')
  .transform((v): AttentionSlicing => (/^\d+$/.test(v) ? Number(v) : (v as AttentionSlicing)))
  .refine((v) => typeof v !== 'number' || (v >= 1 && v <= 1024), 'slice count must be 1-1024');

/** MODEL_MEMORY_BUDGET=auto: half of the machine's RAM, leaving the rest to the system, the bot and the running job. */
function autoMemoryBudget(): number {
  return Math.floor(totalmem() / 2);
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** `auto` (half of this machine's RAM) or a size such as 12GB, 6000MB, 0.5GB (a bare number is MB). */
const memorySize = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v === 'auto' || /^\d+(\.\d+)?\s*(b|kb|mb|gb|tb)?$/.test(v), 'expected auto or a size such as 12GB or 6000MB')
  .transform((v) => {
    if (v === 'auto') return autoMemoryBudget();
    const [, number, unit] = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/.exec(v)!;
    return Math.floor(Number(number) * SIZE_UNITS[unit ?? 'mb']!);
  })
  .refine((bytes) => bytes > 0, 'must be more than 0');

const vaeTiling = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v === 'auto' || v === 'off' || (/^\d+$/.test(v) && Number(v) >= 64 && Number(v) % 64 === 0), 'expected auto, off, or a tile size in pixels (a multiple of 64)')
  .transform((v): VaeTiling => (/^\d+$/.test(v) ? Number(v) : (v as VaeTiling)));

const schema = z.object({
  DISCORD_TOKEN: z.string({ error: 'required (the bot token from the Discord developer portal)' }).trim().min(1, 'required (the bot token from the Discord developer portal)'),
  DISCORD_API_URL: z.url({ error: 'expected a URL such as https://discord.com/api' }).optional(),
  DEV_GUILD_ID: snowflake.optional(),
  MESSAGE_CONTENT_INTENT: bool.default(false),
  MODEL_DIR: z.string().trim().min(1).default('models/default'),
  MODELS_DIR: z.string().trim().min(1).default('models'),
  MODEL_MEMORY_BUDGET: memorySize.optional(),
  DATA_DIR: z.string().trim().min(1).default('data'),
  ATTACHMENT_HOSTS: z
    .string()
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .refine((hosts) => hosts.length > 0, 'expected a comma-separated list of host names')
    .refine((hosts) => hosts.every((h) => /^[a-z0-9.-]+(:\d+)?$/.test(h)), 'expected bare host names (no scheme or path)')
    .optional(),
  QUEUE_CONCURRENCY: int(1, 16).default(1),
  MAX_QUEUE: int(1, 10_000).default(50),
  MAX_JOBS_PER_USER: int(1, 100).default(3),
  JOB_TIMEOUT_SECONDS: int(0, 86_400).default(600),
  PROVIDER: z.enum(PROVIDER_NAMES as [ProviderName, ...ProviderName[]], { error: `expected one of ${PROVIDER_NAMES.join(', ')}` }).default('cpu'),
  ATTENTION_SLICING: attention.default('auto'),
  LOW_MEMORY: bool.default(false),
  VAE_TILING: vaeTiling.default('auto'),
  FAST_DECODE: bool.default(false),
  ORT_THREADS: int(0, 256).default(0),
  ORT_GRAPH_CACHE: bool.default(true),
  IDLE_RELEASE_SECONDS: int(0, 86_400).default(0),
  // A server may narrow the request schema's ranges, never widen them.
  MAX_STEPS: int(1, rangeOf('steps').max).default(50),
  MAX_PIXELS: int(64 * 64, 4096 * 4096).default(1024 * 1024),
  MAX_IMAGES_PER_JOB: int(1, rangeOf('count').max).default(rangeOf('count').max),
  MAX_ATTACHMENT_MB: int(1, 100).default(10),
  INIT_IMAGE_PIXELS: int(64 * 64, 4096 * 4096).default(512 * 512),
  UPSCALE_MODEL: z.string().trim().min(1).optional(),
  PROGRESS_INTERVAL_MS: int(250, 60_000).default(1500),
  SHUTDOWN_GRACE_SECONDS: int(0, 3600).default(30),
  METRICS_PORT: int(1, 65_535).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')} (debug is the most detailed useful level)` }).default('info'),
  LOG_FORMAT: z.enum(LOG_FORMATS, { error: `expected one of ${LOG_FORMATS.join(', ')}` }).default('auto'),
  QUEUE_BACKEND: z.enum(['local', 'redis'], { error: 'expected local or redis' }).default('local'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads the configuration from `env`; empty strings count as unset. Throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const present: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value;
  }
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      // Never echo a token back, even a malformed one.
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.QUEUE_BACKEND === 'redis' && !e.REDIS_URL) throw new ConfigError(['REDIS_URL: required when QUEUE_BACKEND=redis (e.g. redis://127.0.0.1:6379)']);
  return {
    discordToken: e.DISCORD_TOKEN,
    discordApiUrl: e.DISCORD_API_URL?.replace(/\/+$/, ''),
    devGuildId: e.DEV_GUILD_ID,
    messageContentIntent: e.MESSAGE_CONTENT_INTENT,
    modelDir: resolve(cwd, e.MODEL_DIR),
    modelsDir: resolve(cwd, e.MODELS_DIR),
    modelMemoryBudget: e.MODEL_MEMORY_BUDGET ?? autoMemoryBudget(),
    dataDir: resolve(cwd, e.DATA_DIR),
    attachmentHosts: e.ATTACHMENT_HOSTS ?? [...DISCORD_CDN_HOSTS],
    queueConcurrency: e.QUEUE_CONCURRENCY,
    maxQueue: e.MAX_QUEUE,
    maxJobsPerUser: e.MAX_JOBS_PER_USER,
    jobTimeoutMs: e.JOB_TIMEOUT_SECONDS * 1000,
    provider: e.PROVIDER,
    attentionSlicing: e.ATTENTION_SLICING,
    lowMemory: e.LOW_MEMORY,
    vaeTiling: e.VAE_TILING,
    fastDecode: e.FAST_DECODE,
    intraOpThreads: e.ORT_THREADS === 0 ? undefined : e.ORT_THREADS,
    graphCache: e.ORT_GRAPH_CACHE,
    idleReleaseMs: e.IDLE_RELEASE_SECONDS * 1000,
    maxSteps: e.MAX_STEPS,
    maxPixels: e.MAX_PIXELS,
    maxImagesPerJob: e.MAX_IMAGES_PER_JOB,
    maxAttachmentBytes: e.MAX_ATTACHMENT_MB * 1024 * 1024,
    initImagePixels: e.INIT_IMAGE_PIXELS,
    upscaleModel: e.UPSCALE_MODEL ? resolve(cwd, e.UPSCALE_MODEL) : undefined,
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    queueBackend: e.QUEUE_BACKEND,
    redisUrl: e.REDIS_URL,
  };
}

/** Variables every config documents; test/config checks .env.example lists each. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);
