// The job queue's public types and the backend interface. The in-process queue (jobQueue.ts) implements
// JobQueueBackend; a Redis/BullMQ backend can implement the same shape, which is why query methods may return
// promises (`Awaitable`): callers should `await` them even though the in-process queue answers synchronously.

export type Awaitable<T> = T | Promise<T>;

/** What a caller supplies to enqueue a job. */
export interface JobInput<TParams> {
  /** Stable id (e.g. the database row id); a random UUID when omitted. */
  id?: string;
  userId: string;
  guildId?: string;
  params: TParams;
  /** Higher runs earlier (e.g. retries); default 0. Fairness between users applies within a priority level. */
  priority?: number;
  /** Per-job time limit in ms overriding the queue default; 0 disables it. */
  timeoutMs?: number;
  /** Epoch ms; defaults to now. Restored jobs keep their original value. */
  createdAt?: number;
  /** 1-based attempt number; default 1. */
  attempt?: number;
}

/** A job as the queue holds it. Immutable once enqueued. */
export interface Job<TParams> {
  readonly id: string;
  readonly userId: string;
  readonly guildId?: string;
  readonly params: TParams;
  readonly priority: number;
  readonly timeoutMs?: number;
  readonly createdAt: number;
  readonly attempt: number;
}

/**
 * Runs one job. It must watch `signal` and stop at its next step once it aborts (the queue waits for the returned
 * promise before freeing the slot, so a GPU never runs two jobs because one was cancelled). `report` forwards
 * progress as `progress` events; calls after the job ended are ignored.
 */
export type JobRunner<TParams, TResult, TProgress> = (
  job: Job<TParams>,
  signal: AbortSignal,
  report: (progress: TProgress) => void,
) => Promise<TResult>;

/** How a job ended. `interrupted`: aborted by drain() at shutdown; it stays persisted and is restored later. */
export type JobOutcome<TResult> =
  | { status: 'completed'; result: TResult }
  | { status: 'failed'; error: unknown }
  | { status: 'cancelled' }
  | { status: 'timed_out' }
  | { status: 'interrupted' };

export interface EnqueueReceipt<TParams, TResult> {
  job: Job<TParams>;
  /** 1-based place among waiting jobs, or undefined when it started at once. */
  position: number | undefined;
  /** Settles (never rejects) when the job ends, however it ends. */
  done: Promise<JobOutcome<TResult>>;
}

/** `removed`: it was waiting and is gone; `aborting`: it was running and its signal fired; `unknown`: no such job. */
export type CancelResult = 'removed' | 'aborting' | 'unknown';

export interface JobView<TParams> {
  job: Job<TParams>;
  state: 'waiting' | 'running';
  /** Waiting jobs only: 1-based place in the order they will start. */
  position?: number;
  /** Running jobs only: epoch ms when the runner was called (undefined in the instant before). */
  startedAt?: number;
  /** Running jobs only: true once its signal has been aborted. */
  aborting?: boolean;
}

export interface QueueSnapshot<TParams> {
  /** In the order they started. */
  running: JobView<TParams>[];
  /** In the order they will start. */
  waiting: JobView<TParams>[];
}

export interface DrainResult<TParams> {
  /** True when every running job ended within the time limit. */
  finished: boolean;
  /** Jobs that never started, in queue order: leave them persisted and restore() them after the restart. */
  waiting: Job<TParams>[];
  /** Running jobs aborted with kind `shutdown` because the time ran out: also to be restored. */
  interrupted: Job<TParams>[];
}

export interface PositionChange {
  jobId: string;
  userId: string;
  position: number;
}

/** Event name -> listener arguments (one payload object each). */
export interface JobQueueEvents<TParams, TResult, TProgress> {
  queued: [{ job: Job<TParams>; position: number | undefined; restored: boolean }];
  started: [{ job: Job<TParams> }];
  progress: [{ job: Job<TParams>; jobId: string; progress: TProgress }];
  completed: [{ job: Job<TParams>; result: TResult; elapsedMs: number }];
  failed: [{ job: Job<TParams>; error: unknown; elapsedMs: number }];
  cancelled: [{ job: Job<TParams>; wasRunning: boolean }];
  timed_out: [{ job: Job<TParams>; timeoutMs: number; elapsedMs: number }];
  interrupted: [{ job: Job<TParams> }];
  /**
   * Coalesced: at most once per synchronous batch of changes, listing only waiting jobs whose position changed
   * (new ones included). Jobs that left the waiting list are reported by started/cancelled instead.
   */
  positions: [{ changes: PositionChange[]; waiting: number }];
}

export type JobQueueEventName = keyof JobQueueEvents<unknown, unknown, unknown>;

/** The queue contract the bot programs against. */
export interface JobQueueBackend<TParams, TResult, TProgress = unknown> {
  /** Adds a job; throws a QueueRefusal subclass (QueueFullError, UserLimitError, QueueClosedError, DuplicateJobError). */
  enqueue(input: JobInput<TParams>): Awaitable<EnqueueReceipt<TParams, TResult>>;
  /** Re-enqueues persisted jobs after a restart, ordered by createdAt, ignoring length and per-user limits. */
  restore(jobs: readonly JobInput<TParams>[]): Awaitable<EnqueueReceipt<TParams, TResult>[]>;
  cancel(jobId: string): Awaitable<CancelResult>;
  position(jobId: string): Awaitable<number | undefined>;
  get(jobId: string): Awaitable<JobView<TParams> | undefined>;
  snapshot(): Awaitable<QueueSnapshot<TParams>>;
  /** Waiting jobs. */
  readonly size: number;
  /** Running jobs. */
  readonly pending: number;
  /** Resolves when nothing is waiting or running. */
  onIdle(): Promise<void>;
  /** Stops starting jobs (running ones continue); enqueue still accepted. */
  pause(): Awaitable<void>;
  /** Starts jobs again (also reopens a drained queue). */
  resume(): Awaitable<void>;
  /** Graceful shutdown: refuse new jobs, start none, give running ones timeoutMs, then abort them. */
  drain(timeoutMs: number): Promise<DrainResult<TParams>>;
  on<K extends JobQueueEventName>(event: K, listener: (...args: JobQueueEvents<TParams, TResult, TProgress>[K]) => void): this;
  off<K extends JobQueueEventName>(event: K, listener: (...args: JobQueueEvents<TParams, TResult, TProgress>[K]) => void): this;
}
