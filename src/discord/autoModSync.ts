// Keeps the moderation service's copy of each server's Discord AutoMod keyword rules current, so a server's one
// keyword list also applies to prompts. Rules are fetched over REST (the bot needs Manage Server for that) at start,
// when the bot joins a server, when /mod automod is turned on, and on the gateway's AutoMod rule events (the client
// asks for the AutoModerationConfiguration intent). A failed fetch keeps the rules the bot already had.
import { Events, Routes } from 'discord.js';
import type { BotContext } from '../bot/types.ts';
import type { AutoModRuleInput, AutoModSkip, ModerationService } from '../moderation/index.ts';
import { isMissingPermission } from './jobMessage.ts';
import { autoModRulesReply, parseReply } from './restReplies.ts';

export interface AutoModStatus {
  /** When the rules were last fetched successfully; null when never. */
  fetchedAt: number | null;
  rules: number;
  blockTerms: number;
  allowTerms: number;
  /** Patterns that could not be used, and why. */
  skipped: AutoModSkip[];
  /** Why the last fetch failed, in words for the moderators. */
  error: string | null;
}

// Per moderation service (one per running bot), so a restarted bot in the same process starts clean.
const statuses = new WeakMap<ModerationService, Map<string, AutoModStatus>>();

function statusMap(moderation: ModerationService): Map<string, AutoModStatus> {
  let map = statuses.get(moderation);
  if (!map) statuses.set(moderation, (map = new Map()));
  return map;
}

export function autoModStatus(ctx: Pick<BotContext, 'moderation'>, guildId: string): AutoModStatus | undefined {
  return statusMap(ctx.moderation).get(guildId);
}

/** Fetches a server's AutoMod rules and hands them to the moderation service. Never throws. */
export async function refreshAutoModRules(ctx: Pick<BotContext, 'client' | 'moderation' | 'log'>, guildId: string): Promise<AutoModStatus> {
  const map = statusMap(ctx.moderation);
  const previous = map.get(guildId);
  try {
    const rules: AutoModRuleInput[] = parseReply(autoModRulesReply, await ctx.client.rest.get(Routes.guildAutoModerationRules(guildId)), "reading the server's AutoMod rules");
    const terms = ctx.moderation.setAutoModRules(guildId, rules);
    const status: AutoModStatus = { fetchedAt: Date.now(), rules: rules.length, blockTerms: terms.block.length, allowTerms: terms.allow.length, skipped: terms.skipped, error: null };
    map.set(guildId, status);
    ctx.log.debug({ guildId, rules: rules.length, terms: terms.block.length, skipped: terms.skipped.length }, 'AutoMod rules loaded');
    return status;
  } catch (err) {
    const error = isMissingPermission(err)
      ? 'The bot cannot read this server’s AutoMod rules: it needs the Manage Server permission.'
      : `Could not fetch the AutoMod rules: ${err instanceof Error ? err.message : String(err)}`;
    ctx.log.warn({ guildId, err: err instanceof Error ? err.message : String(err) }, 'could not fetch AutoMod rules');
    const status: AutoModStatus = { ...(previous ?? { fetchedAt: null, rules: 0, blockTerms: 0, allowTerms: 0, skipped: [] }), error };
    map.set(guildId, status);
    return status;
  }
}

/** At start: load the rules of every server that uses them, and follow rule changes and new servers from then on. */
export async function startAutoModSync(ctx: BotContext): Promise<void> {
  const refreshIfUsed = (guildId: string): Promise<unknown> => (ctx.moderation.getSettings(guildId).useAutoModRules ? refreshAutoModRules(ctx, guildId) : Promise.resolve());
  const guildIds = [...ctx.client.guilds.cache.keys()];
  // A few at a time: one REST call per server, and a large bot should not hold up its start on them one by one.
  for (let i = 0; i < guildIds.length; i += 5) await Promise.all(guildIds.slice(i, i + 5).map(refreshIfUsed));
  const onRuleChange = (rule: { guild: { id: string } }) => void refreshIfUsed(rule.guild.id);
  ctx.client.on(Events.AutoModerationRuleCreate, onRuleChange);
  ctx.client.on(Events.AutoModerationRuleUpdate, (_old, rule) => onRuleChange(rule));
  ctx.client.on(Events.AutoModerationRuleDelete, onRuleChange);
  ctx.client.on(Events.GuildCreate, (guild) => void refreshIfUsed(guild.id));
}
