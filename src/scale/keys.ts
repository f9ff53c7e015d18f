// Names shared by the bot and its workers in Redis. Everything lives under one prefix so a Redis can be shared with
// other software (use a separate database number in REDIS_URL to run two bots on one Redis).

/** BullMQ's key prefix and ours. */
export const PREFIX = 'imagine';

/** One BullMQ queue per model: a worker consumes only the queues of the models it has loaded. */
export function queueNameFor(model: string): string {
  // BullMQ refuses ':' in queue names; keep names readable in redis-cli.
  return `model.${model.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** BullMQ's events stream of a queue (read to start QueueEvents where the stream is now, without a gap). */
export function eventsStreamKey(queueName: string): string {
  return `${PREFIX}:${queueName}:events`;
}

/** A worker's advertisement (JSON, expires unless refreshed). */
export function workerKey(workerId: string): string {
  return `${PREFIX}:worker:${workerId}`;
}
export const WORKER_KEY_PATTERN = `${PREFIX}:worker:*`;

/** Pub/sub channel carrying the ids of jobs to stop. */
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;

/** Set when a job is cancelled, so a worker that picks it up a moment later does not start it. */
export function cancelKey(jobId: string): string {
  return `${PREFIX}:cancelled:${jobId}`;
}

/** Bytes travelling between bot and worker (an init image, a result PNG). */
export function blobKey(jobId: string, name: string): string {
  return `${PREFIX}:blob:${jobId}:${name}`;
}
