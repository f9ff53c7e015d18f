// SQLite persistence for moderation: per-server settings, block/allow terms, blocked users, the audit log of every
// change, and the job timestamps behind the per-user hourly limit. Every change and its audit entry are written in
// one transaction, so the log cannot miss a change.
//
// Works on any better-sqlite3 Database: migrateModeration() creates its tables idempotently, so it can run on its own
// or be registered with a shared migration registry.
import type Database from 'better-sqlite3';
import type { GuildSettings, Limits, NsfwMode, ServerTermKind, TermList } from './types.ts';

export const HOUR_MS = 3_600_000;

export function migrateModeration(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS moderation_settings (
      guild_id TEXT PRIMARY KEY,
      log_channel_id TEXT,
      nsfw_mode TEXT NOT NULL DEFAULT 'off' CHECK (nsfw_mode IN ('off', 'age-restricted')),
      spoiler_flagged_images INTEGER NOT NULL DEFAULT 0,
      use_automod_rules INTEGER NOT NULL DEFAULT 1,
      max_steps INTEGER,
      max_pixels INTEGER,
      max_images_per_job INTEGER,
      jobs_per_user_per_hour INTEGER,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS moderation_terms (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      guild_id TEXT NOT NULL,
      list TEXT NOT NULL CHECK (list IN ('block', 'allow')),
      kind TEXT NOT NULL CHECK (kind IN ('word', 'phrase', 'regex')),
      term TEXT NOT NULL,
      added_by TEXT NOT NULL,
      added_at INTEGER NOT NULL,
      UNIQUE (guild_id, list, kind, term)
    );
    CREATE TABLE IF NOT EXISTS moderation_blocked_users (
      guild_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      reason TEXT,
      blocked_by TEXT NOT NULL,
      blocked_at INTEGER NOT NULL,
      PRIMARY KEY (guild_id, user_id)
    );
    CREATE TABLE IF NOT EXISTS moderation_audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      guild_id TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      action TEXT NOT NULL,
      detail TEXT NOT NULL,
      at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS moderation_audit_log_by_guild ON moderation_audit_log (guild_id, at);
    CREATE TABLE IF NOT EXISTS moderation_job_log (
      guild_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS moderation_job_log_by_user ON moderation_job_log (guild_id, user_id, at);
  `);
}

export interface StoredTerm {
  id: number;
  guildId: string;
  list: TermList;
  kind: ServerTermKind;
  term: string;
  addedBy: string;
  addedAt: number;
}

export interface BlockedUser {
  guildId: string;
  userId: string;
  reason: string | null;
  blockedBy: string;
  blockedAt: number;
}

export type AuditAction = 'settings.update' | 'term.add' | 'term.remove' | 'user.block' | 'user.unblock';

export interface AuditEntry {
  id: number;
  guildId: string;
  actorId: string;
  action: AuditAction;
  detail: Record<string, unknown>;
  at: number;
}

export interface SettingsPatch {
  logChannelId?: string | null;
  nsfw?: NsfwMode;
  spoilerFlaggedImages?: boolean;
  useAutoModRules?: boolean;
  limits?: Partial<Limits>;
}

interface SettingsRow {
  guild_id: string;
  log_channel_id: string | null;
  nsfw_mode: NsfwMode;
  spoiler_flagged_images: number;
  use_automod_rules: number;
  max_steps: number | null;
  max_pixels: number | null;
  max_images_per_job: number | null;
  jobs_per_user_per_hour: number | null;
}

interface TermRow {
  id: number;
  guild_id: string;
  list: TermList;
  kind: ServerTermKind;
  term: string;
  added_by: string;
  added_at: number;
}

interface BlockedRow {
  guild_id: string;
  user_id: string;
  reason: string | null;
  blocked_by: string;
  blocked_at: number;
}

interface AuditRow {
  id: number;
  guild_id: string;
  actor_id: string;
  action: AuditAction;
  detail: string;
  at: number;
}

export function defaultSettings(guildId: string): GuildSettings {
  return {
    guildId,
    logChannelId: null,
    nsfw: 'off',
    spoilerFlaggedImages: false,
    useAutoModRules: true,
    limits: { maxSteps: null, maxPixels: null, maxImagesPerJob: null, jobsPerUserPerHour: null },
  };
}

function settingsFromRow(row: SettingsRow): GuildSettings {
  return {
    guildId: row.guild_id,
    logChannelId: row.log_channel_id,
    nsfw: row.nsfw_mode,
    spoilerFlaggedImages: row.spoiler_flagged_images !== 0,
    useAutoModRules: row.use_automod_rules !== 0,
    limits: {
      maxSteps: row.max_steps,
      maxPixels: row.max_pixels,
      maxImagesPerJob: row.max_images_per_job,
      jobsPerUserPerHour: row.jobs_per_user_per_hour,
    },
  };
}

function termFromRow(row: TermRow): StoredTerm {
  return { id: row.id, guildId: row.guild_id, list: row.list, kind: row.kind, term: row.term, addedBy: row.added_by, addedAt: row.added_at };
}

function blockedFromRow(row: BlockedRow): BlockedUser {
  return { guildId: row.guild_id, userId: row.user_id, reason: row.reason, blockedBy: row.blocked_by, blockedAt: row.blocked_at };
}

/** The flat list of setting names that differ, with old and new values (the audit detail). */
function diffSettings(before: GuildSettings, after: GuildSettings): Record<string, { from: unknown; to: unknown }> {
  const flat = (s: GuildSettings): Record<string, unknown> => ({
    logChannelId: s.logChannelId,
    nsfw: s.nsfw,
    spoilerFlaggedImages: s.spoilerFlaggedImages,
    useAutoModRules: s.useAutoModRules,
    ...Object.fromEntries(Object.entries(s.limits).map(([k, v]) => [`limits.${k}`, v])),
  });
  const a = flat(before);
  const b = flat(after);
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(b)) if (a[key] !== b[key]) out[key] = { from: a[key], to: b[key] };
  return out;
}

export class ModerationStore {
  private readonly q;

  constructor(readonly db: Database.Database) {
    migrateModeration(db);
    this.q = {
      getSettings: db.prepare<[string], SettingsRow>('SELECT * FROM moderation_settings WHERE guild_id = ?'),
      upsertSettings: db.prepare(`
        INSERT INTO moderation_settings (guild_id, log_channel_id, nsfw_mode, spoiler_flagged_images, use_automod_rules,
          max_steps, max_pixels, max_images_per_job, jobs_per_user_per_hour, updated_at)
        VALUES (@guildId, @logChannelId, @nsfw, @spoiler, @automod, @maxSteps, @maxPixels, @maxImages, @jobsPerHour, @now)
        ON CONFLICT (guild_id) DO UPDATE SET log_channel_id = excluded.log_channel_id, nsfw_mode = excluded.nsfw_mode,
          spoiler_flagged_images = excluded.spoiler_flagged_images, use_automod_rules = excluded.use_automod_rules,
          max_steps = excluded.max_steps, max_pixels = excluded.max_pixels, max_images_per_job = excluded.max_images_per_job,
          jobs_per_user_per_hour = excluded.jobs_per_user_per_hour, updated_at = excluded.updated_at`),
      listTerms: db.prepare<[string], TermRow>('SELECT * FROM moderation_terms WHERE guild_id = ? ORDER BY id'),
      findTerms: db.prepare<[string, string, string], TermRow>('SELECT * FROM moderation_terms WHERE guild_id = ? AND list = ? AND term = ? ORDER BY id'),
      insertTerm: db.prepare('INSERT OR IGNORE INTO moderation_terms (guild_id, list, kind, term, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)'),
      deleteTerm: db.prepare('DELETE FROM moderation_terms WHERE id = ?'),
      getBlocked: db.prepare<[string, string], BlockedRow>('SELECT * FROM moderation_blocked_users WHERE guild_id = ? AND user_id = ?'),
      listBlocked: db.prepare<[string], BlockedRow>('SELECT * FROM moderation_blocked_users WHERE guild_id = ? ORDER BY blocked_at'),
      upsertBlocked: db.prepare(`INSERT INTO moderation_blocked_users (guild_id, user_id, reason, blocked_by, blocked_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, blocked_by = excluded.blocked_by, blocked_at = excluded.blocked_at`),
      deleteBlocked: db.prepare('DELETE FROM moderation_blocked_users WHERE guild_id = ? AND user_id = ?'),
      insertAudit: db.prepare('INSERT INTO moderation_audit_log (guild_id, actor_id, action, detail, at) VALUES (?, ?, ?, ?, ?)'),
      listAudit: db.prepare<[string, number], AuditRow>('SELECT * FROM moderation_audit_log WHERE guild_id = ? ORDER BY at DESC, id DESC LIMIT ?'),
      insertJob: db.prepare('INSERT INTO moderation_job_log (guild_id, user_id, at) VALUES (?, ?, ?)'),
      jobsSince: db.prepare<[string, string, number], { at: number }>('SELECT at FROM moderation_job_log WHERE guild_id = ? AND user_id = ? AND at > ? ORDER BY at'),
      pruneUserJobs: db.prepare('DELETE FROM moderation_job_log WHERE guild_id = ? AND user_id = ? AND at <= ?'),
      pruneJobs: db.prepare('DELETE FROM moderation_job_log WHERE at <= ?'),
    };
  }

  getSettings(guildId: string): GuildSettings {
    const row = this.q.getSettings.get(guildId);
    return row ? settingsFromRow(row) : defaultSettings(guildId);
  }

  /** Applies a patch and records what changed in the audit log. Returns the new settings and the changed names. */
  updateSettings(guildId: string, patch: SettingsPatch, actorId: string, now: number): { settings: GuildSettings; changed: string[] } {
    return this.db.transaction(() => {
      const before = this.getSettings(guildId);
      const after: GuildSettings = {
        ...before,
        ...(patch.logChannelId !== undefined ? { logChannelId: patch.logChannelId } : {}),
        ...(patch.nsfw !== undefined ? { nsfw: patch.nsfw } : {}),
        ...(patch.spoilerFlaggedImages !== undefined ? { spoilerFlaggedImages: patch.spoilerFlaggedImages } : {}),
        ...(patch.useAutoModRules !== undefined ? { useAutoModRules: patch.useAutoModRules } : {}),
        limits: { ...before.limits },
      };
      for (const [key, value] of Object.entries(patch.limits ?? {}) as Array<[keyof Limits, number | null | undefined]>) {
        if (value !== undefined) after.limits[key] = value;
      }
      const diff = diffSettings(before, after);
      const changed = Object.keys(diff);
      if (changed.length === 0) return { settings: before, changed };
      this.q.upsertSettings.run({
        guildId,
        logChannelId: after.logChannelId,
        nsfw: after.nsfw,
        spoiler: after.spoilerFlaggedImages ? 1 : 0,
        automod: after.useAutoModRules ? 1 : 0,
        maxSteps: after.limits.maxSteps,
        maxPixels: after.limits.maxPixels,
        maxImages: after.limits.maxImagesPerJob,
        jobsPerHour: after.limits.jobsPerUserPerHour,
        now,
      });
      this.audit(guildId, actorId, 'settings.update', diff, now);
      return { settings: after, changed };
    })();
  }

  listTerms(guildId: string, list?: TermList): StoredTerm[] {
    const all = this.q.listTerms.all(guildId).map(termFromRow);
    return list ? all.filter((t) => t.list === list) : all;
  }

  /** Adds a term; null when the same term is already on that list. */
  addTerm(guildId: string, entry: { list: TermList; kind: ServerTermKind; term: string }, actorId: string, now: number): StoredTerm | null {
    return this.db.transaction(() => {
      const info = this.q.insertTerm.run(guildId, entry.list, entry.kind, entry.term, actorId, now);
      if (info.changes === 0) return null;
      this.audit(guildId, actorId, 'term.add', { ...entry }, now);
      return { id: Number(info.lastInsertRowid), guildId, ...entry, addedBy: actorId, addedAt: now };
    })();
  }

  /** Removes a term from a list (of any kind unless `kind` is given); returns what was removed. */
  removeTerm(guildId: string, entry: { list: TermList; term: string; kind?: ServerTermKind }, actorId: string, now: number): StoredTerm[] {
    return this.db.transaction(() => {
      const rows = this.q.findTerms.all(guildId, entry.list, entry.term).filter((r) => !entry.kind || r.kind === entry.kind);
      for (const row of rows) {
        this.q.deleteTerm.run(row.id);
        this.audit(guildId, actorId, 'term.remove', { list: row.list, kind: row.kind, term: row.term }, now);
      }
      return rows.map(termFromRow);
    })();
  }

  getBlockedUser(guildId: string, userId: string): BlockedUser | null {
    const row = this.q.getBlocked.get(guildId, userId);
    return row ? blockedFromRow(row) : null;
  }

  listBlockedUsers(guildId: string): BlockedUser[] {
    return this.q.listBlocked.all(guildId).map(blockedFromRow);
  }

  blockUser(guildId: string, userId: string, reason: string | null, actorId: string, now: number): BlockedUser {
    return this.db.transaction(() => {
      this.q.upsertBlocked.run(guildId, userId, reason, actorId, now);
      this.audit(guildId, actorId, 'user.block', { userId, reason }, now);
      return { guildId, userId, reason, blockedBy: actorId, blockedAt: now };
    })();
  }

  /** False when the user was not blocked (nothing is logged then). */
  unblockUser(guildId: string, userId: string, actorId: string, now: number): boolean {
    return this.db.transaction(() => {
      const info = this.q.deleteBlocked.run(guildId, userId);
      if (info.changes === 0) return false;
      this.audit(guildId, actorId, 'user.unblock', { userId }, now);
      return true;
    })();
  }

  listAudit(guildId: string, limit = 50): AuditEntry[] {
    return this.q.listAudit.all(guildId, limit).map((r) => ({
      id: r.id,
      guildId: r.guild_id,
      actorId: r.actor_id,
      action: r.action,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      at: r.at,
    }));
  }

  /** Records a started job, dropping this user's timestamps that no sliding window can count any more. */
  recordJob(guildId: string, userId: string, at: number): void {
    this.db.transaction(() => {
      this.q.insertJob.run(guildId, userId, at);
      this.q.pruneUserJobs.run(guildId, userId, at - HOUR_MS);
    })();
  }

  /** The user's job timestamps after `since`, oldest first. */
  jobsSince(guildId: string, userId: string, since: number): number[] {
    return this.q.jobsSince.all(guildId, userId, since).map((r) => r.at);
  }

  /** Deletes job timestamps older than the window for everyone (for a periodic sweep). */
  pruneJobs(now: number): number {
    return this.q.pruneJobs.run(now - HOUR_MS).changes;
  }

  private audit(guildId: string, actorId: string, action: AuditAction, detail: Record<string, unknown>, at: number): void {
    this.q.insertAudit.run(guildId, actorId, action, JSON.stringify(detail), at);
  }
}
