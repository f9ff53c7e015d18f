// The job queue's public surface: import from here.
export { JobQueue } from './jobQueue.ts';
export type { JobQueueOptions } from './jobQueue.ts';
export { PooledQueue, fixedSlots } from './pooledQueue.ts';
export type { PooledQueueOptions, PooledRunner, QueueTimers, SlotSource } from './pooledQueue.ts';
export { FairLanes, fairestUser } from './fairLanes.ts';
export type { LaneItem, LaneOptions, RunFunction } from './fairLanes.ts';
export {
  QueueRefusal,
  QueueFullError,
  UserLimitError,
  QueueClosedError,
  DuplicateJobError,
  JobAbortedError,
  abortKind,
} from './errors.ts';
export type { AbortKind, RefusalCode } from './errors.ts';
export type * from './types.ts';
