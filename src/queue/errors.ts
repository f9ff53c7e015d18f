// Typed refusals and abort reasons of the job queue. Refusals carry a message written for the person who asked
// (the bot can show `userMessage` as is); `code` lets callers branch without string matching.

export type RefusalCode = 'queue_full' | 'user_limit' | 'queue_closed' | 'duplicate_job';

/** Base class of every reason the queue refuses a new job. */
export class QueueRefusal extends Error {
  readonly code: RefusalCode;
  /** A sentence fit to show the user who asked. */
  readonly userMessage: string;
  constructor(code: RefusalCode, userMessage: string, detail?: string) {
    super(detail ?? userMessage);
    this.name = new.target.name;
    this.code = code;
    this.userMessage = userMessage;
  }
}

/** The queue already holds its maximum number of waiting jobs. */
export class QueueFullError extends QueueRefusal {
  readonly limit: number;
  constructor(limit: number) {
    super('queue_full', `The queue is full (${limit} waiting). Please try again in a few minutes.`, `queue full: ${limit} jobs waiting`);
    this.limit = limit;
  }
}

/** This user already has as many queued + running jobs as allowed. */
export class UserLimitError extends QueueRefusal {
  readonly userId: string;
  readonly limit: number;
  constructor(userId: string, limit: number) {
    super(
      'user_limit',
      limit === 1
        ? 'You already have a job in the queue. Please wait for it to finish.'
        : `You already have ${limit} jobs in the queue. Please wait for one to finish.`,
      `user ${userId} has ${limit} pending jobs`,
    );
    this.userId = userId;
    this.limit = limit;
  }
}

/** The queue is draining for shutdown and takes no new jobs. */
export class QueueClosedError extends QueueRefusal {
  constructor() {
    super('queue_closed', 'The bot is restarting and not taking new jobs right now. Please try again shortly.', 'queue closed');
  }
}

/** A job with this id is already waiting or running (a programming error or a double restore). */
export class DuplicateJobError extends QueueRefusal {
  readonly jobId: string;
  constructor(jobId: string) {
    super('duplicate_job', 'This job is already in the queue.', `duplicate job id ${jobId}`);
    this.jobId = jobId;
  }
}

/** Why a running job's AbortSignal fired. */
export type AbortKind = 'cancelled' | 'timeout' | 'shutdown';

/**
 * The `reason` of a job's AbortSignal. An Error (named AbortError, like the platform's) so that
 * `signal.throwIfAborted()` inside a runner throws something with a stack and a readable message.
 */
export class JobAbortedError extends Error {
  readonly kind: AbortKind;
  constructor(kind: AbortKind, message?: string) {
    super(message ?? `job ${kind === 'timeout' ? 'timed out' : kind === 'shutdown' ? 'interrupted by shutdown' : 'cancelled'}`);
    this.name = 'AbortError';
    this.kind = kind;
  }
}

/** The abort kind of a signal aborted by the queue, or undefined when it is not aborted (or aborted by someone else). */
export function abortKind(signal: AbortSignal): AbortKind | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason instanceof JobAbortedError ? signal.reason.kind : undefined;
}
