// The in-process job queue: the general PooledQueue with one pool and a fixed number of slots (`concurrency`, one
// per GPU), whose runner starts work the moment it is called. All the rules (fair order across users, limits,
// positions, cancellation, time limits, drain, restore, events) live in pooledQueue.ts.
import { PooledQueue, fixedSlots, type PooledQueueOptions } from './pooledQueue.ts';
import type { JobRunner } from './types.ts';

export type { QueueTimers } from './pooledQueue.ts';

export interface JobQueueOptions<TParams, TResult, TProgress>
  extends Omit<PooledQueueOptions<TParams, TResult, TProgress>, 'runner' | 'poolOf' | 'slots' | 'adopt'> {
  runner: JobRunner<TParams, TResult, TProgress>;
  /** Jobs running at once; default 1 (one GPU). */
  concurrency?: number;
}

/** Every job of the in-process queue shares the one pool of local slots. */
const LOCAL_POOL = 'local';

export class JobQueue<TParams, TResult, TProgress = unknown> extends PooledQueue<TParams, TResult, TProgress> {
  constructor(options: JobQueueOptions<TParams, TResult, TProgress>) {
    const { runner, concurrency = 1, ...rest } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be an integer >= 1');
    super({
      ...rest,
      // A local runner begins as soon as it is called, so the job counts as started (events, time limit) right then.
      runner: (job, signal, report, started) => {
        started();
        return runner(job, signal, report);
      },
      poolOf: () => LOCAL_POOL,
      slots: fixedSlots(concurrency),
    });
  }
}
