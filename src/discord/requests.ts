// Turning what a user asked for (slash options, a modal, a button, a message) into a job: defaults from the model,
// limits from the configuration and the server's moderators, the moderation gate, and the submission itself with a
// clear refusal when the queue says no. Every path that starts a job goes through here.
import { randomInt } from 'node:crypto';
import { QueueRefusal } from '../queue/index.ts';
import type { Config } from '../config.ts';
import { DEFAULT_STRENGTH, FALLBACK_DEFAULTS, SAMPLER_NAMES, type SamplerName } from '../pipeline/request.ts';
import type { ImagineDefaults } from '../pipeline/modelFolder.ts';
import type { JobParams } from '../jobs/types.ts';
import type { JobRow, SubmitInput } from '../jobs/service.ts';
import type { BotContext } from '../bot/types.ts';

export interface ModelDefaults {
  sampler: SamplerName;
  steps: number;
  guidance: number;
  width: number;
  height: number;
}

export function modelDefaults(stored: ImagineDefaults, folderSampler: SamplerName): ModelDefaults {
  return {
    sampler: stored.sampler ?? folderSampler,
    steps: stored.steps ?? FALLBACK_DEFAULTS.steps,
    guidance: stored.guidance ?? FALLBACK_DEFAULTS.guidance,
    width: stored.width ?? FALLBACK_DEFAULTS.width,
    height: stored.height ?? FALLBACK_DEFAULTS.height,
  };
}

/** What a user may leave out; undefined = the model's default. */
export interface RequestOptions {
  prompt: string;
  negative?: string | null;
  seed?: number | null;
  steps?: number | null;
  guidance?: number | null;
  sampler?: string | null;
  width?: number | null;
  height?: number | null;
  count?: number | null;
  strength?: number | null;
}

export const MAX_PROMPT_LENGTH = 1500;
export const MAX_SEED = 2 ** 32 - 1;

export class RequestError extends Error {
  override name = 'RequestError';
}

export function randomSeed(): number {
  return randomInt(0, MAX_SEED);
}

export interface Limits {
  maxSteps: number;
  maxPixels: number;
  maxImagesPerJob: number;
}

/** The tighter of the bot's and the server's limits. */
export function effectiveLimits(ctx: Pick<BotContext, 'config' | 'moderation'>, guildId: string | null): Limits {
  const server = ctx.moderation.effectiveLimits(guildId, {
    maxSteps: ctx.config.maxSteps,
    maxPixels: ctx.config.maxPixels,
    maxImagesPerJob: ctx.config.maxImagesPerJob,
  });
  return {
    maxSteps: server.maxSteps ?? ctx.config.maxSteps,
    maxPixels: server.maxPixels ?? ctx.config.maxPixels,
    maxImagesPerJob: server.maxImagesPerJob ?? ctx.config.maxImagesPerJob,
  };
}

const SAMPLERS = new Set<string>(SAMPLER_NAMES);

/**
 * Validates and completes a txt2img/img2img request. Throws RequestError with a sentence for the user; never
 * trusts Discord's own min/max (options can be crafted), and rejects NaN, negatives and non-integers.
 */
export function buildParams(options: RequestOptions, defaults: ModelDefaults, limits: Limits, base: Pick<JobParams, 'action' | 'channel'> & Partial<JobParams>): JobParams {
  const prompt = (options.prompt ?? '').trim();
  if (!prompt) throw new RequestError('The prompt is empty: describe the image you want.');
  if (prompt.length > MAX_PROMPT_LENGTH) throw new RequestError(`The prompt is ${prompt.length} characters long; the limit is ${MAX_PROMPT_LENGTH}.`);
  const negative = (options.negative ?? '').trim();
  if (negative.length > MAX_PROMPT_LENGTH) throw new RequestError(`The negative prompt is ${negative.length} characters long; the limit is ${MAX_PROMPT_LENGTH}.`);

  const whole = (name: string, value: number | null | undefined, fallback: number, min: number, max: number): number => {
    if (value === null || value === undefined) return fallback;
    if (!Number.isFinite(value) || !Number.isInteger(value)) throw new RequestError(`${name} must be a whole number; got ${value}.`);
    if (value < min || value > max) throw new RequestError(`${name} must be from ${min} to ${max}; got ${value}.`);
    return value;
  };
  const seed = whole('seed', options.seed, randomSeed(), 0, MAX_SEED);
  const steps = whole('steps', options.steps, Math.min(defaults.steps, limits.maxSteps), 1, limits.maxSteps);
  const count = whole('count', options.count, 1, 1, limits.maxImagesPerJob);
  const width = whole('width', options.width, defaults.width, 64, 2048);
  const height = whole('height', options.height, defaults.height, 64, 2048);
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (v % 8 !== 0) throw new RequestError(`${name} must be a multiple of 8 (64 is safest); got ${v}. Try ${Math.max(64, Math.round(v / 64) * 64)}.`);
  }
  if (width * height > limits.maxPixels) {
    throw new RequestError(`${width}×${height} is ${width * height} pixels; this server allows at most ${limits.maxPixels} (e.g. ${Math.floor(Math.sqrt(limits.maxPixels) / 64) * 64}×${Math.floor(Math.sqrt(limits.maxPixels) / 64) * 64}).`);
  }
  let guidance = defaults.guidance;
  if (options.guidance !== null && options.guidance !== undefined) {
    if (!Number.isFinite(options.guidance) || options.guidance < 0 || options.guidance > 30) throw new RequestError(`guidance must be a number from 0 to 30; got ${options.guidance}.`);
    guidance = options.guidance;
  }
  let sampler: SamplerName | undefined = defaults.sampler;
  if (options.sampler) {
    if (!SAMPLERS.has(options.sampler)) throw new RequestError(`Unknown sampler "${options.sampler}". Choose one of: ${[...SAMPLERS].join(', ')}.`);
    sampler = options.sampler as SamplerName;
  }
  let strength: number | undefined;
  if (options.strength !== null && options.strength !== undefined) {
    if (!Number.isFinite(options.strength) || options.strength <= 0 || options.strength > 1) throw new RequestError(`strength must be greater than 0 and at most 1; got ${options.strength}.`);
    strength = options.strength;
  }
  return {
    kind: base.kind ?? 'txt2img',
    ...base,
    prompt,
    negativePrompt: negative,
    seed,
    steps,
    guidance,
    sampler,
    width,
    height,
    count,
    ...(strength !== undefined || base.kind === 'img2img' ? { strength: strength ?? base.strength ?? DEFAULT_STRENGTH } : {}),
  };
}

export interface Requester {
  userId: string;
  guildId: string | null;
  channelId: string;
  channelAgeRestricted: boolean;
}

export type GateResult = { ok: true } | { ok: false; message: string; reason: 'blocked-user' | 'prompt' | 'rate-limit' };

/**
 * The moderation gate: blocked users, the prompt check (positive and negative), and the hourly limit, in that
 * order. A prompt refusal names the rule; ctx.delivery logs it to the server's log channel.
 */
export async function checkRequest(ctx: BotContext, who: Requester, prompt: string, negative: string | undefined): Promise<GateResult> {
  if (who.guildId && ctx.moderation.isUserBlocked(who.guildId, who.userId)) {
    return { ok: false, reason: 'blocked-user', message: 'You are blocked from using this bot in this server. Ask a moderator if you think this is a mistake.' };
  }
  const verdict = ctx.moderation.checkPrompt({ guildId: who.guildId, channelIsAgeRestricted: who.channelAgeRestricted, prompt, negative });
  if (!verdict.allowed) {
    const rule = verdict.rule;
    const which = rule ? (rule.source === 'nsfw' ? 'an NSFW term, which this channel does not allow' : rule.source === 'default' ? 'a term on the built-in blocklist' : rule.source === 'automod' ? `a term from this server's AutoMod rules (\`${rule.term}\`)` : `a term this server's moderators blocked (\`${rule.term}\`)`) : 'a blocked term';
    const field = rule?.field === 'negative' ? 'negative prompt' : 'prompt';
    await ctx.delivery.reportBlockedPrompt(who, prompt, negative, verdict);
    return { ok: false, reason: 'prompt', message: `Your ${field} was not accepted: it contains ${which}.` };
  }
  if (who.guildId) {
    const rate = ctx.moderation.tryStartJob(who.guildId, who.userId);
    if (!rate.allowed) {
      const minutes = Math.max(1, Math.ceil(rate.retryAfterMs / 60_000));
      return { ok: false, reason: 'rate-limit', message: `You have reached this server's limit of ${rate.limit} images per hour. Try again in about ${minutes} min.` };
    }
  }
  return { ok: true };
}

export type SubmitOutcome = { ok: true; job: JobRow; position: number | undefined } | { ok: false; message: string };

/** Submits a job, turning queue refusals into user messages. */
export function submit(ctx: BotContext, input: SubmitInput, jobId?: string): SubmitOutcome {
  try {
    const { job, position } = ctx.jobs.submit(input, jobId);
    return { ok: true, job, position };
  } catch (err) {
    if (err instanceof QueueRefusal) return { ok: false, message: err.userMessage };
    throw err;
  }
}

/** The guild's per-file upload limit, from the interaction (Discord sends attachment_size_limit); 10 MiB otherwise. */
export function uploadLimitOf(interaction: { attachmentSizeLimit?: number } | undefined, config: Config): number {
  void config;
  const limit = interaction?.attachmentSizeLimit;
  return typeof limit === 'number' && limit > 0 ? limit : 10 * 1024 * 1024;
}
