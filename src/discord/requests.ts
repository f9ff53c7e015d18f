// Turning what a user asked for (slash options, a modal, a button, a message) into a job: defaults from the model,
// limits from the configuration and the server's moderators, the moderation gate, and the submission itself with a
// clear refusal when the queue says no. Every path that starts a job goes through here.
import { QueueRefusal } from '../queue/index.ts';
import type { Config } from '../config.ts';
import { DEFAULT_STRENGTH, describeProblem, MAX_PROMPT_LENGTH, MAX_SEED, parseRequestFields, randomSeed, type SamplerName } from '../pipeline/request.ts';
import type { JobParams } from '../jobs/types.ts';
import type { JobRow, SubmitInput } from '../jobs/service.ts';
import type { BotContext } from '../bot/types.ts';
import type { ModelDefaults } from '../pipeline/request.ts';
import { RequestError } from './requestError.ts';
import type { Requester } from './requester.ts';

// Re-exported so callers keep one import for "making a request"; they live in leaf modules so that bot/types.ts and
// delivery.ts need not import this file (which imports bot/types.ts).
export { modelDefaults, type ModelDefaults } from '../pipeline/request.ts';
export { RequestError } from './requestError.ts';
export { channelIsAgeRestricted, type Requester } from './requester.ts';

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

export { MAX_PROMPT_LENGTH, MAX_SEED, randomSeed };



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

/**
 * Validates and completes a txt2img/img2img request: the request schema (src/pipeline/request.ts) decides what is a
 * valid value, then the server's limits may narrow steps, count and pixels. Throws RequestError with a sentence for
 * the user; never trusts Discord's own min/max (options can be crafted).
 */
export function buildParams(options: RequestOptions, defaults: ModelDefaults, limits: Limits, base: Pick<JobParams, 'action' | 'channel'> & Partial<JobParams>): JobParams {
  const prompt = (options.prompt ?? '').trim();
  if (!prompt) throw new RequestError('The prompt is empty: describe the image you want.');
  const given = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);
  const img2img = base.kind === 'img2img';
  const fields = {
    prompt,
    negativePrompt: (options.negative ?? '').trim(),
    seed: given(options.seed) ?? randomSeed(),
    steps: given(options.steps) ?? Math.min(defaults.steps, limits.maxSteps),
    guidance: given(options.guidance) ?? defaults.guidance,
    sampler: (given(options.sampler) || undefined) ?? defaults.sampler,
    width: given(options.width) ?? defaults.width,
    height: given(options.height) ?? defaults.height,
    count: given(options.count) ?? 1,
    strength: given(options.strength) ?? (img2img ? (base.strength ?? DEFAULT_STRENGTH) : undefined),
  };
  const parsed = parseRequestFields(fields);
  if (!parsed.ok) throw new RequestError(`${parsed.problems[0]}.`);
  const r = parsed.value;
  // The server's limits, in the schema's words.
  if (r.steps > limits.maxSteps) throw new RequestError(`${describeProblem('steps', r.steps, { max: limits.maxSteps })}.`);
  if (r.count > limits.maxImagesPerJob) throw new RequestError(`${describeProblem('count', r.count, { max: limits.maxImagesPerJob })}.`);
  if (r.width * r.height > limits.maxPixels) {
    const side = Math.floor(Math.sqrt(limits.maxPixels) / 64) * 64;
    throw new RequestError(`${r.width}×${r.height} is ${r.width * r.height} pixels; this server allows at most ${limits.maxPixels} (e.g. ${side}×${side}).`);
  }
  return {
    kind: base.kind ?? 'txt2img',
    ...base,
    prompt: r.prompt,
    negativePrompt: r.negativePrompt ?? '',
    seed: r.seed,
    steps: r.steps,
    guidance: r.guidance,
    sampler: r.sampler as SamplerName | undefined,
    width: r.width,
    height: r.height,
    count: r.count,
    ...(r.strength !== undefined ? { strength: r.strength } : {}),
  };
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
