// A record of every image the bot posted, so moderators can find who made an image (by its message) and take it
// down, and users can list their own. Rows outlive pruned jobs (job_id is then set to NULL by the foreign key).
// Deleting a post marks its rows deleted rather than dropping them: the moderation trail stays; deleteByUser()
// exists for real data-removal requests.
import type { Database } from 'better-sqlite3';

export interface NewGeneration {
  jobId?: string | null;
  guildId?: string | null;
  channelId: string;
  userId: string;
  messageId: string;
  /** https://discord.com/channels/<guild or @me>/<channel>/<message> */
  messageLink?: string | null;
  /** Which image of the message (0-3) this row describes. */
  imageIndex?: number;
  prompt: string;
  negativePrompt?: string | null;
  seed: number;
  steps: number;
  sampler?: string | null;
  model?: string | null;
  width?: number | null;
  height?: number | null;
  filePath?: string | null;
  /** Epoch ms; default now. */
  createdAt?: number;
}

export interface GenerationRecord {
  id: number;
  jobId: string | null;
  guildId: string | null;
  channelId: string;
  userId: string;
  messageId: string;
  messageLink: string | null;
  imageIndex: number;
  prompt: string;
  negativePrompt: string | null;
  seed: number;
  steps: number;
  sampler: string | null;
  model: string | null;
  width: number | null;
  height: number | null;
  filePath: string | null;
  createdAt: number;
  deleted: boolean;
  deletedAt: number | null;
  deletedBy: string | null;
}

export interface ByUserOptions {
  /** Default 25. */
  limit?: number;
  /** Only this guild's posts. */
  guildId?: string;
  /** Include posts marked deleted; default false. */
  includeDeleted?: boolean;
  /** Only rows created before this epoch ms (paging). */
  before?: number;
}

interface GenerationRow {
  id: number;
  job_id: string | null;
  guild_id: string | null;
  channel_id: string;
  user_id: string;
  message_id: string;
  message_link: string | null;
  image_index: number;
  prompt: string;
  negative_prompt: string | null;
  seed: number;
  steps: number;
  sampler: string | null;
  model: string | null;
  width: number | null;
  height: number | null;
  file_path: string | null;
  created_at: number;
  deleted: number;
  deleted_at: number | null;
  deleted_by: string | null;
}

export class GenerationStore {
  readonly #db: Database;
  readonly #now: () => number;

  constructor(db: Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  insert(generation: NewGeneration): GenerationRecord {
    const info = this.#db
      .prepare(
        `INSERT INTO generations (job_id, guild_id, channel_id, user_id, message_id, message_link, image_index, prompt,
                                  negative_prompt, seed, steps, sampler, model, width, height, file_path, created_at)
         VALUES (@jobId, @guildId, @channelId, @userId, @messageId, @messageLink, @imageIndex, @prompt,
                 @negativePrompt, @seed, @steps, @sampler, @model, @width, @height, @filePath, @createdAt)`,
      )
      .run({
        jobId: generation.jobId ?? null,
        guildId: generation.guildId ?? null,
        channelId: generation.channelId,
        userId: generation.userId,
        messageId: generation.messageId,
        messageLink: generation.messageLink ?? null,
        imageIndex: generation.imageIndex ?? 0,
        prompt: generation.prompt,
        negativePrompt: generation.negativePrompt ?? null,
        seed: generation.seed,
        steps: generation.steps,
        sampler: generation.sampler ?? null,
        model: generation.model ?? null,
        width: generation.width ?? null,
        height: generation.height ?? null,
        filePath: generation.filePath ?? null,
        createdAt: generation.createdAt ?? this.#now(),
      });
    return this.get(Number(info.lastInsertRowid))!;
  }

  /** Inserts all images of one post together (all or none). */
  insertMany(generations: readonly NewGeneration[]): GenerationRecord[] {
    return this.#db.transaction(() => generations.map((g) => this.insert(g)))();
  }

  get(id: number): GenerationRecord | undefined {
    const row = this.#db.prepare<[number], GenerationRow>('SELECT * FROM generations WHERE id = ?').get(id);
    return row ? toRecord(row) : undefined;
  }

  /** Every image of a posted message, in image order (deleted ones included: moderators need the trail). */
  byMessageId(messageId: string): GenerationRecord[] {
    return this.#db
      .prepare<[string], GenerationRow>('SELECT * FROM generations WHERE message_id = ? ORDER BY image_index, id')
      .all(messageId)
      .map(toRecord);
  }

  byJob(jobId: string): GenerationRecord[] {
    return this.#db
      .prepare<[string], GenerationRow>('SELECT * FROM generations WHERE job_id = ? ORDER BY image_index, id')
      .all(jobId)
      .map(toRecord);
  }

  /** A user's images, newest first. */
  byUser(userId: string, options: ByUserOptions = {}): GenerationRecord[] {
    const where = ['user_id = @userId'];
    if (options.guildId !== undefined) where.push('guild_id = @guildId');
    if (!options.includeDeleted) where.push('deleted = 0');
    if (options.before !== undefined) where.push('created_at < @before');
    return this.#db
      .prepare<[Record<string, unknown>], GenerationRow>(
        `SELECT * FROM generations WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT @limit`,
      )
      .all({ userId, guildId: options.guildId, before: options.before, limit: options.limit ?? 25 })
      .map(toRecord);
  }

  /** Marks a post's rows deleted (once; later calls change nothing). Returns the number of rows marked. */
  markDeletedByMessage(messageId: string, deletedBy: string | null = null): number {
    return this.#db
      .prepare('UPDATE generations SET deleted = 1, deleted_at = ?, deleted_by = ? WHERE message_id = ? AND deleted = 0')
      .run(this.#now(), deletedBy, messageId).changes;
  }

  /** Removes a post's rows outright. */
  deleteByMessage(messageId: string): number {
    return this.#db.prepare('DELETE FROM generations WHERE message_id = ?').run(messageId).changes;
  }

  /** Removes every row of a user (data-removal request). */
  deleteByUser(userId: string): number {
    return this.#db.prepare('DELETE FROM generations WHERE user_id = ?').run(userId).changes;
  }
}

function toRecord(row: GenerationRow): GenerationRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    messageId: row.message_id,
    messageLink: row.message_link,
    imageIndex: row.image_index,
    prompt: row.prompt,
    negativePrompt: row.negative_prompt,
    seed: row.seed,
    steps: row.steps,
    sampler: row.sampler,
    model: row.model,
    width: row.width,
    height: row.height,
    filePath: row.file_path,
    createdAt: row.created_at,
    deleted: row.deleted === 1,
    deletedAt: row.deleted_at,
    deletedBy: row.deleted_by,
  };
}
