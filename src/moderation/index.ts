// Public entry point of the moderation engine.
export { ModerationService, MAX_TERM_LENGTH } from './service.ts';
export type { CheckPromptInput, ModerationServiceOptions, RateLimitResult, Result } from './service.ts';
export { ModerationStore, migrateModeration, defaultSettings, HOUR_MS } from './store.ts';
export type { AuditAction, AuditEntry, BlockedUser, SettingsPatch, StoredTerm } from './store.ts';
export { termsFromAutoModRules, parseAutoModKeyword } from './automod.ts';
export type { AutoModRuleInput, AutoModSkip, AutoModTerms } from './automod.ts';
export { PromptMatcher } from './promptMatcher.ts';
export type { GuildTerms, PromptCheck } from './promptMatcher.ts';
export { compileRegexTerm, literalPattern } from './termPattern.ts';
export { PreparedText } from './normalize.ts';
export type * from './types.ts';
