// What travels through BullMQ between the bot and a worker: job data, progress, the return value, failure reasons,
// and a worker's advertisement. Plain JSON (BullMQ stores it as JSON); bytes go through BlobStore, not here.
// Whatever comes back out of Redis was written by another process (maybe another version, maybe not ours at all): it is
// parsed with the schemas below, never cast, and a payload they refuse is a ProtocolError naming the bad field.
// The object schemas are loose: a field a newer bot or worker adds passes through untouched.
import { z } from 'zod';
import { imagineDefaultsSchema, type ImagineDefaults } from '../pipeline/modelFolder.ts';
import type { PipelineInfo } from '../pipeline/pipeline.ts';
import { generateRequestFields, SAMPLER_NAMES } from '../pipeline/request.ts';
import { errorFromWire, WorkerCrashedError } from '../pipeline/inferenceProcess/client.ts';
import type { ImageFacts, JobOutcome, JobParams, JobProgress } from '../jobs/types.ts';

/** BullMQ job data. The BullMQ job id is the bot's job id. */
export interface RemoteJobData {
  jobId: string;
  userId: string;
  /** Model (folder name) the job needs; also the queue it is in. */
  model: string;
  /** Which bot process (shard) queued it; for logs, results go back through the job id. */
  shard: number | null;
  /** Paths inside are the bot's and mean nothing to a worker: it reads `inputs` instead. */
  params: JobParams;
  /** Blob keys of input bytes. */
  inputs: { init?: string; mask?: string; upscaleSource?: string };
  /** Written into each PNG's Software chunk. */
  software: string;
}

/** job.updateProgress payload: previews are small WebPs (a few KB), base64. */
export type RemoteProgress = JobProgress<string>;

export interface RemoteImage extends ImageFacts {
  /** Blob key of the finished PNG (parameters embedded). */
  key: string;
}

/** The BullMQ return value. */
export interface RemoteResult extends JobOutcome {
  images: RemoteImage[];
  gridKey?: string;
  /** The worker that ran it. */
  worker: string;
}

/** A model a worker serves, with what the bot needs to know about it. */
export interface AdvertisedModel {
  name: string;
  info: PipelineInfo;
  defaults: ImagineDefaults;
  /** "SD 1.x", "LCM", ... (for /imagine's model menu). */
  family?: string;
  /** Loaded in the worker's memory now (a worker serves every model it has and loads them on demand). */
  loaded?: boolean;
}

/** What a worker publishes under workerKey(id) every few seconds. */
export interface WorkerAdvert {
  id: string;
  host: string;
  pid: number;
  models: AdvertisedModel[];
  /** Jobs it runs at once (one per GPU). */
  concurrency: number;
  /** Job ids it is running now. */
  running: string[];
  /** The models of those jobs (a worker serving several models runs one job at a time across them). */
  runningModels?: string[];
  startedAt: number;
}

export function encodeProgress(progress: JobProgress): RemoteProgress {
  return {
    step: progress.step,
    total: progress.total,
    elapsedMs: Math.round(progress.elapsedMs),
    ...(progress.preview ? { preview: Buffer.from(progress.preview).toString('base64') } : {}),
  };
}

/** A progress update; undefined for one that is not ours (progress is advisory: a bad one is dropped, not fatal). */
export function decodeProgress(value: unknown): JobProgress | undefined {
  const parsed = remoteProgressSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  return {
    step: p.step,
    total: p.total,
    elapsedMs: p.elapsedMs,
    ...(p.preview !== undefined ? { preview: new Uint8Array(Buffer.from(p.preview, 'base64')) } : {}),
  };
}

/** A failure as the worker reports it: BullMQ keeps only a message string, so the class name rides along as JSON. */
export function encodeFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return JSON.stringify({ name, message });
}

/** BullMQ's own reason when a job stalled more often than maxStalledCount allows (its worker kept dying). */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/i;

/** Rebuilds an error the bot's JobService understands (its user messages and crash retry depend on the class). */
export function decodeFailure(reason: string | undefined): Error {
  const text = reason ?? 'the worker reported no reason';
  if (STALLED_TOO_OFTEN.test(text)) return new WorkerCrashedError('the workers running this job stopped responding');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // A plain-text reason (BullMQ's own, or an old worker's) is the message itself.
  const parsed = failureSchema.safeParse(json);
  return errorFromWire(parsed.success ? parsed.data : { name: 'Error', message: text });
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing what comes out of Redis.

/** A Redis payload that does not have the shape this version expects; the message names the field and the payload. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const f = generateRequestFields;
const count = z.int().nonnegative();

/** JobParams (src/jobs/types.ts) with the request schema's own rules for the generation fields. */
export const jobParamsSchema = z.looseObject({
  kind: z.enum(['txt2img', 'img2img', 'upscale']),
  action: z.enum(['imagine', 'reroll', 'vary', 'remix', 'upscale', 'reimagine', 'reply']),
  prompt: f.prompt,
  negativePrompt: f.prompt,
  seed: f.seed,
  steps: f.steps.unwrap(),
  guidance: f.guidance.unwrap(),
  sampler: f.sampler,
  model: z.string().min(1).optional(),
  width: f.width.unwrap(),
  height: f.height.unwrap(),
  count: f.count.unwrap(),
  strength: f.strength,
  initImagePath: z.string().optional(),
  upscale: z.looseObject({ sourcePath: z.string(), factor: z.union([z.literal(2), z.literal(4)]), sourceIndex: count }).optional(),
  parentJobId: z.string().optional(),
  parentIndex: count.optional(),
  channel: z.looseObject({ ageRestricted: z.boolean(), uploadLimit: count, replyToMessageId: z.string().optional() }),
}) satisfies z.ZodType<JobParams>;

export const remoteJobDataSchema = z.looseObject({
  jobId: z.string().min(1),
  userId: z.string(),
  model: z.string().min(1),
  shard: count.nullable(),
  params: jobParamsSchema,
  inputs: z.looseObject({ init: z.string().optional(), upscaleSource: z.string().optional() }),
  software: z.string(),
}) satisfies z.ZodType<RemoteJobData>;

const imageFacts = { seed: count, nsfw: z.boolean(), width: count, height: count };

export const remoteResultSchema = z.looseObject({
  images: z.array(z.looseObject({ key: z.string().min(1), ...imageFacts })),
  gridKey: z.string().optional(),
  worker: z.string(),
  sampler: z.enum(SAMPLER_NAMES),
  model: z.string(),
  stepsRun: count,
  promptTruncated: z.boolean(),
  elapsedMs: z.number().nonnegative(),
  upscaleMethod: z.string().optional(),
}) satisfies z.ZodType<RemoteResult>;

const remoteProgressSchema = z.looseObject({
  step: count,
  total: count,
  elapsedMs: z.number().nonnegative().catch(0),
  preview: z.string().optional().catch(undefined),
});

const pipelineInfoSchema = z.looseObject({
  modelName: z.string(),
  modelDir: z.string(),
  family: z.enum(['sd', 'sdxl']),
  provider: z.enum(['cpu', 'cuda', 'dml', 'coreml', 'webgpu']),
  defaultSampler: z.enum(SAMPLER_NAMES),
  hasSafetyChecker: z.boolean(),
  supportsImg2Img: z.boolean(),
  embeddedGuidance: z.boolean(),
  attention: z.string(),
}) satisfies z.ZodType<PipelineInfo>;

export const workerAdvertSchema = z.looseObject({
  id: z.string().min(1),
  host: z.string(),
  pid: count,
  models: z.array(z.looseObject({ name: z.string().min(1), info: pipelineInfoSchema, defaults: imagineDefaultsSchema, family: z.string().optional(), loaded: z.boolean().optional() })),
  concurrency: z.int().positive(),
  running: z.array(z.string()),
  runningModels: z.array(z.string()).optional(),
  startedAt: z.number(),
}) satisfies z.ZodType<WorkerAdvert>;

const failureSchema = z.object({ name: z.string(), message: z.string() });

/** Parse a payload with a schema; throws ProtocolError saying which payload and which fields are wrong. */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(the payload)'}: ${i.message}`).join('; ');
  throw new ProtocolError(`${what} is malformed (${fields})`);
}

/** BullMQ hands a return value over as JSON text or already parsed, depending on where it comes from. */
export function parseResult(value: unknown): RemoteResult {
  let data = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch {
      throw new ProtocolError('the worker\'s result is not JSON');
    }
  }
  return parsePayload(remoteResultSchema, data, "the worker's result");
}

/** A worker advertisement as stored under workerKey(id). */
export function parseAdvert(text: string): WorkerAdvert {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ProtocolError('a worker advertisement is not JSON');
  }
  return parsePayload(workerAdvertSchema, data, 'a worker advertisement');
}
