// The moderation facade the bot uses: prompt checks, blocked users, the hourly job limit, and settings/term changes
// (each written to the audit log by the store). Command handlers stay thin: everything a moderator can get wrong
// comes back as { ok: false, reason } with a sentence to show them.
//
// Compiled matchers are cached per server and dropped whenever that server's terms, AutoMod rules or settings change
// through this service. The cache assumes this process is the only writer of the moderation tables.
import type Database from 'better-sqlite3';
import { termsFromAutoModRules, type AutoModRuleInput, type AutoModTerms } from './automod.ts';
import { builtinListOf } from './builtinLists.ts';
import { PromptMatcher } from './promptMatcher.ts';
import { HOUR_MS, ModerationStore, type AuditEntry, type BlockedUser, type StoredTerm } from './store.ts';
import { compileRegexTerm, literalPattern } from './termPattern.ts';
import type { GuildSettings, Limits, NsfwMode, ServerTermKind, TermList, TermProblem, TermSpec, Verdict } from './types.ts';

export interface ModerationServiceOptions {
  /** Limits for every server; a server's own limits can only tighten them. */
  globalLimits?: Partial<Limits>;
  /** How many servers' compiled matchers to keep in memory. */
  maxCachedGuilds?: number;
  /** Clock (ms since the epoch), replaceable in tests. */
  now?: () => number;
}

export interface CheckPromptInput {
  /** null in DMs: only the built-in lists apply there, and NSFW is never allowed. */
  guildId: string | null;
  channelIsAgeRestricted: boolean;
  /** The positive prompt, or remix / reply-with-image text. */
  prompt: string;
  negative?: string | null;
}

export interface RateLimitResult {
  allowed: boolean;
  /** The effective jobs-per-hour limit, null when there is none. */
  limit: number | null;
  /** Jobs this user started in the last hour. */
  used: number;
  /** When not allowed: how long until the oldest counted job leaves the window. */
  retryAfterMs: number;
}

export type Result<T> = ({ ok: true } & T) | { ok: false; reason: string };

export const MAX_TERM_LENGTH = 100;
const LIMIT_KEYS = ['maxSteps', 'maxPixels', 'maxImagesPerJob', 'jobsPerUserPerHour'] as const satisfies ReadonlyArray<keyof Limits>;
const NO_LIMITS: Limits = { maxSteps: null, maxPixels: null, maxImagesPerJob: null, jobsPerUserPerHour: null };

interface CachedGuild {
  settings: GuildSettings;
  matcher: PromptMatcher;
}

/** The tighter of two limits, where null means "none". */
function tighter(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export class ModerationService {
  readonly store: ModerationStore;
  private readonly globalLimits: Limits;
  private readonly maxCachedGuilds: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CachedGuild>();
  private readonly autoModTerms = new Map<string, AutoModTerms>();

  constructor(db: Database.Database, options: ModerationServiceOptions = {}) {
    this.store = new ModerationStore(db);
    this.globalLimits = { ...NO_LIMITS, ...options.globalLimits };
    this.maxCachedGuilds = options.maxCachedGuilds ?? 200;
    this.now = options.now ?? Date.now;
  }

  // ---- prompts ----

  checkPrompt(input: CheckPromptInput): Verdict {
    const guild = this.guild(input.guildId);
    const nsfwAllowed = input.guildId !== null && guild.settings.nsfw === 'age-restricted' && input.channelIsAgeRestricted;
    return guild.matcher.check({ prompt: input.prompt, negative: input.negative ?? undefined, nsfwAllowed });
  }

  /** Stored or AutoMod terms of a server that could not be compiled (for the moderators). */
  termProblems(guildId: string): TermProblem[] {
    return this.guild(guildId).matcher.problems;
  }

  /**
   * Gives the service a server's current AutoMod rules (fetched by the bot at start-up and on AutoMod rule events).
   * Returns the converted terms, including the patterns that had to be skipped and why.
   */
  setAutoModRules(guildId: string, rules: readonly AutoModRuleInput[]): AutoModTerms {
    const terms = termsFromAutoModRules(rules);
    this.autoModTerms.set(guildId, terms);
    this.invalidate(guildId);
    return terms;
  }

  // ---- users ----

  isUserBlocked(guildId: string, userId: string): boolean {
    return this.store.getBlockedUser(guildId, userId) !== null;
  }

  getBlockedUser(guildId: string, userId: string): BlockedUser | null {
    return this.store.getBlockedUser(guildId, userId);
  }

  listBlockedUsers(guildId: string): BlockedUser[] {
    return this.store.listBlockedUsers(guildId);
  }

  blockUser(guildId: string, userId: string, reason: string | null, actorId: string): BlockedUser {
    return this.store.blockUser(guildId, userId, reason, actorId, this.now());
  }

  unblockUser(guildId: string, userId: string, actorId: string): boolean {
    return this.store.unblockUser(guildId, userId, actorId, this.now());
  }

  // ---- hourly job limit (sliding window over recorded job start times) ----

  checkRateLimit(guildId: string, userId: string, now: number = this.now()): RateLimitResult {
    const limit = this.effectiveLimits(guildId).jobsPerUserPerHour;
    const stamps = this.store.jobsSince(guildId, userId, now - HOUR_MS);
    const used = stamps.length;
    if (limit === null || used < limit) return { allowed: true, limit, used, retryAfterMs: 0 };
    // The window must lose (used - limit + 1) jobs before one more fits: wait for the one at index used - limit.
    return { allowed: false, limit, used, retryAfterMs: stamps[used - limit]! + HOUR_MS - now };
  }

  recordJob(guildId: string, userId: string, now: number = this.now()): void {
    this.store.recordJob(guildId, userId, now);
  }

  /** Checks the limit and, when allowed, records the job, in one transaction (no double spend between the two). */
  tryStartJob(guildId: string, userId: string, now: number = this.now()): RateLimitResult {
    return this.store.db.transaction(() => {
      const result = this.checkRateLimit(guildId, userId, now);
      if (result.allowed) {
        this.store.recordJob(guildId, userId, now);
        return { ...result, used: result.used + 1 };
      }
      return result;
    }).immediate();
  }

  // ---- settings ----

  getSettings(guildId: string): GuildSettings {
    return this.guild(guildId).settings;
  }

  /** The limits a job in this server runs under: for each limit, the tighter of the global and the server value. */
  effectiveLimits(guildId: string | null, globalLimits: Partial<Limits> = this.globalLimits): Limits {
    const global: Limits = { ...NO_LIMITS, ...globalLimits };
    if (guildId === null) return global;
    const own = this.getSettings(guildId).limits;
    const out = { ...NO_LIMITS };
    for (const key of LIMIT_KEYS) out[key] = tighter(global[key] ?? null, own[key]);
    return out;
  }

  setLogChannel(guildId: string, channelId: string | null, actorId: string): GuildSettings {
    return this.update(guildId, { logChannelId: channelId }, actorId);
  }

  setNsfwMode(guildId: string, mode: NsfwMode, actorId: string): GuildSettings {
    return this.update(guildId, { nsfw: mode }, actorId);
  }

  setSpoilerFlaggedImages(guildId: string, enabled: boolean, actorId: string): GuildSettings {
    return this.update(guildId, { spoilerFlaggedImages: enabled }, actorId);
  }

  setUseAutoModRules(guildId: string, enabled: boolean, actorId: string): GuildSettings {
    return this.update(guildId, { useAutoModRules: enabled }, actorId);
  }

  /** Sets some of the server's limits; null removes a server limit (the global one still applies). */
  setLimits(guildId: string, limits: Partial<Limits>, actorId: string): Result<{ settings: GuildSettings }> {
    for (const key of LIMIT_KEYS) {
      const value = limits[key];
      if (value === undefined || value === null) continue;
      if (!Number.isSafeInteger(value) || value < 1) return { ok: false, reason: `${key} must be a whole number of at least 1 (or empty for no server limit)` };
    }
    return { ok: true, settings: this.update(guildId, { limits }, actorId) };
  }

  listAudit(guildId: string, limit = 50): AuditEntry[] {
    return this.store.listAudit(guildId, limit);
  }

  // ---- terms ----

  listTerms(guildId: string, list?: TermList): StoredTerm[] {
    return this.store.listTerms(guildId, list);
  }

  addTerm(guildId: string, entry: { list: TermList; kind: ServerTermKind; term: string }, actorId: string): Result<{ term: StoredTerm }> {
    const term = entry.term.trim();
    // A "word" with spaces in it is a phrase; storing it as one keeps the list honest.
    const kind: ServerTermKind = entry.kind === 'word' && /\s/u.test(term) ? 'phrase' : entry.kind;
    if (term.length === 0) return { ok: false, reason: 'The term is empty.' };
    if (kind !== 'regex' && term.length > MAX_TERM_LENGTH) return { ok: false, reason: `Terms are limited to ${MAX_TERM_LENGTH} characters.` };
    if (kind === 'regex') {
      const checked = compileRegexTerm(term);
      if (!checked.ok) return { ok: false, reason: `That regex cannot be used: ${checked.reason}.` };
    } else {
      const checked = literalPattern(term, kind);
      if (!checked.ok) return { ok: false, reason: `That term cannot be used: ${checked.reason}.` };
    }
    if (entry.list === 'allow' && kind !== 'regex') {
      const builtin = builtinListOf(term);
      if (builtin === 'default') return { ok: false, reason: `"${term}" is on the built-in list, which always applies and cannot be allowlisted.` };
      if (builtin === 'nsfw') return { ok: false, reason: `"${term}" is on the built-in NSFW list; it is allowed in age-restricted channels when the server's NSFW setting is on.` };
    }
    const stored = this.store.addTerm(guildId, { list: entry.list, kind, term }, actorId, this.now());
    if (!stored) return { ok: false, reason: `"${term}" is already on the ${entry.list} list.` };
    this.invalidate(guildId);
    return { ok: true, term: stored };
  }

  removeTerm(guildId: string, entry: { list: TermList; term: string; kind?: ServerTermKind }, actorId: string): Result<{ removed: StoredTerm[] }> {
    const term = entry.term.trim();
    const removed = this.store.removeTerm(guildId, { list: entry.list, term, kind: entry.kind }, actorId, this.now());
    if (removed.length === 0) {
      const builtin = builtinListOf(term);
      if (builtin === 'default') return { ok: false, reason: `"${term}" is on the built-in list, which cannot be removed.` };
      if (builtin === 'nsfw') return { ok: false, reason: `"${term}" is on the built-in NSFW list; use the NSFW setting instead.` };
      return { ok: false, reason: `"${term}" is not on the ${entry.list} list.` };
    }
    this.invalidate(guildId);
    return { ok: true, removed };
  }

  /** Drops a server's cached settings and matcher (the next check rebuilds them). */
  invalidate(guildId: string): void {
    this.cache.delete(guildId);
  }

  // ---- internals ----

  private update(guildId: string, patch: Parameters<ModerationStore['updateSettings']>[1], actorId: string): GuildSettings {
    const { settings, changed } = this.store.updateSettings(guildId, patch, actorId, this.now());
    if (changed.length > 0) this.invalidate(guildId);
    return settings;
  }

  private guild(guildId: string | null): CachedGuild {
    const key = guildId ?? '';
    const hit = this.cache.get(key);
    if (hit) {
      // Re-insert to keep the Map in least-recently-used order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const entry = guildId === null ? this.buildDirectMessages() : this.build(guildId);
    this.cache.set(key, entry);
    if (this.cache.size > this.maxCachedGuilds) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  private build(guildId: string): CachedGuild {
    const settings = this.store.getSettings(guildId);
    const block: TermSpec[] = [];
    const allow: TermSpec[] = [];
    for (const t of this.store.listTerms(guildId)) {
      (t.list === 'block' ? block : allow).push({ source: 'blocklist', kind: t.kind, term: t.term });
    }
    const autoMod = settings.useAutoModRules ? this.autoModTerms.get(guildId) : undefined;
    if (autoMod) {
      block.push(...autoMod.block);
      allow.push(...autoMod.allow);
    }
    return { settings, matcher: new PromptMatcher({ block, allow }) };
  }

  private buildDirectMessages(): CachedGuild {
    const settings: GuildSettings = { ...this.store.getSettings(''), guildId: '' };
    return { settings, matcher: new PromptMatcher({ block: [], allow: [] }) };
  }
}
