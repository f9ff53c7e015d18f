// Records what a JobService announces, in order, so tests can ask which job started when and how often it succeeded.
import type { JobService } from '../../src/jobs/service.ts';

export interface Recorded {
  event: 'queued' | 'started' | 'progress' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
  jobId: string;
  userId?: string;
  token?: string | null;
  at: number;
}

export class JobRecorder {
  readonly log: Recorded[] = [];

  constructor(jobs: JobService) {
    const push = (event: Recorded['event'], job: { id: string; userId: string; interactionToken: string | null }) =>
      this.log.push({ event, jobId: job.id, userId: job.userId, token: job.interactionToken, at: Date.now() });
    jobs.on('queued', ({ job }) => push('queued', job));
    jobs.on('started', ({ job }) => push('started', job));
    jobs.on('succeeded', ({ job }) => push('succeeded', job));
    jobs.on('failed', ({ job }) => push('failed', job));
    jobs.on('cancelled', ({ job }) => push('cancelled', job));
    jobs.on('timed_out', ({ job }) => push('timed_out', job));
    jobs.on('progress', ({ jobId }) => this.log.push({ event: 'progress', jobId, at: Date.now() }));
  }

  count(event: Recorded['event'], jobId: string): number {
    return this.log.filter((r) => r.event === event && r.jobId === jobId).length;
  }

  /** Job ids in the order they started (first start only). */
  startOrder(): string[] {
    return [...new Set(this.log.filter((r) => r.event === 'started').map((r) => r.jobId))];
  }

  /** Resolves when `probe` finds something, polling every 20 ms. */
  async waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The job id of an interaction's job (its row carries the interaction token). */
  jobIdOf(token: string, timeoutMs = 10_000): Promise<string> {
    return this.waitFor(() => this.log.find((r) => r.event === 'queued' && r.token === token)?.jobId, timeoutMs, 'the job to be queued');
  }

  waitEvent(event: Recorded['event'], jobId: string, timeoutMs = 60_000): Promise<Recorded> {
    return this.waitFor(() => this.log.find((r) => r.event === event && r.jobId === jobId), timeoutMs, `${event} of ${jobId}`);
  }
}

/** Job ids a worker process logged as done ("job done" lines of its pino output). */
export function jobsDoneBy(output: string): string[] {
  return jobLines(output, 'job done');
}

export function jobsStartedBy(output: string): string[] {
  return jobLines(output, 'job started');
}

function jobLines(output: string, msg: string): string[] {
  const ids: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; jobId?: string };
      if (entry.msg === msg && entry.jobId) ids.push(entry.jobId);
    } catch {
      // not a log line
    }
  }
  return ids;
}
