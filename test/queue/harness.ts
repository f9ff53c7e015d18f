// Deterministic helpers for queue tests: a runner whose jobs finish only when the test says so, and timers that
// fire only when the test says so. Nothing here depends on wall-clock time.
import { JobQueue, type JobQueueOptions, type QueueTimers } from '../../src/queue/index.ts';
import type { Job } from '../../src/queue/index.ts';

export interface Params {
  n: number;
}

export interface Control {
  job: Job<Params>;
  signal: AbortSignal;
  report: (progress: string) => void;
  resolve: (value: string) => void;
  reject: (error: unknown) => void;
}

/** Lets every pending microtask and promise chain run (setImmediate fires after the microtask queue is empty). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ManualTimers implements QueueTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 0;
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = ++this.#next;
    this.pending.set(handle, { callback, ms });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires every pending timer with this delay. */
  fire(ms: number): number {
    let fired = 0;
    for (const [handle, timer] of [...this.pending]) {
      if (timer.ms !== ms) continue;
      this.pending.delete(handle);
      timer.callback();
      fired++;
    }
    return fired;
  }
}

export interface Harness {
  queue: JobQueue<Params, string, string>;
  /** Job ids in the order their runner was called. */
  started: string[];
  controls: Map<string, Control>;
  /** Most runners active at once. */
  maxActive: () => number;
  timers: ManualTimers;
  /** Resolves a running job's runner and lets the queue react. */
  finish: (id: string, value?: string) => Promise<void>;
  /** Finishes whatever is running, in start order, until nothing is left. */
  runAll: () => Promise<void>;
}

export function harness(options: Omit<JobQueueOptions<Params, string, string>, 'runner'> = {}): Harness {
  const started: string[] = [];
  const controls = new Map<string, Control>();
  let active = 0;
  let maxActive = 0;
  const timers = new ManualTimers();
  const queue = new JobQueue<Params, string, string>({
    timers,
    ...options,
    runner: (job, signal, report) => {
      started.push(job.id);
      active++;
      maxActive = Math.max(maxActive, active);
      return new Promise<string>((resolve, reject) => {
        controls.set(job.id, { job, signal, report, resolve, reject });
      }).finally(() => active--);
    },
  });
  const finish = async (id: string, value = `result ${id}`): Promise<void> => {
    await settle(); // a job dispatched in this tick has its runner called a few microtasks later
    const control = controls.get(id);
    if (!control) throw new Error(`job ${id} has not started`);
    control.resolve(value);
    await settle();
  };
  const runAll = async (): Promise<void> => {
    await settle();
    for (let guard = 0; guard < 1000; guard++) {
      const running = queue.snapshot().running;
      if (running.length === 0) return;
      await finish(running[0]!.job.id);
    }
    throw new Error('runAll did not finish');
  };
  return { queue, started, controls, maxActive: () => maxActive, timers, finish, runAll };
}
