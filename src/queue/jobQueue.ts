// In-process job queue: fair order across users, global concurrency, limits, cancellation, time limits, events.
//
// Design: p-queue alone is FIFO, and anything handed to it is committed to its order. So waiting jobs stay in our
// own per-user lanes (FairLanes, round-robin between users, FIFO within a user) and p-queue only ever receives a
// job at the moment a slot is free: `#dispatch()` runs after every change that can free a slot or add work, and
// hands p-queue at most `concurrency - running` jobs. p-queue then does the running (its concurrency equals ours,
// so it starts each task at once) and tracks pending tasks (`onPendingZero`). Deciding at the last moment means a
// user who arrives late still gets the next free slot instead of waiting behind another user's backlog.
//
// A running job ends only when its runner's promise settles, even after an abort: the runner is expected to stop
// at its next step, and freeing the slot earlier would let two generations share one GPU. If the signal was
// aborted before the runner settled, the abort decides the outcome (cancelled / timed_out / interrupted) and any
// result is discarded: the user asked to stop, or the job overran its time.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import PQueue from 'p-queue';
import { logger } from '../log.ts';
import { FairLanes } from './fairLanes.ts';
import { DuplicateJobError, JobAbortedError, QueueClosedError, QueueFullError, UserLimitError } from './errors.ts';
import type {
  CancelResult,
  DrainResult,
  EnqueueReceipt,
  Job,
  JobInput,
  JobOutcome,
  JobQueueBackend,
  JobQueueEventName,
  JobQueueEvents,
  JobRunner,
  JobView,
  PositionChange,
  QueueSnapshot,
} from './types.ts';

/** Timer functions, injectable so tests can fire time limits by hand. */
export interface QueueTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface JobQueueOptions<TParams, TResult, TProgress> {
  runner: JobRunner<TParams, TResult, TProgress>;
  /** Jobs running at once; default 1 (one GPU). */
  concurrency?: number;
  /** Most jobs waiting (not running); default unlimited. */
  maxQueued?: number;
  /** Most jobs one user may have waiting + running; default unlimited. */
  maxPerUser?: number;
  /** Default per-job time limit in ms; 0 or absent: none. */
  timeoutMs?: number;
  /** Start paused (e.g. to restore() persisted jobs before anything runs). */
  paused?: boolean;
  now?: () => number;
  timers?: QueueTimers;
  /** Called when an event listener throws (the queue itself carries on); default: log it. */
  onListenerError?: (error: unknown, event: JobQueueEventName) => void;
}

interface Entry<TParams, TResult> {
  readonly id: string;
  readonly userId: string;
  readonly priority: number;
  readonly seq: number;
  readonly job: Job<TParams>;
  controller?: AbortController;
  startedAt?: number;
  ended: boolean;
  resolveDone: (outcome: JobOutcome<TResult>) => void;
  readonly done: Promise<JobOutcome<TResult>>;
}

type Events<P, R, G> = JobQueueEvents<P, R, G>;

export class JobQueue<TParams, TResult, TProgress = unknown> implements JobQueueBackend<TParams, TResult, TProgress> {
  readonly #runner: JobRunner<TParams, TResult, TProgress>;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #maxPerUser: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #timers: QueueTimers;
  readonly #onListenerError: (error: unknown, event: JobQueueEventName) => void;
  readonly #pq: PQueue;
  readonly #emitter = new EventEmitter();
  readonly #lanes = new FairLanes<Entry<TParams, TResult>>();
  /** Dispatched and not yet ended, in dispatch order. */
  readonly #running = new Map<string, Entry<TParams, TResult>>();
  /** userId -> waiting + running jobs. */
  readonly #perUser = new Map<string, number>();
  #seq = 0;
  #paused: boolean;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  /** Positions last announced, to report only changes. */
  #announced = new Map<string, number>();
  #positionsScheduled = false;

  constructor(options: JobQueueOptions<TParams, TResult, TProgress>) {
    this.#runner = options.runner;
    this.#concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) throw new RangeError('concurrency must be an integer >= 1');
    this.#maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
    this.#maxPerUser = options.maxPerUser ?? Number.POSITIVE_INFINITY;
    this.#timeoutMs = options.timeoutMs ?? 0;
    this.#paused = options.paused ?? false;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? { setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.#onListenerError =
      options.onListenerError ?? ((error, event) => logger.error({ err: error, event }, 'job queue event listener threw'));
    this.#pq = new PQueue({ concurrency: this.#concurrency });
  }

  // ---- queries -------------------------------------------------------------------------------------------------

  get size(): number {
    return this.#lanes.size;
  }

  get pending(): number {
    return this.#running.size;
  }

  get isPaused(): boolean {
    return this.#paused || this.#closed;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Waiting + running jobs of one user (what maxPerUser limits). */
  pendingFor(userId: string): number {
    return this.#perUser.get(userId) ?? 0;
  }

  position(jobId: string): number | undefined {
    return this.#lanes.position(jobId);
  }

  get(jobId: string): JobView<TParams> | undefined {
    const running = this.#running.get(jobId);
    if (running) return this.#runningView(running);
    const position = this.#lanes.position(jobId);
    if (position === undefined) return undefined;
    return { job: this.#lanes.order()[position - 1]!.job, state: 'waiting', position };
  }

  snapshot(): QueueSnapshot<TParams> {
    return {
      running: [...this.#running.values()].map((entry) => this.#runningView(entry)),
      waiting: this.#lanes.order().map((entry, i) => ({ job: entry.job, state: 'waiting' as const, position: i + 1 })),
    };
  }

  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves when no job is running (waiting ones may remain, e.g. while paused). */
  onPendingZero(): Promise<void> {
    return this.#pq.onPendingZero();
  }

  // ---- events --------------------------------------------------------------------------------------------------

  on<K extends JobQueueEventName>(event: K, listener: (...args: Events<TParams, TResult, TProgress>[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends JobQueueEventName>(event: K, listener: (...args: Events<TParams, TResult, TProgress>[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends JobQueueEventName>(event: K, listener: (...args: Events<TParams, TResult, TProgress>[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  enqueue(input: JobInput<TParams>): EnqueueReceipt<TParams, TResult> {
    if (this.#closed) throw new QueueClosedError();
    if (input.id !== undefined && this.#knows(input.id)) throw new DuplicateJobError(input.id);
    if (this.pendingFor(input.userId) >= this.#maxPerUser) throw new UserLimitError(input.userId, this.#maxPerUser);
    // A job that would start at once never waits, so it does not count against the waiting limit.
    const startsNow = !this.#paused && this.#lanes.size === 0 && this.#running.size < this.#concurrency;
    if (!startsNow && this.#lanes.size >= this.#maxQueued) throw new QueueFullError(this.#maxQueued);
    return this.#admit(input, false);
  }

  restore(jobs: readonly JobInput<TParams>[]): EnqueueReceipt<TParams, TResult>[] {
    if (this.#closed) throw new QueueClosedError();
    // Stable sort: equal timestamps keep the caller's (database) order.
    const ordered = [...jobs].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
    for (const input of ordered) if (input.id !== undefined && this.#knows(input.id)) throw new DuplicateJobError(input.id);
    return ordered.map((input) => this.#admit(input, true));
  }

  cancel(jobId: string): CancelResult {
    const waiting = this.#lanes.remove(jobId);
    if (waiting) {
      this.#end(waiting, { status: 'cancelled' });
      return 'removed';
    }
    const running = this.#running.get(jobId);
    if (!running) return 'unknown';
    this.#abort(running, new JobAbortedError('cancelled'));
    return 'aborting';
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#closed = false;
    this.#dispatch();
  }

  async drain(timeoutMs: number): Promise<DrainResult<TParams>> {
    this.#closed = true;
    const running = [...this.#running.values()];
    let timer: unknown;
    const finished = await Promise.race([
      Promise.all(running.map((entry) => entry.done)).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = this.#timers.setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    this.#timers.clearTimeout(timer);
    const interrupted: Job<TParams>[] = [];
    for (const entry of running) {
      if (entry.ended) continue;
      this.#abort(entry, new JobAbortedError('shutdown'));
      interrupted.push(entry.job);
    }
    return { finished, waiting: this.#lanes.order().map((entry) => entry.job), interrupted };
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  #knows(jobId: string): boolean {
    return this.#lanes.has(jobId) || this.#running.has(jobId);
  }

  #admit(input: JobInput<TParams>, restored: boolean): EnqueueReceipt<TParams, TResult> {
    const job: Job<TParams> = Object.freeze({
      id: input.id ?? randomUUID(),
      userId: input.userId,
      ...(input.guildId !== undefined ? { guildId: input.guildId } : {}),
      params: input.params,
      priority: input.priority ?? 0,
      ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
      createdAt: input.createdAt ?? this.#now(),
      attempt: input.attempt ?? 1,
    });
    let resolveDone!: (outcome: JobOutcome<TResult>) => void;
    const done = new Promise<JobOutcome<TResult>>((resolve) => (resolveDone = resolve));
    const entry: Entry<TParams, TResult> = {
      id: job.id,
      userId: job.userId,
      priority: job.priority,
      seq: ++this.#seq,
      job,
      ended: false,
      resolveDone,
      done,
    };
    this.#perUser.set(job.userId, this.pendingFor(job.userId) + 1);
    this.#lanes.add(entry);
    this.#dispatch();
    const position = this.#lanes.position(job.id);
    this.#emit('queued', { job, position, restored });
    this.#positionsChanged();
    return { job, position, done };
  }

  /** Moves jobs from the lanes to p-queue while slots are free. */
  #dispatch(): void {
    let moved = false;
    while (!this.#paused && !this.#closed && this.#running.size < this.#concurrency) {
      const entry = this.#lanes.take();
      if (!entry) break;
      moved = true;
      entry.controller = new AbortController();
      this.#running.set(entry.id, entry);
      // #run never rejects; the catch only keeps a bug from becoming an unhandled rejection.
      this.#pq.add(() => this.#run(entry)).catch((error: unknown) => logger.error({ err: error }, 'job queue task failed'));
    }
    if (moved) this.#positionsChanged();
  }

  async #run(entry: Entry<TParams, TResult>): Promise<void> {
    // p-queue calls this synchronously inside add(); yield once so enqueue() returns and emits `queued` before
    // `started`.
    await Promise.resolve();
    const { job } = entry;
    const signal = entry.controller!.signal;
    if (signal.aborted) {
      this.#end(entry, abortOutcome(signal));
      return;
    }
    entry.startedAt = this.#now();
    this.#emit('started', { job });
    const limit = job.timeoutMs ?? this.#timeoutMs;
    const timer =
      limit > 0
        ? this.#timers.setTimeout(() => this.#abort(entry, new JobAbortedError('timeout', `job timed out after ${limit} ms`)), limit)
        : undefined;
    const report = (progress: TProgress): void => {
      if (!entry.ended) this.#emit('progress', { job, jobId: job.id, progress });
    };
    let outcome: JobOutcome<TResult>;
    try {
      const result = await this.#runner(job, signal, report);
      outcome = signal.aborted ? abortOutcome(signal) : { status: 'completed', result };
    } catch (error) {
      outcome = signal.aborted ? abortOutcome(signal) : { status: 'failed', error };
    } finally {
      if (timer !== undefined) this.#timers.clearTimeout(timer);
    }
    this.#end(entry, outcome);
  }

  #abort(entry: Entry<TParams, TResult>, reason: JobAbortedError): void {
    const controller = entry.controller!;
    if (!controller.signal.aborted && !entry.ended) controller.abort(reason);
  }

  /** Ends a job (waiting or running): events, bookkeeping, next dispatch. */
  #end(entry: Entry<TParams, TResult>, outcome: JobOutcome<TResult>): void {
    if (entry.ended) return;
    entry.ended = true;
    const wasRunning = this.#running.delete(entry.id);
    const { job } = entry;
    const left = this.pendingFor(job.userId) - 1;
    if (left > 0) this.#perUser.set(job.userId, left);
    else {
      this.#perUser.delete(job.userId);
      this.#lanes.forget(job.userId);
    }
    const elapsedMs = entry.startedAt === undefined ? 0 : this.#now() - entry.startedAt;
    switch (outcome.status) {
      case 'completed':
        this.#emit('completed', { job, result: outcome.result, elapsedMs });
        break;
      case 'failed':
        this.#emit('failed', { job, error: outcome.error, elapsedMs });
        break;
      case 'cancelled':
        this.#emit('cancelled', { job, wasRunning });
        break;
      case 'timed_out':
        this.#emit('timed_out', { job, timeoutMs: job.timeoutMs ?? this.#timeoutMs, elapsedMs });
        break;
      case 'interrupted':
        this.#emit('interrupted', { job });
        break;
    }
    entry.resolveDone(outcome);
    if (!wasRunning) this.#positionsChanged();
    this.#dispatch();
    if (this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #isIdle(): boolean {
    return this.#lanes.size === 0 && this.#running.size === 0;
  }

  #runningView(entry: Entry<TParams, TResult>): JobView<TParams> {
    return {
      job: entry.job,
      state: 'running',
      ...(entry.startedAt !== undefined ? { startedAt: entry.startedAt } : {}),
      aborting: entry.controller?.signal.aborted ?? false,
    };
  }

  /** Marks the waiting order as changed; one `positions` event goes out after the current synchronous batch. */
  #positionsChanged(): void {
    if (this.#positionsScheduled) return;
    this.#positionsScheduled = true;
    queueMicrotask(() => {
      this.#positionsScheduled = false;
      const order = this.#lanes.order();
      const next = new Map<string, number>();
      const changes: PositionChange[] = [];
      order.forEach((entry, i) => {
        next.set(entry.id, i + 1);
        if (this.#announced.get(entry.id) !== i + 1) changes.push({ jobId: entry.id, userId: entry.userId, position: i + 1 });
      });
      this.#announced = next;
      if (changes.length > 0) this.#emit('positions', { changes, waiting: order.length });
    });
  }

  #emit<K extends JobQueueEventName>(event: K, ...args: Events<TParams, TResult, TProgress>[K]): void {
    try {
      this.#emitter.emit(event, ...args);
    } catch (error) {
      this.#onListenerError(error, event);
    }
  }
}

function abortOutcome(signal: AbortSignal): JobOutcome<never> {
  const kind = signal.reason instanceof JobAbortedError ? signal.reason.kind : 'cancelled';
  return kind === 'timeout' ? { status: 'timed_out' } : kind === 'shutdown' ? { status: 'interrupted' } : { status: 'cancelled' };
}
