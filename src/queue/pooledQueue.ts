// The job queue: fair order across users, slots per pool, limits, positions, cancellation, time limits, drain,
// restore, events. JobQueue (jobQueue.ts, the in-process queue) is this queue with one pool and a fixed number of
// slots; the Redis backend (src/scale) uses several pools (one per model) whose free slots are the idle workers.
//
// Each pool is a p-queue whose `queueClass` is FairLanes (round-robin between users, FIFO within a user) and whose
// `concurrency` is the pool's slots, set again (`#fit`) whenever they may have changed: a job ended, a worker came or
// went (`poke()`), a job arrived. p-queue asks FairLanes for the next job only at the moment a slot frees, so the fair
// choice is made at the last moment: a user who arrives late still gets the next free slot. Nothing goes to BullMQ
// (the Redis backend's runner) before that moment, because BullMQ would commit it to arrival order.
//
// What p-queue does here: hold the waiting jobs (in FairLanes), start them as slots free, remove a waiting job when
// its `signal` aborts (cancel, adoption), pause and start. What this file adds, because p-queue does not do it:
// - A running job ends only when its runner's promise settles, even after an abort: the runner is expected to stop
//   at its next step, and freeing the slot earlier would let two generations share one GPU. p-queue's own `signal`
//   and `timeout` settle a task (and free its slot) at the abort, so the signal handed to p-queue is only ever
//   aborted while the job waits; a running job has its own AbortController, and the time limit is our own timer
//   (counted from the runner's `started()`, with injectable timers). If the signal was aborted before the runner
//   settled, the abort decides the outcome (cancelled / timed_out / interrupted) and any result is discarded.
// - Limits (queue length, jobs per user), positions and their events, the job lifecycle events, drain, restore.
// - Restored jobs (after a restart) that the remote side already holds are adopted: taken out of p-queue and
//   started at once without waiting for a slot, since they hold one already.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import PQueue from 'p-queue';
import { logger } from '../log.ts';
import { FairLanes, type LaneOptions } from './fairLanes.ts';
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
  JobView,
  PositionChange,
  QueueSnapshot,
} from './types.ts';

/** Timer functions, injectable so tests can fire time limits by hand. */
export interface QueueTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Runs one job. Like JobRunner, plus `started()`: call it when the job actually begins (a remote job may wait a
 * moment before a worker picks it up); the `started` event and the time limit count from then. On an abort with
 * kind `shutdown` a remote runner may return at once and leave the remote job running (the next process adopts
 * it); on `cancelled`/`timeout` it should stop the job and settle when it has stopped.
 */
export type PooledRunner<TParams, TResult, TProgress> = (
  job: Job<TParams>,
  signal: AbortSignal,
  report: (progress: TProgress) => void,
  started: () => void,
) => Promise<TResult>;

/** Where free slots come from. */
export interface SlotSource {
  /** How many more jobs of `pool` may start now, given that `runningHere` of them run from this queue already. */
  free(pool: string, runningHere: number): number;
  /** One job of `pool` was just handed to the runner. */
  taken(pool: string): void;
  /** A job of `pool` ended: measure again soon. */
  released(pool: string): void;
}

/** A fixed number of slots in every pool (one GPU: 1). */
export function fixedSlots(count: number): SlotSource {
  return { free: (_pool, runningHere) => count - runningHere, taken: () => undefined, released: () => undefined };
}

export interface PooledQueueOptions<TParams, TResult, TProgress> {
  runner: PooledRunner<TParams, TResult, TProgress>;
  /** The pool (e.g. model) a job needs. */
  poolOf: (job: Job<TParams>) => string;
  slots: SlotSource;
  /** Of these restored jobs, the ids the remote side already holds (running, waiting there, or finished). */
  adopt?: (jobs: readonly Job<TParams>[]) => Promise<ReadonlySet<string>>;
  /** Called just before `started` is emitted (the job service records the state change). */
  beforeStarted?: (job: Job<TParams>) => void;
  /**
   * True while a job could start without loading anything (its model is loaded). Among equally fair choices a warm job
   * goes first (see fairLanes.ts); absent: every job is equal.
   */
  warm?: (job: Job<TParams>) => boolean;
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
  /** Called when an event listener (or beforeStarted) throws (the queue itself carries on); default: log it. */
  onListenerError?: (error: unknown, event: JobQueueEventName) => void;
}

interface Entry<TParams, TResult> {
  readonly id: string;
  readonly userId: string;
  readonly pool: string;
  readonly job: Job<TParams>;
  /** Restored and not yet checked against the remote side. */
  unchecked: boolean;
  /** Aborted to take the job out of p-queue while it waits (cancelled, or adopted); never once it runs. */
  readonly leave: AbortController;
  /** The running job's signal (cancel, time limit, shutdown). */
  controller?: AbortController;
  /** Started outside p-queue (adopted after a restart). */
  adopted: boolean;
  startedAt?: number;
  timer?: unknown;
  ended: boolean;
  resolveDone: (outcome: JobOutcome<TResult>) => void;
  readonly done: Promise<JobOutcome<TResult>>;
}

/** One pool: its p-queue, the FairLanes that p-queue built for it, and what of it runs from here. */
interface Pool {
  readonly queue: PQueue<FairLanes, LaneOptions>;
  readonly lanes: FairLanes;
  /** Jobs of this pool running from this queue, adopted ones included. */
  running: number;
  /** Of those, the adopted ones, which p-queue does not count. */
  adopted: number;
}

type Events<P, R, G> = JobQueueEvents<P, R, G>;

export class PooledQueue<TParams, TResult, TProgress = unknown> implements JobQueueBackend<TParams, TResult, TProgress> {
  readonly #o: PooledQueueOptions<TParams, TResult, TProgress>;
  readonly #maxQueued: number;
  readonly #maxPerUser: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #timers: QueueTimers;
  readonly #emitter = new EventEmitter();
  readonly #pools = new Map<string, Pool>();
  /** Waiting job id -> entry. */
  readonly #waiting = new Map<string, Entry<TParams, TResult>>();
  /** Handed to the runner and not yet ended, in that order. */
  readonly #running = new Map<string, Entry<TParams, TResult>>();
  /** userId -> waiting + running jobs. */
  readonly #perUser = new Map<string, number>();
  #paused: boolean;
  #closed = false;
  /** Adoption checks in flight: nothing is started meanwhile, or an adopted job could be started twice. */
  #adopting = 0;
  #idleWaiters: (() => void)[] = [];
  #pendingZeroWaiters: (() => void)[] = [];
  /** Positions last announced, to report only changes. */
  #announced = new Map<string, number>();
  #positionsScheduled = false;

  constructor(options: PooledQueueOptions<TParams, TResult, TProgress>) {
    this.#o = options;
    this.#maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
    this.#maxPerUser = options.maxPerUser ?? Number.POSITIVE_INFINITY;
    this.#timeoutMs = options.timeoutMs ?? 0;
    this.#paused = options.paused ?? false;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? { setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  }

  // ---- queries -------------------------------------------------------------------------------------------------

  get size(): number {
    return this.#waiting.size;
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

  /** Pools that have waiting jobs. */
  waitingPools(): string[] {
    return [...this.#pools].filter(([, pool]) => pool.lanes.size > 0).map(([name]) => name);
  }

  /** 1-based place among the waiting jobs of the same pool (each pool's slots serve their own line). */
  position(jobId: string): number | undefined {
    const entry = this.#waiting.get(jobId);
    return entry ? this.#pool(entry.pool).lanes.position(jobId) : undefined;
  }

  get(jobId: string): JobView<TParams> | undefined {
    const running = this.#running.get(jobId);
    if (running) return this.#runningView(running);
    const position = this.position(jobId);
    return position === undefined ? undefined : { job: this.#waiting.get(jobId)!.job, state: 'waiting', position };
  }

  snapshot(): QueueSnapshot<TParams> {
    const waiting: JobView<TParams>[] = [];
    for (const pool of this.#pools.values()) {
      this.#waitingIn(pool).forEach((entry, i) => waiting.push({ job: entry.job, state: 'waiting', position: i + 1 }));
    }
    return { running: [...this.#running.values()].map((entry) => this.#runningView(entry)), waiting };
  }

  // Not p-queue's onIdle/onPendingZero: they span every pool and the adopted jobs, which no one p-queue sees.
  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves when no job is running (waiting ones may remain, e.g. while paused). */
  onPendingZero(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#pendingZeroWaiters.push(resolve));
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
    const job = this.#freeze(input);
    const name = this.#o.poolOf(job);
    const pool = this.#pool(name);
    // A job that would start at once never waits, so it does not count against the waiting limit.
    const startsNow = !this.#holding() && pool.lanes.size === 0 && this.#o.slots.free(name, pool.running) > 0;
    if (!startsNow && this.#waiting.size >= this.#maxQueued) throw new QueueFullError(this.#maxQueued);
    return this.#admit(job, name, false);
  }

  restore(jobs: readonly JobInput<TParams>[]): EnqueueReceipt<TParams, TResult>[] {
    if (this.#closed) throw new QueueClosedError();
    // Stable sort: equal timestamps keep the caller's (database) order.
    const ordered = [...jobs].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
    for (const input of ordered) if (input.id !== undefined && this.#knows(input.id)) throw new DuplicateJobError(input.id);
    const receipts = ordered.map((input) => {
      const job = this.#freeze(input);
      return this.#admit(job, this.#o.poolOf(job), true);
    });
    this.#adoptRestored();
    return receipts;
  }

  cancel(jobId: string): CancelResult {
    const waiting = this.#waiting.get(jobId);
    if (waiting) {
      waiting.leave.abort(); // p-queue takes it out of the lanes (synchronously, in its abort listener)
      this.#waiting.delete(jobId);
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
    this.#fitAll();
  }

  resume(): void {
    this.#paused = false;
    this.#closed = false;
    this.#adoptRestored();
    this.#fitAll();
  }

  /** Free slots may have changed (a worker joined, another process finished a job): start what fits. */
  poke(): void {
    this.#fitAll();
  }

  async drain(timeoutMs: number): Promise<DrainResult<TParams>> {
    this.#closed = true;
    this.#fitAll();
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
    const waiting: Job<TParams>[] = [];
    for (const pool of this.#pools.values()) waiting.push(...this.#waitingIn(pool).map((entry) => entry.job));
    return { finished, waiting, interrupted };
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  #pool(name: string): Pool {
    let pool = this.#pools.get(name);
    if (!pool) {
      // p-queue builds its queue class itself (`new queueClass()`); this subclass hands us the instance it built.
      let built: FairLanes | undefined;
      const queue = new PQueue<FairLanes, LaneOptions>({
        autoStart: false,
        queueClass: class extends FairLanes {
          constructor() {
            super();
            built = this;
          }
        },
      });
      pool = { queue, lanes: built!, running: 0, adopted: 0 };
      this.#pools.set(name, pool);
    }
    return pool;
  }

  /** Nothing may start: paused, draining, or an adoption check is out. */
  #holding(): boolean {
    return this.#paused || this.#closed || this.#adopting > 0;
  }

  /**
   * Sets a pool's p-queue to the slots it may use now; p-queue starts whatever fits, taking each job from FairLanes.
   * p-queue counts only the jobs it started, so adopted ones are left out of its concurrency. A job that just ended
   * still counts in p-queue until its next microtask, when p-queue starts the next job against this concurrency.
   */
  #fit(name: string, pool: Pool): void {
    const limit = pool.running - pool.adopted + this.#o.slots.free(name, pool.running);
    // p-queue's concurrency is at least 1: no slot at all is a pause.
    if (this.#holding() || limit < 1) {
      pool.queue.pause();
      return;
    }
    pool.queue.concurrency = limit;
    pool.queue.start();
  }

  #fitAll(): void {
    for (const [name, pool] of this.#pools) this.#fit(name, pool);
  }

  /** A pool's waiting jobs in the order they will start. */
  #waitingIn(pool: Pool): Entry<TParams, TResult>[] {
    return pool.lanes.order().map((item) => this.#waiting.get(item.id)!);
  }

  #knows(jobId: string): boolean {
    return this.#waiting.has(jobId) || this.#running.has(jobId);
  }

  #freeze(input: JobInput<TParams>): Job<TParams> {
    return Object.freeze({
      id: input.id ?? randomUUID(),
      userId: input.userId,
      ...(input.guildId !== undefined ? { guildId: input.guildId } : {}),
      params: input.params,
      priority: input.priority ?? 0,
      ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
      createdAt: input.createdAt ?? this.#now(),
      attempt: input.attempt ?? 1,
    });
  }

  #admit(job: Job<TParams>, name: string, restored: boolean): EnqueueReceipt<TParams, TResult> {
    let resolveDone!: (outcome: JobOutcome<TResult>) => void;
    const done = new Promise<JobOutcome<TResult>>((resolve) => (resolveDone = resolve));
    const entry: Entry<TParams, TResult> = {
      id: job.id,
      userId: job.userId,
      pool: name,
      job,
      unchecked: restored && this.#o.adopt !== undefined,
      leave: new AbortController(),
      adopted: false,
      ended: false,
      resolveDone,
      done,
    };
    this.#perUser.set(job.userId, this.pendingFor(job.userId) + 1);
    this.#waiting.set(job.id, entry);
    const pool = this.#pool(name);
    this.#fit(name, pool); // before add(): p-queue decides at once whether the job starts
    pool.queue
      .add(() => this.#start(entry), { id: job.id, userId: job.userId, priority: job.priority, signal: entry.leave.signal, warm: this.#o.warm && (() => this.#o.warm!(job)) })
      // Rejects only when the job left the line (cancelled, adopted); that is handled where it happens.
      .catch(() => undefined);
    const position = this.position(job.id);
    this.#emit('queued', { job, position, restored });
    this.#positionsChanged();
    return { job, position, done };
  }

  /** Asks the remote side which restored jobs it already holds and starts those at once. */
  #adoptRestored(): void {
    const adopt = this.#o.adopt;
    if (!adopt || this.#paused || this.#closed) return;
    const candidates = [...this.#waiting.values()].filter((entry) => entry.unchecked);
    if (candidates.length === 0) return;
    for (const entry of candidates) entry.unchecked = false;
    this.#adopting++;
    this.#fitAll();
    adopt(candidates.map((entry) => entry.job))
      .then((held) => {
        for (const entry of candidates) {
          if (!held.has(entry.id) || !this.#waiting.has(entry.id)) continue;
          entry.leave.abort(); // out of p-queue: it holds a worker already
          void this.#start(entry, true);
        }
      })
      .catch((error: unknown) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not check restored jobs against the workers; they queue again'),
      )
      .finally(() => {
        this.#adopting--;
        this.#positionsChanged();
        this.#fitAll();
      });
  }

  /** Hands a job to the runner (called by p-queue when a slot frees, or directly for an adopted job). */
  #start(entry: Entry<TParams, TResult>, adopted = false): Promise<void> {
    const pool = this.#pool(entry.pool);
    this.#waiting.delete(entry.id);
    entry.controller = new AbortController();
    entry.adopted = adopted;
    this.#running.set(entry.id, entry);
    pool.running++;
    if (adopted) pool.adopted++;
    this.#o.slots.taken(entry.pool);
    this.#positionsChanged();
    return this.#run(entry);
  }

  /** Never rejects: every way a runner ends becomes an outcome. */
  async #run(entry: Entry<TParams, TResult>): Promise<void> {
    // Let enqueue() return (and emit `queued`) before anything else happens to this job.
    await Promise.resolve();
    const { job } = entry;
    const signal = entry.controller!.signal;
    if (signal.aborted) return this.#end(entry, abortOutcome(signal));
    const started = (): void => {
      if (entry.startedAt !== undefined || entry.ended || signal.aborted) return;
      entry.startedAt = this.#now();
      try {
        this.#o.beforeStarted?.(job);
      } catch (error) {
        this.#listenerError(error, 'started');
      }
      this.#emit('started', { job });
      const limit = job.timeoutMs ?? this.#timeoutMs;
      if (limit > 0) entry.timer = this.#timers.setTimeout(() => this.#abort(entry, new JobAbortedError('timeout', `job timed out after ${limit} ms`)), limit);
    };
    // Progress stops with the abort: a job being cancelled or timed out should not look as if it were still going.
    const report = (progress: TProgress): void => {
      if (!entry.ended && !signal.aborted) this.#emit('progress', { job, jobId: job.id, progress });
    };
    let outcome: JobOutcome<TResult>;
    try {
      const result = await this.#o.runner(job, signal, report, started);
      outcome = signal.aborted ? abortOutcome(signal) : { status: 'completed', result };
    } catch (error) {
      outcome = signal.aborted ? abortOutcome(signal) : { status: 'failed', error };
    } finally {
      if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
    }
    this.#end(entry, outcome);
  }

  #abort(entry: Entry<TParams, TResult>, reason: JobAbortedError): void {
    const controller = entry.controller!;
    if (!controller.signal.aborted && !entry.ended) controller.abort(reason);
  }

  /** Ends a job (waiting or running): events, bookkeeping, new slot counts. */
  #end(entry: Entry<TParams, TResult>, outcome: JobOutcome<TResult>): void {
    if (entry.ended) return;
    entry.ended = true;
    const wasRunning = this.#running.delete(entry.id);
    if (wasRunning) {
      const pool = this.#pool(entry.pool);
      pool.running--;
      if (entry.adopted) pool.adopted--;
      this.#o.slots.released(entry.pool);
    }
    const { job } = entry;
    const left = this.pendingFor(job.userId) - 1;
    if (left > 0) this.#perUser.set(job.userId, left);
    else {
      this.#perUser.delete(job.userId);
      for (const pool of this.#pools.values()) pool.lanes.forget(job.userId);
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
    this.#fitAll();
    if (this.#running.size === 0) this.#pendingZeroWaiters = wake(this.#pendingZeroWaiters);
    if (this.#isIdle()) this.#idleWaiters = wake(this.#idleWaiters);
  }

  #isIdle(): boolean {
    return this.#waiting.size === 0 && this.#running.size === 0;
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
      const next = new Map<string, number>();
      const changes: PositionChange[] = [];
      for (const pool of this.#pools.values()) {
        this.#waitingIn(pool).forEach((entry, i) => {
          next.set(entry.id, i + 1);
          if (this.#announced.get(entry.id) !== i + 1) changes.push({ jobId: entry.id, userId: entry.userId, position: i + 1 });
        });
      }
      this.#announced = next;
      if (changes.length > 0) this.#emit('positions', { changes, waiting: this.#waiting.size });
    });
  }

  #listenerError(error: unknown, event: JobQueueEventName): void {
    if (this.#o.onListenerError) this.#o.onListenerError(error, event);
    else logger.error({ err: error, event }, 'job queue event listener threw');
  }

  #emit<K extends JobQueueEventName>(event: K, ...args: Events<TParams, TResult, TProgress>[K]): void {
    try {
      this.#emitter.emit(event, ...args);
    } catch (error) {
      this.#listenerError(error, event);
    }
  }
}

/** Resolves every waiter; returns the new, empty list. */
function wake(waiters: readonly (() => void)[]): (() => void)[] {
  for (const resolve of waiters) resolve();
  return [];
}

function abortOutcome(signal: AbortSignal): JobOutcome<never> {
  const kind = signal.reason instanceof JobAbortedError ? signal.reason.kind : 'cancelled';
  return kind === 'timeout' ? { status: 'timed_out' } : kind === 'shutdown' ? { status: 'interrupted' } : { status: 'cancelled' };
}
