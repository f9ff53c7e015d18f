// Persistence of jobs from the moment they are queued until their images are delivered, so a crash or restart
// loses nothing: on startup, unfinished() lists what to re-run or re-deliver.
//
// States: queued -> running -> succeeded -> delivered, or failed / cancelled / timed_out.
// Every transition is a conditional UPDATE on the expected source states and reports whether it happened, so two
// racing callers cannot both move a job (e.g. a cancel arriving as the job completes).
//
// Delivery is guarded by a claim: claimDelivery() succeeds for exactly one caller (UPDATE ... WHERE the claim is
// still empty), that caller posts the images and calls markDelivered() (or releaseDelivery() if posting failed and
// should be retried). A crash between claim and markDelivered leaves a claimed, undelivered row;
// requeueInterrupted() at startup releases such claims, so delivery is exactly-once within a process and
// at-least-once across crashes (the only safe choice when we cannot know whether Discord got the message).
import type { Database } from 'better-sqlite3';

export type JobState = 'queued' | 'running' | 'succeeded' | 'delivered' | 'failed' | 'cancelled' | 'timed_out';

export const FINAL_JOB_STATES: readonly JobState[] = ['delivered', 'failed', 'cancelled', 'timed_out'];

export interface NewJob<TParams> {
  id: string;
  userId: string;
  guildId?: string | null;
  channelId?: string | null;
  /** For follow-up messages through the interaction webhook. */
  applicationId?: string | null;
  interactionToken?: string | null;
  /** Epoch ms after which the token no longer works (Discord: 15 minutes after the interaction). */
  tokenExpiresAt?: number | null;
  messageId?: string | null;
  params: TParams;
  priority?: number;
  /** Epoch ms; default now. */
  createdAt?: number;
}

export interface JobRecord<TParams = unknown, TResult = unknown> {
  id: string;
  userId: string;
  guildId: string | null;
  channelId: string | null;
  applicationId: string | null;
  interactionToken: string | null;
  tokenExpiresAt: number | null;
  /** The reply / progress message. */
  messageId: string | null;
  params: TParams;
  /** Result metadata (seeds, file paths), set by markSucceeded. */
  result: TResult | null;
  state: JobState;
  priority: number;
  /** Times the job was started. */
  attempts: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deliveryClaimedAt: number | null;
  deliveredAt: number | null;
}

interface JobRow {
  id: string;
  user_id: string;
  guild_id: string | null;
  channel_id: string | null;
  application_id: string | null;
  interaction_token: string | null;
  token_expires_at: number | null;
  message_id: string | null;
  params: string;
  result: string | null;
  state: JobState;
  priority: number;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  delivery_claimed_at: number | null;
  delivered_at: number | null;
}

const FINAL_LIST = FINAL_JOB_STATES.map((s) => `'${s}'`).join(', ');

export class JobStore<TParams = unknown, TResult = unknown> {
  readonly #db: Database;
  readonly #now: () => number;

  constructor(db: Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  insert(job: NewJob<TParams>): JobRecord<TParams, TResult> {
    const now = this.#now();
    this.#db
      .prepare(
        `INSERT INTO jobs (id, user_id, guild_id, channel_id, application_id, interaction_token, token_expires_at,
                           message_id, params, priority, state, created_at, updated_at)
         VALUES (@id, @userId, @guildId, @channelId, @applicationId, @interactionToken, @tokenExpiresAt,
                 @messageId, @params, @priority, 'queued', @createdAt, @updatedAt)`,
      )
      .run({
        id: job.id,
        userId: job.userId,
        guildId: job.guildId ?? null,
        channelId: job.channelId ?? null,
        applicationId: job.applicationId ?? null,
        interactionToken: job.interactionToken ?? null,
        tokenExpiresAt: job.tokenExpiresAt ?? null,
        messageId: job.messageId ?? null,
        params: JSON.stringify(job.params),
        priority: job.priority ?? 0,
        createdAt: job.createdAt ?? now,
        updatedAt: now,
      });
    return this.get(job.id)!;
  }

  get(id: string): JobRecord<TParams, TResult> | undefined {
    const row = this.#db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
    return row ? this.#toRecord(row) : undefined;
  }

  /** Records the reply / progress message once it exists. */
  setMessageId(id: string, messageId: string): boolean {
    return this.#update(id, 'message_id = @value', { value: messageId });
  }

  /** Replaces the interaction used for follow-ups (e.g. a retry started from a button). */
  setInteraction(id: string, interaction: { applicationId: string; token: string; expiresAt: number }): boolean {
    return this.#update(id, 'application_id = @applicationId, interaction_token = @token, token_expires_at = @expiresAt', interaction);
  }

  /** queued -> running; counts an attempt. */
  markRunning(id: string): boolean {
    return this.#transition(id, ['queued'], "state = 'running', attempts = attempts + 1, started_at = @now, error = NULL");
  }

  /** running -> queued: the job is to run again (its process died under it). */
  requeue(id: string): boolean {
    return this.#transition(id, ['running'], "state = 'queued', started_at = NULL");
  }

  /** running -> succeeded, storing result metadata. */
  markSucceeded(id: string, result: TResult): boolean {
    return this.#transition(id, ['running'], "state = 'succeeded', result = @result, finished_at = @now", {
      result: JSON.stringify(result),
    });
  }

  /** True for exactly one caller per succeeded job (until released): that caller delivers. */
  claimDelivery(id: string): boolean {
    const info = this.#db
      .prepare(
        `UPDATE jobs SET delivery_claimed_at = @now, updated_at = @now
         WHERE id = @id AND state = 'succeeded' AND delivery_claimed_at IS NULL`,
      )
      .run({ id, now: this.#now() });
    return info.changes === 1;
  }

  /** Gives a claim back after a failed delivery attempt, so it can be retried. */
  releaseDelivery(id: string): boolean {
    const info = this.#db
      .prepare(
        `UPDATE jobs SET delivery_claimed_at = NULL, updated_at = @now
         WHERE id = @id AND state = 'succeeded' AND delivery_claimed_at IS NOT NULL`,
      )
      .run({ id, now: this.#now() });
    return info.changes === 1;
  }

  /** succeeded -> delivered. Idempotent: true whenever the job is delivered after the call. */
  markDelivered(id: string): boolean {
    this.#transition(id, ['succeeded'], "state = 'delivered', delivered_at = @now, delivery_claimed_at = COALESCE(delivery_claimed_at, @now)");
    return this.get(id)?.state === 'delivered';
  }

  /** queued / running / succeeded (delivery gave up) -> failed. */
  markFailed(id: string, error: string): boolean {
    return this.#transition(id, ['queued', 'running', 'succeeded'], "state = 'failed', error = @error, finished_at = @now", { error });
  }

  /** queued / running -> cancelled. */
  markCancelled(id: string): boolean {
    return this.#transition(id, ['queued', 'running'], "state = 'cancelled', finished_at = @now");
  }

  /** running -> timed_out. */
  markTimedOut(id: string, error = 'time limit exceeded'): boolean {
    return this.#transition(id, ['running'], "state = 'timed_out', error = @error, finished_at = @now", { error });
  }

  /** Jobs not yet done with (queued, running, or succeeded but undelivered), oldest first: for crash recovery. */
  unfinished(): JobRecord<TParams, TResult>[] {
    return this.#db
      .prepare<[], JobRow>("SELECT * FROM jobs WHERE state IN ('queued', 'running', 'succeeded') ORDER BY created_at, rowid")
      .all()
      .map((row) => this.#toRecord(row));
  }

  /**
   * At startup, before anything runs: jobs left `running` by a dead process go back to `queued`, and delivery
   * claims of undelivered jobs are released. Returns the number of rows changed.
   */
  requeueInterrupted(): number {
    const now = this.#now();
    return this.#db.transaction(() => {
      const requeued = this.#db.prepare("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'").run(now).changes;
      const released = this.#db
        .prepare("UPDATE jobs SET delivery_claimed_at = NULL, updated_at = ? WHERE state = 'succeeded' AND delivery_claimed_at IS NOT NULL")
        .run(now).changes;
      return requeued + released;
    })();
  }

  /** The newest jobs first. */
  recent(limit: number): JobRecord<TParams, TResult>[] {
    return this.#db
      .prepare<[number], JobRow>('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?')
      .all(limit)
      .map((row) => this.#toRecord(row));
  }

  /** A user's newest jobs first. */
  byUser(userId: string, limit: number): JobRecord<TParams, TResult>[] {
    return this.#db
      .prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
      .all(userId, limit)
      .map((row) => this.#toRecord(row));
  }

  countByState(): Record<JobState, number> {
    const counts: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, delivered: 0, failed: 0, cancelled: 0, timed_out: 0 };
    const rows = this.#db.prepare<[], { state: JobState; n: number }>('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all();
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /** Deletes finished jobs (delivered / failed / cancelled / timed_out) last touched more than olderThanMs ago. */
  prune(olderThanMs: number): number {
    return this.#db.prepare(`DELETE FROM jobs WHERE state IN (${FINAL_LIST}) AND updated_at < ?`).run(this.#now() - olderThanMs).changes;
  }

  /** Blanks interaction tokens that have expired: useless from then on, and secrets are best not kept. */
  forgetExpiredTokens(): number {
    return this.#db
      .prepare('UPDATE jobs SET interaction_token = NULL WHERE interaction_token IS NOT NULL AND token_expires_at IS NOT NULL AND token_expires_at <= ?')
      .run(this.#now()).changes;
  }

  #transition(id: string, from: readonly JobState[], set: string, values: Record<string, unknown> = {}): boolean {
    const states = from.map((s) => `'${s}'`).join(', ');
    const info = this.#db
      .prepare(`UPDATE jobs SET ${set}, updated_at = @now WHERE id = @id AND state IN (${states})`)
      .run({ ...values, id, now: this.#now() });
    return info.changes === 1;
  }

  #update(id: string, set: string, values: Record<string, unknown>): boolean {
    const info = this.#db.prepare(`UPDATE jobs SET ${set}, updated_at = @now WHERE id = @id`).run({ ...values, id, now: this.#now() });
    return info.changes === 1;
  }

  #toRecord(row: JobRow): JobRecord<TParams, TResult> {
    return {
      id: row.id,
      userId: row.user_id,
      guildId: row.guild_id,
      channelId: row.channel_id,
      applicationId: row.application_id,
      interactionToken: row.interaction_token,
      tokenExpiresAt: row.token_expires_at,
      messageId: row.message_id,
      params: JSON.parse(row.params) as TParams,
      result: row.result === null ? null : (JSON.parse(row.result) as TResult),
      state: row.state,
      priority: row.priority,
      attempts: row.attempts,
      error: row.error,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      deliveryClaimedAt: row.delivery_claimed_at,
      deliveredAt: row.delivered_at,
    };
  }
}
