// The server's moderation log channel: an entry for every refused prompt and every image the safety checker flagged,
// with buttons to block the user, delete the image, or dismiss the entry. Installed as the delivery layer's
// ModerationReporter. A log channel the bot cannot post in (deleted, permission removed) is logged as a warning and
// otherwise ignored: moderation must never break image generation.
import { ButtonStyle, ComponentType, RESTJSONErrorCodes, Routes, type APIActionRowComponent, type APIButtonComponent, type APIEmbed, type ButtonInteraction } from 'discord.js';
import type { BotContext, ComponentHandler } from '../bot/types.ts';
import type { JobRow } from '../jobs/service.ts';
import type { Verdict } from '../moderation/index.ts';
import { clip, discordTime, hasManageGuild, NEEDS_MANAGE_GUILD, replyPrivately, resolvedEntry } from './modShared.ts';
import { discordCode, isMissingPermission } from './jobMessage.ts';
import { deleteImageId } from './customIds.ts';
import type { ModerationReporter } from './delivery.ts';
import { NO_PINGS, quotePrompt, type MessageBody } from './messageBodies.ts';
import type { Requester } from './requester.ts';

const PREFIX = 'modlog';

export function blockButtonId(userId: string): string {
  return `${PREFIX}:block:${userId}`;
}
export const DISMISS_ID = `${PREFIX}:dismiss`;

const SOURCE_LABEL: Record<string, string> = {
  default: 'built-in blocklist',
  nsfw: 'built-in NSFW list',
  blocklist: 'server blocklist',
  automod: 'AutoMod rule',
};

function actionRow(buttons: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> {
  return { type: ComponentType.ActionRow, components: buttons };
}

function blockButton(userId: string): APIButtonComponent {
  return { type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Block user', custom_id: blockButtonId(userId) };
}

const dismissButton: APIButtonComponent = { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Dismiss', custom_id: DISMISS_ID };

/** The log entry for a refused prompt: who, where, what, which rule, when. */
export function blockedPromptEntry(who: Requester, prompt: string, negative: string | undefined, verdict: Verdict, at: number): MessageBody {
  const rule = verdict.rule;
  const fields: APIEmbed['fields'] = [
    { name: 'User', value: `<@${who.userId}> (\`${who.userId}\`)`, inline: true },
    { name: 'Channel', value: `<#${who.channelId}>`, inline: true },
    { name: 'Time', value: discordTime(at), inline: true },
    { name: 'Prompt', value: quotePrompt(prompt, 1000) },
  ];
  if (negative) fields.push({ name: 'Negative prompt', value: quotePrompt(negative, 1000) });
  fields.push({
    name: 'Matched',
    value: clip(rule ? `${quotePrompt(rule.term, 200)} (${SOURCE_LABEL[rule.source] ?? rule.source}, ${rule.kind}) in the ${rule.field === 'negative' ? 'negative prompt' : 'prompt'}${verdict.matchedText ? `, as ${quotePrompt(verdict.matchedText, 200)}` : ''}` : 'a blocked term', 1024),
  });
  return {
    embeds: [{ title: '🚫 Prompt refused', color: 0xed4245, fields, timestamp: new Date(at).toISOString() }],
    components: [actionRow([blockButton(who.userId), dismissButton])],
    allowed_mentions: NO_PINGS,
  };
}

/** The log entry for an image the safety checker flagged. */
export function flaggedImageEntry(job: JobRow, action: 'withheld' | 'spoilered', messageLink: string | undefined, at: number): MessageBody {
  const seeds = job.result?.files.filter((f) => f.nsfw).map((f) => f.seed) ?? [];
  const fields: APIEmbed['fields'] = [
    { name: 'User', value: `<@${job.userId}> (\`${job.userId}\`)`, inline: true },
    { name: 'Channel', value: job.channelId ? `<#${job.channelId}>` : 'unknown', inline: true },
    { name: 'Time', value: discordTime(at), inline: true },
    { name: 'Prompt', value: quotePrompt(job.params.prompt, 1000) },
  ];
  if (job.params.negativePrompt) fields.push({ name: 'Negative prompt', value: quotePrompt(job.params.negativePrompt, 1000) });
  fields.push(
    { name: 'Flagged', value: `${seeds.length} image(s), seed ${seeds.join(', ') || '?'}: ${action === 'withheld' ? 'withheld (not posted)' : 'posted behind a spoiler'}`, inline: false },
  );
  if (messageLink) fields.push({ name: 'Message', value: messageLink });
  const messageId = messageLink ? /\/(\d{15,21})$/.exec(messageLink)?.[1] : undefined;
  const buttons = [blockButton(job.userId)];
  if (messageId) buttons.push({ type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Delete image', custom_id: deleteImageId(messageId) });
  buttons.push(dismissButton);
  return {
    embeds: [{ title: `⚠️ Image flagged by the safety checker (${action})`, color: 0xfee75c, fields, footer: { text: `job ${job.id}` }, timestamp: new Date(at).toISOString() }],
    components: [actionRow(buttons)],
    allowed_mentions: NO_PINGS,
  };
}

export class ModerationLog implements ModerationReporter {
  constructor(private readonly ctx: Pick<BotContext, 'client' | 'moderation' | 'log'>) {}

  async blockedPrompt(who: Requester, prompt: string, negative: string | undefined, verdict: Verdict): Promise<void> {
    if (!who.guildId) return;
    // Not awaited: the refused user's ephemeral answer must not wait on the log channel (a rate-limited or slow post
    // could push it past Discord's 3-second deadline). post() never rejects.
    void this.post(who.guildId, blockedPromptEntry(who, prompt, negative, verdict, Date.now()));
  }

  async flaggedImage(job: JobRow, action: 'withheld' | 'spoilered', messageLink: string | undefined): Promise<void> {
    if (!job.guildId) return;
    await this.post(job.guildId, flaggedImageEntry(job, action, messageLink, Date.now()));
  }

  /** Posts an entry to the server's log channel, if it has one; failures are logged, never thrown. */
  private async post(guildId: string, body: MessageBody): Promise<void> {
    let channelId: string | null = null;
    try {
      channelId = this.ctx.moderation.getSettings(guildId).logChannelId;
      if (!channelId) return;
      await this.ctx.client.rest.post(Routes.channelMessages(channelId), { body });
    } catch (err) {
      if (isMissingPermission(err)) {
        this.ctx.log.warn({ guildId, channelId }, 'cannot post to the moderation log channel: the bot needs View Channel, Send Messages and Embed Links there');
      } else if (discordCode(err) === RESTJSONErrorCodes.UnknownChannel) {
        this.ctx.log.warn({ guildId, channelId }, 'the moderation log channel no longer exists; set a new one with /mod logchannel set');
      } else {
        this.ctx.log.warn({ guildId, channelId, err: err instanceof Error ? err.message : String(err) }, 'could not post to the moderation log channel');
      }
    }
  }
}

/** The reason stored with a block made from a log entry: what the entry was about. */
function reasonFromEntry(interaction: ButtonInteraction): string {
  const embed = interaction.message.embeds[0];
  const matched = embed?.fields.find((f) => f.name === 'Matched' || f.name === 'Flagged')?.value;
  return clip(`From the moderation log: ${embed?.title ?? 'entry'}${matched ? ` — ${matched}` : ''}`, 300);
}

/** Block user / Dismiss on log entries; only members with Manage Server may use them. */
export const moderationLogButtons: ComponentHandler = {
  prefix: PREFIX,
  async button(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
    if (!interaction.guildId) return replyPrivately(interaction, 'This button only works in a server.');
    if (!hasManageGuild(interaction)) return replyPrivately(interaction, NEEDS_MANAGE_GUILD);
    if (interaction.customId === DISMISS_ID) {
      await interaction.update({ ...resolvedEntry(interaction, '✅ Dismissed', true), allowedMentions: NO_PINGS });
      return;
    }
    const block = /^modlog:block:(\d{15,21})$/.exec(interaction.customId);
    if (!block) return replyPrivately(interaction, 'This button is not recognised.');
    const userId = block[1]!;
    const already = ctx.moderation.getBlockedUser(interaction.guildId, userId);
    if (!already) ctx.moderation.blockUser(interaction.guildId, userId, reasonFromEntry(interaction), interaction.user.id);
    ctx.log.info({ guildId: interaction.guildId, userId, by: interaction.user.id }, 'user blocked from the moderation log');
    await interaction.update({ ...resolvedEntry(interaction, already ? `⛔ <@${userId}> was already blocked` : `⛔ <@${userId}> blocked from using the bot here`), allowedMentions: NO_PINGS });
  },
};
