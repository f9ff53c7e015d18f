// Jobs from acceptance to delivery, without Discord: persist (SQLite), queue (fair, limited), run (inference worker,
// through runJob.ts, which the Redis workers share), write the PNGs (atomically, with metadata), and announce each
// change as an event. The Discord layer listens and talks to users; a restart calls start() again and nothing
// accepted is lost.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JobQueue, QueueRefusal, type Job, type JobQueueBackend } from '../queue/index.ts';
import type { JobRecord, JobStore } from '../storage/index.ts';
import { GenerationCancelledError, InvalidRequestError } from '../pipeline/pipeline.ts';
import { WorkerCrashedError } from '../pipeline/inferenceProcess/client.ts';
import type { GenerationEngine } from './inferenceEngine.ts';
import { renderJob, writeJobFiles, type RenderInputs } from './runJob.ts';
import type { JobParams, JobProgress, JobResult } from './types.ts';

export type JobRow = JobRecord<JobParams, JobResult>;

export interface SubmitInput {
  userId: string;
  guildId: string | null;
  channelId: string;
  applicationId?: string;
  interactionToken?: string;
  tokenExpiresAt?: number;
  params: JobParams;
  /** Retries and button follow-ups can jump the line a little; fairness still applies within a priority. */
  priority?: number;
}

export interface JobServiceOptions {
  store: JobStore<JobParams, JobResult>;
  engine: GenerationEngine;
  dataDir: string;
  concurrency: number;
  maxQueued: number;
  maxPerUser: number;
  timeoutMs: number;
  upscaleModel?: string;
  /** Software tag written into each PNG. */
  software?: string;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Retry a job once when the inference process dies under it (default true). */
  retryOnCrash?: boolean;
  /**
   * Builds the queue instead of the in-process JobQueue (which runs jobs on `engine`): QUEUE_BACKEND=redis passes
   * one whose jobs run on remote workers (src/scale). It must start paused; start() resumes it.
   */
  queueBackend?: (init: QueueBackendInit) => JobQueueBackend<JobParams, JobResult, JobProgress>;
}

/** What a queue backend gets from the service. */
export interface QueueBackendInit {
  maxQueued: number;
  maxPerUser: number;
  timeoutMs: number;
  /** Where a job's files go (results are written here, as in local mode). */
  jobDir: (jobId: string) => string;
  /** Records that a job began (queued -> running in the store); call just before emitting `started`. */
  markRunning: (jobId: string) => void;
  onListenerError: (error: unknown, event: string) => void;
}

/** Events, each with the job's current database row. */
export interface JobServiceEvents {
  queued: [{ job: JobRow; position: number | undefined; restored: boolean }];
  positions: [{ changes: { jobId: string; position: number }[] }];
  started: [{ job: JobRow }];
  progress: [{ jobId: string; progress: JobProgress }];
  /** Images are on disk and the row is `succeeded`: deliver them (also emitted at start for undelivered jobs). */
  succeeded: [{ job: JobRow; redelivery: boolean }];
  /** The result is in Discord (markDelivered): the end of a successful job, for latency metrics. */
  delivered: [{ job: JobRow }];
  failed: [{ job: JobRow; message: string; retrying: boolean }];
  cancelled: [{ job: JobRow }];
  timed_out: [{ job: JobRow }];
}

/** A message for the user from whatever a job threw. Never includes paths or stack traces. */
export function userMessageFor(error: unknown): string {
  if (error instanceof InvalidRequestError) return error.message;
  if (error instanceof WorkerCrashedError) return 'The image generator crashed while working on this (it may have run out of memory). It has been restarted.';
  if (error instanceof GenerationCancelledError) return 'Cancelled.';
  return 'Something went wrong while generating this image.';
}

export class JobService extends EventEmitter<JobServiceEvents> {
  readonly queue: JobQueueBackend<JobParams, JobResult, JobProgress>;
  private readonly store: JobStore<JobParams, JobResult>;
  private readonly options: JobServiceOptions;
  private readonly log: NonNullable<JobServiceOptions['log']>;
  private started = false;

  constructor(options: JobServiceOptions) {
    super();
    this.options = options;
    this.store = options.store;
    this.log = options.log ?? (() => {});
    const onListenerError = (error: unknown, event: string) => this.log(`job event listener for ${event} failed: ${String(error)}`);
    this.queue = options.queueBackend
      ? options.queueBackend({
          maxQueued: options.maxQueued,
          maxPerUser: options.maxPerUser,
          timeoutMs: options.timeoutMs,
          jobDir: (jobId) => this.jobDir(jobId),
          markRunning: (jobId) => void this.store.markRunning(jobId),
          onListenerError,
        })
      : new JobQueue<JobParams, JobResult, JobProgress>({
          runner: (job, signal, report) => this.run(job, signal, report),
          concurrency: options.concurrency,
          // Among equally fair jobs, one whose model is loaded goes first (fewer reloads; see src/queue/fairLanes.ts).
          warm: (job) => this.options.engine.isLoaded?.(job.params.model) ?? false,
          maxQueued: options.maxQueued,
          maxPerUser: options.maxPerUser,
          timeoutMs: options.timeoutMs,
          paused: true,
          onListenerError,
        });
    this.wireQueueEvents();
  }

  get engine(): GenerationEngine {
    return this.options.engine;
  }

  /** Directory for a job's files (init image, results). */
  jobDir(jobId: string): string {
    return join(this.options.dataDir, 'images', jobId);
  }

  newJobId(): string {
    return randomUUID();
  }

  get(jobId: string): JobRow | undefined {
    return this.store.get(jobId);
  }

  /**
   * Accepts a job: persisted first, then queued. Throws a QueueRefusal (full queue, per-user limit, shutting down)
   * whose userMessage can be shown as is; a refused job is recorded as failed, never run.
   */
  submit(input: SubmitInput, jobId: string = this.newJobId()): { job: JobRow; position: number | undefined } {
    const row = this.store.insert({
      id: jobId,
      userId: input.userId,
      guildId: input.guildId,
      channelId: input.channelId,
      applicationId: input.applicationId ?? null,
      interactionToken: input.interactionToken ?? null,
      tokenExpiresAt: input.tokenExpiresAt ?? null,
      params: input.params,
      priority: input.priority ?? 0,
    });
    try {
      const receipt = this.queue.enqueue({ id: row.id, userId: row.userId, guildId: row.guildId ?? undefined, params: row.params, priority: row.priority, createdAt: row.createdAt }) as { position: number | undefined };
      return { job: this.store.get(row.id)!, position: receipt.position };
    } catch (err) {
      this.store.markFailed(row.id, err instanceof QueueRefusal ? `refused: ${err.code}` : String(err));
      throw err;
    }
  }

  setMessageId(jobId: string, messageId: string): void {
    this.store.setMessageId(jobId, messageId);
  }

  /** Cancels a waiting or running job. Returns false when it had already ended. */
  cancel(jobId: string): boolean {
    const result = this.queue.cancel(jobId) as string;
    return result !== 'unknown';
  }

  position(jobId: string): number | undefined {
    return this.queue.position(jobId) as number | undefined;
  }

  /** Delivery bookkeeping for the Discord layer: exactly one caller wins the claim. */
  claimDelivery(jobId: string): boolean {
    return this.store.claimDelivery(jobId);
  }

  releaseDelivery(jobId: string): void {
    this.store.releaseDelivery(jobId);
  }

  markDelivered(jobId: string): void {
    const before = this.store.get(jobId);
    this.store.markDelivered(jobId);
    const after = this.store.get(jobId);
    if (before?.state === 'succeeded' && after?.state === 'delivered') this.emit('delivered', { job: after });
  }

  /** Gives up on delivering (e.g. the channel is gone): the job ends as failed so it is not retried forever. */
  abandonDelivery(jobId: string, why: string): void {
    this.store.markFailed(jobId, `delivery: ${why}`);
  }

  /**
   * Brings back what a previous process left: running jobs go back to the queue (in their original order), finished
   * but undelivered jobs are announced for delivery. Then the queue starts. Call once, after listeners are attached.
   */
  start(): { restored: number; redeliveries: number } {
    if (this.started) return { restored: 0, redeliveries: 0 };
    this.started = true;
    this.store.requeueInterrupted();
    const unfinished = this.store.unfinished();
    // Jobs submitted in this process before start() (an interaction that arrived while start hooks ran) are already
    // in the (paused) queue: restoring them again would be a duplicate.
    const queued = unfinished.filter((job) => job.state === 'queued' && !this.queue.get(job.id));
    const undelivered = unfinished.filter((job) => job.state === 'succeeded');
    this.queue.restore(queued.map((job) => ({ id: job.id, userId: job.userId, guildId: job.guildId ?? undefined, params: job.params, priority: job.priority, createdAt: job.createdAt, attempt: job.attempts + 1 })));
    for (const job of undelivered) this.emit('succeeded', { job, redelivery: true });
    this.queue.resume();
    if (queued.length || undelivered.length) this.log(`restored ${queued.length} queued job(s) and ${undelivered.length} undelivered result(s)`);
    return { restored: queued.length, redeliveries: undelivered.length };
  }

  /** Stop taking jobs, give the running one `graceMs`, leave the rest persisted for the next start. */
  async shutdown(graceMs: number): Promise<void> {
    const result = await this.queue.drain(graceMs);
    if (result.waiting.length || result.interrupted.length) {
      this.log(`shutdown: ${result.waiting.length} waiting and ${result.interrupted.length} interrupted job(s) stay queued for the next start`);
    }
    await this.options.engine.close();
  }

  // ---- running ----------------------------------------------------------------------------------------------------

  private async run(job: Job<JobParams>, signal: AbortSignal, report: (progress: JobProgress) => void): Promise<JobResult> {
    this.store.markRunning(job.id);
    const params = job.params;
    // The inputs saved at submission; renderJob refuses a job whose input is missing.
    const inputs: RenderInputs = {};
    if (params.kind === 'img2img' && params.initImagePath) inputs.init = await readFile(params.initImagePath);
    if (params.kind === 'img2img' && params.maskPath) inputs.mask = await readFile(params.maskPath);
    if (params.kind === 'upscale' && params.upscale) inputs.upscaleSource = await readFile(params.upscale.sourcePath);
    const rendered = await renderJob(this.options.engine, params, inputs, {
      signal,
      onProgress: report,
      software: this.options.software,
      upscaleModel: this.options.upscaleModel,
    });
    return writeJobFiles(this.jobDir(job.id), params, rendered);
  }

  // ---- queue events -> store + our events ------------------------------------------------------------------------

  private wireQueueEvents(): void {
    const q = this.queue;
    q.on('queued', ({ job, position, restored }) => {
      const row = this.store.get(job.id);
      if (row) this.emit('queued', { job: row, position, restored });
    });
    q.on('positions', ({ changes }) => this.emit('positions', { changes: changes.map((c) => ({ jobId: c.jobId, position: c.position })) }));
    q.on('started', ({ job }) => {
      const row = this.store.get(job.id);
      if (row) this.emit('started', { job: row });
    });
    q.on('progress', ({ jobId, progress }) => this.emit('progress', { jobId, progress }));
    q.on('completed', ({ job, result }) => {
      this.store.markSucceeded(job.id, result);
      this.emit('succeeded', { job: this.store.get(job.id)!, redelivery: false });
    });
    q.on('failed', ({ job, error }) => {
      const message = userMessageFor(error);
      const retry = error instanceof WorkerCrashedError && job.attempt < 2 && this.options.retryOnCrash !== false;
      this.log(`job ${job.id} failed (attempt ${job.attempt}): ${error instanceof Error ? error.message : String(error)}`, { jobId: job.id });
      if (retry) {
        // Run it once more at the front of its user's lane; a second crash fails it for good.
        this.store.requeue(job.id);
        const row = this.store.get(job.id)!;
        this.emit('failed', { job: row, message, retrying: true });
        this.requeue(job);
        return;
      }
      this.store.markFailed(job.id, error instanceof Error ? error.message : String(error));
      this.emit('failed', { job: this.store.get(job.id)!, message, retrying: false });
    });
    q.on('cancelled', ({ job }) => {
      this.store.markCancelled(job.id);
      this.emit('cancelled', { job: this.store.get(job.id)! });
    });
    q.on('timed_out', ({ job }) => {
      this.store.markTimedOut(job.id);
      this.emit('timed_out', { job: this.store.get(job.id)! });
    });
    // 'interrupted' (drain at shutdown): the row stays `running`; requeueInterrupted() brings it back next start.
  }

  private requeue(job: Job<JobParams>): void {
    try {
      this.queue.restore([{ id: job.id, userId: job.userId, guildId: job.guildId, params: job.params, priority: job.priority + 1, createdAt: job.createdAt, attempt: job.attempt + 1 }]);
    } catch (err) {
      this.log(`could not requeue job ${job.id}: ${String(err)}`);
    }
  }
}
