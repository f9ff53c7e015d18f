// What travels through BullMQ between the bot and a worker: job data, progress, the return value, failure reasons,
// and a worker's advertisement. Plain JSON (BullMQ stores it as JSON); bytes go through BlobStore, not here.
import type { ImagineDefaults } from '../pipeline/modelFolder.ts';
import type { PipelineInfo } from '../pipeline/pipeline.ts';
import { errorFromWire, WorkerCrashedError } from '../pipeline/worker/client.ts';
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
  inputs: { init?: string; upscaleSource?: string };
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

export function decodeProgress(value: unknown): JobProgress | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const p = value as Partial<RemoteProgress>;
  if (typeof p.step !== 'number' || typeof p.total !== 'number') return undefined;
  return {
    step: p.step,
    total: p.total,
    elapsedMs: typeof p.elapsedMs === 'number' ? p.elapsedMs : 0,
    ...(typeof p.preview === 'string' ? { preview: new Uint8Array(Buffer.from(p.preview, 'base64')) } : {}),
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
  let parsed: { name?: unknown; message?: unknown } | undefined;
  try {
    parsed = JSON.parse(text) as { name?: unknown; message?: unknown };
  } catch {
    parsed = undefined;
  }
  const name = typeof parsed?.name === 'string' ? parsed.name : 'Error';
  const message = typeof parsed?.message === 'string' ? parsed.message : text;
  return errorFromWire({ name, message });
}
