// The bot's side of BullMQ: puts a job into its model's queue (job id = the bot's job id), follows it through
// QueueEvents (active, progress, completed, failed, removed), cancels it, and on completion fetches the PNGs from
// Redis into DATA_DIR, so the rest of the bot sees the same JobResult (local paths) as in local mode.
//
// Exactly once: BullMQ refuses a second job with the same id, a job is completed by at most one worker (completing
// needs the job's lock, which a stalled worker has lost), and the bot settles each job once (PooledQueue) and
// delivers it under the SQLite claim. A job that ran on a worker that died is put back by BullMQ's stalled-job check
// and finishes elsewhere; the bot only sees it start again.
import { readFile } from 'node:fs/promises';
import { Queue, QueueEvents, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { abortKind, type Job } from '../queue/index.ts';
import { writeJobFiles } from '../jobs/runJob.ts';
import type { JobParams, JobProgress, JobResult } from '../jobs/types.ts';
import { BlobStore } from './blobs.ts';
import { CANCEL_CHANNEL, PREFIX, blobKey, cancelKey, eventsStreamKey, queueNameFor } from './keys.ts';
import { decodeFailure, decodeProgress, encodeFailure, parseResult, type RemoteJobData, type RemoteResult } from './protocol.ts';

/** How long BullMQ keeps finished jobs (for adoption after a bot restart, and for inspection). */
const KEEP_FINISHED = { age: 24 * 60 * 60, count: 1000 };
/** States in which the remote side holds a job: a restarted bot follows it instead of queueing it again. */
const HELD_STATES = new Set(['active', 'waiting', 'prioritized', 'delayed', 'waiting-children', 'completed']);

export interface RemoteJobsOptions {
  /** Commands and blobs. */
  redis: Redis;
  /** A new connection (QueueEvents blocks on its own). */
  connect: (name: string) => Redis;
  software: string;
  shard: number | null;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Each finished result (the engine keeps step times for /status). */
  onResult?: (result: JobResult) => void;
  /** Check a job's state this often in case an event was missed (a reconnect); default 10 s. */
  reconcileMs?: number;
  /** After asking a worker to stop, give up waiting for it after this long; default 60 s. */
  cancelWaitMs?: number;
}

type Settled =
  | { kind: 'completed'; value: RemoteResult }
  | { kind: 'failed'; reason: string | undefined }
  | { kind: 'removed' }
  | { kind: 'detached' }
  | { kind: 'lost' };

interface Watcher {
  active(): void;
  progress(data: unknown): void;
  settle(outcome: Settled): void;
}

interface Pool {
  queue: Queue;
  events: QueueEvents;
  connection: Redis;
}

export class RemoteJobs {
  readonly #o: RemoteJobsOptions;
  readonly #blobs: BlobStore;
  readonly #pools = new Map<string, Promise<Pool>>();
  readonly #watchers = new Map<string, Watcher>();
  #closed = false;

  constructor(options: RemoteJobsOptions) {
    this.#o = options;
    this.#blobs = new BlobStore(options.redis);
  }

  /** Jobs BullMQ holds for a model, from every bot process. */
  async load(model: string): Promise<number> {
    const { queue } = await this.#pool(model);
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Which of these restored jobs BullMQ still holds (running, waiting, or finished while the bot was away). */
  async adopt(jobs: readonly Job<JobParams>[], modelOf: (job: Job<JobParams>) => string): Promise<Set<string>> {
    const held = new Set<string>();
    for (const job of jobs) {
      const { queue } = await this.#pool(modelOf(job));
      const state = await queue.getJobState(job.id);
      if (HELD_STATES.has(state)) held.add(job.id);
    }
    if (held.size) this.#o.log(`following ${held.size} job(s) that workers held while the bot was away`);
    return held;
  }

  /** Runs one job on a worker (the PooledQueue's runner). */
  async run(model: string, job: Job<JobParams>, signal: AbortSignal, report: (p: JobProgress) => void, started: () => void, jobDir: string): Promise<JobResult> {
    const { queue } = await this.#pool(model);
    let settle!: (outcome: Settled) => void;
    const finished = new Promise<Settled>((resolve) => (settle = resolve));
    this.#watchers.set(job.id, {
      active: started,
      progress: (data) => {
        const progress = decodeProgress(data);
        if (progress) report(progress);
      },
      settle,
    });
    let added = false;
    let cancelTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (abortKind(signal) === 'shutdown') return settle({ kind: 'detached' });
      // Stop it where it is; the job settles when the worker reports the cancellation (or the removal lands).
      this.#cancelRemote(queue, job.id).catch((err: unknown) => this.#o.log(`could not cancel job ${job.id} on its worker: ${String(err)}`));
      cancelTimer = setTimeout(() => settle({ kind: 'lost' }), this.#o.cancelWaitMs ?? 60_000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const reconcile = setInterval(() => {
      if (added) void this.#reconcile(queue, job.id).then((outcome) => outcome && settle(outcome)).catch(() => undefined);
    }, this.#o.reconcileMs ?? 10_000);
    const inputKeys: string[] = [];
    try {
      const existing = await queue.getJob(job.id);
      const state = existing ? await existing.getState() : undefined;
      if (existing && state === 'completed') {
        settle(completed(existing.returnvalue));
      } else if (existing && HELD_STATES.has(state!)) {
        if (state === 'active') started();
      } else {
        // A failed (or half-removed) job with our id: this is a retry, and BullMQ would ignore a second add.
        await existing?.remove().catch(() => undefined);
        const data = await this.#jobData(model, job, inputKeys);
        if (signal.aborted) throw signal.reason;
        await queue.add('generate', data, { jobId: job.id, attempts: 1, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED });
      }
      added = true;
      if (signal.aborted) onAbort();
      const outcome = await finished;
      switch (outcome.kind) {
        case 'completed':
          started();
          if (signal.aborted) {
            await this.#blobs.delete(resultKeys(outcome.value)).catch(() => undefined);
            throw signal.reason;
          }
          return await this.#collect(job, outcome.value, jobDir);
        case 'failed':
          throw decodeFailure(outcome.reason);
        case 'removed':
          throw new Error('the job was removed from the queue');
        case 'detached':
          throw signal.reason;
        case 'lost':
          throw new Error('the worker did not confirm the cancellation');
      }
      throw new Error(`unknown outcome ${(outcome as { kind: string }).kind}`);
    } finally {
      clearInterval(reconcile);
      clearTimeout(cancelTimer);
      signal.removeEventListener('abort', onAbort);
      this.#watchers.delete(job.id);
      if (abortKind(signal) !== 'shutdown') await this.#blobs.delete([...inputKeys, ...inputBlobKeys(job.id)]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pools = await Promise.all([...this.#pools.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(
      pools.map(async (pool) => {
        if (!pool) return;
        await pool.events.close().catch(() => undefined);
        await pool.queue.close().catch(() => undefined);
        pool.connection.disconnect();
      }),
    );
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  #pool(model: string): Promise<Pool> {
    if (this.#closed) return Promise.reject(new Error('the Redis job backend is closed'));
    let pool = this.#pools.get(model);
    if (!pool) {
      pool = this.#openPool(model);
      pool.catch(() => this.#pools.delete(model));
      this.#pools.set(model, pool);
    }
    return pool;
  }

  async #openPool(model: string): Promise<Pool> {
    const name = queueNameFor(model);
    const queue = new Queue(name, { connection: this.#o.redis, prefix: PREFIX, streams: { events: { maxLen: 2000 } } });
    // Start reading events where the stream is now: '$' would be resolved only at the first XREAD, and an event
    // written in between (a fast job) would be missed.
    const last = await this.#o.redis.xrevrange(eventsStreamKey(name), '+', '-', 'COUNT', 1);
    const connection = this.#o.connect(`imagine-bot events ${name}`);
    const events = new QueueEvents(name, { connection, prefix: PREFIX, lastEventId: last[0]?.[0] ?? '0-0' });
    events.on('active', ({ jobId }) => this.#watchers.get(jobId)?.active());
    events.on('progress', ({ jobId, data }) => this.#watchers.get(jobId)?.progress(data));
    events.on('completed', ({ jobId, returnvalue }) => this.#watchers.get(jobId)?.settle(completed(returnvalue)));
    events.on('failed', ({ jobId, failedReason }) => this.#watchers.get(jobId)?.settle({ kind: 'failed', reason: failedReason }));
    events.on('removed', ({ jobId }) => this.#watchers.get(jobId)?.settle({ kind: 'removed' }));
    events.on('stalled', ({ jobId }) => {
      if (this.#watchers.has(jobId)) this.#o.log(`job ${jobId} stalled (its worker stopped); another worker takes it over`, { jobId });
    });
    events.on('error', (err) => this.#o.log(`queue events error: ${err.message}`));
    await events.waitUntilReady();
    return { queue, events, connection };
  }

  async #jobData(model: string, job: Job<JobParams>, inputKeys: string[]): Promise<RemoteJobData> {
    const { params } = job;
    const inputs: RemoteJobData['inputs'] = {};
    if (params.kind === 'img2img' && params.initImagePath) {
      inputs.init = await this.#blobs.put(job.id, 'input-init', await readFile(params.initImagePath));
      inputKeys.push(inputs.init);
    }
    if (params.kind === 'img2img' && params.maskPath) {
      inputs.mask = await this.#blobs.put(job.id, 'input-mask', await readFile(params.maskPath));
      inputKeys.push(inputs.mask);
    }
    if (params.kind === 'upscale' && params.upscale) {
      inputs.upscaleSource = await this.#blobs.put(job.id, 'input-source', await readFile(params.upscale.sourcePath));
      inputKeys.push(inputs.upscaleSource);
    }
    return { jobId: job.id, userId: job.userId, model, shard: this.#o.shard, params, inputs, software: this.#o.software };
  }

  async #cancelRemote(queue: Queue, jobId: string): Promise<void> {
    // The key stops a worker that takes the job a moment from now; the message stops one running it.
    await this.#o.redis.set(cancelKey(jobId), '1', 'PX', 60 * 60 * 1000);
    const job: BullJob | undefined = await queue.getJob(jobId);
    if (job && (await job.getState()) !== 'active') {
      // Still waiting in BullMQ: take it out (fails harmlessly if a worker locked it meanwhile).
      const removed = await job.remove().then(() => true, () => false);
      if (removed) return;
    }
    await this.#o.redis.publish(CANCEL_CHANNEL, jobId);
  }

  /** The outcome BullMQ has recorded, when the job has ended (for missed events). */
  async #reconcile(queue: Queue, jobId: string): Promise<Settled | undefined> {
    const job = await queue.getJob(jobId);
    if (!job) return { kind: 'removed' };
    const state = await job.getState();
    if (state === 'completed') return completed(job.returnvalue);
    if (state === 'failed') return { kind: 'failed', reason: job.failedReason };
    return undefined;
  }

  /** Writes the worker's PNGs into the job's folder (atomically, named as in local mode) and frees them in Redis. */
  async #collect(job: Job<JobParams>, value: RemoteResult, dir: string): Promise<JobResult> {
    const fetch = async (key: string): Promise<Buffer> => {
      const bytes = await this.#blobs.get(key);
      if (!bytes) throw new Error(`the result image ${key} expired in Redis before the bot collected it`);
      return bytes;
    };
    const { images, gridKey, worker: _worker, ...outcome } = value;
    const result = await writeJobFiles(dir, job.params, {
      ...outcome,
      images: await Promise.all(images.map(async ({ key, ...facts }) => ({ png: await fetch(key), ...facts }))),
      grid: gridKey ? await fetch(gridKey) : undefined,
    });
    await this.#blobs.delete(resultKeys(value)).catch(() => undefined);
    this.#o.log(`job ${job.id} done on worker ${value.worker}`, { jobId: job.id, worker: value.worker });
    this.#o.onResult?.(result);
    return result;
  }
}

function resultKeys(value: RemoteResult): string[] {
  return [...value.images.map((image) => image.key), ...(value.gridKey ? [value.gridKey] : [])];
}

function inputBlobKeys(jobId: string): string[] {
  return [blobKey(jobId, 'input-init'), blobKey(jobId, 'input-source')];
}

/** A completed job's return value, parsed; one this version cannot read fails the job with the reason. */
function completed(value: unknown): Settled {
  try {
    return { kind: 'completed', value: parseResult(value) };
  } catch (err) {
    return { kind: 'failed', reason: encodeFailure(err) };
  }
}
